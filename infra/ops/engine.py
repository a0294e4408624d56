"""A throw-away workspace for the real Pulumi engine (engine tests and the benchmark).

A copy of the project (so ``pulumi stack init`` writes nothing into the checkout) that uses the
checkout's ``.venv``, a file state backend in the workspace, a passphrase secrets provider, and
no automatic plugin downloads: the engine, language host and providers come from ``toolchain``
(``scripts/install-pulumi-toolchain``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from infra.paths import REPO_ROOT
from infra.settings import SUPPORTED_STACKS

PROJECT_FILES: Final = (
    "Pulumi.yaml",
    *(f"Pulumi.{stack}.yaml" for stack in SUPPORTED_STACKS),
    "__main__.py",
    "pyproject.toml",
    "requirements.txt",
)
PROJECT_DIRS: Final = ("infra", "scripts")
PASSPHRASE: Final = "agent-platform-throwaway-passphrase"  # noqa: S105 (throw-away state)


class ToolchainUnavailableError(Exception):
    """The real engine cannot be had on this machine: the message is the script's last error
    line; ``output`` is everything it printed."""

    def __init__(self, returncode: int, output: str) -> None:
        errors = [line for line in output.splitlines() if ": error: " in line]
        last = errors[-1].split(": error: ", 1)[1] if errors else output.strip()[-200:]
        last = last.removesuffix(" (the errors above say why)")
        super().__init__(f"scripts/install-pulumi-toolchain exited {returncode}: {last}")
        self.output = output


def install_toolchain(timeout: float = 3600) -> Path:
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


@dataclass
class Workspace:
    project: Path
    state: Path
    environment: dict[str, str]

    @classmethod
    def create(cls, root: Path, toolchain: Path, *, empty_program: bool = False) -> Workspace:
        project = root / "project"
        project.mkdir(parents=True)
        if empty_program:
            # The floor: the same runtime and engine, no resources.
            (project / "Pulumi.yaml").write_text(
                "name: agent-platform\nruntime:\n  name: python\n  options:\n"
                "    virtualenv: .venv\n"
            )
            (project / "__main__.py").write_text("import pulumi  # noqa: F401\n")
        else:
            for name in PROJECT_FILES:
                shutil.copy2(REPO_ROOT / name, project / name)
            for name in PROJECT_DIRS:
                shutil.copytree(
                    REPO_ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__")
                )
        (project / ".venv").symlink_to(REPO_ROOT / ".venv")
        state = root / "state"
        state.mkdir()
        environment = {
            **os.environ,
            "PATH": f"{toolchain}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(root / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        return cls(project, state, environment)

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(  # noqa: S603 (the pulumi CLI with fixed arguments)
            ["pulumi", *args, "--non-interactive"],  # noqa: S607 (from the toolchain on PATH)
            cwd=self.project,
            env=self.environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
            )
        return completed

    def init_stack(
        self,
        stack: str,
        secrets: Mapping[str, str] = {},
        config: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.run("stack", "init", stack, "--secrets-provider", "passphrase")
        for key, value in secrets.items():
            self.run("config", "set", "--stack", stack, "--secret", key, stdin=value)
        for path, value in config:
            self.run("config", "set", "--stack", stack, "--path", path, value)

    def preview_steps(self, stack: str) -> list[dict[str, Any]]:
        completed = self.run("preview", "--stack", stack, "--json")
        steps: list[dict[str, Any]] = json.loads(completed.stdout).get("steps", [])
        return steps
