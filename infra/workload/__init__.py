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

The modules, in the order they build on each other:

- :mod:`~infra.workload.spec`: the spec and the values it is made of (plain data);
- :mod:`~infra.workload.labels`: the standard labels, for workloads and any object a
  component owns (:func:`component_labels`);
- :mod:`~infra.workload.pod`: the container, probes, env, volumes and pod template;
- :mod:`~infra.workload.network`: the NetworkPolicy;
- :mod:`~infra.workload.objects`: one function per other object;
- :mod:`~infra.workload.build`: :func:`build_workload`, composing them.

Components import from this package, not from its modules.
"""

from infra.workload.build import WorkloadResources, build_workload
from infra.workload.labels import (
    component_labels,
    image_version,
    selector_labels,
    standard_labels,
)
from infra.workload.network import PRIVATE_RANGES, network_policy_rules, peers_policy
from infra.workload.objects import AUTOSCALED_FIELD, PATCH_FORCE
from infra.workload.pod import checksum
from infra.workload.spec import (
    DNS,
    MANAGED_BY,
    PART_OF,
    ClaimVolume,
    ContainerPort,
    HttpProbe,
    Peer,
    PlatformContext,
    Probe,
    Probes,
    ProbeTiming,
    ScratchVolume,
    SecretEnv,
    SecretVolume,
    ServiceType,
    TcpProbe,
    Volume,
    WorkloadSpec,
)

__all__ = [
    "AUTOSCALED_FIELD",
    "DNS",
    "MANAGED_BY",
    "PART_OF",
    "PATCH_FORCE",
    "PRIVATE_RANGES",
    "ClaimVolume",
    "ContainerPort",
    "HttpProbe",
    "Peer",
    "PlatformContext",
    "Probe",
    "ProbeTiming",
    "Probes",
    "ScratchVolume",
    "SecretEnv",
    "SecretVolume",
    "ServiceType",
    "TcpProbe",
    "Volume",
    "WorkloadResources",
    "WorkloadSpec",
    "build_workload",
    "checksum",
    "component_labels",
    "image_version",
    "network_policy_rules",
    "peers_policy",
    "selector_labels",
    "standard_labels",
]
