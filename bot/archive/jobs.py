"""Job history in a kbot archive: one JSON line per job, checked field by field on import.

An archive is untrusted, and an imported job is acted on: a queued one is run (its URL fetched, its
upload parsed) and its notice is posted to the channel its `target` names. So every field must
have the type and range the database and the job runner expect, and a line that does not is
refused before anything is written. Jobs that had finished are history: their notices belonged to
the deployment that ran them, so they arrive as already sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.state.db import JobRow

COUNTS = ("attempts", "done", "total", "chunks", "pages")
OPTIONAL_COUNTS = ("reused",)  # written since format 1 began; an older archive's jobs reused nothing
TEXTS = {"kind": 16, "source": 1024, "scope": 255, "stage": 32}
OPTIONAL_TEXTS = {"uploader": 128, "error": None, "warnings": None}
TIMES = ("created_at", "started_at", "heartbeat_at", "finished_at")
STATES = ("queued", "running", "done", "failed")
FIELDS = (*TEXTS, *OPTIONAL_TEXTS, "target", "state", *COUNTS, *OPTIONAL_COUNTS, "notified")
_MAX_COUNT = 2**31 - 1  # an INTEGER column on PostgreSQL
MISSING_UPLOAD = "its file was not in the archive this job was imported from: upload it again"


class JobRecordError(ValueError):
    """A job line that is not a job record; the message names the field."""


@dataclass(frozen=True)
class JobRecord:
    archived_id: int  # the job's id where it was exported: its upload's member name
    has_upload: bool
    values: dict[str, Any]  # JobRow columns, times included

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        """What makes a job the same job again: importing twice adds it once."""
        return self.values["kind"], self.values["source"], self.values["scope"], iso(self.values["created_at"])


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def export_record(row: JobRow, has_upload: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"id": row.id, **{name: getattr(row, name) for name in FIELDS}}
    record.update({name: iso(getattr(row, name)) for name in TIMES})
    record["upload"] = has_upload
    return record


def parse_record(line: Any) -> JobRecord:
    """The checked record; `JobRecordError` names the first field that is wrong."""
    if not isinstance(line, dict):
        raise JobRecordError("not a JSON object")
    values: dict[str, Any] = {}
    for name, limit in TEXTS.items():
        values[name] = _text(line.get(name), name, limit, required=True)
    for name, optional_limit in OPTIONAL_TEXTS.items():
        values[name] = _text(line.get(name), name, optional_limit, required=False)
    for name in (*COUNTS, *OPTIONAL_COUNTS):
        values[name] = _count(line.get(name, 0 if name in OPTIONAL_COUNTS else None), name)
    if values["kind"] not in ("file", "url"):
        raise JobRecordError('"kind" must be "file" or "url"')
    if values["kind"] == "url" and not values["source"].startswith(("http://", "https://")):
        raise JobRecordError('a "url" job\'s "source" must be an http(s) URL')
    if line.get("state") not in STATES:
        raise JobRecordError(f'"state" must be one of {", ".join(STATES)}')
    values["state"] = line["state"]
    if not isinstance(line.get("target"), dict):
        raise JobRecordError('"target" must be an object')
    values["target"] = line["target"]
    if not isinstance(line.get("notified"), bool):
        raise JobRecordError('"notified" must be true or false')
    values["notified"] = line["notified"]
    for name in TIMES:
        values[name] = _time(line.get(name), name, required=name == "created_at")
    archived_id = line.get("id")
    if not isinstance(archived_id, int) or isinstance(archived_id, bool) or archived_id < 0:
        raise JobRecordError('"id" must be a whole number')
    has_upload = line.get("upload", False)
    if not isinstance(has_upload, bool):
        raise JobRecordError('"upload" must be true or false')
    if values["state"] == "running":  # its process is not coming back: run it again here
        values.update(state="queued", stage="queued")
    if values["state"] in ("done", "failed"):
        values["notified"] = True
    if values["kind"] == "file" and values["state"] == "queued" and not has_upload:
        # Nothing to run (the file had gone when the archive was made): the uploader is told.
        values.update(state="failed", error=MISSING_UPLOAD)
    return JobRecord(archived_id, has_upload, values)


def _text(value: Any, name: str, limit: int | None, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise JobRecordError(f'"{name}" must be {"a non-empty" if required else "a"} string')
    if limit is not None and len(value) > limit:
        raise JobRecordError(f'"{name}" is longer than {limit} characters')
    return value


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_COUNT:
        raise JobRecordError(f'"{name}" must be a whole number from 0 to {_MAX_COUNT}')
    return value


def _time(value: Any, name: str, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise JobRecordError(f'"{name}" must be an ISO 8601 time') from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
