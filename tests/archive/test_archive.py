"""Promise: `kbot export` / `kbot import` carry a knowledge base to another store or data folder as it
is: the same searches find the same sources with no re-embedding, importing twice writes nothing,
and another embedder is refused with the `kbot reindex` hint, leaving the store untouched."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_indexer
from bot.archive.archive import ArchiveError, export_archive, import_archive, read_manifest
from bot.cli.main import main
from bot.core.jobs import ProgressTarget
from bot.rag.knowledge_base import KnowledgeBase
from bot.state.db import JobRow, JobUploadRow
from bot.wiring import parse_settings
from tests.fakes.openai_server import serve_openai
from tests.support.samples import make_pdf
from tests.support.stores import BACKENDS, make_backend

QUERIES = ["How many vacation days do we get?", "Where are the backups stored?", "What is the Falcon code word?",
           "When is lunch?"]
DOCS = {
    "handbook.md": "# Time off\n\n## Vacation\n\nEvery employee gets 25 vacation days a year.\n\n## Lunch\n\n"
                   "Lunch is served at noon in the cafeteria.",
    "ops.md": "# Operations\n\n## Backups\n\nNightly backups are stored in the Frankfurt bucket for 30 days.",
}


def _folder(root: Path, name: str, embeddings_url: str | None) -> Path:
    folder = root / name
    folder.mkdir()
    embedder = ({"kind": "openai", "base_url": embeddings_url, "api_key": "test", "batch_size": 8}
                if embeddings_url else {"kind": "none"})
    (folder / "config.yaml").write_text(yaml.safe_dump({"data_dir": "data", "embedder": embedder,
                                                        "llm": {"kind": "extractive"}}))
    return folder


def _documents(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    make_pdf(docs / "falcon.pdf", ["Project Falcon overview.", "The Falcon launch code word is ORCHID."])
    return docs


def _search(folder: Path, capsys, query: str) -> list[tuple]:
    assert main(["--config", str(folder / "config.yaml"), "search", query, "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    return [(hit["id"], hit["source"], hit.get("page"), hit.get("heading")) for hit in hits]


def test_an_export_imported_into_a_fresh_folder_answers_the_same_searches(tmp_path: Path, capsys,
                                                                          monkeypatch) -> None:
    with serve_openai() as fake:
        first, second = _folder(tmp_path, "first", fake.base_url), _folder(tmp_path, "second", fake.base_url)
        docs = _documents(tmp_path)
        monkeypatch.chdir(first)
        assert main(["ingest", str(docs)]) == 0
        capsys.readouterr()
        app = App(parse_settings(yaml.safe_load((first / "config.yaml").read_text()), root=first))
        app.jobs.enqueue_file(DOCS["ops.md"].encode(), "uploaded.md", "slack:T1", "U1", None)
        before = {query: _search(first, capsys, query) for query in QUERIES}
        assert all(before.values())
        capsys.readouterr()

        archive = tmp_path / "kb.tar.gz"
        assert main(["export", str(archive), "--with-uploads"]) == 0
        assert "exported" in capsys.readouterr().out
        assert main(["export", str(archive)]) == 1  # an existing file is not replaced without --force
        assert "--force" in capsys.readouterr().err
        manifest = read_manifest(archive)
        assert manifest["chunks"] == app.knowledge_base.count_chunks() and manifest["jobs"] == 1

        monkeypatch.chdir(second)
        embedded = len(fake.embedding_batches)
        assert main(["import", str(archive)]) == 0
        assert f"imported {manifest['chunks']} chunks" in capsys.readouterr().out
        # Nothing re-embedded: at most the one-word probe by which the embedder learns its dimension.
        assert sum(fake.embedding_batches[embedded:]) <= 1
        assert {query: _search(second, capsys, query) for query in QUERIES} == before
        assert main(["import", str(archive)]) == 0
        assert "imported 0 chunks into" in (again := capsys.readouterr().out) and "0 jobs" in again

        copy = App(parse_settings(yaml.safe_load((second / "config.yaml").read_text()), root=second))
        assert copy.knowledge_base.count_chunks() == manifest["chunks"]
        with Session(copy.engine) as session:
            job = session.scalars(select(JobRow)).one()
            assert (job.source, job.scope, job.state) == ("uploaded.md", "slack:T1", "queued")
            assert session.get(JobUploadRow, job.id).data == DOCS["ops.md"].encode()


def test_another_embedder_is_refused_with_the_reindex_hint(tmp_path: Path, capsys, monkeypatch) -> None:
    with serve_openai() as fake:
        first = _folder(tmp_path, "first", fake.base_url)
        keyword_only = _folder(tmp_path, "second", None)
        monkeypatch.chdir(first)
        assert main(["ingest", str(_documents(tmp_path))]) == 0
        assert main(["export", str(tmp_path / "kb.tar.gz")]) == 0
        monkeypatch.chdir(keyword_only)
        assert main(["ingest", str(tmp_path / "docs" / "handbook.md")]) == 0
        capsys.readouterr()
        assert main(["import", str(tmp_path / "kb.tar.gz")]) == 1
        err = capsys.readouterr().err
        assert "kbot reindex" in err and "Traceback" not in err
        assert main(["status", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["documents"] == 1  # the store is as it was


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path: Path, local_embedder) -> KnowledgeBase:
    fp = local_embedder.fingerprint
    kb = KnowledgeBase(make_backend(request.param, tmp_path / "target", fp.dim), local_embedder, fp)
    yield kb
    kb.backend.close()


def test_from_lancedb_into_each_store_with_the_same_sources(tmp_path: Path, local_embedder, make_settings,
                                                            target: KnowledgeBase) -> None:
    fp = local_embedder.fingerprint
    source = KnowledgeBase(make_backend("lancedb", tmp_path / "source", fp.dim), local_embedder, fp)
    indexer = build_indexer(make_settings(), source)
    for name, text in DOCS.items():
        assert indexer.index_bytes(text.encode(), "markdown", name, "global").status == "indexed"
    assert indexer.index_bytes(b"# Secret\n\nThe Falcon code word is ORCHID.", "markdown", "secret.md",
                               "slack:T1").status == "indexed"
    chunks, _ = export_archive(source, tmp_path / "kb.tar.gz")
    progress: list[tuple[int, int]] = []
    summary = import_archive(target, tmp_path / "kb.tar.gz", on_progress=lambda d, t: progress.append((d, t)))
    assert (summary.added, summary.present) == (chunks, 0) and progress[-1] == (chunks, chunks)
    for query in QUERIES:
        for scopes in (["global"], ["global", "slack:T1"]):
            expected = [(d.id, d.meta["source"]) for d in source.search(query, scopes, mode="hybrid")]
            assert [(d.id, d.meta["source"]) for d in target.search(query, scopes, mode="hybrid")] == expected
    assert not [d for d in target.search("Falcon code word", ["global"]) if d.meta["source"] == "secret.md"]
    assert import_archive(target, tmp_path / "kb.tar.gz").added == 0
    with pytest.raises(ArchiveError, match="kbot reindex"):
        other = KnowledgeBase(make_backend("lancedb", tmp_path / "keyword", None), None,
                              source.fingerprint.__class__("none", "none", 0))
        import_archive(other, tmp_path / "kb.tar.gz")
    source.backend.close()


def test_job_history_comes_across_as_history(tmp_path: Path, capsys, monkeypatch) -> None:
    """A finished job keeps its figures (chunks, vectors kept) and arrives with its notice already sent,
    so the new deployment does not announce the old one's work; an archive from before `reused` was
    recorded imports with 0."""
    first, second = _folder(tmp_path, "first", None), _folder(tmp_path, "second", None)
    monkeypatch.chdir(first)
    app = App(parse_settings(yaml.safe_load((first / "config.yaml").read_text()), root=first))
    target = ProgressTarget("slack", "T1", "C1", "1700000000.000100")
    app.jobs.enqueue_file(DOCS["ops.md"].encode(), "ops.md", "slack:T1", "U1", target)
    with Session(app.engine) as session, session.begin():
        job = session.scalars(select(JobRow)).one()
        job.state, job.stage, job.chunks, job.reused, job.notified = "done", "done", 5, 3, False
    assert main(["export", str(tmp_path / "kb.tar.gz"), "--with-uploads"]) == 0
    monkeypatch.chdir(second)
    assert main(["import", str(tmp_path / "kb.tar.gz")]) == 0
    assert "1 jobs" in capsys.readouterr().out
    copy = App(parse_settings(yaml.safe_load((second / "config.yaml").read_text()), root=second))
    with Session(copy.engine) as session:
        job = session.scalars(select(JobRow)).one()
        assert (job.state, job.chunks, job.reused, job.notified, job.target) == ("done", 5, 3, True,
                                                                                     target.to_json())

    older = tmp_path / "older.tar.gz"  # the same archive, its job line without "reused"
    with tarfile.open(tmp_path / "kb.tar.gz", "r:gz") as source, tarfile.open(older, "w:gz") as out:
        for info in source.getmembers():
            data = source.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "jobs.jsonl":
                data = b"".join(json.dumps({k: v for k, v in json.loads(line).items() if k != "reused"}).encode()
                                + b"\n" for line in data.splitlines())
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    third = _folder(tmp_path, "third", None)
    monkeypatch.chdir(third)
    assert main(["import", str(older)]) == 0
    copy = App(parse_settings(yaml.safe_load((third / "config.yaml").read_text()), root=third))
    with Session(copy.engine) as session:
        assert session.scalars(select(JobRow)).one().reused == 0


def test_uploads_are_carried_one_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """Together the uploads may be gigabytes: export and import hold one in memory at a time."""
    import os
    import tracemalloc

    folder = _folder(tmp_path, "kb", None)
    monkeypatch.chdir(folder)
    app = App(parse_settings(yaml.safe_load((folder / "config.yaml").read_text()), root=folder))
    files = {f"upload{i}.md": os.urandom(1_000_000) for i in range(24)}
    for name, data in files.items():
        app.jobs.enqueue_file(data, name, "global", "U1", None)
    export_archive(app.knowledge_base, tmp_path / "warm.tar.gz", engine=app.engine)  # the store's modules load
    tracemalloc.start()
    try:
        progress: list[tuple[int, int]] = []
        assert export_archive(app.knowledge_base, tmp_path / "kb.tar.gz", engine=app.engine,
                              on_upload=lambda done, total: progress.append((done, total)))[1] == len(files)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000  # a few uploads' worth, not the 24 MB of all of them
    assert progress == [(done, len(files)) for done in range(1, len(files) + 1)]  # a bar follows them
    second = _folder(tmp_path, "second", None)
    monkeypatch.chdir(second)
    copy = App(parse_settings(yaml.safe_load((second / "config.yaml").read_text()), root=second))
    import_archive(copy.knowledge_base, tmp_path / "warm.tar.gz")  # no engine: chunks only, modules load
    tracemalloc.start()
    try:
        assert import_archive(copy.knowledge_base, tmp_path / "kb.tar.gz", engine=copy.engine).jobs == len(files)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000  # and so does the import
    with tarfile.open(tmp_path / "kb.tar.gz", "r:gz") as tar:
        jobs = [json.loads(line) for line in tar.extractfile("jobs.jsonl").read().splitlines()]  # type: ignore[union-attr]
        assert {job["source"]: tar.extractfile(f"uploads/{job['id']}").read() for job in jobs} == files  # type: ignore[union-attr]


def test_a_document_edited_since_the_export_keeps_its_new_version(tmp_path: Path, capsys, monkeypatch) -> None:
    """Old and new passages of one document side by side would contradict each other: the store's
    version stays whole, the person is told which documents and how to take the archive's."""
    folder = _folder(tmp_path, "kb", None)
    docs = _documents(tmp_path)
    monkeypatch.chdir(folder)
    assert main(["ingest", str(docs)]) == 0
    assert main(["export", str(tmp_path / "kb.tar.gz")]) == 0
    (docs / "handbook.md").write_text(DOCS["handbook.md"].replace("25 vacation days", "30 vacation days"))
    assert main(["ingest", str(docs)]) == 0
    assert main(["delete", str(docs / "ops.md")]) == 0
    capsys.readouterr()
    assert main(["import", str(tmp_path / "kb.tar.gz")]) == 0
    out = capsys.readouterr().out
    assert f"kept as they are here, in another version than the archive's: {docs / 'handbook.md'} (global)" in out
    assert "`kbot delete` it and import again" in out
    assert main(["search", "vacation days", "--json"]) == 0
    texts = [hit["text"] for hit in json.loads(capsys.readouterr().out) if hit["source"].endswith("handbook.md")]
    assert texts and all("30 vacation days" in text for text in texts)
    assert _search(folder, capsys, "Where are the backups stored?")[0][1].endswith("ops.md")  # imported again


