"""The shared workload builder: what every component of the platform gets by default.

A component states only what is special about it (:class:`WorkloadSpec`: image, ports, probes,
volumes, env, network flows); :func:`build_workload` turns that into production-grade objects:

- a ServiceAccount without an automounted token;
- a Deployment (or a StatefulSet) with pinned image, requests and limits, three probes, the
  restricted Pod Security Standard security context on pod and container, a read-only root
  filesystem with writable emptyDirs only where the spec asks, rolling updates that never go
  below the desired replicas, topology spread when there is more than one replica, OpenTelemetry
  env, Prometheus annotations where the image serves metrics, and a checksum annotation so pods
  roll when their configuration or secrets change;
- a ClusterIP (or NodePort) Service with named ports;
- a PodDisruptionBudget when more than one replica runs, and a HorizontalPodAutoscaler (v2)
  when the settings enable one (the Deployment starts at its minimum and then leaves
  ``replicas`` to it; without one, the program's count wins over what an autoscaler left);
- a NetworkPolicy that allows exactly the flows the spec declares (the namespace denies
  everything else by default, see :mod:`infra.platform`).

Every object is parented to the component and uses the platform's explicit provider.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.settings import Workload

PART_OF: Final = "agent-platform"
MANAGED_BY: Final = "pulumi"
# Any address except the private ranges: "the internet" for egress rules (model downloads).
PRIVATE_RANGES: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
AUTOSCALED_FIELD: Final = "spec.replicas"
"""What a HorizontalPodAutoscaler owns on its Deployment (``ignore_changes`` while it runs)."""
PATCH_FORCE: Final = "pulumi.com/patchForce"
"""pulumi-kubernetes: server-side apply with force, taking over fields other managers set."""


@dataclass(frozen=True)
class PlatformContext:
    """What every component shares: where, with which provider, for which stack."""

    namespace: pulumi.Output[str]
    provider: k8s.Provider
    stack: str
    cluster_name: str
    otlp_endpoint: str | None = None
    otlp_port: int | None = None
    metrics_namespace: str | None = None


@dataclass(frozen=True)
class Port:
    name: str
    container_port: int
    service_port: int | None = None
    """Exposed on the Service when set (under the same name)."""


@dataclass(frozen=True)
class HttpProbe:
    path: str
    port: str
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    period_seconds: int = 10
    timeout_seconds: int = 3
    failure_threshold: int = 3
    initial_delay_seconds: int = 0


@dataclass(frozen=True)
class TcpProbe:
    port: str
    period_seconds: int = 10
    timeout_seconds: int = 3
    failure_threshold: int = 3
    initial_delay_seconds: int = 0


Probe = HttpProbe | TcpProbe


@dataclass(frozen=True)
class Probes:
    liveness: Probe
    readiness: Probe
    startup: Probe


@dataclass(frozen=True)
class SecretEnv:
    """An env var read from a Kubernetes Secret by reference (never a literal value)."""

    secret_name: pulumi.Input[str]
    key: str


@dataclass(frozen=True)
class ScratchVolume:
    """A writable emptyDir: the only writable paths of a read-only root filesystem."""

    name: str
    mount_path: str
    size_limit: str = "64Mi"


@dataclass(frozen=True)
class SecretVolume:
    name: str
    mount_path: str
    secret_name: pulumi.Input[str]


@dataclass(frozen=True)
class ClaimVolume:
    """A PersistentVolumeClaim; several entries of the same ``name`` mount parts of one claim
    (``sub_path``) at different paths."""

    name: str
    mount_path: str
    claim_name: pulumi.Input[str]
    sub_path: str | None = None


Volume = ScratchVolume | SecretVolume | ClaimVolume


@dataclass(frozen=True)
class Peer:
    """One end of an allowed flow: pods of a component, DNS, or addresses outside the cluster."""

    kind: Literal["component", "dns", "internet", "any", "namespace"]
    component: str | None = None
    namespace: str | None = None
    ports: tuple[int, ...] = ()
    why: str = ""

    @staticmethod
    def of(component: str, *ports: int, why: str) -> Peer:
        return Peer("component", component=component, ports=ports, why=why)


DNS: Final = Peer("dns", ports=(53,), why="name resolution (kube-dns)")


@dataclass(frozen=True)
class WorkloadSpec:
    component: str
    """The role, e.g. ``gateway``: object names, labels and OTEL_SERVICE_NAME."""
    app: str
    """What runs, e.g. ``nginx``: the ``app.kubernetes.io/name`` label."""
    settings: Workload
    ports: tuple[Port, ...]
    probes: Probes
    run_as_user: int
    run_as_group: int | None = None
    command: Sequence[str] | None = None
    args: Sequence[pulumi.Input[str]] | None = None
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_env: Mapping[str, SecretEnv] = field(default_factory=dict)
    volumes: tuple[Volume, ...] = ()
    metrics: tuple[str, str] | None = None
    """(port name, path) of a Prometheus endpoint served without credentials."""
    checksum: pulumi.Input[str] | None = None
    """Hash of the configuration and secrets the pods read; a change rolls them."""
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    service_type: Literal["ClusterIP", "NodePort"] = "ClusterIP"
    node_ports: Mapping[str, int] = field(default_factory=dict)
    ingress: tuple[Peer, ...] = ()
    egress: tuple[Peer, ...] = ()
    termination_grace_period_seconds: int = 30
    api_access: bool = False
    """Mount the ServiceAccount token: only for workloads that call the Kubernetes API."""
    priority_class_name: str | None = None


@dataclass
class WorkloadResources:
    service_account: k8s.core.v1.ServiceAccount
    workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet
    service: k8s.core.v1.Service
    network_policy: k8s.networking.v1.NetworkPolicy
    disruption_budget: k8s.policy.v1.PodDisruptionBudget | None
    autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
    host: pulumi.Output[str]
    """In-cluster DNS name of the Service."""
    port: int
    """The first Service port."""
    url: pulumi.Output[str]
    """``http://<host>:<port>``."""


