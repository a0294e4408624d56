"""What the gateway's TLS settings take, checked where the key can be named: the names and
addresses a generated certificate covers (its subjectAltNames), a provided PEM certificate chain,
and the check of its private key (a secret, so its messages never quote it). Kept apart from
:mod:`infra.settings.values` because it is the one part that parses X.509 and keys."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import AfterValidator

_DNS_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME_RE: Final = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*", re.ASCII)
DNS_NAME_MAX_LENGTH: Final = 253


def _validate_dns_name(text: str) -> str:
    """A name a generated certificate covers (a subjectAltName of type DNS)."""
    if _DNS_NAME_RE.fullmatch(text) is None or len(text) > DNS_NAME_MAX_LENGTH:
        raise ValueError(
            f"{text[:70]!r} is not a DNS name: labels of letters, digits and '-' (not first or "
            "last) joined by dots, at most 253 characters, e.g. homelab.lan (no wildcards)"
        )
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text
    raise ValueError(f"{text!r} is an IP address; list it under ipAddresses")


def _validate_ip_address(text: str) -> str:
    """An address a generated certificate covers (a subjectAltName of type IP), normalised."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(
            f"{text[:70]!r} is not an IP address; write e.g. 192.168.1.10 or fd00::10"
        ) from None
    if address.is_unspecified:
        raise ValueError(
            f"{text} is not an address a client connects to; give this server's address on "
            "your network, e.g. 192.168.1.10"
        )
    return str(address)


PEM_MAX_LENGTH: Final = 64 * 1024
_PEM_LABEL_RE: Final = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
CHAIN_EXPECTED: Final = (
    "expected PEM CERTIFICATE blocks (-----BEGIN CERTIFICATE-----), the server's certificate "
    "first, then its intermediates"
)
KEY_IN_CHAIN: Final = (
    "holds a private key, which this setting would keep in plain text in the stack file and "
    "the state; remove it here and set the key as a secret: "
    "`pulumi config set --secret gatewayTlsKey < key.pem`"
)


def _pem_text(text: str, what: str) -> str:
    """Checks shared by the chain and the key: size, and no control character but line ends."""
    if len(text) > PEM_MAX_LENGTH:
        raise ValueError(f"is longer than {PEM_MAX_LENGTH} characters; {what}")
    for position, character in enumerate(text, start=1):
        if character not in "\r\n" and not character.isprintable():
            raise ValueError(
                f"has a control character ({character!r}) at position {position}; {what}"
            )
    return text


def _validate_certificate_chain(text: str) -> str:
    """A PEM certificate chain nginx can serve: certificates only (never a key), parseable, the
    server's own certificate first and valid now."""
    _pem_text(text, CHAIN_EXPECTED)
    labels = _PEM_LABEL_RE.findall(text)
    if any("PRIVATE KEY" in label for label in labels):
        raise ValueError(KEY_IN_CHAIN)
    if not labels or set(labels) != {"CERTIFICATE"}:
        raise ValueError(f"is not a certificate chain; {CHAIN_EXPECTED}")
    try:
        certificates = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        raise ValueError(f"is not a certificate chain nginx can read; {CHAIN_EXPECTED}") from None
    if len(certificates) != len(labels):
        raise ValueError(f"has a block that is not a certificate; {CHAIN_EXPECTED}")
    server = certificates[0]
    now = datetime.now(UTC)
    if server.not_valid_after_utc <= now:
        raise ValueError(
            f"the server certificate expired on {server.not_valid_after_utc:%Y-%m-%d}; renew "
            "it and set the new chain"
        )
    if server.not_valid_before_utc > now:
        raise ValueError(
            f"the server certificate is not valid before {server.not_valid_before_utc:%Y-%m-%d}"
        )
    try:
        constraints = server.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return text
    if constraints.ca:
        raise ValueError(
            "the first certificate is a CA certificate; put the server's own certificate "
            "first, then its intermediates"
        )
    return text


RSA_MIN_BITS: Final = 2048
KEY_EXPECTED: Final = (
    "expected one unencrypted PEM private key (RSA of at least 2048 bits, or EC), e.g. "
    "`openssl pkey -in key.pem` prints it"
)


def check_tls_key(key: str, certificate_chain: str, name: str) -> None:
    """Raise ValueError unless ``key`` is an unencrypted PEM RSA (2048 bits or more) or EC
    private key whose public key is the one in ``certificate_chain``'s first certificate.

    Messages name ``name`` and the problem, never the key's text (it is a secret)."""
    _pem_text(key, KEY_EXPECTED)
    labels = _PEM_LABEL_RE.findall(key)
    if len(labels) != 1 or "PRIVATE KEY" not in labels[0]:
        raise ValueError(f"{name} holds {len(labels)} PEM block(s); {KEY_EXPECTED}")
    if labels[0] == "ENCRYPTED PRIVATE KEY" or "Proc-Type:" in key:
        raise ValueError(
            f"{name} is encrypted, and nginx cannot ask for its passphrase; decrypt it "
            "(`openssl pkey -in key.pem -out plain-key.pem`) and set that"
        )
    unsupported = f"{name} is of a kind this gateway does not serve; {KEY_EXPECTED}"
    try:
        private_key = serialization.load_pem_private_key(key.encode(), password=None)
    except UnsupportedAlgorithm:
        raise ValueError(unsupported) from None
    except (ValueError, TypeError):
        raise ValueError(f"{name} is not a private key nginx can read; {KEY_EXPECTED}") from None
    if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(unsupported)  # noqa: TRY004 (a bad value, named by its config key)
    if isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size < RSA_MIN_BITS:
        raise ValueError(
            f"{name} is an RSA key of {private_key.key_size} bits; use at least "
            f"{RSA_MIN_BITS} (or an EC key)"
        )
    server = x509.load_pem_x509_certificates(certificate_chain.encode())[0]
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private_key.public_key().public_bytes(*spki) != server.public_key().public_bytes(*spki):
        raise ValueError(
            f"{name} is not the key of the server certificate in gateway.tls.certificate; set "
            "the key that certificate was issued for (or the chain issued for this key)"
        )


DnsName = Annotated[str, AfterValidator(_validate_dns_name)]
IpAddress = Annotated[str, AfterValidator(_validate_ip_address)]
CertificateChain = Annotated[str, AfterValidator(_validate_certificate_chain)]
"""A PEM certificate chain (public): the server's certificate first, then intermediates."""
