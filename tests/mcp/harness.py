"""What the MCP tier shares: the gateway configuration as deployed, MCP server processes, a client.

The gateway runs :func:`infra.components.gateway_config.nginx_conf` exactly as the program calls it
in the cluster, with the in-cluster Service names as upstreams
(``mcp.agent-platform.svc.cluster.local:8000``); only the address nginx connects to is changed,
in the ``upstream`` blocks, to a loopback port. So the ``Host`` header, the redirects nginx
rewrites and everything else a server sees are what it would see in the cluster: the loopback
stand-in is the ``server`` line alone (what a hosts-file entry would do, without touching the
machine's resolver).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from infra.components.gateway_config import Upstreams
from infra.endpoints import Endpoint
from infra.settings import GatewaySettings, StackSettings
from tests.conftest import GATEWAY_TOKEN
from tests.nginx_gateway import in_cluster_upstreams, loopback_nginx_conf

STOP_TIMEOUT_SECONDS = 10
T = TypeVar("T")


def nginx_conf_as_deployed(
    workdir: Path, settings: GatewaySettings, upstreams: Upstreams, loopback: Mapping[str, int]
) -> str:
    """The program's configuration for ``upstreams``, nginx connecting to the loopback ports in
    ``loopback`` (keyed by upstream host) instead; every other line as deployed."""
    config = loopback_nginx_conf(workdir, settings, upstreams)
    for upstream in (upstreams.embedding, upstreams.vector_search, upstreams.mcp):
        line = f"server {upstream.host}:{upstream.port};"
        assert config.count(line) == 1, f"{line!r} is not once in the generated configuration"
        config = config.replace(line, f"server 127.0.0.1:{loopback[plain_host(upstream)]};")
    return config


def plain_host(endpoint: Endpoint) -> str:
    """An in-cluster upstream's host, a str (an Output only inside the program)."""
    assert isinstance(endpoint.host, str), f"{endpoint.host!r} is not a plain host name"
    return endpoint.host


def mcp_gateway_config(
    workdir: Path, settings: StackSettings, *, listen_port: int, mcp_port: int
) -> str:
    """The stack's configuration as deployed, listening on ``listen_port``, with the MCP
    upstream on the loopback ``mcp_port`` and the others on ports nothing listens on. Its
    rate limit is raised out of the tests' way."""
    upstreams = in_cluster_upstreams(settings)
    gateway = settings.gateway.model_copy(
        update={
            "port": listen_port,
            "rate_limit": settings.gateway.rate_limit.model_copy(
                update={"requests_per_second": 100, "burst": 200}
            ),
        }
    )
    loopback = {
        plain_host(upstreams.embedding): dead_port(),
        plain_host(upstreams.vector_search): dead_port(),
        plain_host(upstreams.mcp): mcp_port,
    }
    return nginx_conf_as_deployed(workdir, gateway, upstreams, loopback)


def dead_port() -> int:
    """A loopback port nothing listens on (for upstreams a test does not use)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class ServerSpec:
    argv: Sequence[str]
    port: int
    log: Path
    """Where the server's stdout and stderr go."""
    env: Mapping[str, str]
    start_timeout: float
    requests: Path | None = None
    """JSON lines, one per request (tests/mcp/server.py writes them)."""


@dataclass(frozen=True)
class ServerProcess:
    spec: ServerSpec

    @property
    def port(self) -> int:
        return self.spec.port

    def seen(self) -> list[dict[str, Any]]:
        assert self.spec.requests is not None
        return [json.loads(line) for line in self.spec.requests.read_text().splitlines()]


def _wait_listening(spec: ServerSpec, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + spec.start_timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", spec.port), timeout=0.2).close()
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{spec.argv[0]} did not listen on 127.0.0.1:{spec.port} within "
                    f"{spec.start_timeout} s (exit code {process.poll()}):\n"
                    f"{spec.log.read_text()[-4000:]}"
                ) from None
            time.sleep(0.05)
        else:
            return


@contextmanager
def running_servers(specs: Sequence[ServerSpec]) -> Iterator[list[ServerProcess]]:
    """Start every server at once, wait (bounded) until each port accepts connections, failing
    with a server's own output if it exits or does not listen in time; at the end stop each by
    its pid (TERM, then KILL after 10 s)."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for spec in specs:
            with spec.log.open("w") as output:
                processes.append(
                    subprocess.Popen(
                        spec.argv, stdout=output, stderr=subprocess.STDOUT, env=dict(spec.env)
                    )
                )
        for spec, process in zip(specs, processes, strict=True):
            _wait_listening(spec, process)
        yield [ServerProcess(spec) for spec in specs]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)


def loopback_only_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment plus ``extra``, with every proxy pointed at a closed
    loopback port: a server that tried to reach the internet fails at once, here."""
    closed = f"http://127.0.0.1:{dead_port()}"
    env = {k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy"}}
    return {
        **env,
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an async client scenario from a synchronous test, bounded."""

    async def bounded() -> T:
        with anyio.fail_after(60):
            return await scenario()

    return anyio.run(bounded)


class McpClient:
    """The SDK's streamable-HTTP client and session, with the gateway's bearer token."""

    def __init__(self, url: str, token: str | None = GATEWAY_TOKEN) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.logs: list[tuple[float, str]] = []

    async def _log(self, params: Any) -> None:
        self.logs.append((time.monotonic(), str(params.data)))

    async def session(self, body: Callable[[ClientSession], Awaitable[T]]) -> T:
        timeout = httpx2.Timeout(10, read=30)
        async with (
            httpx2.AsyncClient(headers=self.headers, timeout=timeout) as http,
            streamable_http_client(self.url, http_client=http) as (read, write),
            ClientSession(read, write, logging_callback=self._log) as session,
        ):
            await session.initialize()
            return await body(session)


def raw(
    port: int,
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    token: str | None = GATEWAY_TOKEN,
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request to the gateway, MCP's headers included."""
    sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=json.dumps(body) if body else None, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def initialize_request(request_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "agent-platform-tests", "version": "1"},
        },
    }
