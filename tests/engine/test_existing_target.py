"""`cluster.target: existing` under the real engine, against a real control plane.

Both stacks preview (the provider's server-side dry run), `up` (finishing on the provider's own
readiness wait: the real scheduler places the pods on kwok's nodes, where they turn Ready, and
kwok binds the claim) and preview again with nothing to change.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.ops.engine import preview, up
from infra.settings import SUPPORTED_STACKS
from tests.conftest import KNOWN_SECRETS
from tests.counterparts.control_plane import ControlPlane
from tests.engine.conftest import NewProject
from tests.engine.test_render_target import PROVIDED


def existing_overrides(stack: str) -> dict[str, Any]:
    """The existing target in a namespace of the stack's own; homelab with a provided
    certificate (generated ones need the tls provider)."""
    overrides: dict[str, Any] = {"cluster.target": "existing", "namespace": f"engine-{stack}"}
    if stack == "homelab":
        overrides["gateway.tls"] = {"mode": "provided", "certificate": PROVIDED.chain}
    return overrides


def existing_secrets(stack: str, plane: ControlPlane) -> dict[str, str]:
    secrets = {**KNOWN_SECRETS, "kubeconfig": plane.kubectl.kubeconfig.read_text()}
    if stack == "homelab":
        secrets["gatewayTlsKey"] = PROVIDED.key
    return secrets


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_preview_then_up_then_a_second_preview_that_changes_nothing(
    new_project: NewProject, control_plane: ControlPlane, stack: str
) -> None:
    project = new_project(
        stack,
        existing_overrides(stack),
        existing_secrets(stack, control_plane),
    )

    planned, applied, again = project.run(preview(), up(), preview(expect_no_changes=True))

    assert planned.ok, planned.error
    assert applied.ok, applied.error
    assert again.ok, again.error
    assert planned.changes["create"] == applied.changes["create"]
    assert again.changed() == {}
    namespace = f"engine-{stack}"
    live = control_plane.kubectl.json("get", "deployments,statefulsets", "-n", namespace)
    assert sorted(item["metadata"]["name"] for item in live["items"]) == [
        "embedding", "gateway", "mcp", "vector-search",
    ]  # fmt: skip


def test_homelab_lands_its_backup_job_and_read_only_key_as_planned(
    new_project: NewProject, control_plane: ControlPlane
) -> None:
    """Through the engine to the API server: the CronJob and its NetworkPolicy (homelab backs
    up by default), Qdrant given the read-only key, and the read-only MCP server holding it."""
    namespace = "engine-backup"
    secrets = {
        **existing_secrets("homelab", control_plane),
        "vectorSearchReadOnlyApiKey": "read-only-SENTINEL-engine-5d",
    }
    project = new_project(
        "homelab", {**existing_overrides("homelab"), "namespace": namespace, "mcp.readOnly": True},
        secrets,
    )  # fmt: skip

    (applied,) = project.run(up())

    assert applied.ok, applied.error
    kubectl = control_plane.kubectl
    cron = kubectl.json("get", "cronjob", "vector-search-backup", "-n", namespace)
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["timeZone"] == "Etc/UTC"
    policy = kubectl.json("get", "networkpolicy", "vector-search-backup", "-n", namespace)
    assert policy["spec"].get("ingress", []) == [], "no traffic in"
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    qdrant = kubectl.json("get", "statefulset", "vector-search", "-n", namespace)
    qdrant_env = {e["name"]: e for e in qdrant["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert qdrant_env["QDRANT__SERVICE__READ_ONLY_API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == (
        "read-only-api-key"
    )
    mcp = kubectl.json("get", "deployment", "mcp", "-n", namespace)
    mcp_env = {e["name"]: e for e in mcp["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert mcp_env["QDRANT_API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "read-only-api-key"
    assert mcp_env["QDRANT_READ_ONLY"]["value"] == "true"
