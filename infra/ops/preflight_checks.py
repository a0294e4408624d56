"""The checks preflight runs on this machine: tool versions and free host ports.

Owns running a tool with a time bound (``run_tool``: a tool that does not answer in
TOOL_TIMEOUT_SECONDS is stopped with its whole process group and reported as not answering,
never taken for absent) and the ``Check`` row every check returns. Which checks a stack needs,
and the report, are the CLI's (``preflight``); the state backend check is ``state_backend``'s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

TOOL_TIMEOUT_SECONDS: float = 10

MINIMUM_VERSIONS: Final = {
    "pulumi": "3.187.0",
    "kind": "0.30.0",
    "kubectl": "1.33.0",
    "docker": "24.0.0",
    "podman": "4.9.0",
}
"""The README's prerequisites table states the same numbers (a test keeps them equal)."""

EXIT_READY: Final = 0
EXIT_NOT_READY: Final = 1
EXIT_BAD_INPUT: Final = 2


@dataclass
class Check:
    name: str
    required: bool
    wanted: str
    found: str
    ok: bool
    hint: str = ""


@dataclass(frozen=True)
class ToolRun:
    """A tool's stdout (None unless it succeeded) and, when it did not, why."""

    output: str | None
    problem: str = ""

    @property
    def timed_out(self) -> bool:
        return self.problem.startswith("did not answer")


def run_tool(command: Sequence[str]) -> ToolRun:
    """Run a tool with a time bound; on the bound, stop it and everything it started."""
    if shutil.which(command[0]) is None:
        return ToolRun(None, "missing")
    process = subprocess.Popen(  # noqa: S603 (fixed tool commands, no shell)
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a hung tool's children go too
    )
    try:
        stdout, _ = process.communicate(timeout=TOOL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return ToolRun(None, f"did not answer within {TOOL_TIMEOUT_SECONDS:g}s")
    if process.returncode != 0:
        return ToolRun(None, f"failed (status {process.returncode})")
    return ToolRun(stdout)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _extract_version(output: str | None) -> str | None:
    if output is None:
        return None
    match = re.search(r"v?(\d+\.\d+\.\d+)", output)
    return match[1] if match else None


def tool_check(name: str, command: Sequence[str], hint: str, required: bool = True) -> Check:
    wanted = f">= {MINIMUM_VERSIONS[name]}"
    run = run_tool(command)
    output = run.output
    if name == "kubectl" and output:
        try:
            output = json.loads(output)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError):
            output = None
    version = _extract_version(output)
    if version is None:
        found = "missing" if shutil.which(command[0]) is None else "no answer"
        if run.timed_out:
            found = f"no answer within {TOOL_TIMEOUT_SECONDS:g}s"
        return Check(name, required, wanted, found, False, hint)
    ok = _version_tuple(version) >= _version_tuple(MINIMUM_VERSIONS[name])
    return Check(name, required, wanted, version, ok, "" if ok else f"upgrade: {hint}")


def container_engine_check() -> Check:
    if shutil.which("docker") or not shutil.which("podman"):
        check = tool_check(
            "docker",
            ["docker", "version", "--format", "{{.Server.Version}}"],
            "install Docker Engine 24+ and start it (the server version needs the daemon)",
        )
    else:
        check = tool_check(
            "podman",
            ["podman", "version", "--format", "{{.Version}}"],
            "install Podman 4.9+ and set KIND_EXPERIMENTAL_PROVIDER=podman",
        )
    check.name = f"{check.name} (container engine)"
    return check


def kind_clusters() -> set[str] | None:
    """The kind clusters on this machine; None when kind could not list them."""
    run = run_tool(["kind", "get", "clusters"])
    if run.output is None:
        return None
    return set(run.output.split())


def port_check(
    label: str, address: str, port: int, cluster: str, clusters: set[str] | None
) -> Check:
    wanted = f"{address}:{port} free"
    if clusters is not None and cluster in clusters:
        return Check(label, True, wanted, f"held by kind cluster {cluster}", True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError as error:
            hint = f"free port {port} or choose another in Pulumi.<stack>.yaml"
            if clusters is None:
                hint += (
                    f"; 'kind get clusters' did not answer, so whether kind cluster {cluster} "
                    "holds it is unknown"
                )
            return Check(label, True, wanted, f"in use ({error.strerror})", False, hint)
    return Check(label, True, wanted, "free", True)
