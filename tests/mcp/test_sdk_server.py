"""A server from the official MCP Python SDK behind the gateway, driven by the SDK's own client.

The server (tests/mcp/server.py) keeps the SDK's DNS-rebinding protection on and allows the one
name a deployment behind this gateway would allow: its Service's in-cluster name and port,
``mcp.agent-platform.svc.cluster.local:8000``. The gateway runs the configuration the program
generates for the cluster (tests/mcp/harness.py). One server and one nginx for the module.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp_types import CallToolResult, TextContent

from infra.settings import StackSettings
from tests.conftest import GATEWAY_TOKEN, PROJECT_DIR
from tests.mcp import server as test_server
from tests.mcp.harness import (
    McpClient,
    ServerProcess,
    ServerSpec,
    initialize_request,
    loopback_only_env,
    mcp_gateway_config,
    raw,
    run,
    running_servers,
)
from tests.nginx_gateway import Gateway, free_port, running_nginx, service_host

pytestmark = pytest.mark.mcp

STEPS = 3
INTERVAL_SECONDS = 0.4


@pytest.fixture(scope="module")
def allowed_host(studio_settings: StackSettings) -> str:
    """What an operator allows for the server: its Service's in-cluster name and port."""
    return f"{service_host('mcp')}:{studio_settings.mcp.port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, allowed_host: str) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("sdk-server")
    port = free_port()
    requests = workdir / "requests.jsonl"
    argv = [sys.executable, "-m", test_server.__name__, "--port", str(port)]
    argv += ["--log", str(requests), "--allowed-host", allowed_host]
    spec = ServerSpec(
        argv,
        port=port,
        log=workdir / "server.log",
        env=loopback_only_env({"PYTHONPATH": str(PROJECT_DIR)}),
        start_timeout=20,
        requests=requests,
    )
    with running_servers([spec]) as [started]:
        yield started


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory,
    studio_settings: StackSettings,
    server: ServerProcess,
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("gateway")
    port = free_port()
    config = mcp_gateway_config(workdir, studio_settings, listen_port=port, mcp_port=server.port)
    with running_nginx(workdir, config, port) as nginx:
        yield nginx


def _requests_during(server: ServerProcess, action: Any) -> tuple[Any, list[dict[str, Any]]]:
    """What ``action()`` returned and the requests the server logged meanwhile."""
    before = len(server.seen())
    result = action()
    time.sleep(0.1)  # the log line is written when the answer starts; let it land
    return result, server.seen()[before:]


def _text(result: CallToolResult) -> str:
    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


def test_a_client_completes_a_session_through_the_gateway(
    gateway: Gateway, server: ServerProcess, allowed_host: str
) -> None:
    client = McpClient(f"http://127.0.0.1:{gateway.port}/mcp")
    updates: list[tuple[float, tuple[float, float | None, str | None]]] = []

    # The parameter names are the SDK's ProgressFnT protocol's.
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((time.monotonic(), (progress, total, message)))

    async def scenario(session: ClientSession) -> tuple[str, list[str], CallToolResult, float]:
        info = session.server_info
        assert info is not None
        tools = [tool.name for tool in (await session.list_tools()).tools]
        result = await session.call_tool(
            "count",
            {"n": STEPS, "interval_seconds": INTERVAL_SECONDS},
            progress_callback=on_progress,
        )
        return info.name, tools, result, time.monotonic()

    (name, tools, result, finished), seen = _requests_during(
        server, lambda: run(lambda: client.session(scenario))
    )

    assert name == test_server.NAME
    assert tools == ["count"]
    assert _text(result) == f"counted to {STEPS}"
    assert [step for _, step in updates] == [(n, STEPS, f"step {n} of {STEPS}") for n in (1, 2, 3)]
    assert [text for _, text in client.logs] == ["counted 1", "counted 2", "counted 3"]
    # Streamed, not buffered: the first step reached the client while the tool still ran.
    assert finished - updates[0][0] > (STEPS - 1) * INTERVAL_SECONDS * 0.75
    # What reached the server: its in-cluster name as Host, and one session throughout.
    assert {entry["host"] for entry in seen} == {allowed_host}
    assert all(entry["status"] < 300 for entry in seen), seen
    issued = seen[0]["answered_session"]  # by the initialize answer
    assert issued
    assert [entry["session"] for entry in seen[1:]] == [issued] * (len(seen) - 1)
    assert seen[-1]["method"] == "DELETE"  # the client ends the session through the gateway


def _open_session(gateway: Gateway) -> str:
    status, headers, body = raw(gateway.port, "POST", "/mcp", body=initialize_request())
    assert status == 200, body
    session = headers["mcp-session-id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    status, _, _ = raw(
        gateway.port, "POST", "/mcp", body=initialized, headers={"Mcp-Session-Id": session}
    )
    assert status == 202
    return session


