"""Promise: a job line from an archive becomes a job this deployment can act on safely: a running
job is queued again, a finished one is history whose notice was sent, a queued upload whose file is
missing fails with what to do, and an archive from before `reused` imports with 0."""

from __future__ import annotations

import pytest

from bot.archive.jobs import MISSING_UPLOAD, JobRecordError, parse_record

JOB = {"id": 3, "kind": "file", "source": "notes.md", "scope": "global", "uploader": "U1", "target": {},
       "state": "queued", "stage": "queued", "attempts": 0, "done": 0, "total": 0, "chunks": 0, "pages": 0,
       "reused": 0, "error": None, "warnings": None, "notified": False,
       "created_at": "2026-01-01T00:00:00+00:00", "started_at": None, "heartbeat_at": None,
       "finished_at": None, "upload": True}


def test_what_each_state_becomes() -> None:
    assert parse_record(JOB).values["state"] == "queued"
    running = parse_record({**JOB, "state": "running", "stage": "embedding"}).values
    assert (running["state"], running["stage"]) == ("queued", "queued")
    done = parse_record({**JOB, "state": "done", "stage": "done", "chunks": 4, "reused": 2}).values
    assert (done["state"], done["chunks"], done["reused"], done["notified"]) == ("done", 4, 2, True)
    lost = parse_record({**JOB, "upload": False}).values
    assert (lost["state"], lost["error"], lost["notified"]) == ("failed", MISSING_UPLOAD, False)
    url = parse_record({**JOB, "kind": "url", "source": "https://example.org/guide", "upload": False}).values
    assert url["state"] == "queued"


def test_an_older_line_without_reused_imports_with_zero() -> None:
    older = {name: value for name, value in JOB.items() if name != "reused"}
    assert parse_record(older).values["reused"] == 0


@pytest.mark.parametrize(("change", "named"), [
    ({"attempts": True}, '"attempts"'), ({"pages": -1}, '"pages"'), ({"source": ""}, '"source"'),
    ({"scope": "s" * 256}, '"scope" is longer than 255'), ({"created_at": "yesterday"}, '"created_at"'),
    ({"created_at": None}, '"created_at"'), ({"notified": "no"}, '"notified"'), ({"id": "3"}, '"id"'),
    ({"upload": 1}, '"upload"'), ({"kind": "ftp"}, '"kind"'), ({"uploader": 7}, '"uploader"'),
])
def test_a_wrong_field_is_named(change: dict, named: str) -> None:
    with pytest.raises(JobRecordError, match=named):
        parse_record({**JOB, **change})
