"""`embedder.precision: int8`: ONNX Runtime's int8 graph answers the shipped evaluation sets as
float32 does (page-hit@1 and @5 within 0.02, no new off-topic answer), its vectors stay close, and a
store records which precision it holds (switching asks for a reindex)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.cli.main import main
from bot.rag.embedding.build import build_embedder
from bot.rag.embedding.contract import EmbedderOptions
from tests.support.paths import REPO

SETS = ("knowledge.jsonl", "handbook-hard.jsonl")


def test_int8_vectors_stay_close_and_say_what_they_are(tmp_path: Path) -> None:
    texts = [p.strip() for p in (REPO / "knowledge" / "handbook" / "time-off.md").read_text().split("\n\n")
             if len(p.strip()) > 40]
    cache = str(tmp_path / "models")
    fp32 = build_embedder(EmbedderOptions(kind="local", runtime="onnx", precision="float32", cache_dir=cache))
    int8 = build_embedder(EmbedderOptions(kind="local", runtime="auto", precision="int8", cache_dir=cache))
    assert fp32 is not None and int8 is not None
    assert int8.fingerprint.precision == "int8" and "int8" in int8.fingerprint.describe()
    assert fp32.fingerprint != int8.fingerprint
    a = np.array([fp32.embed_query(t) for t in texts])
    b = np.array([int8.embed_query(t) for t in texts])
    assert float((a * b).sum(1).min()) >= 0.98
    assert [p.name for p in Path(cache).iterdir() if p.name.endswith("-int8.onnx")]  # kept beside the float32 one


def _eval(folder: Path, precision: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
          ) -> dict[str, dict]:
    folder.mkdir()
    shutil.copytree(REPO / "knowledge", folder / "knowledge")
    (folder / "config.yaml").write_text(f"data_dir: state\nknowledge: {{paths: [knowledge]}}\n"
                                        f"embedder: {{precision: {precision}}}\n")
    monkeypatch.chdir(folder)
    assert main(["ingest"]) == 0
    reports = {}
    for name in SETS:
        capsys.readouterr()
        main(["eval", str(REPO / "evals" / name), "--json"])
        reports[name] = json.loads(capsys.readouterr().out)
    return reports


def test_int8_retrieval_is_float32s_on_the_shipped_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    fp32 = _eval(tmp_path / "fp32", "float32", monkeypatch, capsys)
    int8 = _eval(tmp_path / "int8", "int8", monkeypatch, capsys)
    for name in SETS:
        for k in ("@1", "@5"):  # no worse than float32 by more than 0.02 (better is fine)
            assert int8[name]["page_hit"][k] >= fp32[name]["page_hit"][k] - 0.02, (name, k, int8, fp32)
        assert int8[name]["off_topic_answers"] <= fp32[name]["off_topic_answers"], name
    # The store says which precision it holds: the other one is refused until a reindex.
    (tmp_path / "int8" / "config.yaml").write_text("data_dir: state\nembedder: {precision: float32}\n")
    capsys.readouterr()
    assert main(["search", "vacation days"]) != 0
    assert "reindex" in capsys.readouterr().err
