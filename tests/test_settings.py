"""Typed settings: defaults per stack, and every bad input named by its config key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infra.settings import (
    BudgetSettings,
    ConfigError,
    McpSettings,
    StackSettings,
    settings_from_stack_file,
)
from tests.certificates import authority, issue
from tests.components.helpers import container
from tests.conftest import DROP, GATEWAY_TOKEN, KNOWN_SECRETS, PROJECT_DIR, QDRANT_API_KEY, Deploy


def problems_of(deploy: Deploy, stack: str = "studio", **kwargs: Any) -> list[str]:
    run = deploy(stack, check=False, **kwargs)
    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == []
    return run.error.problems


def test_cluster_name_defaults_to_the_stack_name() -> None:
    assert StackSettings.model_validate({"stack": "homelab"}).cluster_name == "homelab"


def test_delete_on_destroy_defaults_per_stack() -> None:
    assert StackSettings.model_validate({"stack": "studio"}).cluster.delete_on_destroy is True
    assert StackSettings.model_validate({"stack": "homelab"}).cluster.delete_on_destroy is False


def test_settings_are_frozen() -> None:
    settings = StackSettings.model_validate({"stack": "studio"})
    with pytest.raises(ValidationError, match="frozen"):
        settings.namespace = "other"  # type: ignore[misc]


def test_every_problem_is_listed_with_its_key_at_once(deploy: Deploy) -> None:
    problems = problems_of(
        deploy,
        overrides={
            "gateway.replicas": 0,
            "embedding.image": "ghcr.io/huggingface/text-embeddings-inference",
            "cluster.workers": -1,
        },
    )

    assert any(p.startswith("agent-platform:gateway.replicas:") for p in problems)
    assert any(p.startswith("agent-platform:embedding.image:") and "no tag" in p for p in problems)
    assert any(p.startswith("agent-platform:cluster.workers:") for p in problems)
    assert len(problems) == 3


def test_unknown_nested_key_is_rejected_with_its_path(deploy: Deploy) -> None:
    problems = problems_of(deploy, overrides={"cluster.nodeImgae": "kindest/node:v1.34.0"})

    assert problems == [
        "agent-platform:cluster.nodeImgae: unknown key; check its spelling against the "
        "README's config reference"
    ]


def test_unknown_top_level_key_is_rejected(deploy: Deploy) -> None:
    problems = problems_of(deploy, overrides={"gatway": {"replicas": 2}})

    assert "agent-platform:gatway: unknown key; the supported keys are listed in the README" in (
        problems
    )


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        ({"gateway.image": "nginxinc/nginx-unprivileged:latest"}, "gateway.image", "'latest'"),
        ({"mcp.image": "mcp/qdrant"}, "mcp.image", "no tag"),
        ({"vectorSearch.image": "Qdrant/Qdrant:v1"}, "vectorSearch.image", "not an image"),
        (
            {"embedding.image": "ghcr.io/x/tei:1.8@sha256:abc"},
            "embedding.image",
            "not an image reference",
        ),
        ({"embedding.replicas": 0}, "embedding.replicas", "greater than or equal to 1"),
        (
            {"gateway.autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}},
            "gateway.autoscaling",
            "minReplicas 5 is greater than maxReplicas 2",
        ),
        ({"vectorSearch.storage": {"size": "20GB"}}, "vectorSearch.storage.size", "quantity"),
        ({"vectorSearch.storage": {"size": "0"}}, "vectorSearch.storage.size", "greater than"),
        ({"gateway.port": 70000}, "gateway.port", "less than or equal to 65535"),
        ({"gateway.port": 80}, "gateway.port", "greater than or equal to 1024"),
        (
            {"vectorSearch.httpPort": 6334},
            "vectorSearch",
            "httpPort and grpcPort are both 6334",
        ),
        (
            {"cluster.registry": {"enabled": True, "hostPort": 8080}},
            "cluster",
            "gatewayHostPort and registry.hostPort are both 8080",
        ),
        (
            {
                "gateway.resources": {
                    "requests": {"cpu": "2", "memory": "64Mi"},
                    "limits": {"cpu": "1", "memory": "64Mi"},
                }
            },
            "gateway.resources",
            "requests.cpu 2 exceeds limits.cpu 1",
        ),
        ({"cluster.target": "eks"}, "cluster.target", "'kind', 'existing' or 'render'"),
        ({"namespace": "Agent_Platform"}, "namespace", "not a Kubernetes name"),
        ({"cluster.createTimeoutSeconds": 5}, "cluster.createTimeoutSeconds", "60"),
        ({"embedding.model": "all-MiniLM"}, "embedding.model", "owner/name"),
        ({"gateway.maxBodySize": "1 MB"}, "gateway.maxBodySize", "nginx size"),
        (
            {"vectorSearch.snapshots": {"enabled": True}},
            "vectorSearch.snapshots",
            "no bucket is set",
        ),
        ({"vectorSearch.replicas": 2}, "vectorSearch", "replicas must be 1"),
        (
            {"vectorSearch.autoscaling": {"enabled": True}},
            "vectorSearch",
            "distributed mode",
        ),
        (
            {"observability": {"otlpEndpoint": "otel:4318"}},
            "observability.otlpEndpoint",
            "is not a URL; write it as http(s)://host[:port][/path]",
        ),
        ({"mcp.collection": "no spaces allowed"}, "mcp.collection", "not a collection name"),
        ({"gateway.nodePort": 8080}, "gateway.nodePort", "30000"),
        ({"embedding.cacheSize": "lots"}, "embedding.cacheSize", "quantity"),
        (
            {"gateway.resources": {"requests": {"cpu": "1"}}},
            "gateway.resources.requests.memory",
            "required",
        ),
    ],
)
def test_bad_setting_is_rejected_naming_its_key(
    deploy: Deploy, overrides: dict[str, Any], key: str, expected: str
) -> None:
    problems = problems_of(deploy, overrides=overrides)

    matching = [p for p in problems if p.startswith(f"agent-platform:{key}:")]
    assert matching, problems
    assert any(expected in p for p in matching), matching


def test_missing_required_secret_is_named_with_the_command_to_set_it(deploy: Deploy) -> None:
    problems = problems_of(deploy, secrets={"vectorSearchApiKey": QDRANT_API_KEY})

    assert problems == [
        "agent-platform:gatewayToken: required (the gateway's bearer token); set it with "
        "`pulumi config set --secret gatewayToken <value>`"
    ]


def test_secret_stored_in_plain_text_is_rejected(deploy: Deploy) -> None:
    problems = problems_of(
        deploy,
        secrets={"vectorSearchApiKey": QDRANT_API_KEY},
        overrides={"gatewayToken": GATEWAY_TOKEN},
    )

    assert any(
        p.startswith("agent-platform:gatewayToken: is stored in plain text") for p in problems
    )
    assert all(GATEWAY_TOKEN not in p for p in problems)


def test_snapshot_credentials_are_required_only_when_snapshots_are_enabled(
    deploy: Deploy,
) -> None:
    problems = problems_of(
        deploy,
        overrides={"vectorSearch.snapshots": {"enabled": True, "bucket": "agent-snapshots"}},
    )

    assert [p.split(":")[1] for p in problems] == [
        "snapshotAccessKeyId",
        "snapshotSecretAccessKey",
    ]


def test_existing_target_requires_a_kubeconfig_secret(deploy: Deploy) -> None:
    problems = problems_of(deploy, overrides={"cluster.target": "existing"})

    assert len(problems) == 1
    assert problems[0].startswith("agent-platform:kubeconfig: required")


def test_quantities_accept_plain_numbers_from_yaml(deploy: Deploy) -> None:
    settings = StackSettings.model_validate({"stack": "studio", "budget": {"cpu": 1}})
    assert settings.budget.cpu == "1"

    run = deploy(
        "studio",
        {
            "mcp.resources": {
                "requests": {"cpu": 0.5, "memory": "256Mi"},
                "limits": {"cpu": 2, "memory": "1Gi"},
            }
        },
    )
    resources = container(run, "mcp")["resources"]
    assert resources["requests"]["cpu"] == "0.5"
    assert resources["limits"]["cpu"] == "2"


def test_stack_file_without_optional_objects_uses_defaults(deploy: Deploy) -> None:
    run = deploy("studio", {"agent-platform:mcp": DROP, "agent-platform:budget": DROP})
    defaults = McpSettings()

    mcp = container(run, "mcp")
    assert mcp["image"] == defaults.image
    assert mcp["resources"]["requests"] == {
        "cpu": defaults.resources.requests.cpu,
        "memory": defaults.resources.requests.memory,
    }
    assert StackSettings.model_validate({"stack": "studio"}).budget == BudgetSettings()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("gatewayToken", "short"),
        ("gatewayToken", 'with"quote-0123456789'),
        ("vectorSearchApiKey", "with space 0123456789"),
        ("gatewayToken", "semi;colon-0123456789"),
    ],
)
def test_token_that_nginx_or_http_could_not_carry_is_rejected(
    deploy: Deploy, key: str, value: str
) -> None:
    problems = problems_of(deploy, secrets={**KNOWN_SECRETS, key: value})

    assert problems == [
        f"agent-platform:{key}: {key} must be at least 16 characters of A-Z a-z 0-9 . _ ~ + / = - "
        "(e.g. `openssl rand -hex 32`)"
    ]
    assert all(value not in problem for problem in problems)


def test_autoscaling_on_kind_without_metrics_server_is_rejected_with_the_fix(
    deploy: Deploy,
) -> None:
    problems = problems_of(deploy, "homelab", overrides={"cluster.installMetricsServer": False})

    assert problems == [
        "agent-platform:cluster.installMetricsServer: autoscaling is enabled for gateway, "
        "embedding but a kind cluster has no metrics-server; set it to true (or disable "
        "autoscaling)"
    ]


# ------------------------------------------------------------------------------ gateway.tls


def test_homelab_serves_https_by_default_and_studio_plain_http_on_loopback() -> None:
    homelab = settings_from_stack_file("homelab", PROJECT_DIR)
    studio = settings_from_stack_file("studio", PROJECT_DIR)

    assert (homelab.cluster.listen_address, homelab.gateway.tls.mode) == ("0.0.0.0", "generated")
    assert homelab.gateway.tls.dns_names  # a name other machines use, for the user to set
    assert homelab.cluster.plain_http_behind_tls_proxy is False
    assert (studio.cluster.listen_address, studio.gateway.tls.mode) == ("127.0.0.1", "off")


def test_plain_http_on_the_network_is_refused_with_both_ways_out(deploy: Deploy) -> None:
    problems = problems_of(deploy, "homelab", overrides={"gateway.tls": {"mode": "off"}})

    assert problems == [
        "agent-platform:cluster.listenAddress: 0.0.0.0 puts the gateway on every address of this "
        "machine, and with gateway.tls.mode off every request would carry the bearer token in "
        "clear across the network; set gateway.tls.mode: generated (or provided), or, when a "
        "TLS-terminating proxy in front is the only way in, say so with "
        "cluster.plainHttpBehindTlsProxy: true"
    ]


def test_plain_http_on_the_network_is_deployed_when_the_user_says_a_proxy_fronts_it(
    deploy: Deploy,
) -> None:
    run = deploy(
        "homelab",
        {"gateway.tls": {"mode": "off"}, "cluster.plainHttpBehindTlsProxy": True},
    )

    assert [
        r.name for r in run.of_type("kubernetes:core/v1:Secret") if r.name == "gateway-tls"
    ] == []
    assert [r for r in run.registrations if r.type.startswith("tls:")] == []


def test_the_proxy_statement_with_tls_on_is_refused(deploy: Deploy) -> None:
    problems = problems_of(deploy, "homelab", overrides={"cluster.plainHttpBehindTlsProxy": True})

    assert problems == [
        "agent-platform:cluster.plainHttpBehindTlsProxy: is true, but gateway.tls.mode is "
        "generated, so the gateway serves HTTPS itself; remove plainHttpBehindTlsProxy, or set "
        "gateway.tls.mode: off behind your proxy"
    ]


def test_a_generated_certificate_on_the_network_must_name_how_it_is_reached(
    deploy: Deploy,
) -> None:
    problems = problems_of(deploy, "homelab", overrides={"gateway.tls": {"mode": "generated"}})

    assert len(problems) == 1
    assert problems[0].startswith("agent-platform:gateway.tls: the gateway listens on the network")
    assert "dnsNames" in problems[0]
    assert "ipAddresses" in problems[0]
    # On loopback, localhost is all a certificate needs to name.
    deploy("studio", {"gateway.tls": {"mode": "generated"}})


@pytest.mark.parametrize(
    ("tls", "expected"),
    [
        ({"mode": "provided"}, "mode is provided but no certificate is set"),
        ({"mode": "generated", "certificate": "x"}, "not a certificate chain"),
        ({"mode": "off", "dnsNames": ["homelab.lan"]}, "but mode is off"),
        ({"mode": "off", "ipAddresses": ["192.168.1.10"]}, "set mode: generated, or remove them"),
        ({"mode": "generated", "validityDays": 30, "renewBeforeDays": 30}, "every run would issue"),
        ({"mode": "generated", "validityDays": 900}, "less than or equal to 825"),
        ({"mode": "on"}, "'off', 'provided' or 'generated'"),
    ],
)
def test_each_tls_mode_takes_only_its_own_fields(
    deploy: Deploy, tls: dict[str, Any], expected: str
) -> None:
    problems = problems_of(deploy, overrides={"gateway.tls": tls})

    assert [p for p in problems if p.startswith("agent-platform:gateway.tls") and expected in p]


def test_a_certificate_with_another_mode_is_refused_naming_the_fix(deploy: Deploy) -> None:
    chain = issue(authority()).chain

    problems = problems_of(deploy, overrides={"gateway.tls": {"mode": "off", "certificate": chain}})

    assert problems == [
        "agent-platform:gateway.tls: certificate is set but mode is off; set mode: provided to "
        "serve it, or remove it"
    ]


def test_a_provided_certificate_needs_its_key_as_a_secret_read_from_a_file(deploy: Deploy) -> None:
    chain = issue(authority()).chain

    problems = problems_of(
        deploy, overrides={"gateway.tls": {"mode": "provided", "certificate": chain}}
    )

    assert problems == [
        "agent-platform:gatewayTlsKey: required (gateway.tls.mode is provided); set it with "
        "`pulumi config set --secret gatewayTlsKey < key.pem`"
    ]


def test_a_provided_key_in_plain_text_is_refused_and_not_shown(deploy: Deploy) -> None:
    served = issue(authority())

    problems = problems_of(
        deploy,
        overrides={
            "gateway.tls": {"mode": "provided", "certificate": served.chain},
            "gatewayTlsKey": served.key,
        },
    )

    assert problems == [
        "agent-platform:gatewayTlsKey: is stored in plain text; set it again with "
        "`pulumi config set --secret gatewayTlsKey < key.pem` so it stays encrypted"
    ]
