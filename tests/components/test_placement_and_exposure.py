"""Placement (nodeSelector, tolerations, priority classes) and the gateway's exposure on an
existing cluster, under mocks: what the program writes, and hostile values refused by key
before any resource. The real scheduler and API server check the same objects in
tests/engine/test_placement.py."""

from __future__ import annotations

from typing import Any, Final

import pytest

from infra.offline.mock_engine import ProgramRun
from infra.settings import ConfigError
from tests import certificates
from tests.components.helpers import pod_template
from tests.conftest import KNOWN_SECRETS, Deploy

EXISTING: Final = {"cluster.target": "existing"}
WITH_KUBECONFIG: Final = {**KNOWN_SECRETS, "kubeconfig": "apiVersion: v1\nkind: Config\n"}
PROXY: Final = {"cluster.plainHttpBehindTlsProxy": True}
CERTIFICATE: Final = certificates.issue(certificates.authority())


def existing(deploy: Deploy, overrides: dict[str, Any]) -> ProgramRun:
    return deploy("studio", {**EXISTING, **overrides}, secrets=WITH_KUBECONFIG)


def refused(deploy: Deploy, overrides: dict[str, Any]) -> list[str]:
    run = deploy("studio", overrides, secrets=WITH_KUBECONFIG, check=False)
    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == [], "nothing is registered before the settings are valid"
    return run.error.problems


# ------------------------------------------------------------------------------- placement


def test_node_selector_tolerations_and_priority_reach_the_pod_template(deploy: Deploy) -> None:
    run = deploy(
        "studio",
        {
            "embedding.nodeSelector": {"node.example.com/pool": "big"},
            "embedding.tolerations": [
                {
                    "key": "dedicated",
                    "operator": "Equal",
                    "value": "embedding",
                    "effect": "NoSchedule",
                },
                {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
            ],
            "embedding.priorityClassName": "batch-high",
        },
    )
    spec = pod_template(run, "embedding")["spec"]

    assert spec["nodeSelector"] == {"node.example.com/pool": "big"}
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "embedding", "effect": "NoSchedule"},
        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
    ]
    assert spec["priorityClassName"] == "batch-high"
    assert "nodeSelector" not in pod_template(run, "gateway")["spec"]


def test_a_created_priority_class_is_used_by_workloads_without_their_own(deploy: Deploy) -> None:
    run = deploy(
        "studio",
        {
            "priorityClass": {"create": True, "name": "agents", "value": 5000},
            "mcp.priorityClassName": "batch-low",
        },
    )
    created = run.one("kubernetes:scheduling.k8s.io/v1:PriorityClass")

    assert created.inputs["metadata"]["name"] == "agents"
    assert created.inputs["value"] == 5000
    assert created.inputs["globalDefault"] is False
    for component in ("gateway", "embedding"):
        assert pod_template(run, component)["spec"]["priorityClassName"] == "agents"
    assert pod_template(run, "mcp")["spec"]["priorityClassName"] == "batch-low"


def test_without_a_priority_class_none_is_set(studio: ProgramRun) -> None:
    assert studio.of_type("kubernetes:scheduling.k8s.io/v1:PriorityClass") == []
    assert "priorityClassName" not in pod_template(studio, "gateway")["spec"]


