"""One real `kbot run --role ROLE` process, for the multi-process tests and bench/scale.py."""

from __future__ import annotations

import re
import signal
import urllib.request
from pathlib import Path

from tests.support.processes import KbotChild


class KbotProcess:
    """The process, its ops port (read from its log: it binds port 0), and its log."""

    def __init__(self, role: str, folder: Path, env: dict[str, str], index: int) -> None:
        self.role, self.port = role, 0
        self.log_path = folder / f"{role}{index}.log"
        # --port 0: the system picks a free port (a port chosen here could be taken before the child binds)
        self.popen = KbotChild(["run", "--role", role, "--port", "0"], folder, env=env, stderr=self.log_path)

    def ready(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"{self.role} exited: {self.log_path.read_text()[-2000:]}")
        if not self.port:
            if not self.log_path.exists():  # the forked child has not opened its log yet
                return False
            found = re.search(r"health and metrics on http://[\d.]+:(\d+)", self.log_path.read_text())
            if found is None:
                return False
            self.port = int(found.group(1))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def counter(self, name: str) -> float:
        """The sum of a counter's samples over its labels, from this process's /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
            lines = response.read().decode().splitlines()
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(f"{name}{{"))

    @property
    def runner(self) -> str:
        """How the jobs table names this process (`host:pid`), without the host."""
        return f":{self.popen.pid}"

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except TimeoutError:
                self.popen.kill()
