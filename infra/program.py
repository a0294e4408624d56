"""The program: select the stack, validate settings, target a cluster, deploy, export.

Order matters for the "nothing half-created" rule: the stack and every setting are validated
before the first resource is registered, so bad input never leaves a partial deployment.
"""

from __future__ import annotations

import pulumi
import structlog

from infra.cluster import build_cluster, build_provider
from infra.observability import configure_tracing, ensure_logging, phase
from infra.platform import deploy_platform
from infra.settings import load


def run() -> None:
    ensure_logging()
    configure_tracing()
    stack = pulumi.get_stack()
    structlog.contextvars.bind_contextvars(stack=stack)

    with phase("settings"):
        settings, secrets = load(stack)
    structlog.contextvars.bind_contextvars(cluster=settings.cluster_name)

    with phase("cluster", resource=settings.cluster_name, target=settings.cluster.target):
        cluster = build_cluster(settings, secrets)

    with phase("provider", resource="k8s"):
        provider = build_provider(cluster)

    endpoints = deploy_platform(settings, secrets, provider)

    pulumi.export("clusterName", cluster.name)
    pulumi.export("clusterTarget", settings.cluster.target)
    if cluster.render_directory is None:
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("kubeContext", cluster.context)
    else:
        pulumi.export("renderDirectory", cluster.render_directory)
    for key, value in endpoints.items():
        pulumi.export(key, value)
