"""The `engine` tier: the program under the real Pulumi engine (see infra/ops/engine.py).

``scripts/install-pulumi-toolchain`` provides the CLI and the providers; where it cannot,
every engine test is skipped with its reason: nothing here imitates the engine. Where the
toolchain lacks a provider a scenario needs (here: ``command`` for the kind target, ``tls`` for
generated certificates, whose modules the Go proxy refuses), that scenario alone skips, naming
the provider; with a CLI that can install plugins, it runs.

The existing-cluster scenarios deploy to a real control plane of the counterparts tier (etcd,
kube-apiserver, kube-controller-manager, kube-scheduler; tests/counterparts/control_plane.py)
with three kwok nodes in two zones, on which Pods turn Ready and claims bind: `pulumi up`
finishes on the provider's own readiness wait, as on a real cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

import pytest

from infra.ops.engine import (
    EngineProject,
    ToolchainUnavailableError,
    install_toolchain,
    missing_providers,
)
from infra.settings import read_stack_file
from tests.conftest import KNOWN_SECRETS, PROJECT_DIR, mark_tier, merge
from tests.counterparts.conftest import counterparts_bin  # noqa: F401 (a fixture used here)
from tests.counterparts.control_plane import ControlPlane, FakeNode, control_planes

TOOLCHAIN_TIMEOUT_SECONDS: Final = 3600
TIER_TIMEOUT_SECONDS: Final = TOOLCHAIN_TIMEOUT_SECONDS + 600
"""pytest-timeout's bound for the tier's tests: the first may wait for a cold toolchain build.
Every engine run inside has a bound of its own."""

NewProject = Callable[..., EngineProject]
BIG_NODES: Final = ("node.example.com/pool", "big")
"""The label of the one node the placement tests send embedding to."""
NODES: Final = (
    FakeNode("node-a1", "zone-a"),
    FakeNode("node-a2", "zone-a"),
    FakeNode("node-b1", "zone-b", labels=(BIG_NODES,)),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent, "engine", TIER_TIMEOUT_SECONDS)


@cache
def _install_once() -> Path | ToolchainUnavailableError:
    """One attempt per test session, whatever pytest does with a skipping fixture."""
    try:
        return install_toolchain(TOOLCHAIN_TIMEOUT_SECONDS)
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


def require_providers(toolchain: Path, *names: str) -> None:
    """Skip, naming them, when the toolchain lacks providers the scenario needs."""
    missing = [name for name in missing_providers(toolchain) if name in names]
    if missing:
        plural = len(missing) > 1
        pytest.skip(
            f"needs the {' and '.join(missing)} provider{'s' if plural else ''}, which this "
            f"toolchain lacks ({'their Go modules' if plural else 'its Go module'} cannot be had "
            "here; a pulumi CLI that installs plugins has them)"
        )


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stack file's config with ``overrides`` (dotted keys, as tests.conftest.merge)."""
    return merge(read_stack_file(stack, PROJECT_DIR), overrides or {})


@pytest.fixture
def new_project(toolchain: Path, tmp_path: Path) -> NewProject:
    """``new_project(stack, overrides, secrets=KNOWN_SECRETS)``: a throw-away engine project."""
    made = 0

    def _new(
        stack: str,
        overrides: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] = KNOWN_SECRETS,
        **options: Any,
    ) -> EngineProject:
        nonlocal made
        made += 1
        return EngineProject.create(
            tmp_path / f"engine-{made}",
            toolchain,
            stack,
            stack_config(stack, overrides),
            secrets,
            **options,
        )

    return _new


@pytest.fixture(scope="session")
def control_plane(
    counterparts_bin: Path,  # noqa: F811 (the fixture imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ControlPlane]:
    """One real control plane, with nodes, for the existing-cluster scenarios; each scenario
    deploys to a namespace of its own."""
    with control_planes(
        counterparts_bin, tmp_path_factory.mktemp("engine-control-plane"), ["engine"], NODES
    ) as planes:
        plane = planes["engine"]
        # The Gateway API, as a cluster that routes with it has it installed.
        plane.kubectl.run(
            "apply", "--server-side", "-f", str(counterparts_bin / "gateway-api-crds.yaml")
        )
        yield plane
