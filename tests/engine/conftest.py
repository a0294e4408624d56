"""The real Pulumi engine for the `engine` test tier (see infra/ops/engine.py).

``scripts/install-pulumi-toolchain`` provides the CLI, the Python language host and the two
providers. Where it cannot, every engine test is skipped with its reason: nothing here imitates
the engine.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from infra.ops.engine import ToolchainUnavailableError, Workspace, install_toolchain


@cache
def _install_once() -> Path | ToolchainUnavailableError:
    """One attempt per test session, whatever pytest does with a skipping fixture."""
    try:
        return install_toolchain()
    except ToolchainUnavailableError as error:
        return error


@pytest.fixture(scope="session")
def toolchain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engine's bin directory; where it cannot be had, every engine test skips with one
    short line, and the install script's whole output is in the log file the line names."""
    outcome = _install_once()
    if isinstance(outcome, ToolchainUnavailableError):
        log = tmp_path_factory.getbasetemp() / "install-pulumi-toolchain.log"
        log.write_text(outcome.output)
        pytest.skip(f"no real Pulumi engine: {outcome} (full output: {log})")
    return outcome


@pytest.fixture
def engine(toolchain: Path, tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path, toolchain)
