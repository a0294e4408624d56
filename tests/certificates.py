"""TLS material made in the tests (``cryptography``), and a stand-in for the pulumi-tls provider.

- :func:`authority` and :func:`issue`: a test CA and the certificates it signs, for the
  ``provided`` mode and for nginx's handshakes;
- :class:`TlsProviderMocks`: the recording mocks with real keys and certificates for the
  ``tls:`` resources, made from the inputs the program sends (the SANs, the CA it names, the
  validity), as the provider would. With it, a program-made certificate can be served by a
  real nginx and checked by a real TLS client. The mocks stand in for the provider only.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pulumi.runtime import rpc

from infra.offline.mock_engine import RecordingMocks

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
NOW = datetime.datetime.now(datetime.UTC)


def key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def cert_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def new_key(kind: str = "ec") -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    bits = int(kind.removeprefix("rsa"))
    # A 1024-bit key exists here only to be refused by the settings.
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _sans(dns_names: list[str], ip_addresses: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    return x509.SubjectAlternativeName(names)


@dataclass(frozen=True)
class Authority:
    key: PrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return cert_pem(self.certificate)


def authority(common_name: str = "agent-platform test CA") -> Authority:
    key = new_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(hours=1))
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, certificate)


@dataclass(frozen=True)
class Issued:
    chain: str
    """The server certificate (PEM); a chain of one, as the CA is what clients trust."""
    key: str


def issue(
    ca: Authority,
    *,
    dns_names: tuple[str, ...] = ("localhost",),
    ip_addresses: tuple[str, ...] = ("127.0.0.1",),
    key: PrivateKey | None = None,
    days: int = 7,
    starts_in_days: int = 0,
    is_ca: bool = False,
) -> Issued:
    key = key or new_key()
    start = NOW + datetime.timedelta(days=starts_in_days) - datetime.timedelta(hours=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("agent-platform test gateway"))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(_sans(list(dns_names), list(ip_addresses)), critical=False)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert_pem(certificate), key_pem(key))


def write_tls_files(directory: Path, chain: str, key: str) -> Path:
    """``tls.crt`` and ``tls.key`` as the TLS Secret's volume holds them."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tls.crt").write_text(chain)
    (directory / "tls.key").write_text(key)
    (directory / "tls.key").chmod(0o600)
    return directory


# ------------------------------------------------------------ the provider, stood in for


def _plain(value: Any) -> Any:
    """Inputs with secret values unwrapped (the provider sees them in plain text)."""
    if isinstance(value, dict):
        if rpc._special_sig_key in value:
            return _plain(value.get("value"))
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class TlsProviderMocks(RecordingMocks):
    """Real PEMs for ``tls:`` resources, made from their inputs as pulumi-tls makes them.

    ``made`` (resource name -> the outputs made for it) is shared by every instance, so a test
    that patches ``infra.offline.mock_engine.RecordingMocks`` with this class can read what
    the runs made; :meth:`clear` empties it."""

    made: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def clear(cls) -> None:
        cls.made.clear()

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        resource_id, outputs = super().new_resource(args)
        inputs = _plain(args.inputs)
        made: dict[str, Any] = {}
        if args.typ == "tls:index/privateKey:PrivateKey":
            assert (inputs["algorithm"], inputs.get("ecdsaCurve")) == ("ECDSA", "P256")
            made["privateKeyPem"] = key_pem(new_key())
        elif args.typ == "tls:index/selfSignedCert:SelfSignedCert":
            made["certPem"] = self._self_signed(inputs)
        elif args.typ == "tls:index/certRequest:CertRequest":
            made["certRequestPem"] = self._request(inputs)
        elif args.typ == "tls:index/locallySignedCert:LocallySignedCert":
            made["certPem"] = self._signed(inputs)
        outputs.update(made)
        self.made[args.name] = made
        return resource_id, outputs

    @staticmethod
    def _key(pem: str) -> PrivateKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return key

    @staticmethod
    def _validity(inputs: dict[str, Any]) -> tuple[datetime.datetime, datetime.datetime]:
        return NOW, NOW + datetime.timedelta(hours=int(inputs["validityPeriodHours"]))

    def _self_signed(self, inputs: dict[str, Any]) -> str:
        key = self._key(inputs["privateKeyPem"])
        name = _name(inputs["subject"]["commonName"])
        start, end = self._validity(inputs)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(
                x509.BasicConstraints(ca=bool(inputs.get("isCaCertificate")), path_length=None),
                critical=True,
            )
        )
        return cert_pem(builder.sign(key, hashes.SHA256()))

    def _request(self, inputs: dict[str, Any]) -> str:
        key = self._key(inputs["privateKeyPem"])
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(_name(inputs["subject"]["commonName"]))
            .add_extension(
                _sans(inputs.get("dnsNames", []), inputs.get("ipAddresses", [])), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return request.public_bytes(serialization.Encoding.PEM).decode()

    def _signed(self, inputs: dict[str, Any]) -> str:
        request = x509.load_pem_x509_csr(inputs["certRequestPem"].encode())
        ca_key = self._key(inputs["caPrivateKeyPem"])
        ca = x509.load_pem_x509_certificate(inputs["caCertPem"].encode())
        start, end = self._validity(inputs)
        sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        builder = (
            x509.CertificateBuilder()
            .subject_name(request.subject)
            .issuer_name(ca.subject)
            .public_key(request.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(sans, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if "server_auth" in inputs["allowedUses"]:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        return cert_pem(builder.sign(ca_key, hashes.SHA256()))