def image_version(image: str) -> str:
    """The tag of a pinned image (``repo:tag`` or ``repo:tag@sha256:...``)."""
    reference = image.split("@", 1)[0]
    return reference.rsplit(":", 1)[1] if ":" in reference.rsplit("/", 1)[-1] else "unknown"


def selector_labels(component: str, stack: str) -> dict[str, str]:
    """The labels that select a component's pods; never includes anything that changes."""
    return {"app.kubernetes.io/component": component, "app.kubernetes.io/instance": stack}


def standard_labels(spec: WorkloadSpec, ctx: PlatformContext) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": spec.app,
        **selector_labels(spec.component, ctx.stack),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/version": image_version(spec.settings.image)[:63],
    }


def checksum(*parts: pulumi.Input[str]) -> pulumi.Output[str]:
    """SHA-256 over configuration parts; stays a secret Output when any part is one."""
    return pulumi.Output.all(*parts).apply(
        lambda values: hashlib.sha256("\0".join(map(str, values)).encode()).hexdigest()
    )


def _probe(probe: Probe) -> k8s.core.v1.ProbeArgsDict:
    common: k8s.core.v1.ProbeArgsDict = {
        "period_seconds": probe.period_seconds,
        "timeout_seconds": probe.timeout_seconds,
        "failure_threshold": probe.failure_threshold,
        "initial_delay_seconds": probe.initial_delay_seconds,
    }
    if isinstance(probe, HttpProbe):
        return {
            **common,
            "http_get": {"path": probe.path, "port": probe.port, "scheme": probe.scheme},
        }
    return {**common, "tcp_socket": {"port": probe.port}}


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
    mount: k8s.core.v1.VolumeMountArgsDict = {
        "name": volume.name,
        "mount_path": volume.mount_path,
        "read_only": isinstance(volume, SecretVolume),
    }
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


