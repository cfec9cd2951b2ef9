"""`kbot export` / `kbot import`: the whole knowledge base in one portable file.

The archive is a gzip'd tar with, in this order:
- `manifest.json`: {"format": "kbot-archive", "version": 1, "created_at", "embedder": fingerprint,
  "chunks": N, "jobs": N}
- `chunks.jsonl`: one chunk per line, {"id", "content", "meta", "vector"}; `vector` is the embedding as
  base64 of little-endian float32 (null in a keyword-only store). Chunk ids come from the content,
  so importing twice finds every chunk already there and writes nothing.
- `jobs.jsonl` and `uploads/<job id>` (with `--with-uploads`): the job history and the uploaded files
  (a job line's fields: archive_jobs.py).

It moves a team from LanceDB to Weaviate without re-embedding, backs one up, or seeds a new
deployment. An archive is read as untrusted: members are looked up by name (never extracted to
disk), and every line is checked before the first write, so a bad archive changes nothing.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from haystack.dataclasses import Document
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.archive.jobs import JobRecord, JobRecordError, export_record, iso, parse_record
from bot.jobs.queue import IN_DATABASE
from bot.rag.chunk_meta import content_problem, meta_problem
from bot.rag.embedding.contract import EmbedderFingerprint
from bot.rag.knowledge_base import KnowledgeBase, source_filter
from bot.state.db import JobRow, JobUploadRow

FORMAT, VERSION = "kbot-archive", 1
_BATCH = 500
MAX_LINE_BYTES = 256_000_000  # ten times the default knowledge.max_file_mb: no chunk or job line comes near it
Progress = Callable[[int, int], None]


class ArchiveError(RuntimeError):
    """The archive cannot be written or read as asked; the message says why and what to do."""


@dataclass(frozen=True)
class ImportSummary:
    added: int
    present: int
    jobs: int
    kept: tuple[str, ...] = ()  # sources the store holds in another version: left as they are here


def _vector_text(embedding: list[float] | None) -> str | None:
    if embedding is None:
        return None
    return base64.b64encode(np.asarray(embedding, dtype="<f4").tobytes()).decode("ascii")


def _vector(text: Any, dim: int, line: int) -> list[float] | None:
    if text is None:
        return None
    try:
        values = np.frombuffer(base64.b64decode(text, validate=True), dtype="<f4")
    except (TypeError, ValueError):
        raise ArchiveError(f"chunks.jsonl line {line}: the vector is not base64 float32") from None
    if values.size != dim:
        raise ArchiveError(f"chunks.jsonl line {line}: the vector has {values.size} numbers, expected {dim}")
    if not np.isfinite(values).all():
        raise ArchiveError(f"chunks.jsonl line {line}: the vector holds numbers that are not finite (NaN or infinity)")
    return cast(list[float], values.astype(float).tolist())


# -- export ---------------------------------------------------------------------------------------------


def export_archive(kb: KnowledgeBase, path: Path, *, engine: Engine | None = None,
                   on_progress: Progress | None = None, on_upload: Progress | None = None) -> tuple[int, int]:
    """Write the archive (jobs and uploads too when `engine` is given); returns (chunks, jobs).
    `on_progress` follows the chunks, `on_upload` the uploads (gigabytes, on a busy deployment).
    Written beside `path` and renamed at the end, so a failure never leaves half an archive."""
    total = kb.count_chunks()
    with tempfile.TemporaryDirectory(prefix="kbot-export-", dir=path.parent) as work:
        chunks_file = Path(work) / "chunks.jsonl"
        written = 0
        with chunks_file.open("w", encoding="utf-8") as out:
            for info in kb.sources():
                for doc in kb.backend.document_store.filter_documents(source_filter(info.source, [info.scope])):
                    out.write(json.dumps({"id": doc.id, "content": doc.content, "meta": doc.meta,
                                          "vector": _vector_text(doc.embedding)}, ensure_ascii=False) + "\n")
                    written += 1
                    if on_progress is not None:
                        on_progress(written, total)
        jobs = _jobs_for_export(engine) if engine is not None else []
        manifest = {"format": FORMAT, "version": VERSION, "created_at": datetime.now(UTC).isoformat(),
                    "embedder": kb.fingerprint.to_dict(), "chunks": written, "jobs": len(jobs)}
        partial = Path(work) / "archive.partial"
        with tarfile.open(partial, "w:gz") as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
            tar.add(chunks_file, arcname="chunks.jsonl")
            if engine is not None:
                uploads = [job for job in jobs if job["upload"]]
                for done, job in enumerate(uploads, 1):  # one in memory at a time: together, gigabytes
                    data = _upload(engine, job["id"])
                    job["upload"] = data is not None
                    if data is not None:
                        _add_bytes(tar, f"uploads/{job['id']}", data)
                    if on_upload is not None:
                        on_upload(done, len(uploads))
                _add_bytes(tar, "jobs.jsonl", "".join(json.dumps(job) + "\n" for job in jobs).encode())
        partial.chmod(0o600)  # every chunk of the knowledge base, and the uploads: kbot's user's alone
        os.replace(partial, path)
    return written, len(jobs)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _jobs_for_export(engine: Engine) -> list[dict[str, Any]]:
    """Every job's record; `upload` says whether its file can be found (read later, one at a time)."""
    with Session(engine) as session:
        stored = set(session.scalars(select(JobUploadRow.job_id)))
        return [export_record(row, row.kind == "file" and (row.id in stored or (
                    row.location != IN_DATABASE and Path(row.location).is_file())))
                for row in session.scalars(select(JobRow).order_by(JobRow.id))]


