"""The real Pulumi engine for the engine test tier and the benchmark, through the Automation API.

The program runs *inline* (``infra.program.run`` as it is, in a Python process of ours that the
CLI calls back through ``--client``), so no Python language host is needed: the one plugin the
engine must find is the Kubernetes provider, which ``scripts/install-pulumi-toolchain`` puts
beside the CLI.

An :class:`EngineProject` is a throw-away project directory (``Pulumi.yaml`` and the stack's
file, never the checkout's), a file state backend and a passphrase secrets provider beside it.
Each :meth:`EngineProject.run` starts a fresh Python process (``python -m infra.ops.engine_run``)
for its operations: after a failed inline run, the next run in the same process can fail with
"Resource monitor has terminated", so one scenario's failure must not leak into the next. The
request, secrets included, goes to that process on standard input, never on a command line.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from infra.ops.engine_protocol import (
    PLATFORM,
    EngineRequest,
    Operation,
    OperationResult,
    RunResults,
)
from infra.paths import REPO_ROOT
from infra.settings import PROJECT

PASSPHRASE: Final = "agent-platform-throwaway-passphrase"  # noqa: S105 (throw-away state)
PROVIDERS: Final = ("kubernetes", "command", "tls")
"""The providers the program can use: kubernetes always, command for the kind target, tls for
generated gateway certificates."""


class ToolchainUnavailableError(Exception):
    """The real engine cannot be had on this machine: the message is the script's last error
    line; ``output`` is everything it printed."""

    def __init__(self, returncode: int, output: str) -> None:
        errors = [line for line in output.splitlines() if ": error: " in line]
        last = errors[-1].split(": error: ", 1)[1] if errors else output.strip()[-200:]
        super().__init__(f"scripts/install-pulumi-toolchain exited {returncode}: {last}")
        self.output = output


def install_toolchain(timeout: float = 3600) -> Path:
    """The bin directory of ``scripts/install-pulumi-toolchain`` (the CLI and providers)."""
    completed = subprocess.run(  # noqa: S603 (the project's own script)
        [str(REPO_ROOT / "scripts" / "install-pulumi-toolchain")],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise ToolchainUnavailableError(completed.returncode, completed.stderr)
    return Path(completed.stdout.strip())


def missing_providers(toolchain: Path) -> list[str]:
    """The program's providers that the toolchain lacks (the engine would refuse to load them
    and, with automatic plugin downloads off, fetch nothing)."""
    return [name for name in PROVIDERS if not (toolchain / f"pulumi-resource-{name}").exists()]


class EngineRunError(RuntimeError):
    """The operation runner itself failed (not an engine operation: those report failure in
    their result)."""


@dataclass
class EngineProject:
    """A throw-away project for one stack, with its own state backend and plugin home."""

    root: Path
    stack: str
    toolchain: Path
    program: str = PLATFORM

    @property
    def project_dir(self) -> Path:
        return self.root / "project"

    @property
    def stack_file(self) -> Path:
        return self.project_dir / f"Pulumi.{self.stack}.yaml"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def environment(self) -> dict[str, str]:
        """What the CLI, the providers and the inline program run with."""
        return {
            **os.environ,
            "PATH": f"{self.toolchain}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(self.root / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{self.state_dir}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # The provider would otherwise read the ambient kubeconfig wherever the program
            # gives none (render mode): keep it off whatever cluster this machine points at.
            "KUBECONFIG": os.devnull,
            # The program logs JSON lines to the runner's stderr, not a terminal's colours.
            "NO_COLOR": "1",
        }

    @classmethod
    def create(
        cls,
        root: Path,
        toolchain: Path,
        stack: str,
        config: Mapping[str, Any],
        secrets: Mapping[str, str] = {},
        *,
        program: str = PLATFORM,
    ) -> EngineProject:
        """A project holding ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` with ``config`` (the
        stack file's ``config:`` mapping) and ``secrets`` set as Pulumi secrets."""
        project = cls(root, stack, toolchain, program)
        project.project_dir.mkdir(parents=True)
        project.state_dir.mkdir()
        (project.project_dir / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
        project.cli("stack", "init", stack, "--secrets-provider", "passphrase")
        project.configure(config)
        for key, value in secrets.items():
            # On standard input: a value on the command line would be visible in `ps`.
            project.cli(
                "config", "set", "--stack", stack, "--secret", f"{PROJECT}:{key}", stdin=value
            )
        return project

    def configure(self, config: Mapping[str, Any]) -> None:
        """Replace the stack's plain config with ``config``, keeping its secrets and salt."""
        document = yaml.safe_load(self.stack_file.read_text()) if self.stack_file.exists() else {}
        document = document or {}
        kept = {
            key: value
            for key, value in (document.get("config") or {}).items()
            if isinstance(value, dict) and set(value) == {"secure"}
        }
        document["config"] = {**copy.deepcopy(dict(config)), **kept}
        self.stack_file.write_text(yaml.safe_dump(document, sort_keys=False))

    def cli(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """The pulumi CLI in the project (stack, config and state commands; no program runs)."""
        completed = subprocess.run(  # noqa: S603 (the toolchain's CLI, fixed arguments)
            [str(self.toolchain / "pulumi"), *args, "--non-interactive"],
            cwd=self.project_dir,
            env=self.environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise EngineRunError(
                f"pulumi {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
            )
        return completed

    def run(self, *operations: Operation, timeout: float = 900) -> list[OperationResult]:
        """Run ``operations`` in order in a fresh process; stops after the first that fails."""
        with tempfile.TemporaryDirectory(prefix="engine-run-") as scratch:
            request = EngineRequest(
                project_dir=self.project_dir,
                stack=self.stack,
                toolchain=self.toolchain,
                environment=self.environment,
                program=self.program,
                operations=operations,
                result_path=Path(scratch) / "result.json",
            )
            completed = subprocess.run(
                [sys.executable, "-m", "infra.ops.engine_run"],
                cwd=REPO_ROOT,
                env=self.environment,
                input=request.model_dump_json(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            if completed.returncode != 0 or not request.result_path.exists():
                raise EngineRunError(
                    f"infra.ops.engine_run exited {completed.returncode}:\n"
                    f"{completed.stderr[-4000:]}"
                )
            return RunResults.model_validate_json(request.result_path.read_text()).results


def preview(expect_no_changes: bool = False) -> Operation:
    return Operation(kind="preview", expect_no_changes=expect_no_changes)


def up(expect_no_changes: bool = False, interrupt_after: int | None = None) -> Operation:
    return Operation(
        kind="up", expect_no_changes=expect_no_changes, interrupt_after=interrupt_after
    )


def destroy() -> Operation:
    return Operation(kind="destroy")
