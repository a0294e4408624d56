"""The gateway's settings (``agent-platform:gateway``): its workload, ports, rate limit, body
size and upstream timeout, and ``gateway.tls`` with the rules between the TLS mode and the
fields each mode uses. Apart from the other workloads because TLS makes it the largest; the
values it takes (certificate chain, names, addresses) are checked by :mod:`infra.settings.tls`."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from infra.settings.labels import AnnotationValue, Cidr, IngressClassName, LabelKey
from infra.settings.models import Model, Resources, Workload, default_resources
from infra.settings.names import KubernetesName
from infra.settings.tls import CertificateChain, DnsName, IpAddress
from infra.settings.values import Image, NginxSize, Port, UnprivilegedPort


class RateLimit(Model):
    requests_per_second: int = Field(10, ge=1, le=100_000)
    burst: int = Field(20, ge=0, le=100_000)


class GatewayTls(Model):
    """``gateway.tls``: HTTPS on the gateway's port, with a certificate the program makes
    (``generated``: a local CA, kept in the Pulumi state, signs the server's certificate) or
    one the user provides (``provided``: the chain here, the key in the secret
    ``gatewayTlsKey``). Plain HTTP on that port is refused, never redirected."""

    mode: Literal["off", "provided", "generated"] = "off"
    certificate: CertificateChain | None = None
    """``provided``: the PEM chain, the server's certificate first (public, so plain config)."""
    dns_names: tuple[DnsName, ...] = Field((), max_length=50)
    """``generated``: names clients use (besides localhost and the in-cluster Service names,
    which the certificate always covers)."""
    ip_addresses: tuple[IpAddress, ...] = Field((), max_length=50)
    """``generated``: addresses clients use (besides 127.0.0.1 and ::1)."""
    validity_days: int = Field(365, ge=7, le=825)
    """``generated``: how long the server certificate is valid (825 days: the most Apple's
    clients accept from a private CA)."""
    renew_before_days: int = Field(30, ge=1, le=365)
    """``generated``: a ``pulumi up`` this close to expiry issues a new server certificate."""

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @model_validator(mode="after")
    def _fields_of_the_mode(self) -> Self:
        if self.mode == "provided" and self.certificate is None:
            raise ValueError(
                "mode is provided but no certificate is set; set certificate to the PEM chain "
                "(the server's certificate first) and the key with "
                "`pulumi config set --secret gatewayTlsKey < key.pem`"
            )
        if self.mode != "provided" and self.certificate is not None:
            raise ValueError(
                f"certificate is set but mode is {self.mode}; set mode: provided to serve it, "
                "or remove it"
            )
        if self.mode != "generated" and (self.dns_names or self.ip_addresses):
            raise ValueError(
                f"dnsNames and ipAddresses are what a generated certificate covers, but mode is "
                f"{self.mode}; set mode: generated, or remove them"
            )
        if self.renew_before_days >= self.validity_days:
            raise ValueError(
                f"renewBeforeDays {self.renew_before_days} is not less than validityDays "
                f"{self.validity_days}; every run would issue a new certificate"
            )
        return self


def _lowercase(name: str) -> str:
    if name != name.lower():
        raise ValueError(
            f"{name!r} has capitals; Ingress hosts and HTTPRoute hostnames are lowercase "
            f"(write {name.lower()!r})"
        )
    return name


LowercaseDnsName = Annotated[DnsName, AfterValidator(_lowercase)]


class RouteParent(Model):
    """A Gateway (Gateway API) an HTTPRoute attaches to, and optionally one of its listeners."""

    name: KubernetesName
    namespace: KubernetesName | None = None
    section_name: KubernetesName | None = None


class GatewayExposure(Model):
    """``gateway.exposure``: how clients outside an existing cluster reach the gateway (kind
    maps a host port to its NodePort instead). The fields of the other types stay unset."""

    type: Literal["clusterIP", "loadBalancer", "ingress", "httpRoute"] = "clusterIP"
    annotations: dict[LabelKey, AnnotationValue] = Field(default_factory=dict, max_length=50)
    """loadBalancer: the Service's, for its controller; ingress: the Ingress's."""
    load_balancer_source_ranges: tuple[Cidr, ...] = Field((), max_length=100)
    """loadBalancer: the client networks allowed (empty: any)."""
    ingress_class_name: IngressClassName | None = None
    """ingress: ``ingressClassName`` (the cluster's default class when unset)."""
    host: LowercaseDnsName | None = None
    """ingress: the host clients use (required)."""
    tls_secret_name: KubernetesName | None = None
    """ingress: a ``kubernetes.io/tls`` Secret of the host in the platform's namespace."""
    parent_refs: tuple[RouteParent, ...] = Field((), max_length=16)
    """httpRoute: the Gateways it attaches to (at least one)."""
    hostnames: tuple[LowercaseDnsName, ...] = Field((), max_length=16)
    """httpRoute: the hostnames it matches (empty: the listener's)."""

    @model_validator(mode="after")
    def _fields_of_the_type(self) -> Self:
        used = {
            "annotations": bool(self.annotations),
            "loadBalancerSourceRanges": bool(self.load_balancer_source_ranges),
            "ingressClassName": self.ingress_class_name is not None,
            "host": self.host is not None,
            "tlsSecretName": self.tls_secret_name is not None,
            "parentRefs": bool(self.parent_refs),
            "hostnames": bool(self.hostnames),
        }
        allowed = {
            "clusterIP": set(),
            "loadBalancer": {"annotations", "loadBalancerSourceRanges"},
            "ingress": {"annotations", "ingressClassName", "host", "tlsSecretName"},
            "httpRoute": {"parentRefs", "hostnames"},
        }[self.type]
        stray = [name for name, set_ in used.items() if set_ and name not in allowed]
        if stray:
            raise ValueError(
                f"{', '.join(stray)} do not apply to type {self.type}; remove them, or set the "
                "type they belong to"
            )
        if self.type == "ingress" and self.host is None:
            raise ValueError("type ingress needs host: the name clients use")
        if self.type == "httpRoute" and not self.parent_refs:
            raise ValueError("type httpRoute needs parentRefs: the Gateway(s) it attaches to")
        return self

    @property
    def from_outside(self) -> bool:
        return self.type != "clusterIP"


class GatewaySettings(Workload):
    image: Image = "nginxinc/nginx-unprivileged:1.28.0-alpine"
    resources: Resources = default_resources("50m", "32Mi", "500m", "128Mi")
    port: UnprivilegedPort = 8080
    """Container port (the unprivileged image cannot bind below 1024)."""
    service_port: Port = 80
    node_port: int = Field(30080, ge=30000, le=32767)
    """The kind node port that the host port maps to (studio/homelab on kind)."""
    rate_limit: RateLimit = RateLimit()
    max_body_size: NginxSize = "1m"
    """1k to 1g; 0 (nginx: no limit) is refused."""
    upstream_timeout_seconds: int = Field(60, ge=1, le=3600)
    tls: GatewayTls = GatewayTls()
    exposure: GatewayExposure = GatewayExposure()
    search_read_only: bool = False
    """``/v1/search`` with Qdrant's read-only key (secret ``vectorSearchReadOnlyApiKey``):
    gateway clients can search and read, never write or delete. Off: the full key."""

    @model_validator(mode="after")
    def _ports_differ(self) -> Self:
        self._distinct_ports(port=self.port, service_port=self.service_port)
        return self
