"""MetricsServer: the resource metrics API that HorizontalPodAutoscalers read.

kind ships no metrics-server, so without it every HPA reports ``<unknown>`` and never scales.
On a kind cluster this program creates (``cluster.installMetricsServer``), it installs the
upstream manifest's objects (v0.8.1): RBAC, the APIService, and the server itself through the
shared workload builder, in ``kube-system``. ``--kubelet-insecure-tls`` is needed because kind's
kubelets serve self-signed certificates; existing clusters bring their own metrics-server.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from infra.endpoints import Endpoint
from infra.settings import Quantities, Resources, Workload
from infra.workload import (
    ContainerPort,
    HttpProbe,
    Peer,
    PlatformContext,
    Probes,
    ScratchVolume,
    WorkloadSpec,
    build_workload,
    component_labels,
)

IMAGE: Final = "registry.k8s.io/metrics-server/metrics-server:v0.8.1"
NAMESPACE: Final = "kube-system"
NAME: Final = "metrics-server"
PORT: Final = 10250
RUN_AS_USER: Final = 1000


@dataclass(frozen=True)
class MetricsServerArgs:
    context: PlatformContext


class MetricsServer(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:MetricsServer"

    endpoint: Endpoint
    """The metrics API, as the API server reaches it (HTTPS, self-signed)."""

    def __init__(
        self, name: str, args: MetricsServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        ctx = dataclasses.replace(args.context, namespace=pulumi.Output.from_input(NAMESPACE))
        options = pulumi.ResourceOptions(parent=self, provider=ctx.provider)
        labels = component_labels(NAME, NAME, ctx)
        subject: list[k8s.rbac.v1.SubjectArgsDict] = [
            {"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}
        ]

        k8s.rbac.v1.ClusterRole(
            "metrics-reader",
            metadata={
                "name": "system:aggregated-metrics-reader",
                "labels": {
                    **labels,
                    "rbac.authorization.k8s.io/aggregate-to-view": "true",
                    "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                    "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                },
            },
            rules=[
                {
                    "api_groups": ["metrics.k8s.io"],
                    "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
            opts=options,
        )
        role = k8s.rbac.v1.ClusterRole(
            "metrics-server-role",
            metadata={"name": "system:metrics-server", "labels": labels},
            rules=[
                {"api_groups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                {
                    "api_groups": [""],
                    "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"],
                },
            ],
            opts=options,
        )

        def role_ref(kind: str, name: pulumi.Input[str]) -> k8s.rbac.v1.RoleRefArgsDict:
            return {"api_group": "rbac.authorization.k8s.io", "kind": kind, "name": name}

        for resource_name, binding_name, cluster_role in (
            ("metrics-server-binding", "system:metrics-server", role.metadata.name),
            (
                "metrics-server-auth-delegator",
                "metrics-server:system:auth-delegator",
                "system:auth-delegator",
            ),
        ):
            k8s.rbac.v1.ClusterRoleBinding(
                resource_name,
                metadata={"name": binding_name, "labels": labels},
                role_ref=role_ref("ClusterRole", cluster_role),
                subjects=subject,
                opts=options,
            )
        k8s.rbac.v1.RoleBinding(
            "metrics-server-auth-reader",
            metadata={
                "name": "metrics-server-auth-reader",
                "namespace": NAMESPACE,
                "labels": labels,
            },
            role_ref=role_ref("Role", "extension-apiserver-authentication-reader"),
            subjects=subject,
            opts=options,
        )

        settings = Workload(
            image=IMAGE,
            replicas=1,
            resources=Resources(
                requests=Quantities(cpu="100m", memory="200Mi"),
                limits=Quantities(cpu="500m", memory="400Mi"),
            ),
        )
        spec = WorkloadSpec(
            component=NAME,
            app=NAME,
            settings=settings,
            ports=(ContainerPort("https", PORT, 443),),
            probes=Probes(
                liveness=HttpProbe("/livez", "https", scheme="HTTPS"),
                readiness=HttpProbe("/readyz", "https", scheme="HTTPS", initial_delay_seconds=20),
                startup=HttpProbe("/livez", "https", scheme="HTTPS", failure_threshold=30),
            ),
            run_as_user=RUN_AS_USER,
            args=[
                "--cert-dir=/tmp",
                f"--secure-port={PORT}",
                "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                "--kubelet-use-node-status-port",
                "--metric-resolution=15s",
                "--kubelet-insecure-tls",  # kind's kubelets serve self-signed certificates
            ],
            volumes=(ScratchVolume("tmp", "/tmp"),),  # noqa: S108 (its serving certificate)
            api_access=True,
            priority_class_name="system-cluster-critical",
            ingress=(Peer("any", ports=(PORT,)),),  # the API server aggregates its API
            egress=(
                Peer("any", ports=(PORT,)),  # each kubelet's metrics
                Peer("any", ports=(443, 6443)),  # the Kubernetes API
            ),
        )
        workload = build_workload(spec, ctx, self)
        k8s.apiregistration.v1.APIService(
            "metrics-api",
            metadata={"name": "v1beta1.metrics.k8s.io", "labels": labels},
            spec={
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "service": {"name": workload.service.metadata.name, "namespace": NAMESPACE},
                # The server's certificate is self-signed (--cert-dir), as upstream ships it.
                "insecure_skip_tls_verify": True,
                "group_priority_minimum": 100,
                "version_priority": 100,
            },
            opts=options.merge(pulumi.ResourceOptions(depends_on=[workload.workload])),
        )
        self.endpoint = dataclasses.replace(workload.endpoint, scheme="https")
        self.register_outputs({})
