"""Reading rendered objects out of a mock run."""

from __future__ import annotations

from typing import Any

from infra.offline.mock_engine import ProgramRun


def pod_template(run: ProgramRun, component: str) -> dict[str, Any]:
    for kind in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"):
        for registration in run.of_type(kind):
            if registration.name == component:
                template: dict[str, Any] = registration.inputs["spec"]["template"]
                return template
    raise AssertionError(f"no workload named {component}")


def container(run: ProgramRun, component: str) -> dict[str, Any]:
    [only] = pod_template(run, component)["spec"]["containers"]
    result: dict[str, Any] = only
    return result


def env(run: ProgramRun, component: str) -> dict[str, Any]:
    """name -> literal value, or ("secret", secret name, key) for a secretKeyRef."""
    result: dict[str, Any] = {}
    for variable in container(run, component).get("env", []):
        if "valueFrom" in variable:
            ref = variable["valueFrom"]["secretKeyRef"]
            result[variable["name"]] = ("secret", ref["name"], ref["key"])
        else:
            result[variable["name"]] = variable["value"]
    return result


def network_policy(run: ProgramRun, component: str) -> dict[str, Any]:
    spec: dict[str, Any] = run.one(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy", f"{component}-netpol"
    ).inputs["spec"]
    return spec


def as_int(value: Any) -> Any:
    """Numbers come back from the engine's wire format as floats."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
