"""What every workload gets from the shared builder, checked on all four."""

from __future__ import annotations

import pytest

from infra.offline.mock_engine import ProgramRun
from infra.workload import HttpProbe, ProbeTiming, TcpProbe
from tests.components.helpers import as_int, container, pod_template
from tests.conftest import KNOWN_SECRETS, Deploy

COMPONENTS = ("gateway", "embedding", "vector-search", "mcp")
COMPONENT_TYPES = {
    "gateway": "agent-platform:platform:Gateway",
    "embedding": "agent-platform:platform:Embedding",
    "vector-search": "agent-platform:platform:VectorSearch",
    "mcp": "agent-platform:platform:McpServer",
}
OWNERS = {**COMPONENT_TYPES, "metrics-server": "agent-platform:platform:MetricsServer"}


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_pod_runs_restricted(studio: ProgramRun, component: str) -> None:
    pod = pod_template(studio, component)["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert as_int(pod["securityContext"]["runAsUser"]) > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == component

    context = container(studio, component)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert as_int(context["runAsUser"]) > 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_container_has_pinned_image_resources_and_three_probes(
    studio: ProgramRun, component: str
) -> None:
    spec = container(studio, component)
    image = spec["image"]
    assert ":" in image.rsplit("/", 1)[-1]
    assert not image.endswith(":latest")
    for kind in ("requests", "limits"):
        assert set(spec["resources"][kind]) == {"cpu", "memory"}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert probe in spec


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_workload_has_labels_service_account_service_and_policy(
    studio: ProgramRun, component: str
) -> None:
    labels = pod_template(studio, component)["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == component
    assert labels["app.kubernetes.io/instance"] == "studio"
    assert labels["app.kubernetes.io/part-of"] == "agent-platform"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert labels["app.kubernetes.io/name"]
    assert labels["app.kubernetes.io/version"]

    account = studio.one("kubernetes:core/v1:ServiceAccount", f"{component}-sa")
    assert account.inputs["automountServiceAccountToken"] is False
    service = studio.one("kubernetes:core/v1:Service", f"{component}-svc")
    assert all(port["name"] for port in service.inputs["spec"]["ports"])
    assert service.inputs["spec"]["selector"] == {
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/instance": "studio",
    }
    policy = studio.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", f"{component}-netpol")
    assert policy.inputs["spec"]["policyTypes"] == ["Ingress", "Egress"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_workload_carries_opentelemetry_env(studio: ProgramRun, component: str) -> None:
    env = {e["name"]: e.get("value") for e in container(studio, component)["env"]}
    assert env["OTEL_SERVICE_NAME"] == component
    assert "deployment.environment=studio" in env["OTEL_RESOURCE_ATTRIBUTES"]
    assert "k8s.cluster.name=studio" in env["OTEL_RESOURCE_ATTRIBUTES"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env


def test_otlp_endpoint_reaches_every_workload_and_its_egress(deploy: Deploy) -> None:
    run = deploy("studio", {"observability": {"otlpEndpoint": "http://otel.observability:4318"}})
    for component in COMPONENTS:
        env = {e["name"]: e.get("value") for e in container(run, component)["env"]}
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel.observability:4318"
        policy = run.one(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy", f"{component}-netpol"
        ).inputs["spec"]
        ports = {as_int(p["port"]) for rule in policy["egress"] for p in rule["ports"]}
        assert 4318 in ports, component


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_kubernetes_object_is_parented_to_its_component_and_uses_the_provider(
    studio: ProgramRun, component: str
) -> None:
    owner = studio.one(COMPONENT_TYPES[component])
    provider = studio.one("pulumi:providers:kubernetes")
    children = [r for r in studio.registrations if r.parent == owner.urn]
    assert {r.type for r in children} >= {
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:core/v1:Service",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }
    for child in children:
        assert child.provider.startswith(provider.urn), child.name


def test_every_object_a_component_owns_carries_its_standard_labels(deploy: Deploy) -> None:
    snapshots = {"enabled": True, "bucket": "agent-snapshots", "region": "eu-west-1"}
    run = deploy(
        "homelab",
        {"vectorSearch.snapshots": snapshots},
        secrets={**KNOWN_SECRETS, "snapshotAccessKeyId": "A", "snapshotSecretAccessKey": "S"},
    )

    for component, owner_type in OWNERS.items():
        owner = run.one(owner_type)
        children = [r for r in run.kubernetes_objects() if r.parent == owner.urn]
        assert len(children) >= 4, component
        for child in children:
            # Secrets, the data claim and metrics-server's RBAC too, not only the workload's.
            labels = child.inputs["metadata"]["labels"]
            assert labels["app.kubernetes.io/component"] == component, child.name
            assert labels["app.kubernetes.io/instance"] == "homelab", child.name
            assert labels["app.kubernetes.io/part-of"] == "agent-platform", child.name
            assert labels["app.kubernetes.io/managed-by"] == "pulumi", child.name
            assert labels["app.kubernetes.io/name"], child.name


def test_http_and_tcp_probes_share_one_set_of_timings() -> None:
    http = HttpProbe("/healthz", "http", period_seconds=5, failure_threshold=30)
    tcp = TcpProbe("http", period_seconds=5, failure_threshold=30)

    assert (http.path, http.port, http.scheme) == ("/healthz", "http", "HTTP")
    for probe in (http, tcp):
        assert isinstance(probe, ProbeTiming)
        assert (probe.period_seconds, probe.timeout_seconds) == (5, 3)
        assert (probe.failure_threshold, probe.initial_delay_seconds) == (30, 0)


def test_no_kubernetes_object_is_left_without_a_component(studio: ProgramRun) -> None:
    stack = next(r for r in studio.registrations if r.type.startswith("agent-platform:")).parent
    loose = [r.name for r in studio.kubernetes_objects() if r.parent == stack]
    assert loose == []


def test_one_replica_means_no_disruption_budget_and_no_autoscaler(studio: ProgramRun) -> None:
    assert studio.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []
    assert studio.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") == []


def test_the_pod_template_does_not_depend_on_the_replica_count(deploy: Deploy) -> None:
    """Scaling must not roll the running pods: the template is the same at 1 and 3 replicas
    (a spread constraint added only above one replica did roll them, on the real engine)."""
    one = pod_template(deploy("studio"), "gateway")
    three = pod_template(deploy("studio", {"gateway.replicas": 3}), "gateway")

    assert one == three
    assert one["spec"]["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"


def test_rollouts_never_go_below_the_desired_replicas(studio: ProgramRun) -> None:
    for component in ("gateway", "embedding", "mcp"):
        deployment = studio.one("kubernetes:apps/v1:Deployment", component)
        rolling = deployment.inputs["spec"]["strategy"]["rollingUpdate"]
        assert as_int(rolling["maxUnavailable"]) == 0
        assert as_int(rolling["maxSurge"]) == 1


def test_homelab_gets_budgets_autoscalers_and_spread(deploy: Deploy) -> None:
    run = deploy("homelab")

    budgets = {r.name for r in run.of_type("kubernetes:policy/v1:PodDisruptionBudget")}
    assert budgets == {"gateway-pdb", "embedding-pdb"}
    autoscalers = {
        r.name: r.inputs["spec"]
        for r in run.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    }
    assert set(autoscalers) == {"gateway-hpa", "embedding-hpa"}
    gateway_hpa = autoscalers["gateway-hpa"]
    assert as_int(gateway_hpa["minReplicas"]) == 2
    assert as_int(gateway_hpa["maxReplicas"]) == 4
    assert gateway_hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "gateway",
    }
    target = gateway_hpa["metrics"][0]["resource"]["target"]
    assert as_int(target["averageUtilization"]) == 70
    # The Deployment starts at the autoscaler's minimum (leaving the field out would make the
    # API server reset it to 1), then the autoscaler owns the count: the program ignores it.
    gateway = run.one("kubernetes:apps/v1:Deployment", "gateway")
    assert as_int(gateway.inputs["spec"]["replicas"]) == 2
    assert gateway.ignore_changes == ("spec.replicas",)
    spread = {
        c["topologyKey"]: c
        for c in pod_template(run, "embedding")["spec"]["topologySpreadConstraints"]
    }
    # Hard by node (tainted and cordoned nodes left out of the count), soft by zone: what the
    # real scheduler needs (tests/engine/test_placement.py).
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert spread["kubernetes.io/hostname"]["nodeTaintsPolicy"] == "Honor"
    assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    for constraint in spread.values():
        assert constraint["matchLabelKeys"] == ["pod-template-hash"]
        assert as_int(constraint["maxSkew"]) == 1


def test_fixed_replicas_above_one_get_a_budget_without_an_autoscaler(deploy: Deploy) -> None:
    run = deploy("studio", {"mcp.replicas": 3})

    assert {r.name for r in run.of_type("kubernetes:policy/v1:PodDisruptionBudget")} == {"mcp-pdb"}
    assert as_int(run.one("kubernetes:apps/v1:Deployment", "mcp").inputs["spec"]["replicas"]) == 3


def test_namespace_enforces_restricted_pod_security_and_denies_by_default(
    studio: ProgramRun,
) -> None:
    namespace = studio.one("kubernetes:core/v1:Namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert namespace.inputs["metadata"]["name"] == "agent-platform"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.34"
    deny = studio.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny")
    assert deny.inputs["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_namespace_is_configurable(deploy: Deploy) -> None:
    run = deploy("studio", {"namespace": "agents"})

    assert run.one("kubernetes:core/v1:Namespace").inputs["metadata"]["name"] == "agents"
    for registration in run.kubernetes_objects():
        namespace = registration.inputs.get("metadata", {}).get("namespace")
        assert namespace in (None, "agents", "kube-public"), registration.name


def test_local_registry_is_advertised_only_when_enabled(deploy: Deploy) -> None:
    studio = deploy("studio")
    homelab = deploy("homelab")

    hosting = studio.one("kubernetes:core/v1:ConfigMap", "local-registry-hosting")
    assert hosting.inputs["metadata"]["namespace"] == "kube-public"
    assert 'host: "localhost:5001"' in hosting.inputs["data"]["localRegistryHosting.v1"]
    names = [r.name for r in homelab.of_type("kubernetes:core/v1:ConfigMap")]
    assert "local-registry-hosting" not in names


def _empties(value: object, path: str = "", in_list: bool = False) -> list[str]:
    """Paths of nulls, empty lists and empty field values ("" in a list is a value: the core
    API group of an RBAC rule)."""
    if value is None or value == [] or (value == "" and not in_list):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _empties(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [
            p for i, item in enumerate(value) for p in _empties(item, f"{path}[{i}]", in_list=True)
        ]
    return []


@pytest.mark.parametrize("stack", ["studio", "homelab"])
def test_no_object_writes_an_empty_list_string_or_null(deploy: Deploy, stack: str) -> None:
    """The real provider drops them, so writing one made the mocks' objects differ from the
    engine's and every apply a change (found by the engine and counterparts tiers)."""
    run = deploy(stack)

    found = {r.name: _empties(r.inputs) for r in run.kubernetes_objects()}

    assert {name: paths for name, paths in found.items() if paths} == {}