@pytest.mark.parametrize(
    ("overrides", "key", "says"),
    [
        (
            {"gateway.nodeSelector": {"bad key!": "x"}},
            "gateway.nodeSelector",
            "label or annotation key",
        ),
        ({"gateway.nodeSelector": {"pool": "-bad"}}, "gateway.nodeSelector", "label value"),
        ({"gateway.nodeSelector": {"pool": "x" * 64}}, "gateway.nodeSelector", "label value"),
        (
            {"gateway.nodeSelector": {"UPPER.example.com/pool": "x"}},
            "gateway.nodeSelector",
            "label or annotation key",
        ),
        (
            {"gateway.tolerations": [{"key": "a", "operator": "Exists", "value": "b"}]},
            "gateway.tolerations[0]",
            "takes no value",
        ),
        (
            {"gateway.tolerations": [{"operator": "Equal", "value": "b"}]},
            "gateway.tolerations[0]",
            "without a key",
        ),
        (
            {"gateway.tolerations": [{"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5}]},
            "gateway.tolerations[0]",
            "only to effect: NoExecute",
        ),
        (
            {"gateway.tolerations": [{"key": "a", "effect": "Sometimes"}]},
            "gateway.tolerations[0].effect",
            "",
        ),
        ({"embedding.priorityClassName": "system-mine"}, "embedding.priorityClassName", "reserved"),
        (
            {"embedding.priorityClassName": "Not_A_Name"},
            "embedding.priorityClassName",
            "PriorityClass name",
        ),
        ({"priorityClass": {"create": True, "value": 2_000_000_000}}, "priorityClass.value", ""),
        (
            {"priorityClass": {"create": True, "name": "system-cluster-critical"}},
            "priorityClass",
            "makes the system- classes itself",
        ),
    ],
    ids=lambda value: str(value)[:40],
)
def test_hostile_placement_values_are_refused_by_key(
    deploy: Deploy, overrides: dict[str, Any], key: str, says: str
) -> None:
    problems = refused(deploy, overrides)

    assert any(p.startswith(f"agent-platform:{key}") and says in p for p in problems), problems


# -------------------------------------------------------------------------------- exposure


def test_a_load_balancer_carries_the_annotations_and_source_ranges(deploy: Deploy) -> None:
    run = existing(
        deploy,
        {
            **PROXY,
            "gateway.exposure": {
                "type": "loadBalancer",
                "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
                "loadBalancerSourceRanges": ["192.168.0.0/16"],
            },
        },
    )
    service = run.one("kubernetes:core/v1:Service", "gateway-svc").inputs

    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert service["spec"]["loadBalancerSourceRanges"] == ["192.168.0.0/16"]
    assert service["metadata"]["annotations"] == {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"
    }


def test_an_ingress_ends_tls_at_its_host(deploy: Deploy) -> None:
    run = existing(
        deploy,
        {
            "gateway.exposure": {
                "type": "ingress",
                "ingressClassName": "nginx",
                "host": "agents.example.com",
                "tlsSecretName": "agents-tls",
            }
        },
    )
    ingress = run.one("kubernetes:networking.k8s.io/v1:Ingress", "gateway-ingress").inputs

    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["agents.example.com"], "secretName": "agents-tls"}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "agents.example.com"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "gateway", "port": {"name": "http"}}
    assert (
        run.one("kubernetes:core/v1:Service", "gateway-svc").inputs["spec"]["type"] == "ClusterIP"
    )


def test_an_http_route_attaches_to_the_named_gateway(deploy: Deploy) -> None:
    run = existing(
        deploy,
        {
            **PROXY,
            "gateway.exposure": {
                "type": "httpRoute",
                "parentRefs": [{"name": "shared", "namespace": "infra", "sectionName": "https"}],
                "hostnames": ["agents.example.com"],
            },
        },
    )
    route = run.one("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "gateway-route").inputs

    assert route["spec"]["parentRefs"] == [
        {"name": "shared", "namespace": "infra", "sectionName": "https"}
    ]
    assert route["spec"]["hostnames"] == ["agents.example.com"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "gateway", "port": 80}]


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"gateway.exposure": {"type": "loadBalancer"}}, "in clear to the load balancer"),
        ({"gateway.exposure": {"type": "ingress", "host": "a.example.com"}}, "over plain HTTP"),
        (
            {"gateway.exposure": {"type": "httpRoute", "parentRefs": [{"name": "g"}]}},
            "parent Gateway's listener",
        ),
        ({"gateway.exposure": {"type": "ingress"}}, "needs host"),
        (
            {
                "gateway.exposure": {
                    "type": "ingress",
                    "host": "Agents.Example.com",
                    "tlsSecretName": "t",
                }
            },
            "has capitals",
        ),
        (
            {
                "gateway.tls": {"mode": "provided", "certificate": CERTIFICATE.chain},
                "gateway.exposure": {"type": "httpRoute", "parentRefs": [{"name": "g"}]},
            },
            "parent Gateway's listener",
        ),
        ({"gateway.exposure": {"type": "httpRoute"}}, "needs parentRefs"),
        (
            {"gateway.exposure": {"type": "clusterIP", "host": "a.example.com"}},
            "do not apply to type clusterIP",
        ),
        (
            {
                "gateway.exposure": {
                    "type": "loadBalancer",
                    "loadBalancerSourceRanges": ["10.0.0.1/8"],
                }
            },
            "host bits zero",
        ),
        (
            {
                "gateway.exposure": {
                    "type": "ingress",
                    "host": "*.example.com",
                    "tlsSecretName": "t",
                }
            },
            "gateway.exposure.host",
        ),
        (
            {"gateway.exposure": {"type": "loadBalancer", "annotations": {"a": "line\nbreak"}}},
            "control character",
        ),
    ],
    ids=lambda value: str(value)[:50],
)
def test_exposures_that_would_send_tokens_in_clear_or_make_no_sense_are_refused(
    deploy: Deploy, overrides: dict[str, Any], says: str
) -> None:
    problems = refused(deploy, {**EXISTING, **overrides})

    assert any(says in p for p in problems), problems


def test_exposure_on_kind_is_refused_naming_the_host_port(deploy: Deploy) -> None:
    problems = refused(
        deploy,
        {"gateway.exposure": {"type": "ingress", "host": "a.example.com", "tlsSecretName": "t"}},
    )

    assert any("gateway.exposure.type: ingress is for an existing cluster" in p for p in problems)
