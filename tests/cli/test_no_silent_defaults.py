"""Nothing silent: the config and data_dir in use are said when there is no config file, mistyped
options, keys and scopes get a near miss, cheap argument errors come before any heavy import,
`kbot access` says a platform is disabled, and `kbot chat` speaks of itself and ends on quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from tests.support.processes import run_kbot


def test_no_config_file_is_said_in_one_line_with_the_data_dir(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KBOT_CONFIG", raising=False)
    assert main(["status"]) == 0
    err = capsys.readouterr().err
    assert f"no config.yaml here: the built-in defaults, data_dir {tmp_path / '.kbot'}" in err


def test_a_mistyped_option_gets_the_near_miss(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["search", "vacation", "--topk", "3"]) == 2
    assert capsys.readouterr().err.strip() == "kbot search: unknown option --topk: did you mean --top-k?"


def test_a_bad_number_is_refused_before_anything_heavy_is_imported(tmp_path: Path) -> None:
    finished = run_kbot(["search", "vacation", "--top-k", "0"], tmp_path)
    assert finished.returncode == 2 and "0 is too small: give 1 or more" in finished.stderr
    assert not (tmp_path / ".kbot").exists()  # refused before settings, the store or the model were touched


def test_a_mistyped_config_key_gets_the_near_miss(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for text, said in (("retrieval:\n  topk: 3\n", "retrieval.topk: unknown key: did you mean top_k?"),
                       ("telegram:\n  bot_token: x\n", "telegram.bot_token: unknown key: did you mean token?"),
                       ("retreival: {}\n", "retreival: unknown key: did you mean retrieval?")):
        (tmp_path / "config.yaml").write_text(text)
        assert main(["status"]) == 2
        assert said in capsys.readouterr().err


def test_a_scope_that_cannot_be_right_is_warned_about(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder: {kind: none}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["search", "vacation", "--scope", "slck:T123"]) == 0
    assert "'slck:T123' is not a scope" in capsys.readouterr().err
    assert main(["search", "vacation", "--scope", "slack:T999"]) == 0
    assert "nothing is indexed in scope slack:T999" in capsys.readouterr().err


def test_access_says_a_platform_is_disabled(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder: {kind: none}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["access"]) == 0
    assert "slack: disabled, so kbot answers nowhere there (slack.enabled: true connects it" in capsys.readouterr().out


@pytest.mark.parametrize("leave", ["quit", "exit"])
def test_chat_speaks_of_the_terminal_and_ends_on_quit(tmp_path: Path, leave: str) -> None:
    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder: {kind: none}\nllm: {kind: extractive}\n")
    finished = run_kbot(["chat"], tmp_path, input=f"/kb upload\n{leave}\nwhat is this?\n")
    assert finished.returncode == 0, finished.stderr
    assert "/kb upload PATH (from the shell: kbot ingest PATH)" in finished.stdout
    assert "what is this?" not in finished.stdout and "kbot> " not in finished.stdout  # never asked
