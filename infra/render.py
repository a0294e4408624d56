"""Render a stack without a cluster: ``python -m infra.render --stack studio --out DIR``.

Runs the real program under Pulumi mocks with the stack's config (secret values replaced by
placeholders) and writes every Kubernetes object it would create as YAML, one file per object,
grouped by component (``DIR/<component>/<kind>-<name>.yaml``), plus ``DIR/summary.txt``: objects
per kind, and the CPU and memory the stack's pods request and are limited to, against the
stack's ``budget``. The summary is also printed.

Output is deterministic (sorted keys and files, no timestamps): two runs give identical bytes.
Secret data is never written: every value of a Secret's ``data``/``stringData`` is replaced by a
marker, whatever it held.

Exit codes: 0 rendered and within budget, 1 over budget, 2 bad input (unknown stack or
invalid settings).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import yaml

from infra import program
from infra.mock_engine import ProgramRun, Registration, run_program
from infra.quantity import mebibytes, millicores
from infra.settings import (
    ConfigError,
    StackError,
    StackSettings,
    read_stack_file,
    settings_from_stack_file,
)

REPO: Final = Path(__file__).resolve().parents[1]
SECRET_MARKER: Final = "<secret: set from Pulumi secret config at deploy time>"  # noqa: S105
PLACEHOLDERS: Final = {
    "gatewayToken": "placeholder-gateway-token-not-a-secret",
    "vectorSearchApiKey": "placeholder-vector-search-key-not-a-secret",
    "snapshotAccessKeyId": "placeholder-access-key-id",
    "snapshotSecretAccessKey": "placeholder-secret-access-key",
    "kubeconfig": "apiVersion: v1\nkind: Config\n# placeholder\n",
}
WORKLOAD_KINDS: Final = ("Deployment", "StatefulSet")

EXIT_OK: Final = 0
EXIT_OVER_BUDGET: Final = 1
EXIT_BAD_INPUT: Final = 2


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
    def within_budget(self) -> bool:
        return (
            self.total("requests_millicores", "max_replicas") <= self.budget_millicores
            and self.total("requests_mebibytes", "max_replicas") <= self.budget_mebibytes
        )


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


def render_stack(stack: str, project_dir: Path = REPO) -> Rendering:
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


def _cpu(millis: Decimal | int) -> str:
    return f"{Decimal(millis) / 1000:.2f}"


def _memory(mib: Decimal) -> str:
    return f"{mib / 1024:.2f}Gi"


def summary(rendering: Rendering) -> str:
    kinds = Counter(m.kind for m in rendering.manifests)
    lines = [f"stack {rendering.stack}: {len(rendering.manifests)} objects", ""]
    lines += [f"  {count:>3}  {kind}" for kind, count in sorted(kinds.items())]
    lines += [
        "",
        "workload        replicas  requests cpu/memory (per pod)  limits cpu/memory (per pod)",
    ]
    for u in rendering.usage:
        replicas = (
            str(u.min_replicas)
            if u.min_replicas == u.max_replicas
            else f"{u.min_replicas}-{u.max_replicas}"
        )
        lines.append(
            f"  {u.workload:<14}{replicas:>6}    {_cpu(u.requests_millicores):>6} / "
            f"{_memory(u.requests_mebibytes):<12}       {_cpu(u.limits_millicores):>6} / "
            f"{_memory(u.limits_mebibytes)}"
        )

    def totals(kind: str, budget: str = "") -> str:
        cells = [
            f"{_cpu(rendering.total(f'{kind}_millicores', replicas)):>6} / "
            f"{_memory(rendering.total(f'{kind}_mebibytes', replicas)):<9}"
            for replicas in ("min_replicas", "max_replicas")
        ]
        return f"  {kind:<29}{cells[0]}   {cells[1]}  {budget}".rstrip()

    budget = f"{_cpu(rendering.budget_millicores)} / {_memory(rendering.budget_mebibytes)}"
    lines += [
        "",
        "totals (CPU cores / memory)      at min replicas      at max replicas     budget",
        totals("requests", budget),
        totals("limits"),
        "",
        "budget: "
        + (
            "requests at max replicas fit"
            if rendering.within_budget
            else "OVER BUDGET: requests at max replicas exceed agent-platform:budget"
        ),
    ]
    return "\n".join(lines) + "\n"


def write(rendering: Rendering, out: Path) -> None:
    """Write the manifests and summary to ``out`` (replacing what a previous render left)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for manifest in rendering.manifests:
        path = out / manifest.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump(manifest.document, sort_keys=True, default_flow_style=False, width=100)
        )
    (out / "summary.txt").write_text(summary(rendering))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.render",
        description="Write every Kubernetes object a stack would create, without a cluster.",
        epilog="Example: python -m infra.render --stack studio --out rendered/studio",
    )
    parser.add_argument("--stack", required=True, help="studio or homelab")
    parser.add_argument("--out", type=Path, required=True, help="output directory (replaced)")
    parser.add_argument("--project-dir", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        rendering = render_stack(args.stack, args.project_dir)
    except (StackError, ConfigError) as error:
        print(f"render: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    write(rendering, args.out)
    print(summary(rendering), end="")
    return EXIT_OK if rendering.within_budget else EXIT_OVER_BUDGET


if __name__ == "__main__":
    sys.exit(main())
