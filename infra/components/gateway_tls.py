"""The gateway's generated certificate (``gateway.tls.mode: generated``), made the Pulumi way:
the pulumi-tls provider's private keys, a self-signed local CA and a server certificate that CA
signs.

A CA rather than a self-signed server certificate, so clients trust one thing that outlives the
server certificate: the CA (ten years) is exported as ``gatewayCaCertificate``; the server
certificate (``gateway.tls.validityDays``) is issued again by any ``pulumi up`` in its last
``renewBeforeDays`` (the provider's early renewal), and clients notice nothing. The CA's key
lives only in the Pulumi state, as a secret; the server's key goes, as a secret, to the
gateway's TLS Secret (:mod:`infra.components.gateway`), and nowhere else.

The server certificate always covers ``localhost``, 127.0.0.1, ::1 and the Service's in-cluster
names, and then what the settings list (the names and addresses other machines use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pulumi

from infra.settings import GatewayTls

CA_VALIDITY_HOURS: Final = 10 * 365 * 24
KEY_ALGORITHM: Final = "ECDSA"
KEY_CURVE: Final = "P256"
"""ECDSA P-256: what Mozilla's profiles recommend for a new certificate; every client takes it."""
LOOPBACK_NAMES: Final = ("localhost",)
LOOPBACK_ADDRESSES: Final = ("127.0.0.1", "::1")
ORGANIZATION: Final = "agent-platform"


@dataclass(frozen=True)
class GatewayCertificateArgs:
    settings: GatewayTls
    stack: str
    in_cluster_names: Sequence[pulumi.Input[str]]
    """The Service's DNS names, which in-cluster clients use."""


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


class GatewayCertificate(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:GatewayCertificate"

    ca_certificate: pulumi.Output[str]
    """The CA's certificate (PEM, public): what clients trust (``curl --cacert``)."""
    certificate: pulumi.Output[str]
    """The server certificate (PEM), signed by the CA."""
    private_key: pulumi.Output[str]
    """The server certificate's key (PEM), a secret."""

    def __init__(
        self,
        name: str,
        args: GatewayCertificateArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        tls = args.settings
        child = pulumi.ResourceOptions(parent=self)
        # Imported here, not at the top: only generated certificates use the tls provider, and
        # its SDK costs every other run 70 ms (scripts/benchmark).
        import pulumi_tls  # noqa: PLC0415

        ca_key = pulumi_tls.PrivateKey(
            "gateway-ca-key", algorithm=KEY_ALGORITHM, ecdsa_curve=KEY_CURVE, opts=child
        )
        ca = pulumi_tls.SelfSignedCert(
            "gateway-ca",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            validity_period_hours=CA_VALIDITY_HOURS,
            subject={
                "common_name": f"agent-platform gateway CA ({args.stack})",
                "organization": ORGANIZATION,
            },
            opts=child,
        )
        key = pulumi_tls.PrivateKey(
            "gateway-tls-key", algorithm=KEY_ALGORITHM, ecdsa_curve=KEY_CURVE, opts=child
        )
        request = pulumi_tls.CertRequest(
            "gateway-tls-request",
            private_key_pem=key.private_key_pem,
            subject={"common_name": "agent-platform gateway", "organization": ORGANIZATION},
            dns_names=[*_unique([*LOOPBACK_NAMES, *tls.dns_names]), *args.in_cluster_names],
            ip_addresses=_unique([*LOOPBACK_ADDRESSES, *tls.ip_addresses]),
            opts=child,
        )
        certificate = pulumi_tls.LocallySignedCert(
            "gateway-tls-certificate",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            allowed_uses=["digital_signature", "server_auth"],
            validity_period_hours=tls.validity_days * 24,
            early_renewal_hours=tls.renew_before_days * 24,
            opts=child,
        )
        self.ca_certificate = ca.cert_pem
        self.certificate = certificate.cert_pem
        # The provider marks it secret (additional_secret_outputs); said again so that nothing
        # between here and the Kubernetes Secret depends on that.
        self.private_key = pulumi.Output.secret(key.private_key_pem)
        self.register_outputs({"caCertificate": self.ca_certificate})