def _upload(engine: Engine, job_id: int) -> bytes | None:
    """A job's uploaded file: in the database, or where an older kbot kept it on disk."""
    with Session(engine) as session:
        upload = session.get(JobUploadRow, job_id)
        if upload is not None:
            return upload.data
        row = session.get(JobRow, job_id)
        location = row.location if row is not None else IN_DATABASE
    return Path(location).read_bytes() if location != IN_DATABASE and Path(location).is_file() else None


# -- import ---------------------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    with _open(path) as tar:
        return _manifest(tar)


def import_archive(kb: KnowledgeBase, path: Path, *, engine: Engine | None = None,
                   on_progress: Progress | None = None, batch_size: int = _BATCH,
                   max_upload_bytes: int | None = None) -> ImportSummary:
    """Load an archive into the configured store (and job history into `engine`'s database).

    Refuses, changing nothing, an archive made with another embedder than the configured one, and
    any archive with a malformed line. Chunks already in the store are left as they are, and so is
    a document the store holds in another version (its text or its chunking differs): the archive's
    chunks of it are not added beside the store's, where old and new passages would contradict or
    repeat each other."""
    with _open(path) as tar:
        manifest = _manifest(tar)
        archived = EmbedderFingerprint.from_dict(manifest["embedder"])
        if archived != kb.fingerprint:
            raise ArchiveError(
                f"the archive's vectors were made with {archived.describe()}, but this config uses "
                f"{kb.fingerprint.describe()}: set `embedder` in config.yaml to match the archive and import "
                "again, then run `kbot reindex` if you want the other embedder")
        archive_versions: dict[tuple[str, str], set[tuple[Any, Any]]] = {}
        total = 0
        for document in _chunks(tar, archived.dim):  # every line checked before anything is written
            archive_versions.setdefault(_document_key(document.meta), set()).add(_version(document.meta))
            total += 1
        jobs = _job_records(tar, max_upload_bytes) if engine is not None else []
        stored = kb.chunk_metadata(None)
        present_ids = {chunk_id for chunk_id, _ in stored}
        store_versions: dict[tuple[str, str], set[tuple[Any, Any]]] = {}
        for _, meta in stored:
            store_versions.setdefault(_document_key(meta), set()).add(_version(meta))
        kept = {key for key, versions in archive_versions.items() if store_versions.get(key, versions) != versions}
        added = present = 0
        batch: list[Document] = []
        for done, document in enumerate(_chunks(tar, archived.dim), 1):
            if document.id in present_ids:
                present += 1
            elif _document_key(document.meta) in kept:
                pass  # the store's version of this document stays whole
            else:
                batch.append(document)
                present_ids.add(document.id)
            if len(batch) >= batch_size:
                added += kb.write(batch)
                batch = []
            if on_progress is not None:
                on_progress(done, total)
        if batch:
            added += kb.write(batch)
        if added:
            kb.optimize()
        imported = _import_jobs(tar, engine, jobs) if engine is not None else 0
    return ImportSummary(added, present, imported, tuple(sorted(f"{source} ({scope})" for scope, source in kept)))


def _document_key(meta: dict[str, Any]) -> tuple[str, str]:
    return str(meta["scope"]), str(meta["source"])


def _version(meta: dict[str, Any]) -> tuple[Any, Any]:
    """A document's text and how it was cut: either differing gives other chunk ids for it."""
    return meta.get("content_hash"), meta.get("chunking")


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:gz")
    except FileNotFoundError:
        raise ArchiveError(f"no archive at {path}") from None
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, OSError) as exc:
        raise ArchiveError(f"{path} is not a kbot archive (a .tar.gz made by `kbot export`): "
                           f"{exc.__class__.__name__}") from None


def _regular(info: tarfile.TarInfo) -> tarfile.TarInfo:
    if not info.isfile():
        raise ArchiveError(f"the archive's {info.name} is not a regular file")
    return info


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes] | None:
    try:
        info = tar.getmember(name)
    except KeyError:
        return None
    return tar.extractfile(_regular(info))


