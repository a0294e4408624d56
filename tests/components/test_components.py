"""Each component's own objects, and the wiring between them (through Outputs)."""

from __future__ import annotations

import pytest

from infra.offline.mock_engine import ProgramRun
from infra.settings import ConfigError
from tests.components.helpers import as_int, container, env, network_policy, pod_template
from tests.conftest import KNOWN_SECRETS, Deploy


def peers(rules: list[dict], direction: str) -> list[tuple[str, set[int]]]:  # type: ignore[type-arg]
    """(component or kind of peer, ports) for each rule."""
    found = []
    for rule in rules:
        ports = {as_int(p["port"]) for p in rule.get("ports", [])}
        targets = rule.get(direction)
        if not targets:
            found.append(("any", ports))
            continue
        for target in targets:
            if "podSelector" in target and "namespaceSelector" not in target:
                found.append(
                    (target["podSelector"]["matchLabels"]["app.kubernetes.io/component"], ports)
                )
            elif "ipBlock" in target:
                found.append(("internet", ports))
            elif "podSelector" in target:
                found.append(("dns", ports))
            else:
                found.append(("namespace", ports))
    return found


# ------------------------------------------------------------------------------- embedding


def test_embedding_runs_tei_with_the_configured_model_and_a_model_cache(
    deploy: Deploy,
) -> None:
    run = deploy(
        "studio",
        {"embedding.model": "BAAI/bge-small-en-v1.5", "embedding.revision": "5c38ec7c"},
    )
    spec = container(run, "embedding")

    assert spec["image"].startswith("ghcr.io/huggingface/text-embeddings-inference:cpu-")
    args = spec["args"]
    assert args[args.index("--model-id") + 1] == "BAAI/bge-small-en-v1.5"
    assert args[args.index("--revision") + 1] == "5c38ec7c"
    assert args[args.index("--port") + 1] == "8080"
    assert env(run, "embedding")["HUGGINGFACE_HUB_CACHE"] == "/data"
    volumes = {v["name"]: v for v in pod_template(run, "embedding")["spec"]["volumes"]}
    assert volumes["model-cache"]["emptyDir"]["sizeLimit"] == "2Gi"


def test_embedding_default_model_and_health_probes(studio: ProgramRun) -> None:
    spec = container(studio, "embedding")

    assert "sentence-transformers/all-MiniLM-L6-v2" in spec["args"]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert spec[probe]["httpGet"] == {"path": "/health", "port": "http", "scheme": "HTTP"}
    startup = spec["startupProbe"]
    # Long enough for the model download: startupTimeoutSeconds (600) of probing.
    assert as_int(startup["periodSeconds"]) * as_int(startup["failureThreshold"]) >= 600


def test_embedding_serves_metrics_with_scrape_annotations(studio: ProgramRun) -> None:
    annotations = pod_template(studio, "embedding")["metadata"]["annotations"]
    ports = {p["name"]: as_int(p["containerPort"]) for p in container(studio, "embedding")["ports"]}

    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(ports["metrics"])
    assert annotations["prometheus.io/path"] == "/metrics"


def test_embedding_accepts_only_the_gateway_and_may_download_models(studio: ProgramRun) -> None:
    policy = network_policy(studio, "embedding")

    ingress = peers(policy["ingress"], "from")
    assert ("gateway", {8080}) in ingress
    assert ("namespace", {9000}) in ingress  # metrics from the monitoring namespace
    assert all(name != "mcp" for name, _ in ingress)
    egress = peers(policy["egress"], "to")
    assert ("dns", {53}) in egress
    assert ("internet", {443}) in egress


# ---------------------------------------------------------------------------- vector search


def test_vector_search_is_a_statefulset_on_a_protected_claim(deploy: Deploy) -> None:
    run = deploy("homelab")
    statefulset = run.one("kubernetes:apps/v1:StatefulSet", "vector-search")
    claim = run.one("kubernetes:core/v1:PersistentVolumeClaim", "vector-search-data")

    assert claim.protect is True
    # Size and class are immutable on a bound claim (tests/counterparts shows the API server
    # refusing both): a change replaces the claim, which protect refuses until lifted.
    assert claim.replace_on_changes == ("spec.resources.requests.storage", "spec.storageClassName")
    assert claim.delete_before_replace is True
    assert claim.inputs["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteOnce"]
    volumes = statefulset.inputs["spec"]["template"]["spec"]["volumes"]
    claims = [v for v in volumes if "persistentVolumeClaim" in v]
    assert claims == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "vector-search-data"}}
    ]
    mounts = {
        m["mountPath"]: m.get("subPath")
        for m in container(run, "vector-search")["volumeMounts"]
        if m["name"] == "data"
    }
    # Local snapshots persist with the collections, not in an emptyDir.
    assert mounts == {"/qdrant/storage": "storage", "/qdrant/snapshots": "snapshots"}
    assert as_int(statefulset.inputs["spec"]["replicas"]) == 1


