"""The pod of a workload: its one container, probes, env, volumes, and the pod template.

What every pod gets whatever the component: the restricted Pod Security Standard security
context on pod and container, a read-only root filesystem with writable emptyDirs only where
the spec asks, OpenTelemetry env, Prometheus annotations where the image serves metrics without
credentials, topology spread on every Deployment, and a checksum annotation so
the pods roll when the configuration or secrets they read at start change.
"""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_kubernetes as k8s

from infra.settings import Toleration
from infra.workload.labels import image_version, selector_labels, standard_labels
from infra.workload.spec import (
    PART_OF,
    ClaimVolume,
    HttpProbe,
    PlatformContext,
    Probe,
    ScratchVolume,
    SecretVolume,
    Volume,
    WorkloadSpec,
)


def checksum(*parts: pulumi.Input[str]) -> pulumi.Output[str]:
    """SHA-256 over configuration parts; stays a secret Output when any part is one."""
    return pulumi.Output.all(*parts).apply(
        lambda values: hashlib.sha256("\0".join(map(str, values)).encode()).hexdigest()
    )


# Fields at Kubernetes' own default (0, false, null) are left out, not written: the real
# provider drops them from what it renders and applies, so writing them made the mocks'
# objects differ from the engine's (tests/engine/test_render_target.py).


def _probe(probe: Probe) -> k8s.core.v1.ProbeArgsDict:
    timing: k8s.core.v1.ProbeArgsDict = {
        "period_seconds": probe.period_seconds,
        "timeout_seconds": probe.timeout_seconds,
        "failure_threshold": probe.failure_threshold,
    }
    if probe.initial_delay_seconds:
        timing["initial_delay_seconds"] = probe.initial_delay_seconds
    if isinstance(probe, HttpProbe):
        return {
            **timing,
            "http_get": {"path": probe.path, "port": probe.port, "scheme": probe.scheme},
        }
    return {**timing, "tcp_socket": {"port": probe.port}}


