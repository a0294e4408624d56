"""The TLS block of the gateway's nginx server (``gateway.tls``, on unless ``mode: off``): the
protocols, ciphers and curves it offers, where it reads the certificate and key, and the HSTS
header its answers carry. Apart from :mod:`infra.components.gateway_config` so the TLS choices
and their reasons stand in one place; that module puts this block into the server.

The one client port speaks HTTPS only, with the certificate and key read from files (``Paths.tls``
of :mod:`~infra.components.gateway_config`: the mounted TLS Secret). TLS 1.2 and 1.3 only; the
TLS 1.2 cipher suites are the ECDHE ones of Mozilla's "intermediate" profile (its
finite-field DHE suites are left out: nginx offers them only with ``ssl_dhparam``, and the IETF
is deprecating them for TLS 1.2); the client's preference wins, as all suites are strong; no
session tickets (their key would never rotate), a shared session cache instead. Answers carry
``Strict-Transport-Security``. Plain HTTP sent to that port is *refused* with JSON 400
``https_required``, not redirected: by the time a redirect could answer, the request and its
bearer token have already crossed the network in clear, and a redirect would teach clients that
``http://`` works. The probes use HTTPS too (the kubelet does not verify the certificate), so
there is no plain port at all.
"""

from __future__ import annotations

from typing import Final

Header = tuple[str, str]
"""An HTTP header nginx adds to its answers: name and value."""

HSTS: Final[Header] = ("Strict-Transport-Security", "max-age=63072000")
"""Two years, Mozilla's recommendation; no ``includeSubDomains``: the gateway does not speak for
the other hosts of the user's domain."""

TLS_PROTOCOLS: Final = "TLSv1.2 TLSv1.3"
TLS_CIPHERS: Final = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)
"""TLS 1.2 suites (TLS 1.3's are OpenSSL's defaults, all AEAD): Mozilla intermediate, ECDHE only."""
TLS_CURVES: Final = "X25519:prime256v1:secp384r1"
TLS_CERTIFICATE_FILE: Final = "tls.crt"
TLS_KEY_FILE: Final = "tls.key"  # the keys of a kubernetes.io/tls Secret


def tls_directives(directory: str, indent: str) -> str:
    """The server's TLS directives, the certificate and key read from ``directory`` (see the
    module docstring for each choice)."""
    lines = (
        f"ssl_certificate {directory}/{TLS_CERTIFICATE_FILE};",
        f"ssl_certificate_key {directory}/{TLS_KEY_FILE};",
        f"ssl_protocols {TLS_PROTOCOLS};",
        f"ssl_ciphers {TLS_CIPHERS};",
        "ssl_prefer_server_ciphers off;",
        f"ssl_ecdh_curve {TLS_CURVES};",
        "ssl_session_timeout 1d;",
        "ssl_session_cache shared:TLS:10m;",
        "ssl_session_tickets off;",
    )
    return "".join(f"{indent}{line}\n" for line in lines)
