"""The gateway's real nginx against requests an attacker would send.

Each test is a finding of an adversarial pass, shown failing on the configuration before its fix:
a token that matched in any case, guesses that never met the rate limit, the raw request target
forwarded to MCP, nginx's own HTML error pages, and an upstream's cookies and headers passed on.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from infra.components.gateway_config import Upstreams
from infra.settings import GatewaySettings
from tests.conftest import GATEWAY_TOKEN
from tests.nginx_gateway import (
    HOSTILE_UPSTREAM_HEADERS,
    Gateway,
    free_port,
    loopback_nginx_conf,
    running_nginx,
)

pytestmark = pytest.mark.nginx


def raw(gateway: Gateway, request: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send ``request`` as bytes (what http.client refuses to send) and read the answer."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [
        (name.lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines)
    ]
    return int(status_line.split()[1]), headers, body


def authorized(path: str, authorization: str = f"Bearer {GATEWAY_TOKEN}") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: {authorization}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


# ------------------------------------------------------------------------------ the token


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {GATEWAY_TOKEN.upper()}",
        f"Bearer {GATEWAY_TOKEN.swapcase()}",
        f"Bearer {GATEWAY_TOKEN}x",
        f"Bearer {GATEWAY_TOKEN[:-1]}",
        f"Bearer  {GATEWAY_TOKEN}",
        f"Basic {GATEWAY_TOKEN}",
    ],
)
def test_a_token_that_is_not_exactly_the_token_is_refused(
    gateway: Gateway, authorization: str
) -> None:
    status, _, body = raw(gateway, authorized("/v1/embeddings", authorization))

    assert status == 401, body


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_scheme_is_matched_in_any_case_as_http_says(gateway: Gateway, scheme: str) -> None:
    status, _, body = raw(gateway, authorized("/v1/embeddings", f"{scheme} {GATEWAY_TOKEN}"))

    assert status == 200, body


def test_a_token_with_regex_characters_matches_only_itself(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    token = "abc.def+ghi-0123456789/="
    port = free_port()
    config = loopback_nginx_conf(tmp_path, GatewaySettings(port=port), upstreams, token=token)
    with running_nginx(tmp_path, config, port) as gateway:
        exact = raw(gateway, authorized("/v1/embeddings", f"Bearer {token}"))[0]
        dot_as_any = raw(gateway, authorized("/v1/embeddings", f"Bearer {token.replace('.', 'X')}"))
        plus_as_repeat = raw(
            gateway, authorized("/v1/embeddings", f"Bearer {token.replace('f+', 'ff')}")
        )

    assert (exact, dot_as_any[0], plus_as_repeat[0]) == (200, 401, 401)


def test_guesses_without_the_token_count_against_the_rate_limit(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    """A 401 answered before the limit applied let one address try ~10^5 tokens a second."""
    port = free_port()
    settings = GatewaySettings(port=port, rate_limit={"requests_per_second": 1, "burst": 2})
    config = loopback_nginx_conf(tmp_path, settings, upstreams)
    with running_nginx(tmp_path, config, port) as gateway:
        guesses = [
            gateway.request("POST", "/mcp", token=f"guess-{n:020d}", body=b"{}")[0]
            for n in range(8)
        ]
        after = gateway.request("POST", "/v1/embeddings", body=b"{}")[0]
        logged = gateway.access_log(at_least=9)

    assert guesses[:3] == [401, 401, 401]  # one now plus a burst of two
    assert 429 in guesses
    assert after == 429  # the guesser's address has used its share
    assert {entry["path"] for entry in logged} == {"/mcp", "/v1/embeddings"}


# ------------------------------------------------------------------------------ the MCP route


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        ("/mcp", "/mcp"),
        ("/mcp/", "/mcp/"),
        ("/x/../mcp", "/mcp"),
        ("//mcp", "/mcp"),
        ("/%6dcp", "/mcp"),
        ("/mcp?session=a%20b", "/mcp?session=a%20b"),
    ],
)
def test_mcp_receives_the_path_nginx_matched_not_the_raw_target(
    gateway: Gateway, sent: str, received: str
) -> None:
    status, _, body = raw(gateway, authorized(sent))

    assert status == 200, body
    assert b'"upstream": "mcp"' in body
    assert f'"path": "{received}"'.encode() in body


@pytest.mark.parametrize(
    "path", ["/mcp%0A", "/mcp%0a/", "/mcp/x", "/mcpx", "/.gateway/unauthenticated"]
)
def test_paths_that_only_look_like_mcp_are_404(gateway: Gateway, path: str) -> None:
    status, _, body = raw(gateway, authorized(path))

    assert status == 404, body


# ------------------------------------------------------------------------------ nginx's own answers


@pytest.mark.parametrize(
    ("request_bytes", "status", "error"),
    [
        (b"TRACE / HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n", 405, "method_not_allowed"),
        (f"GET /{'a' * 9000} HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n".encode(), 414,
         "uri_too_long"),
        (f"GET / HTTP/1.1\r\nHost: g\r\nX-Big: {'a' * 9000}\r\nConnection: close\r\n\r\n"
         .encode(), 400, "request_header_too_large"),
        (b"POST /mcp HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n",
         501, "not_implemented"),
        (b"GET / HTTP/1.1\r\nHost: g\r\nHost: h\r\nConnection: close\r\n\r\n", 400,
         "bad_request"),
    ],
)  # fmt: skip
def test_nginx_own_errors_are_json_with_the_security_headers(
    gateway: Gateway, request_bytes: bytes, status: int, error: str
) -> None:
    answered, headers, body = raw(gateway, request_bytes)

    assert (answered, body) == (status, f'{{"error":"{error}","status":{status}}}'.encode())
    assert ("content-type", "application/json") in headers
    assert ("x-frame-options", "DENY") in headers


# ------------------------------------------------------------------------------ upstream answers


@pytest.mark.parametrize("path", ["/v1/embeddings", "/v1/search/collections", "/mcp"])
def test_an_upstreams_cookies_cors_grants_and_headers_never_reach_the_client(
    gateway: Gateway, path: str
) -> None:
    status, headers, body = raw(gateway, authorized(path))

    assert status == 200, body
    names = [name for name, _ in headers]
    assert "set-cookie" not in names
    assert "access-control-allow-origin" not in names
    assert [value for name, value in headers if name == "x-frame-options"] == ["DENY"]
    assert [value for name, value in headers if name == "content-security-policy"] == [
        "default-src 'none'; frame-ancestors 'none'"
    ]
    assert all(value not in body.decode() for _, value in HOSTILE_UPSTREAM_HEADERS)