def _uploads(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """The upload members by name, read once: `TarFile.getmember` scans every member on each call,
    which for thousands of jobs is millions of comparisons."""
    return {info.name: info for info in tar.getmembers() if info.name.startswith("uploads/")}


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    member = _member(tar, "manifest.json")
    if member is None:
        raise ArchiveError("the archive has no manifest.json: it was not made by `kbot export`")
    try:
        manifest = json.loads(member.read(1_000_000))
    except ValueError:
        raise ArchiveError("the archive's manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("the archive's manifest.json is not a kbot archive's")
    if manifest.get("version") != VERSION:
        raise ArchiveError(f"the archive is format version {manifest.get('version')}; this kbot reads version "
                           f"{VERSION}: import it with the kbot that made it, or a newer one")
    try:
        EmbedderFingerprint.from_dict(manifest["embedder"])
    except (KeyError, TypeError, ValueError):
        raise ArchiveError("the archive's manifest.json has no usable embedder record") from None
    return manifest


def _lines(member: IO[bytes], name: str) -> Iterator[tuple[int, bytes]]:
    """Numbered lines, each read to at most MAX_LINE_BYTES: a forged member of one endless line is
    refused, not read into memory (json.loads takes the bytes and checks they are UTF-8)."""
    number = 0
    while line := member.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise ArchiveError(f"{name} line {number} is longer than {MAX_LINE_BYTES // 1_000_000} MB: no chunk "
                               "or job is that big, so the archive was not made by `kbot export`")
        yield number, line


def _chunks(tar: tarfile.TarFile, dim: int) -> Iterator[Document]:
    member = _member(tar, "chunks.jsonl")
    if member is None:
        raise ArchiveError("the archive has no chunks.jsonl")
    for number, raw in _lines(member, "chunks.jsonl"):
        try:
            line = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ArchiveError(f"chunks.jsonl line {number} is not valid JSON") from None
        if not (isinstance(line, dict) and isinstance(line.get("id"), str) and isinstance(line.get("content"), str)
                and isinstance(line.get("meta"), dict) and isinstance(line["meta"].get("scope"), str)
                and isinstance(line["meta"].get("source"), str)):
            raise ArchiveError(f"chunks.jsonl line {number}: a chunk needs an id, content, and meta with its "
                               "scope and source")
        problem = meta_problem(line["meta"])
        if problem is not None:
            raise ArchiveError(f"chunks.jsonl line {number}: in its meta, {problem}")
        too_long = content_problem(line["content"])
        if too_long is not None:
            raise ArchiveError(f"chunks.jsonl line {number}: {too_long}")
        vector = _vector(line.get("vector"), dim, number)
        if dim and vector is None:
            raise ArchiveError(f"chunks.jsonl line {number} has no vector, but the archive's embedder makes them")
        yield Document(id=line["id"], content=line["content"], meta=line["meta"], embedding=vector)


def _job_records(tar: tarfile.TarFile, max_upload_bytes: int | None) -> list[tuple[JobRecord, tarfile.TarInfo | None]]:
    """Every job line checked, and every upload it names present and within the file limit (a queued
    one is read and parsed), before anything is written; each record with its upload's member."""
    member = _member(tar, "jobs.jsonl")
    if member is None:
        return []
    records: list[tuple[JobRecord, tarfile.TarInfo | None]] = []
    uploads = _uploads(tar)
    for number, raw in _lines(member, "jobs.jsonl"):
        try:
            record = parse_record(json.loads(raw))
        except (ValueError, UnicodeDecodeError) as exc:
            why = str(exc) if isinstance(exc, JobRecordError) else "not valid JSON"
            raise ArchiveError(f"jobs.jsonl line {number} is not a job record: {why}") from None
        name = f"uploads/{record.archived_id}"
        upload = uploads.get(name) if record.has_upload else None
        if upload is not None:
            _regular(upload)
        if record.has_upload and upload is None:
            raise ArchiveError(f"jobs.jsonl line {number}: its upload, {name}, is not in the archive")
        if upload is not None and max_upload_bytes is not None and upload.size > max_upload_bytes:
            raise ArchiveError(f"jobs.jsonl line {number}: its upload, {name}, is {upload.size / 1e6:.1f}"
                               f" MB, over the {max_upload_bytes / 1e6:g} MB limit (knowledge.max_file_mb)")
        records.append((record, upload))
    return records


def _import_jobs(tar: tarfile.TarFile, engine: Engine, records: list[tuple[JobRecord, tarfile.TarInfo | None]]) -> int:
    added = 0
    with Session(engine) as session, session.begin():
        seen = {(r.kind, r.source, r.scope, iso(r.created_at)) for r in
                session.execute(select(JobRow.kind, JobRow.source, JobRow.scope, JobRow.created_at))}
        for record, upload in records:
            if record.key in seen:
                continue  # imported before
            seen.add(record.key)
            data = tar.extractfile(upload) if upload is not None else None
            values = record.values
            location = IN_DATABASE if data is not None else values["source"] if values["kind"] == "url" else ""
            row = JobRow(**values, location=location)
            session.add(row)
            session.flush()
            if data is not None:
                session.add(JobUploadRow(job_id=row.id, data=data.read()))
            added += 1
    return added
