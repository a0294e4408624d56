"""Gateway: nginx (unprivileged image), the platform's single entry point.

Its configuration is generated from typed settings by :mod:`infra.components.gateway_config`
and, because it holds the gateway token and the vector search API key, stored in a Kubernetes
Secret mounted read-only; a checksum annotation rolls the pods when it changes. On kind the
Service is a NodePort that the kind config maps to the host (``cluster.gatewayHostPort``).

With ``gateway.tls`` on, the same port speaks HTTPS only. The certificate chain and its key go
to a second Secret (``gateway-tls``, type ``kubernetes.io/tls``) mounted read-only where nginx
reads them: made by :mod:`infra.components.gateway_tls` (``generated``) or given by the user
(``provided``: the chain from the settings, the key from the secret ``gatewayTlsKey``). The key
is a Pulumi secret from the state or config to that Secret, and in no other object. The checksum
covers the chain and key too, so a new certificate rolls the pods. The probes use HTTPS.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.components import gateway_config
from infra.components.gateway_tls import GatewayCertificate, GatewayCertificateArgs
from infra.components.gateway_tls_config import TLS_CERTIFICATE_FILE, TLS_KEY_FILE
from infra.endpoints import Endpoint
from infra.settings import GatewaySettings
from infra.workload import (
    ContainerPort,
    HttpProbe,
    Peer,
    PlatformContext,
    Probes,
    ScratchVolume,
    SecretVolume,
    ServiceType,
    WorkloadSpec,
    build_workload,
    checksum,
    component_labels,
)

COMPONENT: Final = "gateway"
APP: Final = "nginx"
RUN_AS_USER: Final = 101  # the nginx user of nginxinc/nginx-unprivileged
CONFIG_DIR: Final = "/etc/nginx/agent-platform"
CONFIG_SECRET: Final = "gateway-config"  # noqa: S105 (an object name, not a password)
TLS_DIR: Final = gateway_config.Paths().tls
TLS_SECRET: Final = "gateway-tls"  # noqa: S105 (an object name, not a password)


@dataclass(frozen=True)
class GatewayArgs:
    settings: GatewaySettings
    context: PlatformContext
    token: pulumi.Output[str]
    vector_search_api_key: pulumi.Output[str]
    embedding: Endpoint
    vector_search: Endpoint
    mcp: Endpoint
    service_type: ServiceType = "ClusterIP"
    tls_key: pulumi.Output[str] | None = None
    """The key of ``settings.tls.certificate`` (``gateway.tls.mode: provided``)."""


@dataclass(frozen=True)
class _Tls:
    chain: pulumi.Input[str]
    key: pulumi.Output[str]
    ca_certificate: pulumi.Input[str]


class Gateway(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:Gateway"

    service_name: pulumi.Output[str]
    endpoint: Endpoint
    """In-cluster, ``https`` when TLS is on."""
    url: pulumi.Output[str]
    """In-cluster URL."""
    ca_certificate: pulumi.Output[str] | None
    """What clients trust (PEM, public): the generated CA, or the provided chain; None without
    TLS."""

    def __init__(
        self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        settings, ctx = args.settings, args.context
        options = pulumi.ResourceOptions(parent=self, provider=ctx.provider)

        def make_nginx_conf(values: list[str]) -> str:
            token, api_key, embedding, vector_search, mcp = values
            return gateway_config.nginx_conf(
                settings,
                gateway_config.Upstreams(
                    embedding=dataclasses.replace(args.embedding, host=embedding),
                    vector_search=dataclasses.replace(args.vector_search, host=vector_search),
                    mcp=dataclasses.replace(args.mcp, host=mcp),
                ),
                token=token,
                vector_search_api_key=api_key,
            )

        made: pulumi.Output[str] = pulumi.Output.all(
            args.token,
            args.vector_search_api_key,
            args.embedding.host,
            args.vector_search.host,
            args.mcp.host,
        ).apply(make_nginx_conf)
        # Derived from secrets, so already secret; said again so no refactor can lose it.
        nginx_conf: pulumi.Output[str] = pulumi.Output.secret(made)

        def secret(
            name: str, secret_type: str, data: dict[str, pulumi.Input[str]]
        ) -> k8s.core.v1.Secret:
            """A Secret of the gateway's, named ``name`` in Pulumi and in the cluster."""
            return k8s.core.v1.Secret(
                name,
                metadata={
                    "name": name,
                    "namespace": ctx.namespace,
                    "labels": component_labels(COMPONENT, APP, ctx),
                },
                type=secret_type,
                string_data=data,
                opts=options,
            )

        config = secret(CONFIG_SECRET, "Opaque", {"nginx.conf": nginx_conf})
        volumes: list[SecretVolume | ScratchVolume] = [
            SecretVolume("config", CONFIG_DIR, config.metadata.name),
            ScratchVolume("tmp", "/tmp", size_limit="256Mi"),  # noqa: S108
        ]
        tls = self._tls(args)
        rolls_on: list[pulumi.Input[str]] = [nginx_conf]
        if tls is not None:
            tls_secret = secret(
                TLS_SECRET,
                "kubernetes.io/tls",
                {TLS_CERTIFICATE_FILE: tls.chain, TLS_KEY_FILE: tls.key},
            )
            volumes.append(SecretVolume("tls", TLS_DIR, tls_secret.metadata.name))
            rolls_on += [tls.chain, tls.key]
        port = "https" if tls else "http"
        exposure = settings.exposure
        scheme: Literal["HTTP", "HTTPS"] = "HTTPS" if tls else "HTTP"
        spec = WorkloadSpec(
            component=COMPONENT,
            app=APP,
            settings=settings,
            ports=(ContainerPort(port, settings.port, settings.service_port),),
            service_type=args.service_type,
            node_ports={port: settings.node_port} if args.service_type == "NodePort" else {},
            service_annotations=exposure.annotations if exposure.type == "loadBalancer" else {},
            load_balancer_source_ranges=exposure.load_balancer_source_ranges,
            # The kubelet does not verify the certificate of an HTTPS probe.
            probes=Probes(
                liveness=HttpProbe("/healthz", port, scheme),
                readiness=HttpProbe("/healthz", port, scheme, period_seconds=5),
                startup=HttpProbe("/healthz", port, scheme, period_seconds=2, failure_threshold=30),
            ),
            run_as_user=RUN_AS_USER,
            command=("nginx", "-c", f"{CONFIG_DIR}/nginx.conf", "-g", "daemon off;"),
            volumes=tuple(volumes),
            checksum=checksum(*rolls_on),
            ingress=(Peer("any", ports=(settings.port,)),),  # the platform's clients, anywhere
            # The upstreams of its routes, and nothing else.
            egress=(
                Peer.of("embedding", args.embedding.port),
                Peer.of("vector-search", args.vector_search.port),
                Peer.of("mcp", args.mcp.port),
            ),
        )
        workload = build_workload(spec, ctx, self)
        self._expose(settings, ctx, workload.service, port, options)
        self.service_name = workload.service.metadata.name
        self.endpoint = dataclasses.replace(workload.endpoint, scheme="https" if tls else "http")
        self.url = self.endpoint.url
        self.ca_certificate = (
            pulumi.Output.from_input(tls.ca_certificate) if tls is not None else None
        )
        self.register_outputs({"serviceName": self.service_name, "url": self.url})

    def _expose(
        self,
        settings: GatewaySettings,
        ctx: PlatformContext,
        service: k8s.core.v1.Service,
        port: str,
        options: pulumi.ResourceOptions,
    ) -> None:
        """The way in from outside an existing cluster that ``gateway.exposure`` names: an
        Ingress or a Gateway API HTTPRoute to the gateway's Service (a LoadBalancer is the
        Service itself)."""
        exposure = settings.exposure
        metadata: k8s.meta.v1.ObjectMetaArgsDict = {
            "name": COMPONENT,
            "namespace": ctx.namespace,
            "labels": component_labels(COMPONENT, APP, ctx),
        }
        if exposure.type == "ingress" and exposure.host is not None:
            ingress_spec: k8s.networking.v1.IngressSpecArgsDict = {
                "rules": [
                    {
                        "host": exposure.host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "path_type": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": service.metadata.name,
                                            "port": {"name": port},
                                        }
                                    },
                                }
                            ]
                        },
                    }
                ]
            }
            if exposure.ingress_class_name is not None:
                ingress_spec["ingress_class_name"] = exposure.ingress_class_name
            if exposure.tls_secret_name is not None:
                ingress_spec["tls"] = [
                    {"hosts": [exposure.host], "secret_name": exposure.tls_secret_name}
                ]
            k8s.networking.v1.Ingress(
                "gateway-ingress",
                metadata={**metadata, "annotations": dict(exposure.annotations)}
                if exposure.annotations
                else metadata,
                spec=ingress_spec,
                opts=options,
            )
        if exposure.type == "httpRoute":
            parents = [
                {
                    "name": parent.name,
                    **({"namespace": parent.namespace} if parent.namespace else {}),
                    **({"sectionName": parent.section_name} if parent.section_name else {}),
                }
                for parent in exposure.parent_refs
            ]
            route_spec: dict[str, object] = {
                "parentRefs": parents,
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                        "backendRefs": [
                            {"name": service.metadata.name, "port": settings.service_port}
                        ],
                    }
                ],
            }
            if exposure.hostnames:
                route_spec["hostnames"] = list(exposure.hostnames)
            k8s.apiextensions.CustomResource(
                "gateway-route",
                api_version="gateway.networking.k8s.io/v1",
                kind="HTTPRoute",
                metadata=metadata,
                spec=route_spec,
                opts=options,
            )

    def _tls(self, args: GatewayArgs) -> _Tls | None:
        """The chain and key the gateway serves, or None when ``gateway.tls.mode`` is off."""
        tls = args.settings.tls
        if tls.mode == "generated":
            namespace = args.context.namespace
            made = GatewayCertificate(
                "gateway-certificate",
                GatewayCertificateArgs(
                    settings=tls,
                    stack=args.context.stack,
                    in_cluster_names=[
                        COMPONENT,
                        *(
                            pulumi.Output.concat(COMPONENT, ".", namespace, suffix)
                            for suffix in ("", ".svc", ".svc.cluster.local")
                        ),
                    ],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            return _Tls(made.certificate, made.private_key, made.ca_certificate)
        if tls.mode == "provided":
            if tls.certificate is None or args.tls_key is None:
                # The settings loader requires both before any resource is registered.
                raise ValueError("gateway.tls.mode is provided, but the chain or key is missing")
            return _Tls(tls.certificate, pulumi.Output.secret(args.tls_key), tls.certificate)
        return None
