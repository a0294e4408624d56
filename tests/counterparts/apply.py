"""Apply rendered manifests to a real API server the way the Pulumi Kubernetes provider does.

pulumi-kubernetes v4 creates and updates every object with server-side apply: one field
manager per resource (``pulumi-kubernetes-<random>``, kept in the state), no force unless the
object carries the ``pulumi.com/patchForce: "true"`` annotation, a dry run for ``preview``,
deletes after creates and updates, and a delete-then-create for a replacement of an object
whose name is fixed. This module does the same with the pinned ``kubectl``, so the API server's
answers (errors, warnings, conflicts, immutable fields) are the ones ``pulumi up`` would get.

A warning is a failure here: Pod Security (``would violate PodSecurity``), deprecations and
unknown fields all reach a user as warnings that ``pulumi up`` prints and then ignores.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

from tests import certificates
from tests.counterparts.control_plane import Kubectl

FIELD_MANAGER: Final = "pulumi-kubernetes-counterparts"
PATCH_FORCE: Final = "pulumi.com/patchForce"
MANAGED_FIELDS_RESOLUTION_SECONDS: Final = 1.1
SECRET_MARKER_PREFIX: Final = "<secret:"
CLUSTER_SCOPED: Final = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "APIService", "PriorityClass"}
)
WORKLOAD_KINDS: Final = ("Deployment", "StatefulSet")
# kubectl's own log lines about an aggregated API that cannot answer: metrics-server's
# APIService is registered, but its pods cannot run without nodes. Not an answer to an apply.
UNAVAILABLE_METRICS_API: Final = re.compile(r"^[EW]\d{4} .*metrics\.k8s\.io")
IMMUTABLE: Final = re.compile(
    r"field is immutable|is immutable after creation|spec: Forbidden: updates to statefulset "
    r"spec for fields other than|Forbidden: .*(immutable|may not be changed)",
)

Key = tuple[str, str, str]
"""(kind, namespace, name) of an object; namespace is "" for cluster-scoped kinds."""


def key_of(document: Mapping[str, Any]) -> Key:
    metadata = document["metadata"]
    return (str(document["kind"]), str(metadata.get("namespace") or ""), str(metadata["name"]))


def describe(key: Key) -> str:
    kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def read_manifests(directory: Path) -> list[dict[str, Any]]:
    """Every object ``scripts/render`` wrote (one YAML file each)."""
    return [
        yaml.safe_load(path.read_text())
        for path in sorted(directory.rglob("*.yaml"))
        if path.is_file()
    ]


TLS_SECRET_TYPE: Final = "kubernetes.io/tls"


@cache
def _test_certificate() -> certificates.Issued:
    """A real certificate and key: the API server parses a TLS Secret's data and warns on
    anything that is not PEM (it did, on the render markers)."""
    return certificates.issue(certificates.authority(), dns_names=("gateway",))


def secret_test_value(secret: str, item: str, secret_type: str | None = None) -> str:
    if secret_type == TLS_SECRET_TYPE and item in ("tls.crt", "tls.key"):
        issued = _test_certificate()
        return issued.chain if item == "tls.crt" else issued.key
    return f"counterparts-test-value-{secret}-{item}"


def with_test_secrets(documents: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The render target writes a marker for every Secret value; this tier applies Secrets
    too, so each marker becomes a known test value (base64 under ``data``)."""
    result = []
    for document in documents:
        copy: dict[str, Any] = json.loads(json.dumps(document))
        if copy["kind"] == "Secret":
            name = copy["metadata"]["name"]
            for section in ("stringData", "data"):
                for item, value in (copy.get(section) or {}).items():
                    if not str(value).startswith(SECRET_MARKER_PREFIX):
                        continue
                    plain = secret_test_value(name, item, copy.get("type"))
                    copy[section][item] = (
                        base64.b64encode(plain.encode()).decode() if section == "data" else plain
                    )
        result.append(copy)
    return result


def forced(document: Mapping[str, Any]) -> bool:
    annotations = document["metadata"].get("annotations") or {}
    return str(annotations.get(PATCH_FORCE, "")).lower() == "true"


