"""The generated gateway configuration, run by a real nginx on loopback.

Three small HTTP servers stand in for the upstreams and echo what reached them; nginx (Debian's
package, installed by scripts/test) runs the configuration the program generates, with only the
upstream addresses, paths and listen address changed for this machine (tests/nginx_gateway.py).
One nginx per configuration and one set of upstreams per module: the tests only read from them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.components import gateway_config
from infra.components.gateway_config import Upstreams
from infra.endpoints import Endpoint
from infra.settings import SUPPORTED_STACKS, GatewaySettings, settings_from_stack_file
from tests.certificates import authority, issue, write_tls_files
from tests.conftest import (
    GATEWAY_TOKEN,
    PROJECT_DIR,
    QDRANT_API_KEY,
    Deploy,
)
from tests.nginx_gateway import (
    Gateway,
    check_config,
    deployed_nginx_conf,
    free_port,
    loopback_nginx_conf,
    running_nginx,
)

pytestmark = pytest.mark.nginx


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_nginx_accepts_the_configuration_of_each_stack(
    tmp_path: Path, upstreams: Upstreams, stack: str
) -> None:
    """homelab's speaks TLS: nginx -t also loads its certificate and key (made here)."""
    settings = settings_from_stack_file(stack, PROJECT_DIR).gateway
    if settings.tls.enabled:
        issued = issue(authority())
        write_tls_files(tmp_path, issued.chain, issued.key)

    config = loopback_nginx_conf(tmp_path, settings, upstreams)

    checked = check_config(tmp_path, config)

    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
    assert (f"{settings.port} ssl;" in config) == (stack == "homelab")


def test_nginx_rejects_a_broken_configuration(tmp_path: Path, upstreams: Upstreams) -> None:
    """The check above can fail: the same check on a damaged configuration does."""
    config = loopback_nginx_conf(tmp_path, GatewaySettings(), upstreams).replace(
        "limit_req_status 429;", "limit_req_status;"
    )

    checked = check_config(tmp_path, config)

    assert checked.returncode != 0


