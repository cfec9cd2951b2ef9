"""`kbot` commands in processes of their own, forked from a server that has imported kbot already.

A test that runs `kbot ask`, `kbot chat` or `kbot run` as a separate process checks what only a
process shows: its exit code, what it prints, one line instead of a traceback, memory shared through
the database, a stop by SIGTERM or kill -9. A fresh interpreter would also spend two to four seconds
of CPU importing Haystack, LanceDB and SQLAlchemy first, which none of those tests checks. So each
command runs in a process forked from a fork server (multiprocessing's "forkserver") that imported
them once: a real process with its own pid, working folder, environment, standard streams and exit
code, started in a tenth of the time.

Tests about imports themselves (what a command leaves unimported, NumPy's settings before it loads)
keep `subprocess` and a fresh interpreter.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from pathlib import Path

from tests.support import kbot_child

_context: ForkServerContext | None = None


def _fork_server() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([kbot_child.__name__])
        _context = context
    return _context


@dataclass
class Finished:
    """What `subprocess.run(..., capture_output=True, text=True)` would have returned."""

    returncode: int
    stdout: str
    stderr: str


class KbotChild:
    """One running `kbot ARGS` process; Popen's calls that the tests use."""

    def __init__(self, args: list[str], cwd: Path, *, env: dict[str, str] | None = None, input: str | None = None,
                 stdout: Path | None = None, stderr: Path | None = None) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="kbot-child-"))
        stdin_path = None
        if input is not None:
            stdin_path = self._folder / "stdin"
            stdin_path.write_text(input, encoding="utf-8")
        self.stdout_path = stdout or self._folder / "stdout"
        self.stderr_path = stderr or self._folder / "stderr"
        self._process = _fork_server().Process(
            target=kbot_child.run,
            args=(list(args), str(cwd), dict(os.environ if env is None else env), stdin_path and str(stdin_path),
                  str(self.stdout_path), str(self.stderr_path)),
            daemon=False,
        )
        self._process.start()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise TimeoutError(f"kbot (pid {self.pid}) still running after {timeout} s")
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def output(self) -> tuple[str, str]:
        return (self.stdout_path.read_text(encoding="utf-8", errors="replace"),
                self.stderr_path.read_text(encoding="utf-8", errors="replace"))


def run_kbot(args: list[str], cwd: Path, *, env: dict[str, str] | None = None, input: str | None = None,
             timeout: float = 180) -> Finished:
    """`kbot ARGS` to its end, as `subprocess.run` would run it."""
    child = KbotChild(args, cwd, env=env, input=input)
    try:
        code = child.wait(timeout)
    except TimeoutError:
        child.kill()
        child.wait(10)
        raise
    return Finished(code, *child.output())