@dataclass
class ApplyResult:
    """What the API server answered to one apply (or dry run) of some objects."""

    documents: list[dict[str, Any]]
    dry_run: bool
    returncode: int = 0
    messages: list[str] = field(default_factory=list)
    """kubectl's stderr: the server's warnings (``Warning: ...``) and errors."""
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    """The objects as the server wrote them (or would have, in a dry run)."""

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.messages if line.startswith("Warning:")]

    @property
    def errors(self) -> list[str]:
        if self.returncode == 0:
            return []
        return [line for line in self.messages if not line.startswith("Warning:")] or [
            f"kubectl exited {self.returncode}"
        ]

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and not self.warnings

    def report(self) -> str:
        mode = "dry run" if self.dry_run else "apply"
        objects = ", ".join(describe(key_of(d)) for d in self.documents)
        return f"{mode} of {objects}: exit {self.returncode}\n" + "\n".join(self.messages)


def _yaml_stream(documents: Sequence[Mapping[str, Any]]) -> str:
    return yaml.safe_dump_all(list(documents), sort_keys=False)


def _objects(stdout: str) -> dict[Key, dict[str, Any]]:
    if not stdout.strip():
        return {}
    output = json.loads(stdout)
    items = output.get("items", []) if output.get("kind") == "List" else [output]
    return {key_of(item): item for item in items}


def apply(
    kubectl: Kubectl, documents: Sequence[Mapping[str, Any]], *, dry_run: bool
) -> ApplyResult:
    """Server-side apply as pulumi-kubernetes does: our field manager, force only where the
    object asks for it."""
    result = ApplyResult([dict(d) for d in documents], dry_run)
    for force in (False, True):
        group = [d for d in documents if forced(d) is force]
        if not group:
            continue
        args = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-o", "json"]
        if force:
            args.append("--force-conflicts")
        if dry_run:
            args.append("--dry-run=server")
        completed = kubectl.run(
            *args, "-f", "-", stdin=_yaml_stream(group), check=False, timeout=120
        )
        result.returncode = result.returncode or completed.returncode
        result.messages += [
            line
            for line in completed.stderr.splitlines()
            if line.strip() and not UNAVAILABLE_METRICS_API.match(line)
        ]
        result.objects.update(_objects(completed.stdout))
    return result


def apply_in_order(kubectl: Kubectl, documents: Sequence[Mapping[str, Any]]) -> list[ApplyResult]:
    """Dry run, then apply: namespaces and cluster-scoped objects first (a namespaced object
    cannot be dry-run before its namespace exists; Pulumi orders them by dependency too)."""
    results = []
    first = [d for d in documents if d["kind"] in CLUSTER_SCOPED]
    rest = [d for d in documents if d["kind"] not in CLUSTER_SCOPED]
    for group in (first, rest):
        if not group:
            continue
        for dry_run in (True, False):
            results.append(apply(kubectl, group, dry_run=dry_run))
    return results


def delete(kubectl: Kubectl, documents: Sequence[Mapping[str, Any]]) -> None:
    """Delete and wait, as Pulumi does for a delete or a delete-before-replace."""
    if documents:
        kubectl.run(
            "delete", "--wait=true", "--timeout=60s", "--ignore-not-found", "-f", "-",
            stdin=_yaml_stream(documents), timeout=90,
        )  # fmt: skip


def live(kubectl: Kubectl, documents: Sequence[Mapping[str, Any]]) -> dict[Key, dict[str, Any]]:
    """The objects as they are on the server (those that exist), with managedFields."""
    completed = kubectl.run(
        "get", "--show-managed-fields", "--ignore-not-found", "-o", "json", "-f", "-",
        stdin=_yaml_stream(documents),
    )  # fmt: skip
    return _objects(completed.stdout)


def our_fields(item: Mapping[str, Any]) -> tuple[tuple[Any, str], ...]:
    """Our field manager's entry in the object's managedFields: the API server sets its time
    whenever an apply of ours changes the object (and only then), and lists the fields we own.
    Controllers (an autoscaler scaling, a status update) never touch it."""
    return tuple(
        (entry.get("time"), json.dumps(entry.get("fieldsV1"), sort_keys=True))
        for entry in item["metadata"].get("managedFields", [])
        if entry.get("manager") == FIELD_MANAGER and entry.get("operation") == "Apply"
    )


