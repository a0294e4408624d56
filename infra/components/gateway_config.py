"""The gateway's nginx configuration, generated from typed settings.

Routes (every one but ``/healthz`` needs ``Authorization: Bearer <gatewayToken>``):

| path               | upstream                     | note                                 |
|--------------------|------------------------------|--------------------------------------|
| ``/v1/embeddings`` | embedding ``/v1/embeddings`` | TEI's OpenAI-compatible endpoint     |
| ``/v1/embed``      | embedding ``/embed``         | TEI's native endpoint                |
| ``/v1/search/...`` | vector search ``/...``       | Qdrant REST; the gateway adds its key |
| ``/mcp``           | MCP server ``/mcp``          | streamable HTTP: unbuffered          |
| ``/healthz``       | answered by nginx            | no token                             |

Behaviour: JSON 401 with ``WWW-Authenticate`` without the token; per-client rate limit answering
JSON 429 with ``Retry-After``, counting requests without the token too; a request body limit
(JSON 413); upstream timeouts; security headers on every answer, nginx's own errors included
(:mod:`infra.components.gateway_answers`); JSON access logs that contain neither the
``Authorization`` header nor the query string. The client's token is not forwarded upstream.

The token is compared exactly: a case-sensitive regular expression, because a ``map``'s plain
strings are compared ignoring case (a token in capitals would pass). The scheme ``Bearer`` is
case-insensitive, as HTTP's auth schemes are. Upstreams get the path nginx matched, normalised
(``/x/../mcp`` arrives as ``/mcp``), never the raw request target, and none of the headers the
gateway sets itself, nor ``Set-Cookie`` or CORS grants: the gateway's answer is the only one.

nginx's error log (stderr) quotes the request line of a few failures (a 413, an upstream that
does not answer), query string included; the rate limit's refusals are not logged there (the
access log has each 429), so a flood of guesses cannot flood the log.

Upstreams get ``Host: <service>:<port>``, the name and port their Service is reached at in the
cluster (``mcp.agent-platform.svc.cluster.local:8000``), not nginx's ``$proxy_host``: when
proxy_pass names an ``upstream`` group, ``$proxy_host`` is the group's name (``mcp``), which no
server that checks Host allows. MCP servers do check it (the MCP SDK's DNS-rebinding protection
answers 421 to a Host it does not allow; tests/mcp proves both). Redirects an upstream makes to
its own address (FastMCP 2 sends ``/mcp`` to ``/mcp/``) are rewritten to the gateway's path, so
the client follows them back through the gateway rather than to an in-cluster name.

TLS (``gateway.tls``, on unless ``mode: off``): the one client port speaks HTTPS only; the
server's TLS directives, and why each is chosen, are :mod:`infra.components.gateway_tls_config`.
Plain HTTP sent to that port is *refused* with JSON 400 ``https_required``, not redirected.

The configuration contains the token and the vector search API key, so it is made inside an
``Output.apply`` (it stays a Pulumi secret) and stored in a Kubernetes Secret, never a ConfigMap.
The TLS key is never part of it: nginx reads it from its own file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from infra.components.gateway_answers import (
    error_locations,
    header_lines,
    https_required,
    json_answer,
    refuse_without_token,
)
from infra.components.gateway_tls_config import HSTS, Header, tls_directives
from infra.endpoints import Endpoint
from infra.settings import GatewaySettings, check_token

SECURITY_HEADERS: Final[tuple[Header, ...]] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cache-Control", "no-store"),
)
HIDDEN_UPSTREAM_HEADERS: Final = (
    "Set-Cookie",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
)
"""Besides the headers the gateway sets itself: a token API has no use for cookies, and a
browser's preflight never carries the token, so no CORS grant from behind the gateway holds."""


HOST_PATTERN: Final = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
"""A DNS name or IPv4 address: what may stand in the upstream blocks and Host headers."""


