"""Config: validated at start-up, one-line errors naming the key, `${VAR}` from the environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.wiring import load_settings, parse_settings
from tests.support.paths import REPO


def test_defaults_match_the_documented_keys(tmp_path: Path) -> None:
    settings = parse_settings({}, root=tmp_path)
    assert settings.data_path == tmp_path / ".kbot"
    assert settings.knowledge.paths == ["knowledge"] and settings.knowledge.max_file_mb == 25
    assert settings.store.kind == "lancedb" and settings.store.weaviate.collection == "Knowledge"
    assert settings.embedder.kind == "local" and settings.embedder.model is None
    assert settings.retrieval.mode == "hybrid" and settings.retrieval.top_k == 5


def test_shipped_config_yaml_is_valid_without_any_environment(monkeypatch) -> None:
    for var in ("WEAVIATE_URL", "WEAVIATE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(REPO / "config.yaml")
    assert settings.store.kind == "lancedb" and settings.store.weaviate.url is None
    assert settings.embedder.api_key is None


def test_env_substitution_and_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KB_URL", "http://weaviate.internal:8080")
    monkeypatch.setenv("KB_KEY", "s3cret-key")
    settings = parse_settings(
        {"store": {"kind": "weaviate", "weaviate": {"url": "${KB_URL}", "api_key": "${KB_KEY}",
                                                     "collection": "${KB_COLLECTION:-Docs}"}}},
        root=tmp_path,
    )
    assert settings.store.weaviate.url == "http://weaviate.internal:8080"
    assert settings.store.weaviate.collection == "Docs"
    assert settings.store.weaviate.api_key.get_secret_value() == "s3cret-key"
    assert "s3cret-key" not in repr(settings) and "s3cret-key" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"store": {"kind": "lance"}}, "config.yaml: store.kind: must be 'lancedb' or 'weaviate'"),
        ({"retrieval": {"top_k": 0}}, "config.yaml: retrieval.top_k: Input should be greater than or equal to 1"),
        ({"retrieval": {"mode": "fuzzy"}}, "config.yaml: retrieval.mode: must be 'hybrid', 'keyword' or 'vector'"),
        ({"knowledge": {"max_file_mb": "lots"}}, "config.yaml: knowledge.max_file_mb: Input should be a valid number"),
        ({"embedder": {"knd": "local"}}, "config.yaml: embedder.knd: unknown key"),
        ({"store": {"kind": "weaviate"}}, "config.yaml: store: store.kind is weaviate but store.weaviate.url is empty"),
        ({"knowledge": {"chunk_words": 50, "chunk_overlap_words": 50}},
         "config.yaml: knowledge: chunk_overlap_words must be smaller than chunk_words"),
        (["not", "a", "mapping"], "config.yaml: the top level must be a mapping"),
    ],
)
def test_bad_values_fail_in_one_line_naming_the_key(tmp_path: Path, raw, expected: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse_settings(raw, root=tmp_path)
    assert str(failure.value).startswith(expected)
    assert "\n" not in str(failure.value)


def test_cli_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("store:\n  kind: lance\n")
    run = subprocess.run([sys.executable, "-m", "bot", "--config", str(bad), "status"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert lines[0].startswith(f"kbot: config error: {bad}: store.kind: must be 'lancedb' or 'weaviate'")


def test_kbot_config_env_and_yaml_errors(tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("store: [unclosed\n")
    monkeypatch.setenv("KBOT_CONFIG", str(broken))
    with pytest.raises(ConfigError, match=r"broken.yaml: not valid YAML at line 2"):
        load_settings()
    monkeypatch.setenv("KBOT_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings()