def changes_of_second_apply(
    kubectl: Kubectl, documents: Sequence[Mapping[str, Any]]
) -> tuple[subprocess.CompletedProcess[str], dict[Key, tuple[Any, Any]]]:
    """``kubectl diff --server-side`` (what a preview would see) and, after a real second
    apply, every object that our apply changed."""
    diff = kubectl.run(
        "diff", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-",
        stdin=_yaml_stream(documents), check=False, timeout=120,
    )  # fmt: skip
    before = {key: our_fields(item) for key, item in live(kubectl, documents).items()}
    assert all(before.values()), "objects without our field manager's entry"
    # managedFields times have a resolution of one second: a change made by the second apply
    # must not land in the same second as the first one.
    time.sleep(MANAGED_FIELDS_RESOLUTION_SECONDS)
    again = apply(kubectl, documents, dry_run=False)
    if again.returncode != 0:
        raise AssertionError(again.report())
    after = {key: our_fields(item) for key, item in live(kubectl, documents).items()}
    changed = {key: (before.get(key), after[key]) for key in after if before[key] != after[key]}
    return diff, changed


@dataclass(frozen=True)
class WorkloadPods:
    key: Key
    expected: int
    pods: tuple[str, ...]


def expected_pods(documents: Sequence[Mapping[str, Any]]) -> dict[Key, int]:
    """Pods each Deployment/StatefulSet should get: its replicas, or its autoscaler's minimum
    (the controller scales up to it without metrics), or the default of 1."""
    autoscalers = {
        (d["metadata"].get("namespace", ""), d["spec"]["scaleTargetRef"]["name"]): d["spec"]
        for d in documents
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    expected = {}
    for document in documents:
        if document["kind"] not in WORKLOAD_KINDS:
            continue
        key = key_of(document)
        autoscaler = autoscalers.get((key[1], key[2]))
        if autoscaler is not None:
            expected[key] = int(autoscaler.get("minReplicas", 1))
        else:
            expected[key] = int(document["spec"].get("replicas", 1))
    return expected


def _matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    return all(labels.get(name) == value for name, value in selector.items())


def wait_for_pods(
    kubectl: Kubectl, documents: Sequence[Mapping[str, Any]], timeout: float = 60
) -> tuple[dict[Key, WorkloadPods], list[str]]:
    """Wait (bounded) until the controllers have created the expected Pods of every workload.
    Returns what was found and, when something is missing, the Warning events that say why
    (a Pod that Pod Security refuses shows up as a FailedCreate event, never as a Pod)."""
    expected = expected_pods(documents)
    selectors = {
        key_of(d): d["spec"]["selector"]["matchLabels"]
        for d in documents
        if d["kind"] in WORKLOAD_KINDS
    }
    deadline = time.monotonic() + timeout
    while True:
        pods = kubectl.json("get", "pods", "--all-namespaces")["items"]
        found = {
            key: WorkloadPods(
                key,
                expected[key],
                tuple(
                    sorted(
                        p["metadata"]["name"]
                        for p in pods
                        if p["metadata"]["namespace"] == key[1]
                        and _matches(p["metadata"].get("labels", {}), selectors[key])
                        and not p["metadata"].get("deletionTimestamp")
                    )
                ),
            )
            for key in expected
        }
        if all(len(w.pods) >= w.expected for w in found.values()):
            return found, []
        if time.monotonic() > deadline:
            return found, warning_events(kubectl)
        time.sleep(0.5)


def warning_events(kubectl: Kubectl) -> list[str]:
    events = kubectl.json("get", "events", "--all-namespaces")["items"]
    return [
        f"{e['involvedObject']['kind']} {e['metadata']['namespace']}/"
        f"{e['involvedObject']['name']}: {e['reason']}: {e['message']}"
        for e in events
        if e.get("type") == "Warning"
    ]


def restricted_violations(kubectl: Kubectl, namespace: str) -> list[str]:
    """Pod Security's own verdict on the Pods that exist in ``namespace``: a server-side dry
    run of enforcing "restricted" there warns about every Pod that would violate it. The
    version is "latest" (1.34's rules on this server), never the namespace's own pinned one:
    Pod Security skips the Pods when the enforced policy does not change."""
    completed = kubectl.run(
        "label", "namespace", namespace, "--overwrite", "--dry-run=server",
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/enforce-version=latest",
        merge_output=True,
    )  # fmt: skip
    return [line for line in completed.stdout.splitlines() if line.startswith("Warning:")]
