"""URL settings: parsed once, in the settings, into the parts the components use.

A URL setting (the OTLP collector, the S3 endpoint for snapshots) is ``http`` or ``https``, a
host (a DNS name, an IPv4 address or a bracketed IPv6 address), an optional port (1-65535,
default 80 or 443 by scheme) and an optional path. Nothing else: no credentials (they would be
stored and shown in plain text; each setting says where they belong), no query or fragment, no
whitespace or control characters, no ``$`` (Kubernetes expands ``$(VAR)`` in env values).

Components take :attr:`HttpUrl.host`, :attr:`HttpUrl.port` and :attr:`HttpUrl.url` and never
parse the text again, so a bad URL fails at ``pulumi preview`` with its config key named, not
halfway through ``pulumi up``. Messages never repeat the URL: it may hold a credential.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final, Literal

MAX_URL_LENGTH: Final = 2048
MAX_HOST_LENGTH: Final = 253
MAX_PORT = 65535
_SHOWN_DIGITS: Final = 8
DEFAULT_PORTS: Final = {"http": 80, "https": 443}

_SHAPE: Final = re.compile(
    r"(?P<scheme>[^:/?#]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)(?P<rest>[?#].*)?", re.DOTALL
)
_LABEL: Final = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_PATH: Final = re.compile(r"(/(?:[A-Za-z0-9._~!&*+,;=:-]|%[0-9A-Fa-f]{2})*)*", re.ASCII)
_EXAMPLE: Final = "write it as http(s)://host[:port][/path], e.g. http://otel-collector:4318"


@dataclass(frozen=True)
class HttpUrl:
    """An http(s) URL, validated; ``host`` is without brackets, ``port`` always set."""

    scheme: Literal["http", "https"]
    host: str
    port: int
    path: str = ""
    explicit_port: bool = True

    @property
    def url(self) -> str:
        """The URL as the consumers get it (the accepted text, rebuilt from its parts)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.explicit_port else ""
        return f"{self.scheme}://{host}{port}{self.path}"

    def __str__(self) -> str:
        return self.url


def parse_http_url(text: object, *, credentials: str) -> HttpUrl:
    """Parse ``text`` or raise ``ValueError`` saying what is wrong and how to write it.

    ``credentials`` is the sentence that says where credentials belong for this setting.
    """
    if isinstance(text, HttpUrl):
        return text
    if not isinstance(text, str):
        # ValueError, not TypeError: pydantic reports only the former with the key.
        raise ValueError(f"expected a URL; {_EXAMPLE}")  # noqa: TRY004
    if len(text) > MAX_URL_LENGTH:
        raise ValueError(f"is {len(text)} characters, more than {MAX_URL_LENGTH}; {_EXAMPLE}")
    for position, character in enumerate(text, start=1):
        if not character.isascii():
            raise ValueError(
                f"has a non-ASCII character at position {position}; write an international "
                "host name in its xn-- (punycode) form"
            )
        if not character.isprintable() or character == " ":
            raise ValueError(f"has a space or control character at position {position}; remove it")
    shape = _SHAPE.fullmatch(text)
    if shape is None:
        raise ValueError(f"is not a URL; {_EXAMPLE}")
    scheme = shape["scheme"]
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"scheme {scheme!r} is not supported; use http:// or https://")
    authority = shape["authority"]
    if "@" in authority:
        raise ValueError(f"has credentials (user:password@) in it; {credentials}")
    if shape["rest"]:
        raise ValueError("has a query (?) or fragment (#); give only scheme, host, port and path")
    host, port_text = _split_authority(authority)
    port = _port(port_text, scheme)
    path = shape["path"]
    if _PATH.fullmatch(path) is None:
        raise ValueError(
            "path may hold only letters, digits, '/', '%XX' escapes and . _ ~ ! & * + , ; = : -"
        )
    return HttpUrl(
        scheme="https" if scheme == "https" else "http",
        host=host,
        port=port,
        path=path,
        explicit_port=port_text is not None,
    )


def _split_authority(authority: str) -> tuple[str, str | None]:
    """(host without brackets, port text or None), the host checked."""
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise ValueError(
                "has an unclosed '[' in its IPv6 address; write it as http://[fd00::1]:4318"
            )
        host, after = authority[1:end], authority[end + 1 :]
        try:
            ipaddress.IPv6Address(host.replace("%", "!"))  # "!": zone ids are refused
        except ValueError:
            raise ValueError(
                "has a host in brackets that is not an IPv6 address (no zone ids); "
                "write it as http://[fd00::1]:4318"
            ) from None
        if after and not after.startswith(":"):
            raise ValueError("has text after the IPv6 address; only ':port' may follow ']'")
        return host, after[1:] if after else None
    if authority.count(":") > 1:
        raise ValueError("has an IPv6 address that is not in brackets; write http://[fd00::1]:4318")
    host, colon, port_text = authority.partition(":")
    if not host:
        raise ValueError(f"has no host; {_EXAMPLE}")
    _check_host(host)
    return host, port_text if colon else None


def _check_host(host: str) -> None:
    labels = host.removesuffix(".").split(".")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(
                "has a host that is not an IPv4 address (four numbers 0-255, no leading zeros)"
            ) from None
        return
    if len(host) > MAX_HOST_LENGTH or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            "has a host that is not a host name: dot-separated labels of letters, digits and "
            "'-' (not first or last), at most 63 characters each and 253 in all"
        )
    if labels[-1].isdigit():
        raise ValueError("has a host name whose last label is a number; check the address")


def _port(text: str | None, scheme: str) -> int:
    if text is None:
        return DEFAULT_PORTS[scheme]
    if text == "":
        raise ValueError("has no port after ':'; write a port 1-65535, or drop the ':'")
    if not text.isdigit():
        shown = repr(text) if len(text) <= _SHOWN_DIGITS else "given"
        raise ValueError(f"port {shown} is not a number; write a port 1-65535")
    number = int(text) if len(text) <= _SHOWN_DIGITS else 10**_SHOWN_DIGITS
    if not 1 <= number <= MAX_PORT:
        shown = str(number) if len(text) <= _SHOWN_DIGITS else f"of {len(text)} digits"
        raise ValueError(f"port {shown} is outside 1-65535; write a port 1-65535")
    return number
