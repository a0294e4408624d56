"""Run the operator scripts for real, with stub kind/docker/kubectl/pulumi first on PATH.

PATH holds only the stubs and the few system tools the scripts use, so a test controls exactly
which tools exist (this machine may have a real kubectl, for one).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
STUB = Path(__file__).resolve().parent / "stubs" / "fake-tool"
SYSTEM_TOOLS = (
    "bash", "env", "timeout", "cat", "grep", "mktemp", "rm", "dirname", "basename", "sleep",
    "mv", "cp", "ln", "touch", "python3", "od", "tr", "mkdir", "sort", "head", "sed",
    "mkfifo", "tee", "readlink",
)  # fmt: skip
STUBBED = ("kind", "docker", "kubectl", "podman", "pulumi")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    calls: list[list[str]]

    def called(self, *prefix: str) -> bool:
        return any(call[: len(prefix)] == list(prefix) for call in self.calls)


class Tools:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.scripts = SCRIPTS
        self.state = root / "state"
        self.state.mkdir()
        self.stub_bin = root / "stub-bin"
        self.stub_bin.mkdir()
        self.system_bin = root / "system-bin"
        self.system_bin.mkdir()
        for tool in SYSTEM_TOOLS:
            # The interpreter running the tests, not whatever `python3` is first on PATH: a
            # version manager's shim (pyenv) does not work on this private PATH.
            found = sys.executable if tool == "python3" else shutil.which(tool)
            assert found, f"{tool} is needed by the script tests"
            (self.system_bin / tool).symlink_to(found)
        for tool in STUBBED:
            (self.stub_bin / tool).symlink_to(STUB)

    def remove(self, tool: str) -> None:
        (self.stub_bin / tool).unlink()

    def stub_script(self, script: str) -> None:
        """Run the scripts from a directory of links to them in which ``script`` is the stub:
        for a test of a script that runs another (``up`` runs ``preflight``) whose subject is
        not that other. A script finds the scripts it runs beside itself (BASH_SOURCE)."""
        linked = self.root / "scripts"
        if not linked.exists():
            linked.mkdir()
            for path in SCRIPTS.iterdir():
                (linked / path.name).symlink_to(path)
        (linked / script).unlink()
        (linked / script).symlink_to(STUB)
        self.scripts = linked

    def hang(self, tool: str, subcommand: str) -> None:
        (self.state / f"hang-{tool}-{subcommand}").touch()

    def fail(self, tool: str, subcommand: str) -> None:
        (self.state / f"fail-{tool}-{subcommand}").touch()

    def stall(self, tool: str, subcommand: str) -> None:
        """The tool does its work (a cluster half-created, a container made), then hangs."""
        (self.state / f"stall-{tool}-{subcommand}").touch()

    def fail_after(self, tool: str, subcommand: str) -> None:
        """The tool does its work, then fails (a cluster left half-created)."""
        (self.state / f"fail-after-{tool}-{subcommand}").touch()

    def slow(self, tool: str, subcommand: str, seconds: float) -> None:
        """The tool takes ``seconds`` before it does anything."""
        (self.state / f"slow-{tool}-{subcommand}").write_text(f"{seconds}\n")

    def wait_for_call(self, *words: str, wait: float = 10) -> None:
        """Return once a call holding ``words`` has started (waits for it up to ``wait`` s)."""
        deadline = time.monotonic() + wait
        while not any(all(word in call for word in words) for call in self.calls()):
            assert time.monotonic() < deadline, f"no call with {words}"
            time.sleep(0.02)

    def hung_pid(self, tool: str, subcommand: str, wait: float = 10) -> int:
        """The pid of the hanging stub, once it hangs (waits for it up to ``wait`` seconds)."""
        path = self.state / f"hung-{tool}-{subcommand}.pid"
        deadline = time.monotonic() + wait
        while not (path.exists() and path.read_text().endswith("\n")):
            assert time.monotonic() < deadline, f"{tool} {subcommand} never hung"
            time.sleep(0.02)
        return int(path.read_text())

    def stop_hung_stubs(self) -> None:
        """End every stub still hanging (one a script left behind must not outlive the test)."""
        for path in self.state.glob("hung-*.pid"):
            pid = int(path.read_text() or 0)
            if pid and alive(pid, grace=0):
                os.kill(pid, signal.SIGTERM)

    def signal_received(self, tool: str, subcommand: str) -> str | None:
        path = self.state / f"signal-{tool}-{subcommand}"
        return path.read_text().strip() if path.exists() else None

    def version(self, tool: str, version: str) -> None:
        (self.state / f"version-{tool}").write_text(version)

    def existing_clusters(self, *names: str) -> None:
        (self.state / "clusters").write_text("".join(f"{name}\n" for name in names))

    def clusters(self) -> list[str]:
        path = self.state / "clusters"
        return path.read_text().split() if path.exists() else []

    def calls(self) -> list[list[str]]:
        log = self.state / "calls.log"
        if not log.exists():
            return []
        return [line.split("\t") for line in log.read_text().splitlines()]

    def environment(self, env: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "PATH": f"{self.stub_bin}{os.pathsep}{self.system_bin}",
            "STUB_STATE": str(self.state),
            "HOME": str(self.state),
            **(env or {}),
        }

    def start(self, script: str, *args: str, env: dict[str, str] | None = None) -> Running:
        """Start a script in a session of its own (as a terminal would run it) and return."""
        process = subprocess.Popen(
            [str(self.scripts / script), *args],
            env=self.environment(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return Running(process, self)

    def run(
        self,
        script: str,
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        stdin_fd: int | None = None,
        timeout: float = 60,
    ) -> Result:
        environment = self.environment(env)
        if stdin_fd is None:
            stdin_fd = None if stdin is not None else subprocess.DEVNULL
        started = time.monotonic()
        completed = subprocess.run(
            [str(self.scripts / script), *args],
            env=environment,
            input=stdin,
            stdin=stdin_fd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(
            completed.returncode,
            completed.stdout,
            completed.stderr,
            time.monotonic() - started,
            self.calls(),
        )


def alive(pid: int, grace: float = 1.0) -> bool:
    """True when the process still runs after ``grace`` seconds (a process that was just
    killed takes a moment to go; a zombie waiting to be reaped counts as gone)."""
    deadline = time.monotonic() + grace
    while True:
        try:
            status = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        if status.rsplit(")", 1)[1].split()[0] == "Z":
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.02)


class Running:
    """A script started with Tools.start: send it signals, then collect its result."""

    def __init__(self, process: subprocess.Popen[str], tools: Tools) -> None:
        self.process = process
        self.tools = tools
        self.signalled_at = 0.0

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the script's process only (as `kill` or a supervisor does)."""
        self.signalled_at = time.monotonic()
        self.process.send_signal(signum)

    def ctrl_c(self) -> None:
        """SIGINT to the script's whole process group: what a terminal does on Ctrl-C."""
        self.signalled_at = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = 10) -> tuple[Result, float]:
        """The script's result, and the seconds it took to exit after the last signal."""
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.tools.stop_hung_stubs()
            if self.process.stdout and not self.process.stdout.closed:
                self.process.communicate()
        after = time.monotonic() - self.signalled_at
        result = Result(self.process.returncode, stdout, stderr, after, self.tools.calls())
        return result, after
