"""The Kubernetes objects a stack would create, collected by running the program under mocks.

Owns turning the program's registrations into manifests (one ``Manifest`` per object, grouped by
the component that registered it, Secret data redacted) and the pod resources those manifests
request, with the stack's budget (``Rendering``). Writing them out is ``output_dir``'s job and
the printed summary is ``summary``'s; the CLI is ``render``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

from infra import program
from infra.offline.mock_engine import ProgramRun, Registration, run_program
from infra.paths import REPO_ROOT
from infra.quantity import mebibytes, millicores
from infra.settings import StackSettings, read_stack_file, settings_from_stack_file

SECRET_MARKER: Final = "<secret: set from Pulumi secret config at deploy time>"  # noqa: S105
PLACEHOLDERS: Final = {
    "gatewayToken": "placeholder-gateway-token-not-a-secret",
    "vectorSearchApiKey": "placeholder-vector-search-key-not-a-secret",
    "snapshotAccessKeyId": "placeholder-access-key-id",
    "snapshotSecretAccessKey": "placeholder-secret-access-key",
    "kubeconfig": "apiVersion: v1\nkind: Config\n# placeholder\n",
}
WORKLOAD_KINDS: Final = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class Manifest:
    component: str
    document: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.document["kind"])

    @property
    def name(self) -> str:
        return str(self.document["metadata"]["name"])

    @property
    def path(self) -> Path:
        return Path(self.component) / f"{self.kind.lower()}-{self.name}.yaml"


@dataclass(frozen=True)
class Usage:
    """Per-workload pod resources and replica range."""

    workload: str
    min_replicas: int
    max_replicas: int
    requests_millicores: int
    requests_mebibytes: Decimal
    limits_millicores: int
    limits_mebibytes: Decimal


@dataclass
class Rendering:
    stack: str
    settings: StackSettings
    manifests: list[Manifest]
    usage: list[Usage] = field(default_factory=list)

    def total(self, attribute: str, replicas: str) -> Decimal:
        return sum(
            (Decimal(getattr(u, attribute)) * getattr(u, replicas) for u in self.usage),
            Decimal(0),
        )

    @property
    def budget_millicores(self) -> int:
        return millicores(self.settings.budget.cpu)

    @property
    def budget_mebibytes(self) -> Decimal:
        return mebibytes(self.settings.budget.memory)

    @property
    def overruns(self) -> tuple[Overrun, ...]:
        """The request totals at maximum replicas (autoscalers at their bound) that exceed the
        budget: the one comparison the summary, its over-budget line and the exit code use."""
        totals = (
            Overrun(
                "cpu",
                self.total("requests_millicores", "max_replicas"),
                Decimal(self.budget_millicores),
            ),
            Overrun(
                "memory", self.total("requests_mebibytes", "max_replicas"), self.budget_mebibytes
            ),
        )
        return tuple(total for total in totals if total.requested > total.budget)

    @property
    def within_budget(self) -> bool:
        return not self.overruns


@dataclass(frozen=True)
class Overrun:
    """A request total over its budget: ``cpu`` in millicores, ``memory`` in MiB."""

    resource: Literal["cpu", "memory"]
    requested: Decimal
    budget: Decimal


def _plain(value: Any) -> Any:
    """Wire values back to manifest values: integral floats to ints, recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _api_version_and_kind(type_token: str) -> tuple[str, str]:
    # kubernetes:apps/v1:Deployment, kubernetes:core/v1:Secret, kubernetes:networking.k8s.io/v1:...
    _, group_version, kind = type_token.split(":")
    group, version = group_version.split("/")
    return (version if group == "core" else f"{group}/{version}"), kind


def _redact_secret(document: dict[str, Any]) -> dict[str, Any]:
    for key in ("data", "stringData"):
        if isinstance(document.get(key), dict):
            document[key] = dict.fromkeys(document[key], SECRET_MARKER)
    return document


def _component(run: ProgramRun, registration: Registration) -> str:
    parent = next((r for r in run.registrations if r.urn == registration.parent), None)
    return parent.name if parent is not None else "stack"


def manifest_of(run: ProgramRun, registration: Registration) -> Manifest:
    api_version, kind = _api_version_and_kind(registration.type)
    body = {k: v for k, v in _plain(registration.inputs).items() if k not in ("apiVersion", "kind")}
    document = {"apiVersion": api_version, "kind": kind, **body}
    if kind == "Secret":
        document = _redact_secret(document)
    return Manifest(_component(run, registration), document)


def _usage(manifests: Sequence[Manifest]) -> list[Usage]:
    autoscalers = {
        m.document["spec"]["scaleTargetRef"]["name"]: m.document["spec"]
        for m in manifests
        if m.kind == "HorizontalPodAutoscaler"
    }
    usage = []
    for manifest in manifests:
        if manifest.kind not in WORKLOAD_KINDS:
            continue
        spec = manifest.document["spec"]
        if manifest.name in autoscalers:
            low = autoscalers[manifest.name]["minReplicas"]
            high = autoscalers[manifest.name]["maxReplicas"]
        else:
            low = high = spec.get("replicas", 1)
        containers = spec["template"]["spec"]["containers"]
        usage.append(
            Usage(
                workload=manifest.name,
                min_replicas=low,
                max_replicas=high,
                requests_millicores=sum(
                    millicores(c["resources"]["requests"]["cpu"]) for c in containers
                ),
                requests_mebibytes=sum(
                    (mebibytes(c["resources"]["requests"]["memory"]) for c in containers),
                    Decimal(0),
                ),
                limits_millicores=sum(
                    millicores(c["resources"]["limits"]["cpu"]) for c in containers
                ),
                limits_mebibytes=sum(
                    (mebibytes(c["resources"]["limits"]["memory"]) for c in containers), Decimal(0)
                ),
            )
        )
    return sorted(usage, key=lambda u: u.workload)


def render_stack(stack: str, project_dir: Path = REPO_ROOT) -> Rendering:
    """Run the program for ``stack`` under mocks and collect its Kubernetes objects."""
    settings = settings_from_stack_file(stack, project_dir)
    needed = ["gatewayToken", "vectorSearchApiKey"]
    if settings.vector_search.snapshots.enabled:
        needed += ["snapshotAccessKeyId", "snapshotSecretAccessKey"]
    if settings.cluster.target == "existing":
        needed.append("kubeconfig")
    run = run_program(
        program.run,
        stack=stack,
        config=read_stack_file(stack, project_dir),
        secrets={key: PLACEHOLDERS[key] for key in needed},
    )
    manifests = sorted(
        (manifest_of(run, registration) for registration in run.kubernetes_objects()),
        key=lambda m: str(m.path),
    )
    return Rendering(stack, settings, manifests, _usage(manifests))
