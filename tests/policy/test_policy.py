"""Every object each stack would apply: valid Kubernetes, Pod Security "restricted", checkov.

Each check is also shown to fail on a deliberately broken object.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from infra.offline import render
from infra.offline.rendering import render_stack
from infra.settings import SUPPORTED_STACKS
from tests.conftest import first_set_up_in_session
from tests.policy.checks import (
    checkov_report,
    checkov_skips,
    load_documents,
    pod_specs,
    restricted_violations,
    schema_errors,
)

STACKS = SUPPORTED_STACKS


@pytest.fixture(scope="module")
def rendered_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rendered")


@pytest.fixture(scope="module")
def rendered(rendered_root: Path) -> dict[str, tuple[Path, str]]:
    """stack -> (directory of rendered manifests, Kubernetes version of its node image)."""
    result: dict[str, tuple[Path, str]] = {}
    for stack in STACKS:
        rendering = render_stack(stack)
        out = rendered_root / stack
        render.write(rendering, out)
        result[stack] = (out, rendering.settings.cluster.kubernetes_version)
    return result


BROKEN: Final = "broken"
"""A folder beside the stacks' with a deliberately broken Deployment: the same checkov run
shows the check can fail."""


@pytest.fixture(scope="module")
def checkov_unskipped(
    request: pytest.FixtureRequest, rendered: dict[str, tuple[Path, str]], rendered_root: Path
) -> dict[str, dict[str, list[str]]]:
    """folder -> failed check id -> resources, from one checkov run (about 7 s of CPU) over
    both stacks and the broken Deployment, nothing skipped: the zero-failures, the
    skips-still-needed and the check-can-fail tests all read it."""
    first_set_up_in_session(request)
    broken = gateway_deployment(rendered["studio"][0])
    container = broken["spec"]["template"]["spec"]["containers"][0]
    del container["resources"]["limits"]
    container["securityContext"]["privileged"] = True
    (rendered_root / BROKEN).mkdir()
    (rendered_root / BROKEN / "broken.yaml").write_text(yaml.safe_dump(broken))
    failures: dict[str, dict[str, list[str]]] = {stack: {} for stack in [*rendered, BROKEN]}
    for failure in checkov_report(rendered_root):
        failures[failure.top_folder].setdefault(failure.check_id, []).append(failure.resource)
    return failures


def gateway_deployment(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(
        (directory / "gateway/deployment-gateway.yaml").read_text()
    )
    return document


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_validates_strictly_against_the_node_image_kubernetes_schema(
    rendered: dict[str, tuple[Path, str]], stack: str
) -> None:
    directory, version = rendered[stack]
    documents = load_documents(directory)

    assert version == "1.34"
    assert len(documents) >= 20
    assert schema_errors(documents, version) == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_pod_template_meets_pod_security_restricted(
    rendered: dict[str, tuple[Path, str]], stack: str
) -> None:
    pods = list(pod_specs(load_documents(rendered[stack][0])))

    # The four workloads, and metrics-server where homelab autoscales on kind.
    assert len(pods) == {"studio": 4, "homelab": 5}[stack]
    for name, spec in pods:
        assert restricted_violations(spec) == [], name


@pytest.mark.parametrize("stack", STACKS)
def test_checkov_reports_zero_failures(
    checkov_unskipped: dict[str, dict[str, list[str]]], stack: str
) -> None:
    skips = checkov_skips()
    unexpected = {
        check: resources
        for check, resources in checkov_unskipped[stack].items()
        if check not in skips
    }

    assert unexpected == {}


def test_every_checkov_skip_has_a_reason_and_is_still_needed(
    checkov_unskipped: dict[str, dict[str, list[str]]],
) -> None:
    skips = checkov_skips()
    failing = {
        check
        for folder, failures in checkov_unskipped.items()
        if folder != BROKEN
        for check in failures
    }

    assert all(len(reason) > 40 for reason in skips.values())
    assert failing == set(skips), "a skip is stale, or a new failure is hidden by none"


# ------------------------------------------------------------- each check can fail


def test_schema_check_fails_on_an_unknown_field(rendered: dict[str, tuple[Path, str]]) -> None:
    directory, version = rendered["studio"]
    broken = gateway_deployment(directory)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"

    errors = schema_errors([broken], version)

    assert len(errors) == 1
    assert "imagePullPolicyy" in errors[0]


def test_schema_check_fails_on_a_wrong_type(rendered: dict[str, tuple[Path, str]]) -> None:
    directory, version = rendered["studio"]
    broken = gateway_deployment(directory)
    broken["spec"]["replicas"] = "two"

    assert schema_errors([broken], version) != []


def _container(change: dict[str, Any]) -> Any:
    return lambda container, _pod: container["securityContext"].update(change)


BROKEN_RULES = [
    (_container({"privileged": True}), "privileged"),
    (_container({"allowPrivilegeEscalation": True}), "allowPrivilegeEscalation"),
    (_container({"runAsNonRoot": False}), "runAsNonRoot"),
    (_container({"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}), "adds capabilities"),
    (_container({"seccompProfile": {"type": "Unconfined"}}), "seccompProfile"),
    (lambda _container, pod: pod.update(hostNetwork=True), "hostNetwork"),
    (
        lambda _container, pod: pod["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        "hostPath",
    ),
    (lambda container, _pod: container["ports"][0].update(hostPort=80), "hostPort"),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN_RULES)
def test_pod_security_check_fails_on_each_broken_rule(
    rendered: dict[str, tuple[Path, str]], change: Any, expected: str
) -> None:
    pod = copy.deepcopy(gateway_deployment(rendered["studio"][0])["spec"]["template"]["spec"])
    change(pod["containers"][0], pod)

    violations = restricted_violations(pod)

    assert any(expected in violation for violation in violations), violations


def test_checkov_fails_on_a_container_without_limits_and_a_privileged_one(
    checkov_unskipped: dict[str, dict[str, list[str]]],
) -> None:
    skips = checkov_skips()
    failures = {check for check in checkov_unskipped[BROKEN] if check not in skips}

    assert "CKV_K8S_11" in failures  # CPU limits
    assert "CKV_K8S_13" in failures  # memory limits
    assert "CKV_K8S_16" in failures  # privileged
