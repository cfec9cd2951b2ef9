"""The test PostgreSQL server, where there is one (scripts/test starts one where the machine can)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.bots import free_port

POSTGRES_URL = os.environ.get("KBOT_TEST_POSTGRES_URL", "")
# One reason string, so the summary shows one line with the count of tests it skipped.
NO_POSTGRES = ("no PostgreSQL server: KBOT_TEST_POSTGRES_URL is not set (scripts/test starts one where the "
               "machine can install Debian's postgresql)")
requires_postgres = pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)


class ThrowawayPostgres:
    """A PostgreSQL server of a test's own, on 127.0.0.1, that the test can stop and start again under a
    running bot (the server scripts/test starts is shared by the whole suite and must stay up)."""

    def __init__(self, folder: Path) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not found:
            pytest.skip(NO_POSTGRES)
        self.bin = found[-1].parent
        self.folder = folder
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            self.run_as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres")
        self.port = free_port()
        subprocess.run([*self.run_as, str(self.bin / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                        "-U", "kbot"], check=True, capture_output=True)
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://kbot@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                        str(self.folder / "log"), "-w", "-o",
                        f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off", "start"],
                       check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w",
                        "stop"], check=True, capture_output=True)

    def close(self) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "stop"], capture_output=True)
