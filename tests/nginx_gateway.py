"""A real nginx running the gateway configuration the program generates, on loopback.

Shared by the tiers that put something behind the gateway (echo upstreams in
``tests/components/test_gateway_nginx.py``, a real MCP server in ``tests/mcp``, HTTPS in
``tests/components/test_gateway_tls.py``). nginx is Debian's package, installed by
``scripts/test``; the configuration is :func:`infra.components.gateway_config.nginx_conf` with
only the upstream addresses, the paths nginx writes to and reads the TLS files from, and the
listen address changed for this machine. A gateway that speaks TLS is reached with a client
that trusts the test's CA and checks the certificate's name (127.0.0.1), as ``curl --cacert``
does.

Servers are started as rarely as correctness allows (the callers' fixtures are module-scoped:
one nginx per configuration, not per test), and stop at once: the echo servers poll for shutdown
every 20 ms instead of http.server's 0.5 s.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.components import gateway_config
from infra.components.gateway_config import Paths, Upstreams
from infra.endpoints import Endpoint
from infra.settings import GatewaySettings, StackSettings
from tests.conftest import GATEWAY_TOKEN, QDRANT_API_KEY

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
SHUTDOWN_POLL_SECONDS = 0.02
START_TIMEOUT_SECONDS = 10


def nginx_binary() -> str:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    pytest.fail("nginx is not installed; scripts/test installs it (Debian package nginx-light)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


HOSTILE_UPSTREAM_HEADERS: tuple[tuple[str, str], ...] = (
    ("Set-Cookie", "session=from-the-upstream"),
    ("Access-Control-Allow-Origin", "*"),
    ("X-Frame-Options", "ALLOWALL"),
    ("Content-Security-Policy", "default-src *"),
)
"""What every echo answer also carries: headers an upstream could send that the gateway must
not pass on (its own security headers are the only ones a client gets)."""


class Echo(BaseHTTPRequestHandler):
    """Answers every request with JSON describing what arrived (and HOSTILE_UPSTREAM_HEADERS)."""

    name = "upstream"
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx's upstream keepalive expects

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps(
            {
                "upstream": self.name,
                "path": self.path,
                "method": self.command,
                "host": self.headers.get("Host"),
                "authorization": self.headers.get("Authorization"),
                "api_key": self.headers.get("api-key"),
                "request_id": self.headers.get("X-Request-ID"),
                "body_bytes": len(body),
            }
        ).encode()
        self.send_response(200)
        for name, value in HOSTILE_UPSTREAM_HEADERS:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = _answer  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def echo_upstreams() -> Iterator[Upstreams]:
    """Three echo servers standing in for embedding, vector search and MCP."""
    servers: list[ThreadingHTTPServer] = []
    try:
        for name in ("embedding", "vector-search", "mcp"):
            handler = type(f"Echo_{name}", (Echo,), {"name": name})
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            threading.Thread(
                target=server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), daemon=True
            ).start()
            servers.append(server)
        yield Upstreams(*(Endpoint("127.0.0.1", s.server_address[1]) for s in servers))
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def client_context(ca_certificate: str) -> ssl.SSLContext:
    """A TLS client that trusts only ``ca_certificate`` (PEM) and checks the server's name."""
    context = ssl.create_default_context(cadata=ca_certificate)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass
class Gateway:
    """A running nginx: where it listens, its access log and the configuration it runs."""

    port: int
    log: Path
    config: str
    tls: ssl.SSLContext | None = None
    """The client's TLS context when the gateway speaks TLS (see :func:`client_context`)."""

    def connection(self, *, plain: bool = False) -> http.client.HTTPConnection:
        """HTTPS when the gateway speaks TLS, unless ``plain`` (plain HTTP to its port)."""
        if self.tls is not None and not plain:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = GATEWAY_TOKEN,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        plain: bool = False,
    ) -> tuple[int, dict[str, str], Any]:
        connection = self.connection(plain=plain)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        answer = json.loads(raw) if raw else None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer

    def access_log(self, *, at_least: int = 0) -> list[dict[str, Any]]:
        """The JSON lines of the access log, once there are ``at_least`` of them (nginx writes
        a line after the answer; on a busy machine that can take a moment), or after 5 s."""
        deadline = time.monotonic() + 5
        while True:
            entries = [
                json.loads(line)
                for line in self.log.read_text().splitlines()
                if line.startswith("{")
            ]
            if len(entries) >= at_least or time.monotonic() > deadline:
                return entries
            time.sleep(0.02)

    def logged_for(self, user_agent: str) -> dict[str, Any]:
        """The access log entry of the one request sent with ``user_agent`` (waiting for nginx
        to write it, as :meth:`access_log`)."""
        deadline = time.monotonic() + 5
        while True:
            found = [e for e in self.access_log() if e.get("user_agent") == user_agent]
            if found or time.monotonic() > deadline:
                assert len(found) == 1, found
                return found[0]
            time.sleep(0.02)


IN_CLUSTER_NAMESPACE = "agent-platform"


def service_host(component: str) -> str:
    """The in-cluster DNS name the program gives a component's Service."""
    return f"{component}.{IN_CLUSTER_NAMESPACE}.svc.cluster.local"


def in_cluster_upstreams(settings: StackSettings) -> Upstreams:
    """The upstreams the program passes to the gateway in the cluster."""
    return Upstreams(
        embedding=Endpoint(service_host("embedding"), settings.embedding.port),
        vector_search=Endpoint(service_host("vector-search"), settings.vector_search.http_port),
        mcp=Endpoint(service_host("mcp"), settings.mcp.port),
    )


def deployed_nginx_conf(settings: StackSettings) -> str:
    """The configuration the program stores for a stack with these settings, in the cluster
    (its Services as upstreams) and with the tests' known secrets."""
    return gateway_config.nginx_conf(
        settings.gateway,
        in_cluster_upstreams(settings),
        token=GATEWAY_TOKEN,
        vector_search_api_key=QDRANT_API_KEY,
    )


def loopback_nginx_conf(
    workdir: Path,
    settings: GatewaySettings,
    upstreams: Upstreams,
    *,
    tls_dir: Path | None = None,
    token: str = GATEWAY_TOKEN,
) -> str:
    """The program's nginx.conf, writing under ``workdir``, reading ``tls.crt`` and ``tls.key``
    from ``tls_dir`` (default ``workdir``) and listening on 127.0.0.1 only."""
    return gateway_config.nginx_conf(
        settings,
        upstreams,
        token=token,
        vector_search_api_key=QDRANT_API_KEY,
        paths=Paths(pid=str(workdir / "nginx.pid"), temp=str(workdir), tls=str(tls_dir or workdir)),
        listen_host="127.0.0.1",
    )


def check_config(workdir: Path, config: str) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on ``config``."""
    (workdir / "nginx.conf").write_text(config)
    return subprocess.run(
        [nginx_binary(), "-t", "-c", str(workdir / "nginx.conf"), "-p", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@contextmanager
def running_nginx(
    workdir: Path, config: str, port: int, *, tls: ssl.SSLContext | None = None
) -> Iterator[Gateway]:
    """nginx in the foreground on ``config``, until the block ends; fails the test with nginx's
    own error when it does not start within 10 s. ``tls``: the client context for a gateway
    that speaks TLS."""
    config_file = workdir / "nginx.conf"
    config_file.write_text(config)
    log = workdir / "access.log"
    with log.open("w") as stdout:
        process = subprocess.Popen(
            [nginx_binary(), "-c", str(config_file), "-p", str(workdir), "-g", "daemon off;"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        process.kill()
                        _, errors = process.communicate(timeout=5)
                        pytest.fail(f"nginx did not start: {errors}")
                    time.sleep(0.02)
            yield Gateway(port, log, config, tls)
        finally:
            # QUIT is nginx's graceful stop; TERM is its fast one, all a test needs.
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            if process.stderr is not None:
                process.stderr.close()
