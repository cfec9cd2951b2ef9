"""The deploy files, read as a self-hoster would (no Docker here: they are parsed and checked):
a .dockerignore, one image built once, the team's documents under compose, the tracing extra, the
database password in its own variable, every variable in env.example, ports said, one models volume."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bot.state.engine import database_url
from bot.wiring import parse_settings
from tests.support.paths import REPO

KBOT_SERVICES = ("chat", "worker", "ingest")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def _env_example() -> dict[str, str]:
    lines = (REPO / "deploy" / "env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_build_context_leaves_out_the_venv_data_and_secrets() -> None:
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", ".kbot", ".env"} <= set(ignored)
    copied = re.findall(r"^COPY (.+) \S+$", (REPO / "Dockerfile").read_text(encoding="utf-8"), re.M)
    assert all(Path(item).name not in ignored for line in copied for item in line.split())


def test_one_image_built_once_serves_every_kbot_service() -> None:
    services = _compose()["services"]
    assert [name for name, service in services.items() if "build" in service] == ["chat"]
    assert {services[name]["image"] for name in KBOT_SERVICES} == {"kbot:local"}
    assert all(services[name].get("pull_policy") == "never" for name in ("worker", "ingest"))


def test_the_teams_documents_are_mounted_and_an_ingest_service_indexes_them() -> None:
    services = _compose()["services"]
    assert services["ingest"]["command"] == ["ingest"] and services["ingest"]["profiles"] == ["tools"]
    for name in KBOT_SERVICES:
        volumes = services[name]["volumes"]
        assert "./knowledge:/data/knowledge:ro" in volumes
        assert "models:/data/kbot/models" in volumes  # the ONNX graph, written once for all
    assert "models" in _compose()["volumes"]
    settings = _deploy_settings()
    assert settings.knowledge.paths == ["/data/knowledge"] and settings.data_path == Path("/data/kbot")


def _deploy_settings(**env: str) -> Any:
    import os

    values = {name: value or "x" for name, value in _env_example().items()}
    values.update(env)
    values.update({"DATABASE_URL": "postgresql+psycopg://kbot@postgres/kbot", "WEAVIATE_URL": "http://weaviate:8080"})
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        raw = yaml.safe_load((REPO / "deploy" / "config.yaml").read_text(encoding="utf-8"))
        return parse_settings(raw, root=REPO / "deploy")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_the_password_has_its_own_variable_and_any_character_survives() -> None:
    environment = _compose()["x-kbot"]["environment"]
    assert make_url(environment["DATABASE_URL"]).password is None  # no password in the URL
    password = "p@ss:w/rd%?#"
    settings = _deploy_settings(POSTGRES_PASSWORD=password)
    assert settings.database.password.get_secret_value() == password
    url = database_url(settings.database.url, settings.database.password.get_secret_value())
    assert url.password == password and url.host == "postgres" and url.database == "kbot"
    assert make_url(url.render_as_string(hide_password=False)).password == password  # as the driver gets it


def test_env_example_names_every_variable_the_files_read() -> None:
    read = set(re.findall(r"\$\{(\w+)", (REPO / "deploy" / "config.yaml").read_text(encoding="utf-8")))
    read |= set(re.findall(r"\$\{(\w+)", (REPO / "compose.yaml").read_text(encoding="utf-8")))
    set_by_compose = set(_compose()["x-kbot"]["environment"])
    assert read - set_by_compose <= set(_env_example())
    for platform, variable in (("slack", "SLACK_BOT_TOKEN"), ("discord", "DISCORD_BOT_TOKEN"),
                               ("telegram", "TELEGRAM_BOT_TOKEN")):
        assert variable in _env_example()
        enabled = _deploy_settings(**{f"{platform.upper()}_ENABLED": "true"})
        assert enabled.enabled_platforms == [platform]
    assert _deploy_settings().enabled_platforms == []  # nothing connects until its variable says so


def test_ports_for_slack_http_and_telegram_webhooks_are_documented() -> None:
    text = (REPO / "compose.yaml").read_text(encoding="utf-8")
    assert "slack.http_port" in text and "telegram.webhook_port" in text


def test_the_image_runs_the_python_the_tests_run_and_has_tracing() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    version = re.search(r"^FROM python:(\d+\.\d+)", dockerfile, re.M)
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    minimum = re.search(r'requires-python = ">=(\d+\.\d+)"', pyproject)
    assert version and minimum and version.group(1) == minimum.group(1)
    assert "--extra tracing" in dockerfile and "--frozen" in dockerfile  # from the lock
    assert "chown -R kbot /data" in dockerfile
