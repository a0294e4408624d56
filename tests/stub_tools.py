"""Run the operator scripts for real, with stub kind/docker/kubectl/pulumi first on PATH.

PATH holds only the stubs and the few system tools the scripts use, so a test controls exactly
which tools exist (this machine may have a real kubectl, for one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
STUB = Path(__file__).resolve().parent / "stubs" / "fake-tool"
SYSTEM_TOOLS = (
    "bash", "env", "timeout", "cat", "grep", "mktemp", "rm", "dirname", "basename", "sleep",
    "mv", "cp", "touch", "python3", "od", "tr", "mkdir", "sort", "head", "sed",
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
        self.state = root / "state"
        self.state.mkdir()
        self.stub_bin = root / "stub-bin"
        self.stub_bin.mkdir()
        self.system_bin = root / "system-bin"
        self.system_bin.mkdir()
        for tool in SYSTEM_TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} is needed by the script tests"
            (self.system_bin / tool).symlink_to(found)
        for tool in STUBBED:
            (self.stub_bin / tool).symlink_to(STUB)

    def remove(self, tool: str) -> None:
        (self.stub_bin / tool).unlink()

    def hang(self, tool: str, subcommand: str) -> None:
        (self.state / f"hang-{tool}-{subcommand}").touch()

    def fail(self, tool: str, subcommand: str) -> None:
        (self.state / f"fail-{tool}-{subcommand}").touch()

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

    def run(
        self,
        script: str,
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        stdin_fd: int | None = None,
        timeout: float = 60,
    ) -> Result:
        environment = {
            "PATH": f"{self.stub_bin}{os.pathsep}{self.system_bin}",
            "STUB_STATE": str(self.state),
            "HOME": str(self.state),
            **(env or {}),
        }
        if stdin_fd is None:
            stdin_fd = None if stdin is not None else subprocess.DEVNULL
        started = time.monotonic()
        completed = subprocess.run(
            [str(SCRIPTS / script), *args],
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