@dataclass(frozen=True)
class Upstreams:
    """The three upstreams of the gateway's routes, as the :class:`Endpoint` their components
    offer; inside the ``apply`` that makes the configuration, so each ``host`` is a str."""

    embedding: Endpoint
    vector_search: Endpoint
    mcp: Endpoint

    def each(self) -> tuple[Endpoint, Endpoint, Endpoint]:
        return self.embedding, self.vector_search, self.mcp


@dataclass(frozen=True)
class Paths:
    """Where nginx writes, and where it reads the TLS files; the defaults suit the unprivileged
    image with a read-only root."""

    pid: str = "/tmp/nginx.pid"  # noqa: S108 (an emptyDir of the pod's own)
    temp: str = "/tmp"  # noqa: S108
    tls: str = "/etc/nginx/tls"
    """The mounted TLS Secret: ``tls.crt`` (the chain) and ``tls.key``."""


def _authority(upstream: Endpoint) -> str:
    """``host:port``, the ``Host`` header the upstream receives."""
    return f"{upstream.host}:{upstream.port}"


def _literal(token: str) -> str:
    """``token`` as a regular expression matching only itself. Of the characters check_token
    allows, only ``.`` and ``+`` mean something in one; each goes in a class of its own, so no
    backslash has to survive nginx's quoting, and a hex token stays as it is (the leak tests
    look for it verbatim)."""
    return "".join(f"[{char}]" if char in ".+" else char for char in token)


def _protected(
    path: str,
    group: str,
    upstream: Endpoint,
    uri: str,
    settings: GatewaySettings,
    *,
    headers: tuple[Header, ...],
    extra: str = "",
    redirect_to: str | None = None,
) -> str:
    """A token-protected route to the upstream block ``group``. ``redirect_to``: the gateway
    path that the upstream's root maps to, for rewriting the upstream's redirects."""
    timeout, burst = settings.upstream_timeout_seconds, settings.rate_limit.burst
    hidden = [*(name for name, _ in headers), *HIDDEN_UPSTREAM_HEADERS]
    hide = "".join(f"            proxy_hide_header {name};\n" for name in hidden)
    redirect = (
        f"            proxy_redirect http://{_authority(upstream)}/ {redirect_to};\n"
        if redirect_to is not None
        else ""
    )
    return f"""
        location {path} {{
{refuse_without_token("            ")}            limit_req zone=per_client burst={burst} nodelay;
{header_lines("            ", headers)}{hide}            proxy_pass http://{group}{uri};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The Service's name, not $proxy_host (the upstream group's name): see the docstring.
            proxy_set_header Host "{_authority(upstream)}";
{redirect}            # The gateway's token is for the gateway: upstreams never see it.
            proxy_set_header Authorization "";
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_connect_timeout 5s;
            proxy_send_timeout {timeout}s;
            proxy_read_timeout {timeout}s;
{extra}        }}"""


