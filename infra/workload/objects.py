"""One function per Kubernetes object of a workload (besides its NetworkPolicy, see
:mod:`infra.workload.network`): ServiceAccount, Deployment or StatefulSet, Service,
PodDisruptionBudget, HorizontalPodAutoscaler.

Each takes the spec, the shared context and the options every object gets (parented to the
component, the platform's explicit provider), and is named ``<component>`` or
``<component>-<suffix>``: names are stable, since renaming one replaces it in a live cluster.
"""

from __future__ import annotations

from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from infra.workload.labels import object_metadata, selector_labels
from infra.workload.pod import pod_template
from infra.workload.spec import PlatformContext, WorkloadSpec, least_replicas

AUTOSCALED_FIELD: Final = "spec.replicas"
"""What a HorizontalPodAutoscaler owns on its Deployment (``ignore_changes`` while it runs)."""
PATCH_FORCE: Final = "pulumi.com/patchForce"
"""pulumi-kubernetes: server-side apply with force, taking over fields other managers set."""

WorkloadObject = k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet
"""What runs the pods: a Deployment, or a StatefulSet where identity and storage are stable."""


def _selector(spec: WorkloadSpec, ctx: PlatformContext) -> k8s.meta.v1.LabelSelectorArgsDict:
    return {"match_labels": selector_labels(spec.component, ctx.stack)}


def service_account(
    spec: WorkloadSpec, ctx: PlatformContext, options: pulumi.ResourceOptions
) -> k8s.core.v1.ServiceAccount:
    return k8s.core.v1.ServiceAccount(
        f"{spec.component}-sa",
        metadata=object_metadata(spec, ctx),
        automount_service_account_token=spec.api_access,
        opts=options,
    )


def deployment(
    spec: WorkloadSpec, ctx: PlatformContext, options: pulumi.ResourceOptions
) -> k8s.apps.v1.Deployment:
    # `replicas` is always declared: leaving it out of a server-side apply that used to set it
    # makes the API server drop the field and default it to 1, so turning autoscaling on would
    # first scale the Deployment down to one Pod. With an autoscaler, the count starts at its
    # minimum and then belongs to it: ignore_changes makes the provider send the live count
    # instead. Without one, the program's count must win over the count an autoscaler left
    # behind (the API server reports it as a field conflict with kube-controller-manager):
    # patchForce. Both seen on a real API server, tests/counterparts/test_changes.py.
    autoscaled = spec.settings.autoscaling.enabled
    metadata = object_metadata(spec, ctx)
    if not autoscaled:
        metadata["annotations"] = {PATCH_FORCE: "true"}
    return k8s.apps.v1.Deployment(
        spec.component,
        metadata=metadata,
        spec={
            "revision_history_limit": 5,
            "selector": _selector(spec, ctx),
            # Never below the desired replicas during a rollout: add one, then remove one.
            "strategy": {
                "type": "RollingUpdate",
                "rolling_update": {"max_unavailable": 0, "max_surge": 1},
            },
            "template": pod_template(spec, ctx),
            "replicas": least_replicas(spec.settings),
        },
        opts=options.merge(
            pulumi.ResourceOptions(ignore_changes=[AUTOSCALED_FIELD] if autoscaled else None)
        ),
    )


def stateful_set(
    spec: WorkloadSpec, ctx: PlatformContext, options: pulumi.ResourceOptions
) -> k8s.apps.v1.StatefulSet:
    return k8s.apps.v1.StatefulSet(
        spec.component,
        metadata=object_metadata(spec, ctx),
        spec={
            # VectorSearchSettings allows exactly one replica and no autoscaler.
            "replicas": spec.settings.replicas,
            "service_name": spec.component,
            "revision_history_limit": 5,
            "selector": _selector(spec, ctx),
            "update_strategy": {"type": "RollingUpdate"},
            "persistent_volume_claim_retention_policy": {
                "when_deleted": "Retain",
                "when_scaled": "Retain",
            },
            "template": pod_template(spec, ctx),
        },
        opts=options,
    )


def service(
    spec: WorkloadSpec, ctx: PlatformContext, options: pulumi.ResourceOptions
) -> k8s.core.v1.Service:
    """The Service exposes the ports that have a ``service_port``, under their names."""
    ports: list[k8s.core.v1.ServicePortArgsDict] = []
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
        ports.append(service_port)
    metadata = object_metadata(spec, ctx)
    if spec.service_annotations:
        metadata["annotations"] = dict(spec.service_annotations)
    service_spec: k8s.core.v1.ServiceSpecArgsDict = {
        "type": spec.service_type,
        "selector": selector_labels(spec.component, ctx.stack),
        "ports": ports,
    }
    if spec.service_type == "LoadBalancer":
        # Local: the load balancer sends traffic only to nodes running a pod, and the pod sees
        # the client's own address, so the gateway's per-client rate limit is per client.
        service_spec["external_traffic_policy"] = "Local"
        if spec.load_balancer_source_ranges:
            service_spec["load_balancer_source_ranges"] = list(spec.load_balancer_source_ranges)
    return k8s.core.v1.Service(
        f"{spec.component}-svc", metadata=metadata, spec=service_spec, opts=options
    )


def disruption_budget(
    spec: WorkloadSpec, ctx: PlatformContext, options: pulumi.ResourceOptions
) -> k8s.policy.v1.PodDisruptionBudget | None:
    """Only when more than one replica always runs (``maxUnavailable: 1`` of one keeps none up)."""
    if least_replicas(spec.settings) <= 1:
        return None
    return k8s.policy.v1.PodDisruptionBudget(
        f"{spec.component}-pdb",
        metadata=object_metadata(spec, ctx),
        spec={"max_unavailable": 1, "selector": _selector(spec, ctx)},
        opts=options,
    )


def autoscaler(
    spec: WorkloadSpec, ctx: PlatformContext, options: pulumi.ResourceOptions
) -> k8s.autoscaling.v2.HorizontalPodAutoscaler | None:
    scaling = spec.settings.autoscaling
    if not scaling.enabled:
        return None
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        f"{spec.component}-hpa",
        metadata=object_metadata(spec, ctx),
        spec={
            "scale_target_ref": {
                "api_version": "apps/v1",
                "kind": spec.kind,
                "name": spec.component,
            },
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
