"""The checks every rendered object must pass, written once and used by the mock-rendered and
the engine-rendered manifests alike: Kubernetes schema (strict), Pod Security Standards
"restricted", and checkov's Kubernetes policies."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import kubernetes_validate
import yaml

from infra.paths import REPO_ROOT

CHECKOV: Final = REPO_ROOT / ".tools" / "checkov" / "bin" / "checkov"
SKIPS_FILE: Final = REPO_ROOT / "policy" / "checkov-skips.yaml"


def load_documents(directory: Path) -> list[dict[str, Any]]:
    documents = []
    for path in sorted(directory.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and "kind" in document:
                documents.append(document)
    return documents


# ----------------------------------------------------------------------------- schema


def schema_errors(documents: Iterable[Mapping[str, Any]], kubernetes_version: str) -> list[str]:
    """Strict validation against the OpenAPI schema of ``kubernetes_version`` (major.minor):
    unknown fields are errors."""
    errors = []
    for document in documents:
        where = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(dict(document), kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{where}: {error.message}")
    return errors


# ------------------------------------------------------------- Pod Security "restricted"

ALLOWED_VOLUME_TYPES: Final = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}  # fmt: skip
SAFE_SYSCTLS: Final = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
ALLOWED_SELINUX_TYPES: Final = {
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
}


def restricted_violations(pod_spec: Mapping[str, Any]) -> list[str]:
    """Every rule of the Pod Security Standard "restricted" (baseline included) that
    ``pod_spec`` breaks, per https://kubernetes.io/docs/concepts/security/pod-security-standards/."""
    pod_context = pod_spec.get("securityContext") or {}
    problems = _pod_violations(pod_spec, pod_context)
    containers = [
        *(pod_spec.get("containers") or []),
        *(pod_spec.get("initContainers") or []),
        *(pod_spec.get("ephemeralContainers") or []),
    ]
    for container in containers:
        problems += _container_violations(container, pod_context)
    return problems


def _pod_violations(pod_spec: Mapping[str, Any], pod_context: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{field} is true" for field in ("hostNetwork", "hostPID", "hostIPC") if pod_spec.get(field)
    ]
    for volume in pod_spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUME_TYPES:
            problems.append(f"volume {volume.get('name')} uses {sorted(kinds)}")
    problems += [
        f"sysctl {sysctl.get('name')} is not in the safe set"
        for sysctl in pod_context.get("sysctls") or []
        if sysctl.get("name") not in SAFE_SYSCTLS
    ]
    if (pod_context.get("seLinuxOptions") or {}).get("type", "") not in ALLOWED_SELINUX_TYPES:
        problems.append("pod seLinuxOptions.type is not allowed")
    if pod_context.get("runAsUser") == 0:
        problems.append("pod runAsUser is 0")
    if (pod_context.get("windowsOptions") or {}).get("hostProcess"):
        problems.append("pod windowsOptions.hostProcess is true")
    return problems


def _container_violations(
    container: Mapping[str, Any], pod_context: Mapping[str, Any]
) -> list[str]:
    name = container.get("name")
    context = container.get("securityContext") or {}
    capabilities = context.get("capabilities") or {}
    seccomp = (context.get("seccompProfile") or {}).get(
        "type", (pod_context.get("seccompProfile") or {}).get("type")
    )
    app_armor = (context.get("appArmorProfile") or {}).get("type", "RuntimeDefault")
    rules = [
        (bool(context.get("privileged")), "privileged"),
        (
            context.get("allowPrivilegeEscalation") is not False,
            "allowPrivilegeEscalation is not false",
        ),
        ("ALL" not in (capabilities.get("drop") or []), "capabilities do not drop ALL"),
        (
            bool(set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}),
            f"adds capabilities {capabilities.get('add')}",
        ),
        (
            context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True,
            "runAsNonRoot is not true",
        ),
        (context.get("runAsUser") == 0, "runAsUser is 0"),
        (
            seccomp not in ("RuntimeDefault", "Localhost"),
            f"seccompProfile is {seccomp}, not RuntimeDefault/Localhost",
        ),
        (context.get("procMount", "Default") != "Default", "procMount is not Default"),
        (
            (context.get("seLinuxOptions") or {}).get("type", "") not in ALLOWED_SELINUX_TYPES,
            "seLinuxOptions.type is not allowed",
        ),
        (app_armor not in ("RuntimeDefault", "Localhost"), "appArmorProfile is not allowed"),
    ]
    problems = [f"{name}: {message}" for broken, message in rules if broken]
    problems += [
        f"{name}: hostPort {port['hostPort']}"
        for port in container.get("ports") or []
        if port.get("hostPort")
    ]
    return problems


def pod_specs(documents: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for document in documents:
        template = (document.get("spec") or {}).get("template")
        if template is not None:
            yield f"{document['kind']}/{document['metadata']['name']}", template["spec"]
        elif document.get("kind") == "Pod":
            yield f"Pod/{document['metadata']['name']}", document["spec"]


# ------------------------------------------------------------------------------ checkov


def checkov_skips() -> dict[str, str]:
    skips = yaml.safe_load(SKIPS_FILE.read_text())["skips"]
    return {entry["id"]: entry["reason"] for entry in skips}


def checkov_failures(directory: Path, skip: Iterable[str] = ()) -> dict[str, list[str]]:
    """checkov's Kubernetes checks over ``directory``: failed check id -> resources, less the
    ``skip`` ids (the same as checkov's ``--skip-check``, read from one unskipped run)."""
    skipped = set(skip)
    failures: dict[str, list[str]] = {}
    for failure in checkov_report(directory):
        if failure.check_id not in skipped:
            failures.setdefault(failure.check_id, []).append(failure.resource)
    return failures


@dataclass(frozen=True)
class CheckovFailure:
    check_id: str
    resource: str
    file_path: str
    """Relative to the directory checkov ran on, with a leading slash (``/studio/x.yaml``)."""

    @property
    def top_folder(self) -> str:
        return self.file_path.lstrip("/").split("/", 1)[0]


def checkov_report(directory: Path) -> list[CheckovFailure]:
    """Every failed check of one checkov run over ``directory``, nothing skipped. One run
    costs about 8 s on two cores, so callers run it once per set of manifests and filter."""
    if not CHECKOV.exists():
        raise AssertionError(f"{CHECKOV} is missing; scripts/test installs checkov there")
    command = [
        str(CHECKOV), "--directory", str(directory), "--framework", "kubernetes",
        "--output", "json", "--quiet", "--compact", "--skip-download",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        raise AssertionError(
            f"checkov did not run: {completed.returncode} {completed.stderr[-2000:]}"
        )
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    failures: list[CheckovFailure] = []
    for item in reports:
        if item.get("check_type") != "kubernetes":
            continue
        if item["summary"].get("parsing_errors"):
            raise AssertionError(
                f"checkov could not parse: {item['results'].get('parsing_errors')}"
            )
        failures += [
            CheckovFailure(failed["check_id"], failed["resource"], failed["file_path"])
            for failed in item["results"]["failed_checks"]
        ]
    return failures