def test_healthz_needs_no_token(gateway: Gateway) -> None:
    status, headers, body = gateway.request("GET", "/healthz", token=None)

    assert status == 200
    assert body == {"status": "ok"}
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/v1/embeddings", "/v1/search/collections", "/v1/search", "/mcp", "/other"]
)
@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"])
def test_without_the_token_every_route_answers_401_json(
    gateway: Gateway, path: str, token: str | None
) -> None:
    status, headers, body = gateway.request("POST", path, token=token, body=b"{}")

    assert status == 401
    assert body == {"error": "unauthorized", "status": 401}
    assert headers["content-type"] == "application/json"
    assert headers["www-authenticate"] == "Bearer"
    assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "upstream", "upstream_path"),
    [
        ("/v1/embeddings", "embedding", "/v1/embeddings"),
        ("/v1/embed", "embedding", "/embed"),
        ("/v1/search/collections/agent-memory/points/search", "vector-search",
         "/collections/agent-memory/points/search"),
        ("/mcp", "mcp", "/mcp"),
    ],
)  # fmt: skip
def test_with_the_token_each_route_reaches_its_upstream(
    gateway: Gateway, path: str, upstream: str, upstream_path: str
) -> None:
    status, headers, body = gateway.request("POST", path, body=b'{"inputs": "hello"}')

    assert status == 200, body
    assert body["upstream"] == upstream
    assert body["path"] == upstream_path
    assert body["body_bytes"] == len(b'{"inputs": "hello"}')
    assert body["authorization"] is None, "the gateway token must not reach upstreams"
    assert body["request_id"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("default-src 'none'")


def test_each_upstream_is_sent_its_own_address_as_host(
    gateway: Gateway, upstreams: Upstreams
) -> None:
    """Not ``$proxy_host``, which is the upstream group's name (``mcp``) here: servers that
    check Host (MCP's DNS-rebinding protection) refuse that; tests/mcp shows it with one."""
    answers = {
        path: gateway.request("POST", path, body=b"{}")[2]
        for path in ("/v1/embeddings", "/v1/search/collections", "/mcp")
    }

    assert answers["/v1/embeddings"]["host"] == f"127.0.0.1:{upstreams.embedding.port}"
    assert answers["/v1/search/collections"]["host"] == f"127.0.0.1:{upstreams.vector_search.port}"
    assert answers["/mcp"]["host"] == f"127.0.0.1:{upstreams.mcp.port}"


def test_only_vector_search_receives_the_api_key(gateway: Gateway) -> None:
    _, _, search = gateway.request("GET", "/v1/search/collections")
    _, _, embeddings = gateway.request("POST", "/v1/embeddings", body=b"{}")

    assert search["api_key"] == QDRANT_API_KEY
    assert embeddings["api_key"] is None


@pytest.mark.parametrize(
    "path", ["/admin", "/mcpx", "/mcp/other", "/v1/embeddings/x", "/v1/search"]
)
def test_unknown_path_with_the_token_is_404_json(gateway: Gateway, path: str) -> None:
    status, _, body = gateway.request("GET", path)

    assert status == 404
    assert body == {"error": "not_found", "status": 404}


def test_mcp_accepts_its_path_with_a_trailing_slash(gateway: Gateway) -> None:
    status, _, body = gateway.request("POST", "/mcp/", body=b"{}")

    assert status == 200
    assert body["upstream"] == "mcp"
    assert body["path"] == "/mcp/"


def test_body_over_the_limit_is_413_json(gateway: Gateway) -> None:
    status, _, body = gateway.request("POST", "/v1/embeddings", body=b"x" * (2 * 1024 * 1024))

    assert status == 413
    assert body == {"error": "request_too_large", "status": 413}


def test_past_the_rate_limit_answers_429_with_retry_after(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    port = free_port()
    settings = GatewaySettings(port=port, rate_limit={"requests_per_second": 1, "burst": 2})
    with running_nginx(
        tmp_path, loopback_nginx_conf(tmp_path, settings, upstreams), port
    ) as gateway:
        answers = [gateway.request("POST", "/v1/embeddings", body=b"{}") for _ in range(8)]

        statuses = [status for status, _, _ in answers]
        assert statuses[:3] == [200, 200, 200]  # one now plus a burst of two
        assert 429 in statuses
        _, headers, body = next(answer for answer in answers if answer[0] == 429)
        assert headers["retry-after"] == "1"
        assert body == {"error": "rate_limited", "status": 429}


def test_upstream_down_is_503_json(tmp_path: Path) -> None:
    port = free_port()
    dead = Endpoint("127.0.0.1", free_port())
    config = loopback_nginx_conf(tmp_path, GatewaySettings(port=port), Upstreams(dead, dead, dead))
    with running_nginx(tmp_path, config, port) as gateway:
        status, _, body = gateway.request("POST", "/v1/embeddings", body=b"{}")

        assert status == 503
        assert body == {"error": "upstream_unavailable", "status": 503}


def test_access_log_is_json_without_the_token_or_query(gateway: Gateway) -> None:
    before = len(gateway.access_log())
    gateway.request("GET", "/v1/search/collections?api-key=query-secret-123")
    gateway.request("POST", "/v1/embeddings", token=None, body=b"{}")

    entries = gateway.access_log(at_least=before + 2)
    text = gateway.log.read_text()
    assert [entry["status"] for entry in entries][-2:] == [200, 401]
    assert entries[-2]["path"] == "/v1/search/collections"
    assert entries[-2]["method"] == "GET"
    assert GATEWAY_TOKEN not in text
    assert "Bearer" not in text
    assert "query-secret-123" not in text


def test_program_stores_exactly_the_configuration_this_test_runs(deploy: Deploy) -> None:
    """The tests above run gateway_config.nginx_conf; the program must store its output."""
    run = deploy("studio")
    stored = run.one("kubernetes:core/v1:Secret", "gateway-config").inputs["stringData"][
        "nginx.conf"
    ]
    expected = deployed_nginx_conf(settings_from_stack_file("studio", PROJECT_DIR))
    assert stored == expected


@pytest.mark.parametrize("host", ["mcp.svc;inject", 'mcp"', "mcp svc", "", "-mcp"])
def test_an_upstream_host_that_is_not_a_dns_name_is_rejected(host: str) -> None:
    good = Endpoint("embedding.agent-platform.svc.cluster.local", 8080)
    with pytest.raises(ValueError, match="is not a DNS name or IPv4 address"):
        gateway_config.nginx_conf(
            GatewaySettings(),
            Upstreams(good, good, Endpoint(host, 8000)),
            token=GATEWAY_TOKEN,
            vector_search_api_key=QDRANT_API_KEY,
        )


def test_token_nginx_could_not_hold_is_rejected() -> None:
    upstream = Endpoint("127.0.0.1", 1)
    for bad in ("short", 'has"quote-0123456789', "has space 0123456789", "new\nline-0123456789"):
        with pytest.raises(ValueError, match="gatewayToken must be at least 16 characters"):
            gateway_config.nginx_conf(
                GatewaySettings(),
                Upstreams(upstream, upstream, upstream),
                token=bad,
                vector_search_api_key=QDRANT_API_KEY,
            )
