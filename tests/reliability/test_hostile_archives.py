"""Promise: `kbot import` reads an archive as untrusted. Whatever is wrong with it (not an archive, a
missing or forged manifest, a bad line deep inside, vectors of the wrong size, a member that is a
link or escapes the folder), the person gets one line saying what, and the store is exactly as it was."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from haystack.dataclasses import Document

from bot.cli.main import main
from tests.fakes.openai_server import serve_openai


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _rewrite(good: Path, bad: Path, change: Callable[[str, bytes], bytes | None],
             extra: Callable[[tarfile.TarFile], None] | None = None) -> Path:
    """A copy of a good archive with members changed (None drops one) and others added."""
    with tarfile.open(good, "r:gz") as source, tarfile.open(bad, "w:gz") as out:
        for info in source.getmembers():
            data = change(info.name, source.extractfile(info).read())  # type: ignore[union-attr]
            if data is not None:
                _member(out, info.name, data)
        if extra is not None:
            extra(out)
    return bad


def _last_line(data: bytes, replace: Callable[[dict], object]) -> bytes:
    """The last chunk changed: every good chunk (including c.md's, absent from the store) comes first."""
    lines = data.decode().splitlines()
    lines[-1] = json.dumps(replace(json.loads(lines[-1])))
    return ("\n".join(lines) + "\n").encode()


def _nan_like(vector: str) -> str:
    """A vector of the right size whose first number is NaN (once reported as "has 384 numbers, expected 384")."""
    values = np.frombuffer(base64.b64decode(vector), dtype="<f4").copy()
    values[0] = np.nan
    return base64.b64encode(values.tobytes()).decode()


def _link(tar: tarfile.TarFile) -> None:
    info = tarfile.TarInfo("chunks.jsonl")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar.addfile(info)


GOOD_JOB = {"id": 3, "kind": "file", "source": "notes.md", "scope": "global", "uploader": "U1", "target": {},
            "state": "done", "stage": "done", "attempts": 1, "done": 4, "total": 4, "chunks": 4, "pages": 0,
            "reused": 2, "error": None, "warnings": None, "notified": False,
            "created_at": "2026-01-01T00:00:00+00:00", "started_at": None, "heartbeat_at": None,
            "finished_at": None, "upload": False}


def _with_job(**changes: object) -> Callable[[Path, Path], Path]:
    """The good archive plus a job history whose one line is GOOD_JOB changed."""
    line = json.dumps({**GOOD_JOB, **changes}).encode() + b"\n"
    return lambda good, bad: _rewrite(good, bad, lambda n, d: d, lambda tar: _member(tar, "jobs.jsonl", line))


CASES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "not an archive": (lambda good, bad: (bad.write_bytes(b"PK\x03\x04 a zip, not ours"), bad)[1],
                       "is not a kbot archive"),
    "missing": (lambda good, bad: bad, "no archive at"),
    "no manifest": (lambda good, bad: _rewrite(good, bad, lambda n, d: None if n == "manifest.json" else d),
                    "no manifest.json"),
    "someone else's manifest": (lambda good, bad: _rewrite(
        good, bad, lambda n, d: b'{"format": "other"}' if n == "manifest.json" else d), "not a kbot archive"),
    "a future format": (lambda good, bad: _rewrite(good, bad, lambda n, d: json.dumps(
        {**json.loads(d), "version": 9}).encode() if n == "manifest.json" else d), "format version 9"),
    "a broken last line": (lambda good, bad: _rewrite(
        good, bad, lambda n, d: d + b"{not json\n" if n == "chunks.jsonl" else d), "is not valid JSON"),
    "a vector of the wrong size": (lambda good, bad: _rewrite(good, bad, lambda n, d: _last_line(
        d, lambda c: {**c, "vector": "AACAPw=="}) if n == "chunks.jsonl" else d), "the vector has 1 numbers"),
    "a vector that is not numbers": (lambda good, bad: _rewrite(good, bad, lambda n, d: _last_line(
        d, lambda c: {**c, "vector": _nan_like(c["vector"])}) if n == "chunks.jsonl" else d),
        "holds numbers that are not finite (NaN or infinity)"),
    "a chunk of 20 MB": (lambda good, bad: _rewrite(good, bad, lambda n, d: _last_line(
        d, lambda c: {**c, "content": "word " * 4_000_000}) if n == "chunks.jsonl" else d),
        "its content is 20,000,000 characters; a passage kbot stores has at most 100,000"),
    "a title of 5 MB": (lambda good, bad: _rewrite(good, bad, lambda n, d: _last_line(
        d, lambda c: {**c, "meta": {**c["meta"], "title": "T" * 5_000_000}}) if n == "chunks.jsonl" else d),
        '"title" is 5,000,000 characters; kbot keeps at most 1,000'),
    "a chunk without its scope": (lambda good, bad: _rewrite(good, bad, lambda n, d: _last_line(
        d, lambda c: {**c, "meta": {"source": "x.md"}}) if n == "chunks.jsonl" else d), "scope and source"),
    "a page that is a word": (lambda good, bad: _rewrite(good, bad, lambda n, d: _last_line(
        d, lambda c: {**c, "meta": {**c["meta"], "page": "twelve"}}) if n == "chunks.jsonl" else d),
        '"page" must be a whole number'),
    "a meta field kbot never writes": (lambda good, bad: _rewrite(good, bad, lambda n, d: _last_line(
        d, lambda c: {**c, "meta": {**c["meta"], "x-injected": "1"}}) if n == "chunks.jsonl" else d),
        '"x-injected" is not a field kbot stores'),
    "a chunks member that is a link": (lambda good, bad: _rewrite(
        good, bad, lambda n, d: None if n == "chunks.jsonl" else d, _link), "is not a regular file"),
    "a member escaping the folder": (lambda good, bad: _rewrite(
        good, bad, lambda n, d: None if n == "chunks.jsonl" else d,
        lambda tar: _member(tar, "../../escaped.txt", b"x")), "no chunks.jsonl"),
    # Job lines are checked before the first chunk is written: a queued job would be run.
    "a job count that is not a number": (_with_job(chunks="many"), '"chunks" must be a whole number'),
    "a job in a made-up state": (_with_job(state="exploded"), '"state" must be one of'),
    "a job whose target is not an object": (_with_job(target="#general"), '"target" must be an object'),
    "a url job that is no web address": (_with_job(kind="url", source="file:///etc/passwd"), "http(s) URL"),
    "a job naming an upload the archive lacks": (_with_job(upload=True), "uploads/3, is not in the archive"),
    "an upload over the file limit": (lambda good, bad: _rewrite(good, bad, lambda n, d: d, lambda tar: (
        _member(tar, "jobs.jsonl", json.dumps({**GOOD_JOB, "state": "queued", "upload": True}).encode()),
        _member(tar, "uploads/3", bytes(26_000_000)))), "over the 25 MB limit (knowledge.max_file_mb)"),
    "a job line that is not JSON": (lambda good, bad: _rewrite(good, bad, lambda n, d: d, lambda tar: _member(
        tar, "jobs.jsonl", b"{not json\n")), "jobs.jsonl line 1 is not a job record: not valid JSON"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_archive_is_refused_in_one_line_and_the_store_is_untouched(case: str, tmp_path: Path, capsys,
                                                                         monkeypatch) -> None:
    with serve_openai() as fake:
        (tmp_path / "config.yaml").write_text(
            f"data_dir: data\nembedder: {{kind: openai, base_url: '{fake.base_url}', api_key: test}}\n")
        monkeypatch.chdir(tmp_path)
        for name in ("a", "b", "c"):
            (tmp_path / f"{name}.md").write_text(f"# Doc {name}\n\nParagraph about topic {name}.\n\n"
                                                 f"## More\n\nAnother part about {name}.")
            assert main(["ingest", str(tmp_path / f"{name}.md")]) == 0
        assert main(["export", str(tmp_path / "good.tar.gz")]) == 0
        assert main(["delete", str(tmp_path / "c.md")]) == 0  # the import would bring it back
        assert main(["status", "--json"]) == 0
        capsys.readouterr()
        make, expected = CASES[case]
        bad = make(tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz")
        assert main(["import", str(bad)]) == 1
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err
        assert main(["status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert sorted(Path(s["source"]).name for s in status["sources"]) == ["a.md", "b.md"]
        assert not (tmp_path.parent / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()


def test_an_endless_line_is_refused_without_reading_it_whole(tmp_path: Path, local_embedder) -> None:
    from bot.archive import archive
    from bot.rag.knowledge_base import KnowledgeBase
    from bot.rag.stores.lancedb_backend import LanceDBBackend

    fp = local_embedder.fingerprint
    source = KnowledgeBase(LanceDBBackend(tmp_path / "source", fp.dim), local_embedder, fp)
    source.write(local_embedder.embed_documents([Document(content="Fact.", meta={"scope": "global",
                                                                                 "source": "f.md"})]))
    archive.export_archive(source, tmp_path / "good.tar.gz")
    endless = b"x" * (archive.MAX_LINE_BYTES + 1)  # compresses to a few hundred kB
    bad = _rewrite(tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz",
                   lambda n, d: endless if n == "chunks.jsonl" else d)
    target = KnowledgeBase(LanceDBBackend(tmp_path / "target", fp.dim), local_embedder, fp)
    with pytest.raises(archive.ArchiveError, match="chunks.jsonl line 1 is longer than 256 MB"):
        archive.import_archive(target, bad)
    assert target.count_chunks() == 0


def test_a_bad_line_after_many_good_ones_writes_none_of_them(tmp_path: Path, local_embedder) -> None:
    """Chunks are written in batches; the whole archive is checked before the first batch."""
    from bot.archive.archive import ArchiveError, export_archive, import_archive
    from bot.rag.knowledge_base import KnowledgeBase
    from bot.rag.stores.lancedb_backend import LanceDBBackend

    fp = local_embedder.fingerprint
    source = KnowledgeBase(LanceDBBackend(tmp_path / "source", fp.dim), local_embedder, fp)
    source.write(local_embedder.embed_documents([Document(content=f"Fact number {i}.", meta={
        "scope": "global", "source": f"f{i}.md"}) for i in range(6)]))
    export_archive(source, tmp_path / "good.tar.gz")
    bad = _rewrite(tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz",
                   lambda n, d: d + b"{not json\n" if n == "chunks.jsonl" else d)
    target = KnowledgeBase(LanceDBBackend(tmp_path / "target", fp.dim), local_embedder, fp)
    with pytest.raises(ArchiveError, match="line 7 is not valid JSON"):
        import_archive(target, bad, batch_size=1)
    assert target.count_chunks() == 0