def test_the_event_stream_reaches_the_client_event_by_event(gateway: Gateway) -> None:
    session = _open_session(gateway)
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {
            "name": "count",
            "arguments": {"n": STEPS, "interval_seconds": INTERVAL_SECONDS},
            "_meta": {"progressToken": "p1"},
        },
    }
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    connection.request(
        "POST",
        "/mcp",
        body=json.dumps(call),
        headers={
            "Authorization": f"Bearer {GATEWAY_TOKEN}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "Mcp-Session-Id": session,
        },
    )
    response = connection.getresponse()
    events: list[tuple[float, dict[str, Any]]] = []
    try:
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("text/event-stream")
        while len(events) < 2 * STEPS + 1:
            line = response.fp.readline()
            assert line, f"the stream ended after {len(events)} events"
            if line.startswith(b"data:"):
                events.append((time.monotonic(), json.loads(line[5:])))
    finally:
        connection.close()

    kinds = [event.get("method", "result") for _, event in events]
    assert kinds.count("notifications/progress") == STEPS
    assert kinds.count("notifications/message") == STEPS
    assert kinds[-1] == "result"
    assert events[-1][1]["result"]["content"][0]["text"] == f"counted to {STEPS}"
    first, last = events[0][0], events[-1][0]
    assert last - first > (STEPS - 1) * INTERVAL_SECONDS * 0.75, "the gateway held the events"


def test_without_the_token_the_gateway_answers_401_and_the_server_sees_nothing(
    gateway: Gateway, server: ServerProcess
) -> None:
    (status, headers, body), seen = _requests_during(
        server, lambda: raw(gateway.port, "POST", "/mcp", body=initialize_request(), token=None)
    )

    assert status == 401
    assert json.loads(body) == {"error": "unauthorized", "status": 401}
    assert headers["www-authenticate"] == "Bearer"
    assert seen == []


def test_an_unknown_session_gets_the_servers_404_through_the_gateway(
    gateway: Gateway, server: ServerProcess
) -> None:
    listing = {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}
    (status, _, body), seen = _requests_during(
        server,
        lambda: raw(
            gateway.port, "POST", "/mcp", body=listing, headers={"Mcp-Session-Id": "no-such-one"}
        ),
    )

    assert status == 404
    answer = json.loads(body)
    assert answer["jsonrpc"] == "2.0", "the server's JSON-RPC error, not the gateway's 404 page"
    assert "session" in answer["error"]["message"].lower()
    assert [(entry["session"], entry["status"]) for entry in seen] == [("no-such-one", 404)]


def test_a_request_without_a_session_gets_the_servers_400_through_the_gateway(
    gateway: Gateway,
) -> None:
    status, _, body = raw(
        gateway.port, "POST", "/mcp", body={"jsonrpc": "2.0", "id": 4, "method": "tools/list"}
    )

    assert status == 400
    assert json.loads(body)["jsonrpc"] == "2.0"


def test_a_foreign_origin_is_still_refused_by_the_server_behind_the_gateway(
    gateway: Gateway, server: ServerProcess
) -> None:
    """The gateway passes Origin through, so the server's check still protects browsers."""
    (status, _, body), seen = _requests_during(
        server,
        lambda: raw(
            gateway.port,
            "POST",
            "/mcp",
            body=initialize_request(),
            headers={"Origin": "http://attacker.example"},
        ),
    )

    assert status == 403
    assert body == b"Invalid Origin header"
    assert [(entry["origin"], entry["status"]) for entry in seen] == [
        ("http://attacker.example", 403)
    ]


def test_the_upstream_group_name_as_host_is_refused_with_421(
    tmp_path: Path, studio_settings: StackSettings, server: ServerProcess
) -> None:
    """Why the gateway names the Service: nginx's ``$proxy_host`` is the name of the upstream
    group (``mcp``) when proxy_pass names one, and a server that checks Host refuses it."""
    port = free_port()
    deployed = mcp_gateway_config(tmp_path, studio_settings, listen_port=port, mcp_port=server.port)
    sends_host = [line.strip() for line in deployed.splitlines() if "proxy_set_header Host" in line]
    assert sends_host, "the generated configuration sets no Host header"
    previous = "\n".join(
        "            proxy_set_header Host $proxy_host;"
        if "proxy_set_header Host" in line
        else line
        for line in deployed.splitlines()
    )

    with running_nginx(tmp_path, previous, port) as gateway:
        (status, _, body), seen = _requests_during(
            server, lambda: raw(gateway.port, "POST", "/mcp", body=initialize_request())
        )

    assert status == 421
    assert body == b"Invalid Host header"
    assert [(entry["host"], entry["status"]) for entry in seen] == [("mcp", 421)]