def test_a_document_cut_otherwise_since_the_export_is_not_doubled(tmp_path: Path, capsys, monkeypatch) -> None:
    """Same text, other chunking (`knowledge.chunk_words` changed): other chunk ids, the same passages."""
    folder = _folder(tmp_path, "kb", None)
    docs = _documents(tmp_path)
    monkeypatch.chdir(folder)
    assert main(["ingest", str(docs / "handbook.md")]) == 0
    assert main(["export", str(tmp_path / "kb.tar.gz")]) == 0
    config = yaml.safe_load((folder / "config.yaml").read_text())
    (folder / "config.yaml").write_text(yaml.safe_dump({**config, "knowledge": {"chunk_words": 40,
                                                                                "chunk_overlap_words": 5}}))
    assert main(["ingest", str(docs / "handbook.md")]) == 0
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    chunks = json.loads(capsys.readouterr().out)["chunks"]
    assert main(["import", str(tmp_path / "kb.tar.gz")]) == 0
    assert "kept as they are here" in capsys.readouterr().out
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chunks"] == chunks


def test_an_archive_that_cannot_be_written_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    folder = _folder(tmp_path, "kb", None)
    monkeypatch.chdir(folder)
    (folder / "backups").mkdir()
    assert main(["export", str(folder / "backups"), "--force"]) == 1
    assert "is a folder: name the archive's file, e.g." in (err := capsys.readouterr().err) and err.count("\n") == 1
    assert main(["export", "/proc/kbot-backup.tar.gz"]) == 1  # a folder nobody may create files in
    assert "cannot write /proc/kbot-backup.tar.gz" in (err := capsys.readouterr().err) and "Errno" not in err
    assert (folder / "backups").is_dir() and not list((folder / "backups").iterdir())
