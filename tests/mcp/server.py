"""A small MCP server built with the official Python SDK (``mcp`` on PyPI), for the MCP tier.

One tool, ``count``, reports progress and sends a log message at every step, waiting between
steps, so a client behind the gateway can see whether the server-sent events of one response
reach it as they are sent or all at once at the end.

The server runs as it ships: ``MCPServer`` over streamable HTTP (stateful sessions, answers as
SSE streams), bound to a loopback address. Bound to loopback, the SDK switches its DNS-rebinding
protection on by itself and allows only loopback names (``127.0.0.1:*``, ``localhost:*``,
``[::1]:*``). ``--allowed-host`` gives the names to allow instead, as a deployment behind the
gateway must (the Service's in-cluster name); the protection stays on either way, and it checks
``Origin`` too.

Every HTTP request is written to ``--log`` as a JSON line (method, path, the ``Host``, ``Origin``
and ``Mcp-Session-Id`` it arrived with, the status and session id answered), so the tests can
assert what reached the server, not only what came back through nginx.

Run: ``python -m tests.mcp.server --port PORT --log FILE [--allowed-host HOST:PORT ...]``
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NAME = "agent-platform-test-server"
LISTEN_HOST = "127.0.0.1"


def build() -> MCPServer:
    server = MCPServer(NAME, instructions="Counts, slowly, for the gateway's streaming tests.")

    @server.tool(description="Count to n, reporting progress and logging at every step.")
    async def count(n: int, interval_seconds: float, ctx: Context) -> str:
        for step in range(1, n + 1):
            await ctx.report_progress(step, n, f"step {step} of {n}")
            await ctx.info(f"counted {step}")
            if step < n:
                await anyio.sleep(interval_seconds)
        return f"counted to {n}"

    return server


class RequestLog:
    """ASGI middleware: one JSON line per HTTP request, written when the answer starts."""

    def __init__(self, app: ASGIApp, out: IO[str]) -> None:
        self.app = app
        self.out = out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "host": headers.get("host"),
            "origin": headers.get("origin"),
            "session": headers.get("mcp-session-id"),
        }

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered = {k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]}
                entry["status"] = message["status"]
                entry["answered_session"] = answered.get("mcp-session-id")
                self.out.write(json.dumps(entry) + "\n")
                self.out.flush()
            await send(message)

        await self.app(scope, receive, logged_send)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--allowed-host", action="append", default=[])
    args = parser.parse_args(argv)

    security = None  # as shipped: on, for loopback names only (bound to loopback)
    if args.allowed_host:
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=args.allowed_host
        )
    app = build().streamable_http_app(transport_security=security, host=LISTEN_HOST)
    with args.log.open("a") as out:
        config = uvicorn.Config(
            RequestLog(app, out), host=LISTEN_HOST, port=args.port, log_level="warning"
        )
        uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
