"""The local embedder: offline all-MiniLM-L6-v2; bfloat16, float32 and NumPy vectors share one space, and a
question is embedded without torch."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bot.rag.embedding.build import build_embedder
from bot.rag.embedding.contract import EmbedderOptions
from tests.support.optional import TORCH_INSTALLED, requires_torch
from tests.support.paths import REPO, TEST_DATA
from tests.support.processes import run_kbot

# sentence-transformers' own vectors for a few passages and questions (scripts/make-reference-vectors).
REFERENCE = json.loads((TEST_DATA / "minilm-reference.json").read_text(encoding="utf-8"))


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def _reference_documents() -> list[Any]:
    from haystack.dataclasses import Document

    return [Document(content=d["content"], meta=d["meta"]) for d in REFERENCE["documents"]]


def _assert_matches_sentence_transformers(embedder: Any) -> None:
    """The same fingerprint and the same vectors (cosine > 0.9999) as sentence-transformers in float32."""
    assert str(embedder.fingerprint) == REFERENCE["fingerprint"]  # a store written by either stays valid
    embedded = embedder.embed_documents(_reference_documents())
    for got, want in zip(embedded, REFERENCE["documents"], strict=True):
        assert _cosine(got.embedding, want["embedding"]) > 0.9999, want["content"][:40]
    for question in REFERENCE["questions"]:
        assert _cosine(embedder.embed_query(question["text"]), question["embedding"]) > 0.9999, question["text"][:40]


def test_the_reference_vectors_tell_passages_apart() -> None:
    """The stored vectors are a model's, not noise: a question is nearest the passage that answers it."""
    meals = REFERENCE["documents"][0]["embedding"]
    same = next(q for q in REFERENCE["questions"] if q["text"].startswith("Meals"))["embedding"]
    laptop = next(q for q in REFERENCE["questions"] if q["text"].startswith("Report"))["embedding"]
    assert _cosine(meals, same) > 0.7 > 0.5 > _cosine(meals, laptop)


@requires_torch
def test_sentence_transformers_still_writes_the_reference_vectors() -> None:
    _assert_matches_sentence_transformers(
        build_embedder(EmbedderOptions(kind="local", precision="float32", runtime="sentence-transformers")))


@requires_torch
def test_precisions_agree_and_share_a_fingerprint(local_embedder) -> None:
    exact = build_embedder(EmbedderOptions(kind="local", precision="float32", runtime="sentence-transformers"))
    fast = build_embedder(EmbedderOptions(kind="local", precision="bfloat16", runtime="sentence-transformers"))
    assert exact.fingerprint == fast.fingerprint == local_embedder.fingerprint
    text = "Report a lost laptop to the security team within one hour."
    a, b = exact.embed_query(text), fast.embed_query(text)
    assert len(a) == 384 and _cosine(a, b) > 0.999
    assert _cosine(a, exact.embed_query("Meals are reimbursed up to 75 EUR per day.")) < 0.5


def test_numpy_runtime_writes_the_same_vectors_as_sentence_transformers() -> None:
    _assert_matches_sentence_transformers(build_embedder(EmbedderOptions(kind="local", runtime="numpy")))


def test_answering_a_question_loads_no_sentence_transformers(tmp_path) -> None:
    """The default runtime embeds questions on ONNX Runtime, from the graph kept under data_dir/models;
    sentence-transformers (and its model load) waits for the first document, so `kbot search` and
    `kbot ask` start fast."""
    import subprocess
    import sys

    (tmp_path / "config.yaml").write_text("data_dir: state\n")
    (tmp_path / "a.md").write_text("# Parking\n\nBicycle racks are in the courtyard behind building B.\n")
    assert run_kbot(["ingest", "a.md"], tmp_path).returncode == 0
    # The search is what this is about: a fresh interpreter, to see what it imports.
    searched = subprocess.run([sys.executable, "-c", "import sys; from bot.cli.main import main; "
                               "from bot.rag.embedding.threads import loaded; "
                               "main(['search', 'where can I park my bike', '--json']); "
                               "print('sentence_transformers' in sys.modules, loaded('torch'), "
                               "'onnxruntime' in sys.modules)"],
                              cwd=tmp_path, check=True, capture_output=True, text=True)
    # Neither sentence-transformers nor torch ran: Haystack's `import torch` got a deferred module.
    assert searched.stdout.strip().endswith("False False True")
    assert "courtyard" in searched.stdout
    [graph] = (tmp_path / "state" / "models").glob("minilm-*.onnx")  # kept for the next command


