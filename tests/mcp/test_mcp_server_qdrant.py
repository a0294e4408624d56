"""mcp-server-qdrant 0.8.0, the default MCP image's server, behind the gateway.

It runs from ``.tools/mcp-server-qdrant`` (scripts/lib/install.sh ``ensure_tool_environment``:
the versions the image resolved at its release, FastMCP 2.9.2 on mcp 1.9.4) with the command and
environment the McpServer component deploys (read from the program under mocks), changed only
where the cluster is not here:

- ``QDRANT_URL``/``QDRANT_API_KEY`` give way to ``QDRANT_LOCAL_PATH``: the server's own local
  Qdrant mode (qdrant-client in-process, a directory), instead of the vector search Service;
- ``FASTMCP_HOST``/``FASTMCP_PORT``: a loopback port instead of ``0.0.0.0:8000``;
- ``FASTEMBED_CACHE_PATH`` holds a stand-in embedding model (tests/mcp/standin_model.py) and
  ``HF_HUB_OFFLINE=1``: the server loads a model at start and would otherwise download it, from
  hosts these machines cannot reach.

Every proxy variable points at a closed loopback port, so nothing leaves the machine. One
server (and one read-only server) for the module, started together.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp_types import CallToolResult, TextContent

from infra.offline.mock_engine import run_program
from infra.program import run as program
from infra.settings import StackSettings, read_stack_file
from tests.components.helpers import container, env
from tests.conftest import KNOWN_SECRETS, PROJECT_DIR
from tests.mcp import standin_model
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
from tests.nginx_gateway import Gateway, free_port, running_nginx

pytestmark = pytest.mark.mcp

VENV = PROJECT_DIR / ".tools" / "mcp-server-qdrant"
EMBEDDING_DIM = 384  # sentence-transformers/all-MiniLM-L6-v2, as fastembed describes it
MEMORY = "the user likes green tea"


@pytest.fixture(scope="module")
def deployed() -> tuple[list[str], dict[str, Any]]:
    """The MCP container's command and environment as the program deploys them (studio)."""
    result = run_program(
        program, stack="studio", config=read_stack_file("studio", PROJECT_DIR),
        secrets=KNOWN_SECRETS,
    )  # fmt: skip
    return container(result, "mcp")["command"], env(result, "mcp")


def _spec(
    workdir: Path, command: list[str], deployed_env: dict[str, Any], overrides: dict[str, str]
) -> ServerSpec:
    variables = dict(deployed_env)
    # What the cluster has and this machine has not (see the module docstring); the component
    # must still set each, or this test is no longer running what it deploys.
    for name in ("QDRANT_URL", "QDRANT_API_KEY", "FASTMCP_HOST", "FASTMCP_PORT",
                 "FASTEMBED_CACHE_PATH", "HOME"):  # fmt: skip
        assert name in variables, f"the MCP component no longer sets {name}"
    del variables["QDRANT_URL"], variables["QDRANT_API_KEY"]
    assert all(isinstance(value, str) for value in variables.values()), variables
    port = free_port()
    cache = workdir / "fastembed"
    standin_model.write(cache, variables["EMBEDDING_MODEL"], EMBEDDING_DIM)
    variables |= {
        "QDRANT_LOCAL_PATH": str(workdir / "qdrant"),
        "FASTMCP_HOST": "127.0.0.1",
        "FASTMCP_PORT": str(port),
        "FASTEMBED_CACHE_PATH": str(cache),
        "HOME": str(workdir),
        "HF_HUB_OFFLINE": "1",
        **overrides,
    }
    program_name, *arguments = command
    return ServerSpec(
        [str(VENV / "bin" / program_name), *arguments],
        port=port,
        log=workdir / "server.log",
        env=loopback_only_env(variables),
        start_timeout=60,
    )


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, deployed: tuple[list[str], dict[str, Any]]
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """The server as deployed, and the same with ``QDRANT_READ_ONLY=true``."""
    if not (VENV / "bin" / "mcp-server-qdrant").exists():
        pytest.skip(
            f"mcp-server-qdrant is not installed in {VENV}; scripts/test installs it "
            "(ensure_tool_environment in scripts/lib/install.sh)"
        )
    command, variables = deployed
    specs = [
        _spec(tmp_path_factory.mktemp("mcp-server-qdrant"), command, variables, {}),
        _spec(tmp_path_factory.mktemp("read-only"), command, variables,
              {"QDRANT_READ_ONLY": "true"}),
    ]  # fmt: skip
    with running_servers(specs) as [writable, read_only]:
        yield writable, read_only