def _env(spec: WorkloadSpec, ctx: PlatformContext) -> list[k8s.core.v1.EnvVarArgsDict]:
    attributes = ",".join(
        [
            f"deployment.environment={ctx.stack}",
            f"k8s.cluster.name={ctx.cluster_name}",
            f"service.namespace={PART_OF}",
            f"service.version={image_version(spec.settings.image)}",
        ]
    )
    env: list[k8s.core.v1.EnvVarArgsDict] = [
        {"name": "OTEL_SERVICE_NAME", "value": spec.component},
        {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": attributes},
    ]
    if ctx.otlp_endpoint:
        env.append({"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": ctx.otlp_endpoint})
    env += [{"name": name, "value": value} for name, value in spec.env.items()]
    env += [
        {
            "name": name,
            "value_from": {"secret_key_ref": {"name": ref.secret_name, "key": ref.key}},
        }
        for name, ref in spec.secret_env.items()
    ]
    return env


def _volumes(spec: WorkloadSpec) -> list[k8s.core.v1.VolumeArgsDict]:
    volumes: list[k8s.core.v1.VolumeArgsDict] = []
    seen: set[str] = set()
    for volume in spec.volumes:
        if volume.name in seen:
            continue  # another mount of the same volume
        seen.add(volume.name)
        if isinstance(volume, ScratchVolume):
            volumes.append({"name": volume.name, "empty_dir": {"size_limit": volume.size_limit}})
        elif isinstance(volume, SecretVolume):
            volumes.append(
                {
                    "name": volume.name,
                    "secret": {"secret_name": volume.secret_name, "default_mode": 0o440},
                }
            )
        else:
            volumes.append(
                {"name": volume.name, "persistent_volume_claim": {"claim_name": volume.claim_name}}
            )
    return volumes


def _mount(volume: Volume) -> k8s.core.v1.VolumeMountArgsDict:
    mount: k8s.core.v1.VolumeMountArgsDict = {"name": volume.name, "mount_path": volume.mount_path}
    if isinstance(volume, SecretVolume):
        mount["read_only"] = True
    if isinstance(volume, ClaimVolume) and volume.sub_path:
        mount["sub_path"] = volume.sub_path
    return mount


def _container(spec: WorkloadSpec, ctx: PlatformContext) -> k8s.core.v1.ContainerArgsDict:
    resources = spec.settings.resources
    container: k8s.core.v1.ContainerArgsDict = {
        "name": spec.component,
        "image": spec.settings.image,
        "image_pull_policy": "IfNotPresent",
        "ports": [
            {"name": port.name, "container_port": port.container_port, "protocol": "TCP"}
            for port in spec.ports
        ],
        "env": _env(spec, ctx),
        "resources": {
            "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
            "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
        },
        "liveness_probe": _probe(spec.probes.liveness),
        "readiness_probe": _probe(spec.probes.readiness),
        "startup_probe": _probe(spec.probes.startup),
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": spec.run_as_user,
            "run_as_group": spec.run_as_group or spec.run_as_user,
            "read_only_root_filesystem": True,
            "allow_privilege_escalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "volume_mounts": [_mount(volume) for volume in spec.volumes],
        "termination_message_policy": "FallbackToLogsOnError",
    }
    if spec.command is not None:
        container["command"] = list(spec.command)
    if spec.args is not None:
        container["args"] = list(spec.args)
    return container


def _annotations(spec: WorkloadSpec) -> dict[str, pulumi.Input[str]]:
    annotations: dict[str, pulumi.Input[str]] = {}
    if spec.checksum is not None:
        annotations["checksum/config"] = spec.checksum
    if spec.metrics is not None:
        port_name, path = spec.metrics
        annotations.update(
            {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(spec.container_port(port_name)),
                "prometheus.io/path": path,
            }
        )
    return annotations


def _place(pod_spec: k8s.core.v1.PodSpecArgsDict, spec: WorkloadSpec, ctx: PlatformContext) -> None:
    """Where the pods may run: the workload's node selector and tolerations, and its priority
    class (its own, else the platform's when the program creates one)."""
    settings = spec.settings
    priority = spec.priority_class_name or settings.priority_class_name or ctx.priority_class_name
    if priority is not None:
        pod_spec["priority_class_name"] = priority
    if settings.node_selector:
        pod_spec["node_selector"] = dict(settings.node_selector)
    if settings.tolerations:
        pod_spec["tolerations"] = [_toleration(t) for t in settings.tolerations]


def _toleration(toleration: Toleration) -> k8s.core.v1.TolerationArgsDict:
    written: k8s.core.v1.TolerationArgsDict = {"operator": toleration.operator}
    if toleration.key is not None:
        written["key"] = toleration.key
    if toleration.value:  # "" is the default: the provider would drop it
        written["value"] = toleration.value
    if toleration.effect is not None:
        written["effect"] = toleration.effect
    if toleration.toleration_seconds is not None:
        written["toleration_seconds"] = toleration.toleration_seconds
    return written


def _spread(
    spec: WorkloadSpec, ctx: PlatformContext
) -> list[k8s.core.v1.TopologySpreadConstraintArgsDict]:
    """Replicas across nodes, and across zones where nodes carry zone labels, as the real
    scheduler treats each (tests/engine/test_placement.py):

    - by hostname, DoNotSchedule: two replicas never share a node while another schedulable
      node is free, so one node's drain or loss cannot take every replica. A single-node
      cluster is one domain, so it still runs them all. ``nodeTaintsPolicy: Honor`` leaves
      tainted nodes out of the count (a cordoned node under drain, kind's control plane), or
      the replacement of an evicted pod would wait for the drained node.
    - by zone, ScheduleAnyway: a preference. DoNotSchedule would refuse every node without a
      zone label (kind's, most homelabs') and could leave a replica unplaced in a zone short
      of room.
    - ``matchLabelKeys: [pod-template-hash]``: a rolling update spreads the new revision's pods
      among themselves, not counting the old ones on their way out.

    On every Deployment, whatever its replicas: a constraint added only above one replica
    changed the pod template, so scaling 1 -> 2 rolled the running pod (found by the engine
    tier, tests/engine/test_second_day.py).
    """
    selector: k8s.meta.v1.LabelSelectorArgsDict = {
        "match_labels": selector_labels(spec.component, ctx.stack)
    }
    return [
        {
            "max_skew": 1,
            "topology_key": "kubernetes.io/hostname",
            "when_unsatisfiable": "DoNotSchedule",
            "node_taints_policy": "Honor",
            "label_selector": selector,
            "match_label_keys": ["pod-template-hash"],
        },
        {
            "max_skew": 1,
            "topology_key": "topology.kubernetes.io/zone",
            "when_unsatisfiable": "ScheduleAnyway",
            "label_selector": selector,
            "match_label_keys": ["pod-template-hash"],
        },
    ]


def pod_template(spec: WorkloadSpec, ctx: PlatformContext) -> k8s.core.v1.PodTemplateSpecArgsDict:
    """The pods of ``spec``, run as its ServiceAccount (named after the component)."""
    pod_spec: k8s.core.v1.PodSpecArgsDict = {
        "service_account_name": spec.component,
        "automount_service_account_token": spec.api_access,
        "enable_service_links": False,
        "termination_grace_period_seconds": spec.termination_grace_period_seconds,
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": spec.run_as_user,
            "run_as_group": spec.run_as_group or spec.run_as_user,
            "fs_group": spec.run_as_group or spec.run_as_user,
            "fs_group_change_policy": "OnRootMismatch",
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(spec, ctx)],
        "volumes": _volumes(spec),
    }
    _place(pod_spec, spec, ctx)
    if spec.kind == "Deployment":
        pod_spec["topology_spread_constraints"] = _spread(spec, ctx)
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {
        "labels": standard_labels(spec, ctx),
        "annotations": _annotations(spec),
    }
    return {"metadata": metadata, "spec": pod_spec}