def _pod_template(
    spec: WorkloadSpec, ctx: PlatformContext, labels: dict[str, str], service_account: str
) -> k8s.core.v1.PodTemplateSpecArgsDict:
    annotations: dict[str, pulumi.Input[str]] = {}
    if spec.checksum is not None:
        annotations["checksum/config"] = spec.checksum
    if spec.metrics is not None:
        port_name, path = spec.metrics
        port = next(p.container_port for p in spec.ports if p.name == port_name)
        annotations.update(
            {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(port),
                "prometheus.io/path": path,
            }
        )
    pod_spec: k8s.core.v1.PodSpecArgsDict = {
        "service_account_name": service_account,
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
    if spec.priority_class_name:
        pod_spec["priority_class_name"] = spec.priority_class_name
    if _most_replicas(spec.settings) > 1:
        # ScheduleAnyway: a one-node cluster still runs every replica; more nodes spread them.
        pod_spec["topology_spread_constraints"] = [
            {
                "max_skew": 1,
                "topology_key": "kubernetes.io/hostname",
                "when_unsatisfiable": "ScheduleAnyway",
                "label_selector": {"match_labels": selector_labels(spec.component, ctx.stack)},
            }
        ]
    return {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod_spec}


def _most_replicas(settings: Workload) -> int:
    if settings.autoscaling.enabled:
        return settings.autoscaling.max_replicas
    return settings.replicas


def _least_replicas(settings: Workload) -> int:
    if settings.autoscaling.enabled:
        return settings.autoscaling.min_replicas
    return settings.replicas


def _peer_selectors(
    peer: Peer, ctx: PlatformContext
) -> list[k8s.networking.v1.NetworkPolicyPeerArgsDict]:
    if peer.kind == "component":
        assert peer.component is not None  # noqa: S101 (Peer.of sets it)
        return [{"pod_selector": {"match_labels": selector_labels(peer.component, ctx.stack)}}]
    if peer.kind == "dns":
        return [
            {
                "namespace_selector": {
                    "match_labels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
            }
        ]
    if peer.kind == "internet":
        return [{"ip_block": {"cidr": "0.0.0.0/0", "except_": list(PRIVATE_RANGES)}}]
    if peer.kind == "namespace":
        return [
            {
                "namespace_selector": {
                    "match_labels": {"kubernetes.io/metadata.name": peer.namespace or ""}
                }
            }
        ]
    return []  # "any": no "from"/"to" means every source or destination


def _ports(peer: Peer) -> list[k8s.networking.v1.NetworkPolicyPortArgsDict]:
    if peer.kind == "dns":
        return [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    return [{"protocol": "TCP", "port": port} for port in peer.ports]


def network_policy_rules(
    spec: WorkloadSpec, ctx: PlatformContext
) -> tuple[
    list[k8s.networking.v1.NetworkPolicyIngressRuleArgsDict],
    list[k8s.networking.v1.NetworkPolicyEgressRuleArgsDict],
]:
    ingress: list[k8s.networking.v1.NetworkPolicyIngressRuleArgsDict] = []
    for peer in spec.ingress:
        rule: k8s.networking.v1.NetworkPolicyIngressRuleArgsDict = {"ports": _ports(peer)}
        sources = _peer_selectors(peer, ctx)
        if sources:
            rule["from_"] = sources
        ingress.append(rule)
    if spec.metrics is not None and ctx.metrics_namespace:
        port = next(p.container_port for p in spec.ports if p.name == spec.metrics[0])
        ingress.append(
            {
                "from_": _peer_selectors(Peer("namespace", namespace=ctx.metrics_namespace), ctx),
                "ports": [{"protocol": "TCP", "port": port}],
            }
        )
    peers = [DNS, *spec.egress]
    if ctx.otlp_port is not None:
        # The collector may run in any namespace or outside the cluster: its port, anywhere.
        peers.append(Peer("any", ports=(ctx.otlp_port,), why="OpenTelemetry export"))
    egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgsDict] = []
    for peer in peers:
        egress_rule: k8s.networking.v1.NetworkPolicyEgressRuleArgsDict = {"ports": _ports(peer)}
        destinations = _peer_selectors(peer, ctx)
        if destinations:
            egress_rule["to"] = destinations
        egress.append(egress_rule)
    return ingress, egress


def build_workload(
    spec: WorkloadSpec, ctx: PlatformContext, parent: pulumi.Resource
) -> WorkloadResources:
    name = spec.component
    labels = standard_labels(spec, ctx)
    selector = selector_labels(spec.component, ctx.stack)
    options = pulumi.ResourceOptions(parent=parent, provider=ctx.provider)

    def metadata(object_name: str = name) -> k8s.meta.v1.ObjectMetaArgsDict:
        return {"name": object_name, "namespace": ctx.namespace, "labels": labels}

    service_account = k8s.core.v1.ServiceAccount(
        f"{name}-sa",
        metadata=metadata(),
        automount_service_account_token=spec.api_access,
        opts=options,
    )
    template = _pod_template(spec, ctx, labels, name)
    workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet
    if spec.kind == "Deployment":
        deployment_spec: k8s.apps.v1.DeploymentSpecArgsDict = {
            "revision_history_limit": 5,
            "selector": {"match_labels": selector},
            # Never below the desired replicas during a rollout: add one, then remove one.
            "strategy": {
                "type": "RollingUpdate",
                "rolling_update": {"max_unavailable": 0, "max_surge": 1},
            },
            "template": template,
        }
        # Always declared: leaving `replicas` out of a server-side apply that used to set it
        # makes the API server drop the field and default it to 1, so turning autoscaling on
        # would first scale the Deployment down to one Pod. With an autoscaler, the count
        # starts at its minimum and then belongs to it: ignore_changes makes the provider send
        # the live count instead. Without one, the program's count must win over the count an
        # autoscaler left behind (the API server reports it as a field conflict with
        # kube-controller-manager): patchForce. Both seen on a real API server,
        # tests/counterparts/test_changes.py.
        autoscaled = spec.settings.autoscaling.enabled
        deployment_spec["replicas"] = _least_replicas(spec.settings)
        deployment_metadata = metadata()
        if not autoscaled:
            deployment_metadata["annotations"] = {PATCH_FORCE: "true"}
        workload = k8s.apps.v1.Deployment(
            name,
            metadata=deployment_metadata,
            spec=deployment_spec,
            opts=options.merge(
                pulumi.ResourceOptions(
                    depends_on=[service_account],
                    ignore_changes=[AUTOSCALED_FIELD] if autoscaled else None,
                )
            ),
        )
    else:
        workload = k8s.apps.v1.StatefulSet(
            name,
            metadata=metadata(),
            spec={
                # VectorSearchSettings allows exactly one replica and no autoscaler.
                "replicas": spec.settings.replicas,
                "service_name": name,
                "revision_history_limit": 5,
                "selector": {"match_labels": selector},
                "update_strategy": {"type": "RollingUpdate"},
                "persistent_volume_claim_retention_policy": {
                    "when_deleted": "Retain",
                    "when_scaled": "Retain",
                },
                "template": template,
            },
            opts=options.merge(pulumi.ResourceOptions(depends_on=[service_account])),
        )

    service_ports: list[k8s.core.v1.ServicePortArgsDict] = []
    for port in spec.ports:
        if port.service_port is None:
            continue
        service_port: k8s.core.v1.ServicePortArgsDict = {
            "name": port.name,
            "port": port.service_port,
            "target_port": port.name,
            "protocol": "TCP",
        }
        if port.name in spec.node_ports:
            service_port["node_port"] = spec.node_ports[port.name]
        service_ports.append(service_port)
    service = k8s.core.v1.Service(
        f"{name}-svc",
        metadata=metadata(),
        spec={"type": spec.service_type, "selector": selector, "ports": service_ports},
        opts=options,
    )

    ingress, egress = network_policy_rules(spec, ctx)
    network_policy = k8s.networking.v1.NetworkPolicy(
        f"{name}-netpol",
        metadata=metadata(),
        spec={
            "pod_selector": {"match_labels": selector},
            "policy_types": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
        opts=options,
    )

    disruption_budget = None
    if _least_replicas(spec.settings) > 1:
        disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=metadata(),
            spec={"max_unavailable": 1, "selector": {"match_labels": selector}},
            opts=options,
        )

    autoscaler = None
    if spec.settings.autoscaling.enabled:
        scaling = spec.settings.autoscaling
        autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=metadata(),
            spec={
                "scale_target_ref": {"api_version": "apps/v1", "kind": spec.kind, "name": name},
                "min_replicas": scaling.min_replicas,
                "max_replicas": scaling.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "average_utilization": scaling.target_cpu_utilization,
                            },
                        },
                    }
                ],
            },
            opts=options,
        )

    first = next(port.service_port for port in spec.ports if port.service_port is not None)
    host = pulumi.Output.concat(
        service.metadata.name, ".", service.metadata.namespace, ".svc.cluster.local"
    )
    return WorkloadResources(
        service_account=service_account,
        workload=workload,
        service=service,
        network_policy=network_policy,
        disruption_budget=disruption_budget,
        autoscaler=autoscaler,
        host=host,
        port=first,
        url=pulumi.Output.concat("http://", host, ":", str(first)),
    )