def nginx_conf(
    settings: GatewaySettings,
    upstreams: Upstreams,
    *,
    token: str,
    vector_search_api_key: str,
    paths: Paths | None = None,
    listen_host: str | None = None,
) -> str:
    """The complete ``nginx.conf``. Raises ValueError for a token nginx could not hold (the
    settings loader already rejects those, naming the config key) and for an upstream host
    that is not a plain DNS name or IPv4 address (an Output here means a caller forgot to
    ``apply``)."""
    check_token(token, "gatewayToken")
    check_token(vector_search_api_key, "vectorSearchApiKey")
    for upstream in upstreams.each():
        if not isinstance(upstream.host, str) or not HOST_PATTERN.fullmatch(upstream.host):
            raise ValueError(f"upstream host {upstream.host!r} is not a DNS name or IPv4 address")
    paths = paths or Paths()
    tls = settings.tls.enabled
    headers = (*SECURITY_HEADERS, HSTS) if tls else SECURITY_HEADERS
    rate = settings.rate_limit.requests_per_second
    mcp_extra = (
        "            # Streamable HTTP: server-sent events must reach the client as they come.\n"
        "            proxy_buffering off;\n"
        "            proxy_cache off;\n"
    )
    search_extra = f'            proxy_set_header api-key "{vector_search_api_key}";\n'
    plain_http = https_required(SECURITY_HEADERS, "        ") if tls else ""
    mcp_path = r"~ ^/mcp/?\z"  # \z, not $: PCRE's $ also matches before a final newline
    return f"""# Generated by the agent-platform program (infra/components/gateway_config.py).
worker_processes auto;
pid {paths.pid};
error_log /dev/stderr warn;

events {{
    worker_connections 1024;
}}

http {{
    client_body_temp_path {paths.temp}/client_body;
    proxy_temp_path {paths.temp}/proxy;
    fastcgi_temp_path {paths.temp}/fastcgi;
    uwsgi_temp_path {paths.temp}/uwsgi;
    scgi_temp_path {paths.temp}/scgi;

    server_tokens off;
    # Redirects keep the path only (proxy_redirect below): the client resolves it against the
    # address it used, which nginx cannot know behind kind's port mappings.
    absolute_redirect off;
    sendfile on;
    keepalive_timeout 65s;
    client_max_body_size {settings.max_body_size};

    # JSON access log: the path as the client sent it, never the query string (it may carry
    # credentials), and no request header, so the Authorization header never is. Not $uri: a
    # request without the token is rewritten to an internal path.
    map $request_uri $requested_path {{
        "~^(?<path>[^?]*)" $path;
    }}
    log_format json escape=json '{{"time":"$time_iso8601","request_id":"$request_id",'
        '"remote_addr":"$remote_addr","method":"$request_method","path":"$requested_path",'
        '"status":$status,"bytes_sent":$body_bytes_sent,"duration_seconds":$request_time,'
        '"upstream":"$upstream_addr","upstream_status":"$upstream_status",'
        '"upstream_duration_seconds":"$upstream_response_time","user_agent":"$http_user_agent"}}';
    access_log /dev/stdout json;

    map $http_authorization $authorized {{
        default 0;
        "~^(?i:bearer) {_literal(token)}$" 1;
    }}

    limit_req_zone $binary_remote_addr zone=per_client:10m rate={rate}r/s;
    limit_req_status 429;
    limit_req_log_level info;

    upstream embedding {{
        server {_authority(upstreams.embedding)};
        keepalive 16;
    }}
    upstream vector_search {{
        server {_authority(upstreams.vector_search)};
        keepalive 16;
    }}
    upstream mcp {{
        server {_authority(upstreams.mcp)};
        keepalive 16;
    }}

    server {{
        # IPv4 only: kind's pods have no IPv6 unless the cluster is dual-stack, and nginx
        # refuses to start on an address family the pod lacks.
        listen {f"{listen_host}:" if listen_host else ""}{settings.port}{" ssl" if tls else ""};
{tls_directives(paths.tls, "        ") if tls else ""}
{error_locations(headers, settings.rate_limit.burst, "        ")}
        location = /healthz {{
            access_log off;
{json_answer(200, {"status": "ok"}, "            ", headers)}        }}
{_protected("= /v1/embeddings", "embedding", upstreams.embedding, "/v1/embeddings", settings,
            headers=headers)}
{_protected("= /v1/embed", "embedding", upstreams.embedding, "/embed", settings,
            headers=headers)}
{_protected("/v1/search/", "vector_search", upstreams.vector_search, "/", settings,
            headers=headers, extra=search_extra, redirect_to="/v1/search/")}
{_protected(mcp_path, "mcp", upstreams.mcp, "$uri$is_args$args", settings,
            headers=headers, extra=mcp_extra, redirect_to="/")}

        # Without this, nginx answers /v1/search (no slash) with its own 301 to /v1/search/,
        # in HTML and before the token check.
        location = /v1/search {{
{refuse_without_token("            ")}            return 404;
        }}

        location / {{
{refuse_without_token("            ")}            return 404;
        }}
{plain_http}
    }}
}}
"""  # fmt: skip
