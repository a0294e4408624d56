"""Endpoints: what a component offers and its consumers take (infra/endpoints.py)."""

from __future__ import annotations

import pulumi

from infra.endpoints import Endpoint
from infra.offline.mock_engine import run_program


def urls(**endpoints: Endpoint) -> dict[str, str]:
    """Each endpoint's ``url``, resolved by the mock engine as a stack output."""

    def program() -> None:
        for name, endpoint in endpoints.items():
            pulumi.export(name, endpoint.url)

    return run_program(program, stack="studio", config={}).outputs


def test_url_joins_scheme_host_port_and_path() -> None:
    host = pulumi.Output.from_input("mcp.agents.svc.cluster.local")

    assert urls(
        plain=Endpoint("embedding.agents.svc.cluster.local", 8080),
        from_output=Endpoint(host, 8000, path="/mcp"),
        https=Endpoint("metrics-server.kube-system.svc.cluster.local", 443, scheme="https"),
    ) == {
        "plain": "http://embedding.agents.svc.cluster.local:8080",
        "from_output": "http://mcp.agents.svc.cluster.local:8000/mcp",
        "https": "https://metrics-server.kube-system.svc.cluster.local:443",
    }


def test_another_port_keeps_host_and_scheme_and_drops_the_path() -> None:
    rest = Endpoint("vector-search.agents.svc.cluster.local", 6333, "https", "/collections")

    assert urls(grpc=rest.with_port(6334), mcp=rest.with_path("/mcp")) == {
        "grpc": "https://vector-search.agents.svc.cluster.local:6334",
        "mcp": "https://vector-search.agents.svc.cluster.local:6333/mcp",
    }