def test_a_warmed_up_knowledge_base_has_its_keyword_index_and_query_side_but_no_torch(tmp_path) -> None:
    """What `kbot run` loads at start, so its first answers do not: the store's copy in memory with its
    BM25 index, and the query embedder; the document side (torch, on a CPU with bfloat16) waits."""
    import subprocess
    import sys

    (tmp_path / "config.yaml").write_text("data_dir: state\n")
    (tmp_path / "a.md").write_text("# Parking\n\nBicycle racks are in the courtyard behind building B.\n")
    assert run_kbot(["ingest", "a.md"], tmp_path).returncode == 0
    code = ("import sys; from bot.cli.startup import defer_imports; from bot.rag.embedding.threads import loaded; "
            "defer_imports(); "
            "from bot.app import App; from bot.wiring import load_settings; "
            "kb = App(load_settings(None)).knowledge_base; store = kb.backend.document_store; "
            "print(store.keyword_from_memory, 'onnxruntime' in sys.modules); kb.warm_up(); "
            "print(store.keyword_from_memory, 'onnxruntime' in sys.modules, "
            "'sentence_transformers' in sys.modules, loaded('torch'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-6:] == ["False", "False", "True", "True", "False", "False"]


@requires_torch
def test_embedder_threads_caps_the_cpu_threads_one_process_embeds_with(tmp_path) -> None:
    """Several workers on one machine each get a share of the cores (`embedder.threads`)."""
    import subprocess
    import sys

    script = ("from bot.rag.embedding.build import build_embedder; from bot.rag.embedding.contract import "
              "EmbedderOptions; from haystack import Document; "
              "e = build_embedder(EmbedderOptions(kind='local', threads=1, runtime='sentence-transformers')); "
              "e.embed_documents([Document(content='one thread')]); import torch; print(torch.get_num_threads())")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.strip().splitlines()[-1] == "1"


def _documents() -> list:
    from haystack.dataclasses import Document

    long_text = " ".join(["Backups are encrypted before they leave the machine."] * 60)  # past 256 tokens
    return [Document(content="Meals are reimbursed up to 75 EUR per day.", meta={"title": "Expenses"}),
            Document(content=long_text, meta={"title": "Ops", "heading": "Ops › Backups"}),
            Document(content="x")]


def test_onnx_runtime_writes_the_same_vectors_as_sentence_transformers(tmp_path) -> None:
    """The graph is written once from the packaged weights, kept under the cache folder, and reused."""
    onnx_side = build_embedder(EmbedderOptions(kind="local", runtime="onnx", cache_dir=str(tmp_path / "models")))
    _assert_matches_sentence_transformers(onnx_side)
    question = "how fast must I report a lost laptop?"
    [graph] = (tmp_path / "models").glob("minilm-*.onnx")
    written = graph.stat().st_mtime_ns
    again = build_embedder(EmbedderOptions(kind="local", runtime="onnx", cache_dir=str(tmp_path / "models")))
    assert _cosine(again.embed_query(question), onnx_side.embed_query(question)) > 0.99999
    assert list((tmp_path / "models").iterdir()) == [graph] and graph.stat().st_mtime_ns == written


def test_a_damaged_cached_graph_is_written_again(tmp_path) -> None:
    """A truncated graph (a full disk, a killed process) costs one rebuild, not a failed ingest."""
    from bot.rag.embedding.model import local_model_path
    from bot.rag.embedding.onnx_graph import graph_key

    models = tmp_path / "models"
    models.mkdir()
    damaged = models / f"minilm-{graph_key(Path(local_model_path()))}.onnx"
    damaged.write_bytes(b"\x08\x07 not a whole model")
    onnx_side = build_embedder(EmbedderOptions(kind="local", runtime="onnx", cache_dir=str(models)))
    numpy_side = build_embedder(EmbedderOptions(kind="local", runtime="numpy"))
    for a, b in zip(onnx_side.embed_documents(_documents()), numpy_side.embed_documents(_documents()), strict=True):
        assert _cosine(a.embedding, b.embedding) > 0.9999
    assert damaged.stat().st_size > 50_000_000  # the whole graph, weights included


def test_auto_embeds_questions_on_onnx_runtime_with_the_same_vectors() -> None:
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as folder:
        auto = build_embedder(EmbedderOptions(kind="local", cache_dir=folder))
        numpy_side = build_embedder(EmbedderOptions(kind="local", runtime="numpy"))
        assert auto.fingerprint == numpy_side.fingerprint
        for question in ("how fast must I report a lost laptop?", "x", " ".join(["backups"] * 400)):
            assert _cosine(auto.embed_query(question), numpy_side.embed_query(question)) > 0.9999
        assert len(list(Path(folder).glob("minilm-*.onnx"))) == 1


def test_a_models_folder_that_cannot_be_written_still_embeds(tmp_path, caplog) -> None:
    """A read-only or full data_dir costs a graph built in memory at each start, and a warning."""
    (tmp_path / "state").write_text("a file where the models folder's parent should be")
    unwritable = str(tmp_path / "state" / "models")
    numpy_side = build_embedder(EmbedderOptions(kind="local", runtime="numpy"))
    question = "how fast must I report a lost laptop?"
    with caplog.at_level("WARNING", logger="bot.rag.embedding.onnx_graph"):
        for runtime in ("auto", "onnx"):
            embedder = build_embedder(EmbedderOptions(kind="local", runtime=runtime, precision="float32",
                                                      cache_dir=unwritable))
            assert _cosine(embedder.embed_query(question), numpy_side.embed_query(question)) > 0.9999
            [document] = embedder.embed_documents(_documents()[:1])
            assert _cosine(document.embedding, numpy_side.embed_documents(_documents()[:1])[0].embedding) > 0.9999
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings and all("building it in memory instead" in w and unwritable in w for w in warnings)


def test_auto_indexes_documents_on_onnx_runtime_without_sentence_transformers(tmp_path) -> None:
    """Where the CPU lacks bfloat16 (float32 here, so that a CPU with it takes the same path)."""
    import subprocess
    import sys

    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder:\n  precision: float32\n")
    (tmp_path / "a.md").write_text("# Parking\n\nBicycle racks are in the courtyard behind building B.\n")
    code = ("import sys; from bot.cli.main import main; code = main(['ingest', 'a.md']); "
            "print(code, 'sentence_transformers' in sys.modules, 'onnxruntime' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["0", "False", "True"]
    assert len(list((tmp_path / "state" / "models").glob("minilm-*.onnx"))) == 1
    searched = run_kbot(["search", "where can I park my bike"], tmp_path, timeout=300)
    assert searched.returncode == 0 and "courtyard" in searched.stdout


# A child process where sentence-transformers and torch cannot be imported, as in the default install.
_WITHOUT_TORCH = ("import sys; sys.modules.update(dict.fromkeys(['torch', 'sentence_transformers', "
                  "'haystack_integrations.components.embedders.sentence_transformers'])); ")


def _kbot_without_torch(args: list[str], cwd: Path) -> tuple[int, str]:
    """`kbot ARGS` where torch cannot be imported: the default install is such a place already; with
    torch installed, a fresh interpreter whose imports of it fail."""
    import subprocess
    import sys

    if not TORCH_INSTALLED:
        done = run_kbot(args, cwd, timeout=300)
        return done.returncode, done.stderr
    code = _WITHOUT_TORCH + f"from bot.cli.main import main; sys.exit(main({args!r}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)
    return out.returncode, out.stderr


def test_without_torch_the_default_indexes_and_torch_settings_say_what_to_install(tmp_path) -> None:
    (tmp_path / "a.md").write_text("# Parking\n\nBicycle racks are in the courtyard behind building B.\n")
    settings = {"auto": "", "st": "  runtime: sentence-transformers\n", "bf16": "  precision: bfloat16\n"}
    for name, embedder in settings.items():
        (tmp_path / f"{name}.yaml").write_text(f"data_dir: {name}\nembedder:\n  kind: local\n{embedder}")
    outcomes = {name: _kbot_without_torch(["--config", f"{name}.yaml", "ingest", "a.md"], tmp_path)
                for name in settings}
    assert outcomes["auto"][0] == 0, outcomes["auto"][1][-2000:]
    for name, setting in (("st", "runtime sentence-transformers"), ("bf16", "precision bfloat16")):
        code, stderr = outcomes[name]
        assert code != 0 and "Traceback" not in stderr
        assert f"embedder.{setting} needs torch" in stderr and "scripts/setup --torch" in stderr