@pytest.mark.parametrize("stack", ["studio", "homelab"])
def test_the_namespace_is_protected_exactly_when_the_data_claim_is(
    deploy: Deploy, stack: str
) -> None:
    """Deleting a namespace deletes the claim in it: on the real engine an unprotected namespace
    let a new `namespace` setting delete homelab's protected data."""
    run = deploy(stack)
    claim = run.one("kubernetes:core/v1:PersistentVolumeClaim", "vector-search-data")
    namespace = run.one("kubernetes:core/v1:Namespace", "namespace")

    assert namespace.protect is claim.protect
    assert namespace.protect is (stack == "homelab")


def test_studio_volume_is_not_protected_and_storage_class_is_configurable(
    deploy: Deploy,
) -> None:
    run = deploy("studio", {"vectorSearch.storage": {"size": "5Gi", "storageClass": "fast"}})
    claim = run.one("kubernetes:core/v1:PersistentVolumeClaim", "vector-search-data")

    assert claim.protect is False
    assert claim.inputs["spec"]["storageClassName"] == "fast"
    assert claim.inputs["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_vector_search_api_key_comes_from_a_secret_reference(studio: ProgramRun) -> None:
    variables = env(studio, "vector-search")

    assert variables["QDRANT__SERVICE__API_KEY"] == ("secret", "vector-search-api-key", "api-key")
    secret = studio.one("kubernetes:core/v1:Secret", "vector-search-api-key")
    assert isinstance(secret.wire["stringData"], dict)
    assert secret.inputs["stringData"] == {"api-key": KNOWN_SECRETS["vectorSearchApiKey"]}


def test_vector_search_ports_and_probes(studio: ProgramRun) -> None:
    spec = container(studio, "vector-search")

    assert {p["name"]: as_int(p["containerPort"]) for p in spec["ports"]} == {
        "http": 6333,
        "grpc": 6334,
    }
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    service = studio.one("kubernetes:core/v1:Service", "vector-search-svc")
    assert {p["name"] for p in service.inputs["spec"]["ports"]} == {"http", "grpc"}


def test_snapshots_go_to_s3_with_credentials_from_a_secret(deploy: Deploy) -> None:
    run = deploy(
        "homelab",
        {
            "vectorSearch.snapshots": {
                "enabled": True,
                "bucket": "agent-snapshots",
                "endpoint": "http://minio.lan:9000",
                "region": "eu-west-1",
            }
        },
        secrets={
            **KNOWN_SECRETS,
            "snapshotAccessKeyId": "AKIA-SENTINEL-ACCESS",
            "snapshotSecretAccessKey": "SECRET-SENTINEL-KEY-0001",
        },
    )
    variables = env(run, "vector-search")
    prefix = "QDRANT__STORAGE__SNAPSHOTS_CONFIG__"

    assert variables[f"{prefix}SNAPSHOTS_STORAGE"] == "s3"
    assert variables[f"{prefix}S3_CONFIG__BUCKET"] == "agent-snapshots"
    assert variables[f"{prefix}S3_CONFIG__ENDPOINT_URL"] == "http://minio.lan:9000"
    assert variables[f"{prefix}S3_CONFIG__ACCESS_KEY"] == (
        "secret",
        "vector-search-snapshots",
        "access-key-id",
    )
    assert variables[f"{prefix}S3_CONFIG__SECRET_KEY"][0] == "secret"
    assert ("any", {9000}) in peers(network_policy(run, "vector-search")["egress"], "to")


def test_vector_search_accepts_the_gateway_and_mcp_only(studio: ProgramRun) -> None:
    ingress = peers(network_policy(studio, "vector-search")["ingress"], "from")

    assert {name for name, _ in ingress} == {"gateway", "mcp"}
    assert all(ports == {6333, 6334} for _, ports in ingress)
    egress = peers(network_policy(studio, "vector-search")["egress"], "to")
    assert egress == [("dns", {53})]


# ------------------------------------------------------------------------------------- mcp


def test_mcp_serves_streamable_http_wired_to_vector_search(studio: ProgramRun) -> None:
    spec = container(studio, "mcp")
    variables = env(studio, "mcp")

    assert spec["command"] == ["mcp-server-qdrant", "--transport", "streamable-http"]
    assert variables["QDRANT_URL"] == "http://vector-search.agent-platform.svc.cluster.local:6333"
    assert variables["QDRANT_API_KEY"] == ("secret", "vector-search-api-key", "api-key")
    assert variables["COLLECTION_NAME"] == "agent-memory"
    assert variables["FASTMCP_PORT"] == "8000"
    assert spec["livenessProbe"]["tcpSocket"] == {"port": "http"}
    assert "EMBEDDING_URL" not in variables


def test_pods_reading_the_api_key_roll_when_it_changes(deploy: Deploy) -> None:
    def annotations(run: ProgramRun) -> dict[str, str]:
        return {
            component: pod_template(run, component)["metadata"]["annotations"]["checksum/config"]
            for component in ("vector-search", "mcp", "gateway")
        }

    before = annotations(deploy("studio"))
    after = annotations(
        deploy("studio", secrets={**KNOWN_SECRETS, "vectorSearchApiKey": "rotated-key-0123456789"})
    )

    assert all(before[component] != after[component] for component in before)


def test_mcp_talks_to_vector_search_and_only_the_gateway_talks_to_it(
    studio: ProgramRun,
) -> None:
    policy = network_policy(studio, "mcp")

    assert peers(policy["ingress"], "from") == [("gateway", {8000})]
    egress = peers(policy["egress"], "to")
    assert ("vector-search", {6333}) in egress
    assert all(name != "embedding" for name, _ in egress)


# An MCP server that, unlike mcp-server-qdrant, can call the embedding service.
EMBEDDING_AWARE_MCP = {"mcp.image": "registry.example/agent-memory-mcp:1.2.0",
                       "mcp.command": ["agent-memory-mcp", "--http"]}  # fmt: skip


def test_mcp_can_be_wired_to_the_embedding_service(deploy: Deploy) -> None:
    run = deploy("studio", {**EMBEDDING_AWARE_MCP, "mcp.useEmbeddingService": True})

    assert env(run, "mcp")["EMBEDDING_URL"] == (
        "http://embedding.agent-platform.svc.cluster.local:8080"
    )
    assert ("embedding", {8080}) in peers(network_policy(run, "mcp")["egress"], "to")
    assert ("mcp", {8080}) in peers(network_policy(run, "embedding")["ingress"], "from")


@pytest.mark.parametrize(
    "server",
    [
        {},  # the default image
        {"mcp.image": "registry.example/mirror/mcp/qdrant:0.8.0"},  # a mirror of it
        {"mcp.image": "registry.example/qdrant-mcp:0.8.0",  # another build of the same server
         "mcp.command": ["/usr/local/bin/mcp-server-qdrant", "--transport", "streamable-http"]},
    ],
)  # fmt: skip
def test_embedding_service_with_mcp_server_qdrant_is_refused_before_any_resource(
    deploy: Deploy, server: dict[str, object]
) -> None:
    run = deploy("studio", {**server, "mcp.useEmbeddingService": True}, check=False)

    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == []
    [problem] = run.error.problems
    assert problem.startswith("agent-platform:mcp: useEmbeddingService is true, but the MCP ")
    assert "embeds only in-process with FastEmbed" in problem


READ_ONLY_KEY = "qdrant-read-only-SENTINEL-60a2e1"
WITH_READ_ONLY_KEY = {**KNOWN_SECRETS, "vectorSearchReadOnlyApiKey": READ_ONLY_KEY}


def test_mcp_is_read_write_unless_read_only_is_set(deploy: Deploy, studio: ProgramRun) -> None:
    read_only = deploy("studio", {"mcp.readOnly": True}, secrets=WITH_READ_ONLY_KEY)

    assert env(studio, "mcp")["QDRANT_READ_ONLY"] == "false"
    assert env(read_only, "mcp")["QDRANT_READ_ONLY"] == "true"


def test_read_only_mcp_gets_qdrants_read_only_key_and_qdrant_knows_it(deploy: Deploy) -> None:
    """Even with its own tools, the read-only MCP server's key cannot write."""
    read_only = deploy("studio", {"mcp.readOnly": True}, secrets=WITH_READ_ONLY_KEY)
    full = deploy("studio", secrets=WITH_READ_ONLY_KEY)

    ref = ("secret", "vector-search-api-key", "read-only-api-key")
    assert env(read_only, "mcp")["QDRANT_API_KEY"] == ref
    assert env(full, "mcp")["QDRANT_API_KEY"] == ("secret", "vector-search-api-key", "api-key")
    assert env(read_only, "vector-search")["QDRANT__SERVICE__READ_ONLY_API_KEY"] == ref
    secret = read_only.one("kubernetes:core/v1:Secret", "vector-search-api-key")
    assert secret.inputs["stringData"]["read-only-api-key"] == READ_ONLY_KEY
    assert isinstance(secret.wire["stringData"], dict), "a secret input"


def test_read_only_use_without_the_read_only_key_is_refused_naming_it(deploy: Deploy) -> None:
    run = deploy("studio", {"mcp.readOnly": True}, check=False)

    assert run.registrations == []
    assert any(
        p.startswith("agent-platform:vectorSearchReadOnlyApiKey: required (mcp.readOnly is true)")
        for p in run.error.problems  # type: ignore[union-attr]
    )


@pytest.mark.parametrize("copied", ["vectorSearchApiKey", "gatewayToken"])
def test_a_read_only_key_that_copies_a_write_key_is_refused(deploy: Deploy, copied: str) -> None:
    secrets = {**KNOWN_SECRETS, "vectorSearchReadOnlyApiKey": KNOWN_SECRETS[copied]}

    run = deploy("studio", {"mcp.readOnly": True}, secrets=secrets, check=False)

    assert run.registrations == []
    assert any(
        p == f"agent-platform:vectorSearchReadOnlyApiKey: is the same as {copied}; give it a "
        "value of its own (openssl rand -hex 32 | pulumi config set --secret "
        "vectorSearchReadOnlyApiKey)"
        for p in run.error.problems  # type: ignore[union-attr]
    ), run.error
    assert KNOWN_SECRETS[copied] not in str(run.error)


def test_the_gateway_searches_with_the_read_only_key_when_asked(deploy: Deploy) -> None:
    run = deploy("studio", {"gateway.searchReadOnly": True}, secrets=WITH_READ_ONLY_KEY)

    config = run.one("kubernetes:core/v1:Secret", "gateway-config").inputs["stringData"][
        "nginx.conf"
    ]
    assert f'proxy_set_header api-key "{READ_ONLY_KEY}";' in config
    assert KNOWN_SECRETS["vectorSearchApiKey"] not in config


# --------------------------------------------------------------------------------- gateway


def test_gateway_config_lives_in_a_secret_mounted_read_only(studio: ProgramRun) -> None:
    secret = studio.one("kubernetes:core/v1:Secret", "gateway-config")
    config = secret.inputs["stringData"]["nginx.conf"]

    assert isinstance(secret.wire["stringData"], dict), "the config must be a secret input"
    assert f'"~^(?i:bearer) {KNOWN_SECRETS["gatewayToken"]}$" 1;' in config
    assert "server vector-search.agent-platform.svc.cluster.local:6333;" in config
    assert "server embedding.agent-platform.svc.cluster.local:8080;" in config
    assert "server mcp.agent-platform.svc.cluster.local:8000;" in config
    # Each upstream is sent its Service's name as Host, not the upstream group's name.
    assert 'proxy_set_header Host "mcp.agent-platform.svc.cluster.local:8000";' in config
    assert 'proxy_set_header Host "embedding.agent-platform.svc.cluster.local:8080";' in config
    assert "Host $proxy_host" not in config
    mounts = {m["name"]: m for m in container(studio, "gateway")["volumeMounts"]}
    assert mounts["config"]["readOnly"] is True
    assert container(studio, "gateway")["command"][:3] == [
        "nginx",
        "-c",
        "/etc/nginx/agent-platform/nginx.conf",
    ]


def test_gateway_pods_roll_when_the_config_changes(deploy: Deploy) -> None:
    def annotation(run: ProgramRun) -> str:
        value: str = pod_template(run, "gateway")["metadata"]["annotations"]["checksum/config"]
        return value

    first = annotation(deploy("studio"))
    same = annotation(deploy("studio"))
    other_token = annotation(
        deploy("studio", secrets={**KNOWN_SECRETS, "gatewayToken": "another-token-0123456789"})
    )
    other_limit = annotation(deploy("studio", {"gateway.rateLimit": {"requestsPerSecond": 99}}))

    assert first == same
    assert len({first, other_token, other_limit}) == 3


def test_gateway_is_a_node_port_on_kind_and_cluster_ip_elsewhere(deploy: Deploy) -> None:
    kind = deploy("studio").one("kubernetes:core/v1:Service", "gateway-svc").inputs["spec"]
    rendered = (
        deploy("studio", {"cluster.target": "render"})
        .one("kubernetes:core/v1:Service", "gateway-svc")
        .inputs["spec"]
    )

    assert kind["type"] == "NodePort"
    assert as_int(kind["ports"][0]["nodePort"]) == 30080
    assert rendered["type"] == "ClusterIP"
    assert "nodePort" not in rendered["ports"][0]


def test_gateway_egress_reaches_exactly_the_three_upstreams(studio: ProgramRun) -> None:
    policy = network_policy(studio, "gateway")

    assert peers(policy["ingress"], "from") == [("any", {8080})]
    assert sorted(peers(policy["egress"], "to")) == [
        ("dns", {53}),
        ("embedding", {8080}),
        ("mcp", {8000}),
        ("vector-search", {6333}),
    ]


# ----------------------------------------------------------------------------------- stack


def test_stack_outputs_name_every_endpoint(studio: ProgramRun) -> None:
    outputs = studio.outputs

    assert outputs["gatewayUrl"] == "http://localhost:8080"
    assert outputs["endpoints"] == {
        "gateway": "http://gateway.agent-platform.svc.cluster.local:80",
        "embedding": "http://embedding.agent-platform.svc.cluster.local:8080",
        "vectorSearch": "http://vector-search.agent-platform.svc.cluster.local:6333",
        "vectorSearchGrpc": "http://vector-search.agent-platform.svc.cluster.local:6334",
        "mcp": "http://mcp.agent-platform.svc.cluster.local:8000/mcp",
    }


def test_existing_cluster_gateway_url_is_the_service(deploy: Deploy) -> None:
    run = deploy(
        "homelab",
        {"cluster.target": "existing"},
        secrets={**KNOWN_SECRETS, "kubeconfig": "apiVersion: v1\nkind: Config\n"},
    )

    # homelab's gateway speaks TLS on Service port 443 (Pulumi.homelab.yaml)
    assert run.outputs["gatewayUrl"] == "https://gateway.agent-platform.svc.cluster.local:443"


# ---------------------------------------------------------------------------- metrics-server


def test_homelab_installs_metrics_server_for_its_autoscalers(deploy: Deploy) -> None:
    run = deploy("homelab")
    spec = container(run, "metrics-server")
    pod = pod_template(run, "metrics-server")["spec"]

    assert spec["image"] == "registry.k8s.io/metrics-server/metrics-server:v0.8.1"
    assert "--kubelet-insecure-tls" in spec["args"]
    assert spec["livenessProbe"]["httpGet"] == {
        "path": "/livez",
        "port": "https",
        "scheme": "HTTPS",
    }
    # The one workload that calls the Kubernetes API, so the one that mounts a token.
    assert pod["automountServiceAccountToken"] is True
    assert pod["priorityClassName"] == "system-cluster-critical"
    deployment = run.one("kubernetes:apps/v1:Deployment", "metrics-server")
    assert deployment.inputs["metadata"]["namespace"] == "kube-system"
    api = run.one("kubernetes:apiregistration.k8s.io/v1:APIService")
    assert api.inputs["spec"]["service"] == {"name": "metrics-server", "namespace": "kube-system"}
    role = run.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "metrics-server-role")
    assert {verb for rule in role.inputs["rules"] for verb in rule["verbs"]} == {
        "get",
        "list",
        "watch",
    }


def test_studio_and_existing_clusters_get_no_metrics_server(deploy: Deploy) -> None:
    studio = deploy("studio")
    existing = deploy(
        "homelab",
        {"cluster.target": "existing"},
        secrets={**KNOWN_SECRETS, "kubeconfig": "apiVersion: v1\nkind: Config\n"},
    )

    for run in (studio, existing):
        assert run.of_type("agent-platform:platform:MetricsServer") == []
        assert run.of_type("kubernetes:apiregistration.k8s.io/v1:APIService") == []
