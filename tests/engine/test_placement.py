"""homelab on an existing cluster of three nodes in two zones, through the real engine, placed
by the real scheduler: replicas spread over nodes, a drain leaves the gateway up, placement
settings are honoured, and the exposure objects (a LoadBalancer Service, an Ingress, an
HTTPRoute) are accepted by the API server and awaited by the provider.

Nothing here provides load balancers or ingress addresses, so a stand-in for a load balancer
controller (:class:`AddressStandIn`) writes an address into the status of the gateway's
Service and Ingress, as a cloud's controller or MetalLB would; the provider waits for it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from infra.ops.engine import EngineProject, up
from tests.counterparts.control_plane import ControlPlane
from tests.engine.conftest import BIG_NODES, NODES, stack_config
from tests.engine.test_existing_target import existing_overrides, existing_secrets

NAMESPACE: Final = "placement"
PRIORITY: Final = 250_000
STAND_IN_ADDRESS: Final = "192.0.2.10"  # TEST-NET-1: an address in status only, never dialled


class AddressStandIn:
    """A stand-in for a load balancer or ingress controller: once the gateway's Service (type
    LoadBalancer) or Ingress exists, it writes an address into its status."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        status = f'{{"status":{{"loadBalancer":{{"ingress":[{{"ip":"{STAND_IN_ADDRESS}"}}]}}}}}}'
        while not self.stop.wait(0.5):
            for kind in ("service", "ingress"):
                self.plane.kubectl.run(
                    "patch", kind, "gateway", "-n", NAMESPACE, "--subresource=status",
                    "--type=merge", "-p", status, check=False, timeout=10,
                )  # fmt: skip

    def __enter__(self) -> AddressStandIn:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=15)


def overrides(exposure: dict[str, Any]) -> dict[str, Any]:
    behind_a_listener: dict[str, Any] = (
        # An HTTPRoute's TLS ends at its parent Gateway's listener; the route speaks HTTP.
        {"gateway.tls": {"mode": "off"}, "cluster.plainHttpBehindTlsProxy": True}
        if exposure["type"] == "httpRoute"
        else {}
    )
    return {
        **existing_overrides("homelab"),
        **behind_a_listener,
        "namespace": NAMESPACE,
        "gateway.exposure": exposure,
        "embedding.nodeSelector": dict([BIG_NODES]),
        "priorityClass": {"create": True, "name": "agent-platform-test", "value": PRIORITY},
    }


LOAD_BALANCER: Final = {
    "type": "loadBalancer",
    "annotations": {"metallb.universe.tf/address-pool": "lan"},
    "loadBalancerSourceRanges": ["192.168.0.0/16"],
}


@pytest.fixture(scope="module")
def homelab(
    toolchain: Path, control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineProject]:
    project = EngineProject.create(
        tmp_path_factory.mktemp("placement") / "engine", toolchain, "homelab",
        stack_config("homelab", overrides(LOAD_BALANCER)),
        existing_secrets("homelab", control_plane),
    )  # fmt: skip
    with AddressStandIn(control_plane):
        (applied,) = project.run(up())
        assert applied.ok, applied.error
        yield project


def pods(plane: ControlPlane, component: str) -> list[dict[str, Any]]:
    listed = plane.kubectl.json(
        "get", "pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/component={component}"
    )
    return [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]


def nodes_of(plane: ControlPlane, component: str) -> Counter[str]:
    return Counter(p["spec"].get("nodeName", "") for p in pods(plane, component))


@pytest.mark.usefixtures("homelab")
def test_gateway_and_embedding_replicas_land_on_different_nodes(
    control_plane: ControlPlane,
) -> None:
    gateway = nodes_of(control_plane, "gateway")

    assert sum(gateway.values()) == 2
    assert len(gateway) == 2, f"two gateway replicas on one node: {gateway}"
    assert "" not in gateway, "every replica was placed"


@pytest.mark.usefixtures("homelab")
def test_a_node_selector_is_honoured_by_the_scheduler(control_plane: ControlPlane) -> None:
    """Only node-b1 carries the label: both embedding replicas go there, never elsewhere
    (the spread counts only the nodes the selector allows, so it does not hold them back)."""
    (big,) = [node.name for node in NODES if BIG_NODES in node.labels]

    assert nodes_of(control_plane, "embedding") == Counter({big: 2})


@pytest.mark.usefixtures("homelab")
def test_the_created_priority_class_is_resolved_into_every_pod(control_plane: ControlPlane) -> None:
    for component in ("gateway", "embedding", "mcp", "vector-search"):
        running = pods(control_plane, component)
        assert running, f"no {component} pod to look at"
        for pod in running:
            assert pod["spec"]["priorityClassName"] == "agent-platform-test"
            assert pod["spec"]["priority"] == PRIORITY


@pytest.mark.usefixtures("homelab")
def test_the_load_balancer_service_is_accepted_and_awaited(control_plane: ControlPlane) -> None:
    service = control_plane.kubectl.json("get", "service", "gateway", "-n", NAMESPACE)

    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert service["spec"]["loadBalancerSourceRanges"] == ["192.168.0.0/16"]
    assert service["status"]["loadBalancer"]["ingress"] == [
        {"ip": STAND_IN_ADDRESS, "ipMode": "VIP"}
    ]


@pytest.mark.usefixtures("homelab")
def test_draining_a_node_with_a_gateway_replica_leaves_one_running_elsewhere(
    control_plane: ControlPlane,
) -> None:
    """kubectl drain evicts through the eviction API, which honours the gateway's PDB; the
    evicted replica's replacement goes to a node the drain left (the cordoned one is out of
    the spread's count), so the gateway never stops."""
    kubectl = control_plane.kubectl
    drained = next(iter(nodes_of(control_plane, "gateway")))
    try:
        kubectl.run(
            "drain", drained, "--ignore-daemonsets", "--delete-emptydir-data",
            "--pod-selector=app.kubernetes.io/component=gateway", "--timeout=60s", timeout=90,
        )  # fmt: skip
        kubectl.run(
            "rollout", "status", "deployment/gateway", "-n", NAMESPACE, "--timeout=60s",
            timeout=90,
        )  # fmt: skip
        after = nodes_of(control_plane, "gateway")
        assert drained not in after
        assert sum(after.values()) == 2
        assert len(after) == 2, f"the replacement shares a node: {after}"
    finally:
        kubectl.run("uncordon", drained)


@pytest.mark.parametrize(
    ("exposure", "kind"),
    [
        (
            {"type": "ingress", "host": "agents.example.com", "tlsSecretName": "agents-tls",
             "annotations": {"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS"}},
            "ingress",
        ),
        (
            {"type": "httpRoute", "parentRefs": [{"name": "shared", "namespace": "infra"}],
             "hostnames": ["agents.example.com"]},
            "httproute",
        ),
    ],
    ids=["ingress", "httpRoute"],
)  # fmt: skip
def test_an_ingress_and_an_http_route_are_accepted_by_the_api_server(
    homelab: EngineProject, control_plane: ControlPlane, exposure: dict[str, Any], kind: str
) -> None:
    homelab.configure(stack_config("homelab", overrides(exposure)))

    with AddressStandIn(control_plane):
        (applied,) = homelab.run(up())

    assert applied.ok, applied.error
    found = control_plane.kubectl.json("get", kind, "gateway", "-n", NAMESPACE)
    assert found["metadata"]["name"] == "gateway"
    service = control_plane.kubectl.json("get", "service", "gateway", "-n", NAMESPACE)
    assert service["spec"]["type"] == "ClusterIP"