def _gateway(workdir: Path, settings: StackSettings, server: ServerProcess) -> Iterator[Gateway]:
    port = free_port()
    config = mcp_gateway_config(workdir, settings, listen_port=port, mcp_port=server.port)
    with running_nginx(workdir, config, port) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory,
    studio_settings: StackSettings,
    servers: tuple[ServerProcess, ServerProcess],
) -> Iterator[Gateway]:
    yield from _gateway(tmp_path_factory.mktemp("gateway"), studio_settings, servers[0])


@pytest.fixture(scope="module")
def read_only_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    studio_settings: StackSettings,
    servers: tuple[ServerProcess, ServerProcess],
) -> Iterator[Gateway]:
    yield from _gateway(tmp_path_factory.mktemp("read-only-gateway"), studio_settings, servers[1])


def _text(result: CallToolResult) -> str:
    return "\n".join(item.text for item in result.content if isinstance(item, TextContent))


def _tools(url: str) -> tuple[str, set[str]]:
    async def scenario(session: ClientSession) -> tuple[str, set[str]]:
        info = session.server_info
        assert info is not None
        return info.name, {tool.name for tool in (await session.list_tools()).tools}

    return run(lambda: McpClient(url).session(scenario))


def test_initialize_and_list_tools_through_the_gateway(gateway: Gateway) -> None:
    name, tools = _tools(f"http://127.0.0.1:{gateway.port}/mcp/")

    assert name == "mcp-server-qdrant"
    assert tools == {"qdrant-store", "qdrant-find"}


def test_a_memory_stored_through_the_gateway_is_found_again(gateway: Gateway) -> None:
    async def scenario(session: ClientSession) -> tuple[CallToolResult, CallToolResult]:
        stored = await session.call_tool("qdrant-store", {"information": MEMORY})
        found = await session.call_tool("qdrant-find", {"query": "green tea"})
        return stored, found

    stored, found = run(
        lambda: McpClient(f"http://127.0.0.1:{gateway.port}/mcp/").session(scenario)
    )

    assert not stored.is_error, _text(stored)
    assert not found.is_error, _text(found)
    assert MEMORY in _text(found)


def test_the_path_without_a_slash_is_redirected_back_through_the_gateway(
    gateway: Gateway,
) -> None:
    """FastMCP 2 serves /mcp/ and redirects /mcp there, naming the Host it was sent (the
    Service's in-cluster name); the gateway rewrites that to its own path."""
    status, headers, _ = raw(gateway.port, "POST", "/mcp", body=initialize_request())

    assert status == 307
    assert headers["location"] == "/mcp/"  # not http://mcp.agent-platform.svc.cluster.local...
    name, tools = _tools(f"http://127.0.0.1:{gateway.port}/mcp")
    assert name == "mcp-server-qdrant"
    assert "qdrant-find" in tools


def test_without_the_rewrite_the_redirect_would_name_the_in_cluster_service(
    tmp_path: Path, studio_settings: StackSettings, servers: tuple[ServerProcess, ServerProcess]
) -> None:
    """Why the gateway rewrites redirects: the server builds them from the Host it is sent."""
    port = free_port()
    config = mcp_gateway_config(tmp_path, studio_settings, listen_port=port,
                                mcp_port=servers[0].port)  # fmt: skip
    rewrite = "proxy_redirect http://mcp.agent-platform.svc.cluster.local:8000/ /;"
    assert config.count(rewrite) == 1
    with running_nginx(tmp_path, config.replace(rewrite, ""), port):
        status, headers, _ = raw(port, "POST", "/mcp", body=initialize_request())

    assert status == 307
    assert headers["location"] == "http://mcp.agent-platform.svc.cluster.local:8000/mcp/"


def test_read_only_offers_only_the_find_tool(read_only_gateway: Gateway) -> None:
    name, tools = _tools(f"http://127.0.0.1:{read_only_gateway.port}/mcp/")

    assert name == "mcp-server-qdrant"
    assert tools == {"qdrant-find"}


def test_the_servers_answer_to_an_unknown_session_passes_through_the_gateway(
    gateway: Gateway,
) -> None:
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    status, _, body = raw(
        gateway.port, "POST", "/mcp/", body=listing, headers={"Mcp-Session-Id": "no-such-one"}
    )

    # mcp 1.9.4's answer (newer SDKs answer 404 with a JSON-RPC error, as the specification
    # now says), not the gateway's own JSON 4xx.
    assert status == 400
    assert body == b"Bad Request: No valid session ID provided"
