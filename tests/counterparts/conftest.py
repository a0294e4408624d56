"""The `counterparts` tier: the program's output against the real things it will meet.

``scripts/install-k8s-counterparts`` builds (or finds cached) etcd, kube-apiserver,
kube-controller-manager and kubectl of Kubernetes 1.34 and kind's config decoder. Where they
cannot be had (no Go, no module proxy), every test here is skipped with one line saying why;
the script's full output is kept in a log file named in that line.

Session fixtures start one etcd and, per stack, one API server and controller manager (each
stack gets a cluster of its own, as on kind), render each stack with ``scripts/render``,
and deploy it once the way ``pulumi up`` would; the tests then assert on what happened.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest

from tests.conftest import PROJECT_DIR, mark_tier
from tests.counterparts.apply import (
    ApplyResult,
    Key,
    WorkloadPods,
    apply_in_order,
    changes_of_second_apply,
    read_manifests,
    restricted_violations,
    wait_for_pods,
    with_test_secrets,
)
from tests.counterparts.control_plane import ControlPlane, control_planes

STACKS: Final = ("studio", "homelab")
INSTALL_SCRIPT: Final = PROJECT_DIR / "scripts" / "install-k8s-counterparts"
INSTALL_TIMEOUT_SECONDS: Final = 3600
TIER_TIMEOUT_SECONDS: Final = INSTALL_TIMEOUT_SECONDS + 300
"""pytest-timeout's bound for the tier's tests: the first one may wait for a cold build.
Every wait inside has a bound of its own."""
KUBERNETES_MINOR: Final = "v1.34"
# The ``fault-checks`` namespace of the studio control plane is where the tests that show each
# check failing put their deliberately broken objects, away from the stack's own.


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent, "counterparts", TIER_TIMEOUT_SECONDS)


@pytest.fixture(scope="session")
def counterparts_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("counterparts-install") / "install-k8s-counterparts.log"
    try:
        completed = subprocess.run(
            [str(INSTALL_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS + 60,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        log.write_text(str(error.stderr or ""))
        pytest.skip(f"scripts/install-k8s-counterparts timed out (log: {log})")
    log.write_text(completed.stderr)
    if completed.returncode != 0:
        errors = [line for line in completed.stderr.splitlines() if "error" in line]
        reason = errors[-1] if errors else f"exit {completed.returncode}"
        pytest.skip(f"Kubernetes counterparts unavailable: {reason} (full log: {log})")
    return Path(completed.stdout.strip())


@pytest.fixture(scope="session")
def planes(
    counterparts_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ControlPlane]]:
    with control_planes(
        counterparts_bin, tmp_path_factory.mktemp("control-planes"), STACKS
    ) as started:
        yield started


def render_with_cli(stack: str, out: Path, project_dir: Path = PROJECT_DIR) -> list[dict[str, Any]]:
    """``scripts/render``: what users run, Secret values as markers."""
    completed = subprocess.run(
        [sys.executable, "-m", "infra.offline.render", "--stack", stack, "--out", str(out),
         "--project-dir", str(project_dir)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    return read_manifests(out)


@dataclass
class StackDeployment:
    """What the API server did with one stack, deployed as ``pulumi up`` would."""

    stack: str
    plane: ControlPlane
    manifests: list[dict[str, Any]]
    applies: list[ApplyResult] = field(default_factory=list)
    diff: subprocess.CompletedProcess[str] | None = None
    changed_by_second_apply: dict[Key, tuple[Any, Any]] = field(default_factory=dict)
    pods: dict[Key, WorkloadPods] = field(default_factory=dict)
    pod_events: list[str] = field(default_factory=list)
    restricted_violations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def applied_cleanly(self) -> bool:
        return bool(self.applies) and all(result.clean for result in self.applies)


class Deployments:
    """Each stack rendered and deployed once per session, on first use."""

    def __init__(self, planes: dict[str, ControlPlane], work: Path) -> None:
        self._planes = planes
        self._work = work
        self._done: dict[str, StackDeployment] = {}

    def __getitem__(self, stack: str) -> StackDeployment:
        if stack not in self._done:
            self._done[stack] = self._deploy(stack)
        return self._done[stack]

    def _deploy(self, stack: str) -> StackDeployment:
        plane = self._planes[stack]
        manifests = with_test_secrets(render_with_cli(stack, self._work / stack))
        deployment = StackDeployment(stack, plane, manifests)
        deployment.applies = apply_in_order(plane.kubectl, manifests)
        if not deployment.applied_cleanly:
            return deployment
        deployment.pods, deployment.pod_events = wait_for_pods(plane.kubectl, manifests)
        namespaces = sorted({key[1] for key in deployment.pods})
        deployment.restricted_violations = {
            namespace: restricted_violations(plane.kubectl, namespace) for namespace in namespaces
        }
        # After the controllers have acted (autoscalers scaled their Deployments up to their
        # minimum), as a second `pulumi up` would find the cluster.
        deployment.diff, deployment.changed_by_second_apply = changes_of_second_apply(
            plane.kubectl, manifests
        )
        return deployment


@pytest.fixture(scope="session")
def deployments(
    planes: dict[str, ControlPlane], tmp_path_factory: pytest.TempPathFactory
) -> Deployments:
    return Deployments(planes, tmp_path_factory.mktemp("rendered"))
