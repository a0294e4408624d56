"""What a component says about its workload: :class:`WorkloadSpec` and the values it is made of.

Plain frozen data and no Kubernetes objects, so a component states only what is special about it
(image, ports, probes, volumes, env, network flows) and the rest of the package decides how that
becomes objects. :class:`PlatformContext` is what every component shares (namespace, provider,
stack), and the replica helpers answer the one question several objects ask of the settings:
how many pods run at the least and at the most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.settings import Workload

PART_OF: Final = "agent-platform"
MANAGED_BY: Final = "pulumi"


ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]


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
    priority_class_name: pulumi.Input[str] | None = None
    """The PriorityClass the program created (``priorityClass.create``), for workloads that
    name none of their own."""


@dataclass(frozen=True)
class ContainerPort:
    """A named port the container listens on; the settings' ``Port`` is only its number."""

    name: str
    container_port: int
    service_port: int | None = None
    """Exposed on the Service when set (under the same name)."""


@dataclass(frozen=True, kw_only=True)
class ProbeTiming:
    """How often a probe runs and how long it may fail; keyword-only, so the probes' own fields
    come first positionally."""

    period_seconds: int = 10
    timeout_seconds: int = 3
    failure_threshold: int = 3
    initial_delay_seconds: int = 0


@dataclass(frozen=True)
class HttpProbe(ProbeTiming):
    path: str
    port: str
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"


@dataclass(frozen=True)
class TcpProbe(ProbeTiming):
    port: str


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

    @staticmethod
    def of(component: str, *ports: int) -> Peer:
        return Peer("component", component=component, ports=ports)


DNS: Final = Peer("dns", ports=(53,))  # name resolution (kube-dns), which every pod needs


@dataclass(frozen=True)
class WorkloadSpec:
    component: str
    """The role, e.g. ``gateway``: object names, labels and OTEL_SERVICE_NAME."""
    app: str
    """What runs, e.g. ``nginx``: the ``app.kubernetes.io/name`` label."""
    settings: Workload
    ports: tuple[ContainerPort, ...]
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
    service_type: ServiceType = "ClusterIP"
    node_ports: Mapping[str, int] = field(default_factory=dict)
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    """A LoadBalancer's controller annotations."""
    load_balancer_source_ranges: tuple[str, ...] = ()
    ingress: tuple[Peer, ...] = ()
    egress: tuple[Peer, ...] = ()
    termination_grace_period_seconds: int = 30
    api_access: bool = False
    """Mount the ServiceAccount token: only for workloads that call the Kubernetes API."""
    priority_class_name: str | None = None

    def container_port(self, name: str) -> int:
        """The number of the container port called ``name``."""
        return next(port.container_port for port in self.ports if port.name == name)


def least_replicas(settings: Workload) -> int:
    if settings.autoscaling.enabled:
        return settings.autoscaling.min_replicas
    return settings.replicas
