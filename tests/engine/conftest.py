"""The real Pulumi engine for the `engine` test tier (see infra/ops/engine.py).

``scripts/install-pulumi-toolchain`` provides the CLI, the Python language host and the two
providers. Where it cannot, every engine test is skipped with its reason: nothing here imitates
the engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.ops.engine import ToolchainUnavailableError, Workspace, install_toolchain


@pytest.fixture(scope="session")
def toolchain() -> Path:
    try:
        return install_toolchain()
    except ToolchainUnavailableError as error:
        pytest.skip(f"the real Pulumi engine is not available here: {error}")


@pytest.fixture
def engine(toolchain: Path, tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path, toolchain)
