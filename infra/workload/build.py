""":func:`build_workload`: a :class:`WorkloadSpec` made into its objects, and what it offers.

The composition only; each object is built by its own function (:mod:`infra.workload.objects`,
:mod:`infra.workload.network`). What a workload offers its consumers is an
:class:`~infra.endpoints.Endpoint` on its first Service port.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.endpoints import Endpoint
from infra.workload import objects
from infra.workload.network import network_policy
from infra.workload.spec import PlatformContext, WorkloadSpec


@dataclass
class WorkloadResources:
    service_account: k8s.core.v1.ServiceAccount
    workload: objects.WorkloadObject
    service: k8s.core.v1.Service
    network_policy: k8s.networking.v1.NetworkPolicy
    disruption_budget: k8s.policy.v1.PodDisruptionBudget | None
    autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
    endpoint: Endpoint
    """The Service's in-cluster DNS name and its first port."""


def build_workload(
    spec: WorkloadSpec, ctx: PlatformContext, parent: pulumi.Resource
) -> WorkloadResources:
    """Every object of ``spec``, parented to ``parent`` and on the platform's provider."""
    options = pulumi.ResourceOptions(parent=parent, provider=ctx.provider)
    service_account = objects.service_account(spec, ctx, options)
    # The pods run as the ServiceAccount: it exists before the controller creates them.
    after_account = options.merge(pulumi.ResourceOptions(depends_on=[service_account]))
    workload: objects.WorkloadObject
    if spec.kind == "Deployment":
        workload = objects.deployment(spec, ctx, after_account)
    else:
        workload = objects.stateful_set(spec, ctx, after_account)
    service = objects.service(spec, ctx, options)
    first = next(port.service_port for port in spec.ports if port.service_port is not None)
    host = pulumi.Output.concat(
        service.metadata.name, ".", service.metadata.namespace, ".svc.cluster.local"
    )
    return WorkloadResources(
        service_account=service_account,
        workload=workload,
        service=service,
        network_policy=network_policy(spec, ctx, options),
        disruption_budget=objects.disruption_budget(spec, ctx, options),
        autoscaler=objects.autoscaler(spec, ctx, options),
        endpoint=Endpoint(host, first),
    )
