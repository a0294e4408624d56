"""Hostile settings (issue 13): bad input is refused before any resource, naming key and fix.

Five classes, each with tests of its own:

1. a value the program would parse later (URL, port, size, quantity) is parsed in the settings;
2. a reserved namespace (``kube-system`` & co.) is refused for the platform;
3. a value set with ``--secret`` that the program would use in plain text is refused, and so
   are credentials inside URLs;
4. a YAML null where a value is expected is refused naming the key, in ``pulumi up`` and in
   the tools that read stack files (render, preflight);
5. free text (revisions, context names, paths, bucket names) that its consumer would not take.

The gateway's TLS material (issue 12) falls in the same classes: a certificate chain, SANs and
the private key are parsed in the settings (a key that does not match its certificate, one
nginx cannot read, a chain that has expired), a private key pasted into the plain chain is
refused without being shown, and so is a network address served over plain HTTP.
"""

from __future__ import annotations

import copy
import io
import ipaddress
import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from infra.observability import configure_logging
from infra.offline import render
from infra.ops import preflight
from infra.settings import (
    CONFIG_KEYS,
    ConfigError,
    StackSettings,
    read_stack_file,
    settings_from_stack_file,
)
from tests.certificates import authority, issue, key_pem, new_key
from tests.components.helpers import env, network_policy
from tests.conftest import KNOWN_SECRETS, PROJECT_DIR, Deploy

SNAPSHOT_SECRETS = {
    "snapshotAccessKeyId": "AKIA-SENTINEL-ACCESS-77",
    "snapshotSecretAccessKey": "s3-secret-SENTINEL-0042",
}
SNAPSHOTS = {"enabled": True, "bucket": "agent-snapshots"}


def refused(deploy: Deploy, overrides: dict[str, Any], stack: str = "studio") -> list[str]:
    run = deploy(stack, overrides, secrets={**KNOWN_SECRETS, **SNAPSHOT_SECRETS}, check=False)
    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == []
    return run.error.problems


def snapshot_endpoint(url: str) -> dict[str, Any]:
    return {"vectorSearch.snapshots": {**SNAPSHOTS, "endpoint": url}}


def otlp(url: str) -> dict[str, Any]:
    return {"observability": {"otlpEndpoint": url}}


SNAPSHOT_KEY = "vectorSearch.snapshots.endpoint"
OTLP_KEY = "observability.otlpEndpoint"

TEST_CA = authority()
SERVED = issue(TEST_CA)
"""A valid chain and key for the ``provided`` cases; the others are made wrong on purpose."""
EXPIRED = issue(TEST_CA, starts_in_days=-10, days=2)
NOT_YET_VALID = issue(TEST_CA, starts_in_days=5)
CA_FIRST = issue(TEST_CA, is_ca=True)
KEY_BODY = "".join(SERVED.key.splitlines()[1:-1])
ENCRYPTED_KEY = (
    new_key()
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"a passphrase"),
    )
    .decode()
)


def generated(**fields: Any) -> dict[str, Any]:
    return {"gateway.tls": {"mode": "generated", **fields}}


def provided(certificate: str) -> dict[str, Any]:
    return {"gateway.tls": {"mode": "provided", "certificate": certificate}}


CHAIN_KEY = "gateway.tls.certificate"

HOSTILE = [
    # 1. Values parsed later: URLs, ports, sizes, quantities.
    pytest.param(
        snapshot_endpoint("http://minio:99999"),
        SNAPSHOT_KEY,
        "port 99999 is outside 1-65535",
        id="1-snapshot-port-above-range",
    ),
    pytest.param(
        snapshot_endpoint("http://minio:abc"),
        SNAPSHOT_KEY,
        "port 'abc' is not a number",
        id="1-snapshot-port-not-a-number",
    ),
    pytest.param(
        snapshot_endpoint("http://[fd00::1:9000"),
        SNAPSHOT_KEY,
        "unclosed '['",
        id="1-snapshot-unclosed-ipv6",
    ),
    pytest.param(
        snapshot_endpoint("http://[fd00::zz]:9000"),
        SNAPSHOT_KEY,
        "not an IPv6 address",
        id="1-snapshot-bad-ipv6",
    ),
    pytest.param(
        snapshot_endpoint("http://fd00::1:9000"),
        SNAPSHOT_KEY,
        "in brackets",
        id="1-snapshot-ipv6-without-brackets",
    ),
    pytest.param(
        snapshot_endpoint("http://minio:"),
        SNAPSHOT_KEY,
        "no port after ':'",
        id="1-snapshot-empty-port",
    ),
    pytest.param(snapshot_endpoint("http://"), SNAPSHOT_KEY, "no host", id="1-snapshot-no-host"),
    pytest.param(
        snapshot_endpoint("minio:9000"), SNAPSHOT_KEY, "not a URL", id="1-snapshot-no-scheme"
    ),
    pytest.param(
        snapshot_endpoint("s3://minio:9000"), SNAPSHOT_KEY, "scheme 's3'", id="1-snapshot-scheme"
    ),
    pytest.param(
        snapshot_endpoint("http://999.1.1.1:9000"),
        SNAPSHOT_KEY,
        "not an IPv4 address",
        id="1-snapshot-bad-ipv4",
    ),
    pytest.param(
        snapshot_endpoint("http://-minio:9000"),
        SNAPSHOT_KEY,
        "not a host name",
        id="1-snapshot-bad-host",
    ),
    pytest.param(
        snapshot_endpoint("http://minio_1:9000"),
        SNAPSHOT_KEY,
        "not a host name",
        id="1-snapshot-underscore-host",
    ),
    pytest.param(
        snapshot_endpoint("http://minio:9000/?x=1"), SNAPSHOT_KEY, "query", id="1-snapshot-query"
    ),
    pytest.param(
        snapshot_endpoint("http://minio:9000/$(HOME)"),
        SNAPSHOT_KEY,
        "path",
        id="1-snapshot-path-env-expansion",
    ),
    pytest.param(
        otlp("http://collector:0"), OTLP_KEY, "port 0 is outside 1-65535", id="1-otlp-port-zero"
    ),
    pytest.param(
        otlp("http://collector:99999"),
        OTLP_KEY,
        "port 99999 is outside 1-65535",
        id="1-otlp-port-above-range",
    ),
    pytest.param(
        otlp("http://collector:-1"),
        OTLP_KEY,
        "port '-1' is not a number",
        id="1-otlp-negative-port",
    ),
    pytest.param(otlp("https://[::1"), OTLP_KEY, "unclosed '['", id="1-otlp-unclosed-ipv6"),
    pytest.param(
        {"gateway.maxBodySize": "9999999999999g"},
        "gateway.maxBodySize",
        "at most 1g",
        id="1-body-size-huge",
    ),
    pytest.param(
        {"gateway.maxBodySize": "2g"},
        "gateway.maxBodySize",
        "at most 1g",
        id="1-body-size-above-1g",
    ),
    pytest.param(
        {"gateway.maxBodySize": "0"},
        "gateway.maxBodySize",
        "0 turns the limit off",
        id="1-body-size-zero",
    ),
    pytest.param(
        {"gateway.maxBodySize": "0m"},
        "gateway.maxBodySize",
        "0 turns the limit off",
        id="1-body-size-zero-m",
    ),
    pytest.param(
        {"gateway.maxBodySize": "100"},
        "gateway.maxBodySize",
        "at least 1k",
        id="1-body-size-below-1k",
    ),
    pytest.param(
        {"vectorSearch.storage": {"size": "1e99999999"}},
        "vectorSearch.storage.size",
        "exponent",
        id="1-size-huge-exponent",
    ),
    pytest.param(
        {"vectorSearch.storage": {"size": "9999Ei"}},
        "vectorSearch.storage.size",
        "at most 64Ti",
        id="1-size-absurd",
    ),
    pytest.param(
        {"embedding.cacheSize": "1P"},
        "embedding.cacheSize",
        "at most 64Ti",
        id="1-cache-size-absurd",
    ),
    pytest.param(
        {"embedding.cacheSize": " 2Gi"},
        "embedding.cacheSize",
        "not a Kubernetes quantity",
        id="1-quantity-with-space",
    ),
    pytest.param({"budget.cpu": "1e9"}, "budget.cpu", "at most 1000", id="1-budget-cpu-absurd"),
    pytest.param(
        {"budget.memory": "1e15"}, "budget.memory", "at most 4Ti", id="1-budget-memory-absurd"
    ),
    pytest.param(
        {"gateway.resources.limits.cpu": "100000"},
        "gateway.resources.limits.cpu",
        "at most 1000",
        id="1-cpu-limit-absurd",
    ),
    pytest.param(
        {"gateway.resources.limits.memory": "5Ti"},
        "gateway.resources.limits.memory",
        "at most 4Ti",
        id="1-memory-limit-absurd",
    ),
    # 2. Namespaces the cluster itself lives in.
    pytest.param({"namespace": "kube-system"}, "namespace", "reserved", id="2-kube-system"),
    pytest.param({"namespace": "default"}, "namespace", "reserved", id="2-default"),
    pytest.param({"namespace": "kube-public"}, "namespace", "reserved", id="2-kube-public"),
    pytest.param({"namespace": "kube-node-lease"}, "namespace", "reserved", id="2-kube-node-lease"),
    pytest.param({"namespace": "kube-flannel"}, "namespace", "reserved", id="2-kube-prefix"),
    pytest.param({"namespace": "local-path-storage"}, "namespace", "reserved", id="2-kind-storage"),
    # 3. Credentials inside URLs (the rest of class 3 is below).
    pytest.param(
        otlp("http://u:PW-SENTINEL-1@collector:4318"),
        OTLP_KEY,
        "authenticated export is not supported",
        id="3-otlp-credentials",
    ),
    pytest.param(
        otlp("http://token@collector:4318"), OTLP_KEY, "credentials", id="3-otlp-user-only"
    ),
    pytest.param(
        snapshot_endpoint("https://AKIA:PW-SENTINEL-1@s3.example.com"),
        SNAPSHOT_KEY,
        "snapshotAccessKeyId",
        id="3-snapshot-credentials",
    ),
    # 5. Free text.
    pytest.param(
        {"embedding.revision": "main\nrm -rf /"},
        "embedding.revision",
        "not a git revision",
        id="5-revision-newline",
    ),
    pytest.param(
        {"embedding.revision": ""},
        "embedding.revision",
        "not a git revision",
        id="5-revision-empty",
    ),
    pytest.param(
        {"embedding.revision": "--help"},
        "embedding.revision",
        "not a git revision",
        id="5-revision-option",
    ),
    pytest.param(
        {"embedding.revision": "a..b"},
        "embedding.revision",
        "not a git revision",
        id="5-revision-dots",
    ),
    pytest.param(
        {"embedding.revision": "my branch"},
        "embedding.revision",
        "not a git revision",
        id="5-revision-space",
    ),
    pytest.param(
        {"embedding.revision": "x" * 300},
        "embedding.revision",
        "not a git revision",
        id="5-revision-long",
    ),
    pytest.param(
        {"cluster.context": "kind-studio\nother"},
        "cluster.context",
        "kubeconfig context",
        id="5-context-newline",
    ),
    pytest.param(
        {"cluster.context": ""}, "cluster.context", "kubeconfig context", id="5-context-empty"
    ),
    pytest.param(
        {"cluster.context": "my context"}, "cluster.context", "rename-context", id="5-context-space"
    ),
    pytest.param(
        {"cluster.renderDirectory": "rendered\x00x"},
        "cluster.renderDirectory",
        "control character",
        id="5-render-dir-nul",
    ),
    pytest.param(
        {"cluster.renderDirectory": "rendered\nx"},
        "cluster.renderDirectory",
        "control character",
        id="5-render-dir-newline",
    ),
    pytest.param(
        {"cluster.renderDirectory": ""}, "cluster.renderDirectory", "empty", id="5-render-dir-empty"
    ),
    pytest.param(
        {"cluster.renderDirectory": "~/gitops"},
        "cluster.renderDirectory",
        "not expanded",
        id="5-render-dir-tilde",
    ),
    pytest.param(
        {"cluster.renderDirectory": "$HOME/gitops"},
        "cluster.renderDirectory",
        "not expanded",
        id="5-render-dir-variable",
    ),
    pytest.param(
        {"cluster.renderDirectory": " rendered"},
        "cluster.renderDirectory",
        "space",
        id="5-render-dir-space",
    ),
    pytest.param(
        {"vectorSearch.snapshots": {**SNAPSHOTS, "bucket": "agent..snapshots"}},
        "vectorSearch.snapshots.bucket",
        "S3 bucket name",
        id="5-bucket-dots",
    ),
    pytest.param(
        {"vectorSearch.snapshots": {**SNAPSHOTS, "bucket": "192.168.1.10"}},
        "vectorSearch.snapshots.bucket",
        "IP address",
        id="5-bucket-ip",
    ),
    pytest.param(
        {"vectorSearch.snapshots": {**SNAPSHOTS, "bucket": "Agent"}},
        "vectorSearch.snapshots.bucket",
        "S3 bucket name",
        id="5-bucket-uppercase",
    ),
    pytest.param(
        {"vectorSearch.snapshots": {**SNAPSHOTS, "region": "-"}},
        "vectorSearch.snapshots.region",
        "region",
        id="5-region-hyphen",
    ),
    pytest.param(
        {"vectorSearch.snapshots": {**SNAPSHOTS, "region": "r" * 70}},
        "vectorSearch.snapshots.region",
        "region",
        id="5-region-long",
    ),
    pytest.param(
        {"vectorSearch.storage": {"storageClass": "Fast SSD"}},
        "vectorSearch.storage.storageClass",
        "StorageClass name",
        id="5-storage-class",
    ),
    pytest.param(
        {"observability": {"metricsNamespace": "monitoring\n"}},
        "observability.metricsNamespace",
        "Kubernetes name",
        id="5-metrics-namespace",
    ),
    pytest.param(
        {"embedding.model": "owner--x/name"},
        "embedding.model",
        "Hugging Face",
        id="5-model-double-hyphen",
    ),
    pytest.param(
        {"embedding.model": "owner/" + "n" * 97},
        "embedding.model",
        "Hugging Face",
        id="5-model-long",
    ),
    pytest.param(
        {"mcp.command": ["mcp-server-qdrant", "", "streamable-http"]},
        "mcp.command[1]",
        "empty argument",
        id="5-mcp-command-empty-entry",
    ),
    pytest.param(
        {"mcp.command": []},
        "mcp.command",
        "give the program and its arguments",
        id="5-mcp-command-empty",
    ),
    pytest.param(
        {"cluster.nodeImage": "kindest/" + "n" * 300 + ":v1"},
        "cluster.nodeImage",
        "too long",
        id="5-image-long",
    ),
    # The gateway's TLS material.
    pytest.param(
        generated(ipAddresses=["0.0.0.0"]),
        "gateway.tls.ipAddresses[0]",
        "not an address a client connects to",
        id="1-tls-san-unspecified-address",
    ),
    pytest.param(
        generated(ipAddresses=["192.168.1"]),
        "gateway.tls.ipAddresses[0]",
        "not an IP address",
        id="1-tls-san-not-an-address",
    ),
    pytest.param(
        generated(dnsNames=["*.lan"]),
        "gateway.tls.dnsNames[0]",
        "not a DNS name",
        id="5-tls-wildcard",
    ),
    pytest.param(
        generated(dnsNames=["192.168.1.10"]),
        "gateway.tls.dnsNames[0]",
        "list it under ipAddresses",
        id="5-tls-address-as-name",
    ),
    pytest.param(
        generated(dnsNames=["homelab.lan;inject"]),
        "gateway.tls.dnsNames[0]",
        "not a DNS name",
        id="5-tls-name-with-semicolon",
    ),
    pytest.param(
        provided(SERVED.chain + SERVED.key),
        CHAIN_KEY,
        "holds a private key, which this setting would keep in plain text",
        id="3-tls-key-pasted-into-the-chain",
    ),
    pytest.param(provided("hello"), CHAIN_KEY, "not a certificate chain", id="1-tls-chain-not-pem"),
    pytest.param(
        provided(SERVED.chain.replace("MI", "XX", 1)),
        CHAIN_KEY,
        "not a certificate chain nginx can read",
        id="1-tls-chain-damaged",
    ),
    pytest.param(provided(EXPIRED.chain), CHAIN_KEY, "expired on", id="1-tls-chain-expired"),
    pytest.param(
        provided(NOT_YET_VALID.chain), CHAIN_KEY, "not valid before", id="1-tls-chain-not-yet-valid"
    ),
    pytest.param(
        provided(CA_FIRST.chain),
        CHAIN_KEY,
        "put the server's own certificate first",
        id="1-tls-ca-first",
    ),
    pytest.param(
        provided(SERVED.chain + "\x00"), CHAIN_KEY, "control character", id="5-tls-chain-control"
    ),
    pytest.param(
        {"cluster.listenAddress": "0.0.0.0"},
        "cluster.listenAddress",
        "every request would carry the bearer token in clear",
        id="3-plain-http-on-the-network",
    ),
]


@pytest.mark.parametrize(("overrides", "key", "expected"), HOSTILE)
def test_hostile_setting_is_refused_before_any_resource_naming_its_key(
    deploy: Deploy, overrides: dict[str, Any], key: str, expected: str
) -> None:
    problems = refused(deploy, overrides)

    matching = [p for p in problems if p.startswith(f"agent-platform:{key}:")]
    assert matching, problems
    assert any(expected in p for p in matching), matching
    assert all("SENTINEL" not in p for p in problems), problems
    assert all(KEY_BODY[:40] not in p for p in problems), problems


BAD_KEYS = [
    pytest.param(key_pem(new_key()), "is not the key of the server certificate", id="other-key"),
    pytest.param(key_pem(new_key("rsa1024")), "RSA key of 1024 bits", id="rsa-1024"),
    pytest.param(SERVED.key + SERVED.chain, "holds 2 PEM block(s)", id="key-and-certificate"),
    pytest.param(SERVED.chain, "holds 1 PEM block(s)", id="a-certificate"),
    pytest.param("not a key at all, 0123456789", "holds 0 PEM block(s)", id="not-pem"),
    pytest.param(ENCRYPTED_KEY, "is encrypted", id="encrypted"),
    pytest.param(
        SERVED.key.replace(KEY_BODY[10:30], "A" * 20),
        "not a private key nginx can read",
        id="damaged",
    ),
]


@pytest.mark.parametrize(("key", "expected"), BAD_KEYS)
def test_a_provided_key_nginx_could_not_serve_is_refused_and_never_shown(
    deploy: Deploy, key: str, expected: str
) -> None:
    stream = io.StringIO()
    configure_logging(stream)

    run = deploy(
        "studio",
        provided(SERVED.chain),
        secrets={**KNOWN_SECRETS, "gatewayTlsKey": key},
        check=False,
    )

    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == []
    [problem] = run.error.problems
    assert problem.startswith("agent-platform:gatewayTlsKey: gatewayTlsKey ")
    assert expected in problem
    body = "".join(line for line in key.splitlines() if "-----" not in line)
    for text in (str(run.error), stream.getvalue()):
        assert body[:40] not in text
        assert KEY_BODY[:40] not in text


# --------------------------------------------------------------------------------------------
# 1. Values parsed in the settings, once; components use the parsed parts
# --------------------------------------------------------------------------------------------


def _otlp_settings(url: str) -> StackSettings:
    return StackSettings.model_validate({"stack": "studio", "observability": {"otlpEndpoint": url}})


def _refused_at(url: str, location: tuple[str, ...]) -> bool:
    try:
        _otlp_settings(url)
    except ValidationError as error:
        return any(tuple(e["loc"]) == location for e in error.errors())
    return False


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=65536, max_value=10**30)))
@example(0)
@example(65536)
def test_any_endpoint_port_outside_1_to_65535_is_refused(port: int) -> None:
    assert _refused_at(f"http://collector:{port}", ("observability", "otlpEndpoint"))


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_DNS_HOST = (
    st.lists(_LABEL, min_size=1, max_size=4)
    .map(".".join)
    .filter(lambda host: not host.rsplit(".", 1)[-1].isdigit())
)
_HOST = st.one_of(
    _DNS_HOST,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
)


@given(
    st.sampled_from(["http", "https"]),
    _HOST,
    st.one_of(st.none(), st.integers(min_value=1, max_value=65535)),
    st.sampled_from(["", "/", "/otlp", "/a/b-c_d.e~f"]),
)
@example("http", "otel-collector.observability", 4318, "")
@example("https", "[fd00::1]", None, "/")
def test_any_accepted_endpoint_round_trips_host_and_port(
    scheme: str, host: str, port: int | None, path: str
) -> None:
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"
    endpoint = _otlp_settings(url).observability.otlp_endpoint

    assert endpoint is not None
    assert endpoint.host == host.strip("[]")
    assert endpoint.port == (port if port is not None else {"http": 80, "https": 443}[scheme])
    assert endpoint.url == url
    assert endpoint.path == path


@given(st.text(max_size=40))
@example("http://a:1@b")
@example("http://[::1]x")
@example("http://a:1\n")
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_text_is_refused_or_parsed_into_parts_that_rebuild_it(text: str) -> None:
    try:
        endpoint = _otlp_settings(f"http://{text}").observability.otlp_endpoint
    except ValidationError:
        return
    assert endpoint is not None
    assert 1 <= endpoint.port <= 65535
    assert all(c.isascii() and c.isprintable() and c not in " @?#$" for c in endpoint.url)
    if endpoint.host.count(":") >= 2:
        ipaddress.IPv6Address(endpoint.host)
    assert _otlp_settings(endpoint.url).observability.otlp_endpoint == endpoint


@given(
    st.integers(min_value=0, max_value=2**40), st.sampled_from(["", "k", "K", "m", "M", "g", "G"])
)
@example(0, "m")
@example(1, "k")
@example(1, "g")
@example(1025, "m")
def test_body_size_is_accepted_exactly_between_1k_and_1g(number: int, suffix: str) -> None:
    size = number * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[suffix.lower()]
    raw = {"stack": "studio", "gateway": {"maxBodySize": f"{number}{suffix}"}}
    if 2**10 <= size <= 2**30:
        assert StackSettings.model_validate(raw).gateway.max_body_size == f"{number}{suffix}"
        return
    with pytest.raises(ValidationError) as raised:
        StackSettings.model_validate(raw)
    assert [e["loc"] for e in raised.value.errors()] == [("gateway", "maxBodySize")]


def test_otlp_port_comes_from_the_parsed_endpoint_into_env_and_egress(deploy: Deploy) -> None:
    run = deploy("studio", otlp("https://[fd00::7]/v1"))

    ports = {
        int(p["port"]) for rule in network_policy(run, "gateway")["egress"] for p in rule["ports"]
    }
    assert 443 in ports
    assert env(run, "gateway")["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://[fd00::7]/v1"


def test_snapshot_endpoint_port_comes_from_the_parsed_endpoint(deploy: Deploy) -> None:
    run = deploy(
        "studio",
        snapshot_endpoint("http://[fd00::9]:9000"),
        secrets={**KNOWN_SECRETS, **SNAPSHOT_SECRETS},
    )

    policy = network_policy(run, "vector-search")
    ports = {int(p["port"]) for rule in policy["egress"] for p in rule["ports"]}
    assert 9000 in ports
    variables = env(run, "vector-search")
    assert variables["QDRANT__STORAGE__SNAPSHOTS_CONFIG__S3_CONFIG__ENDPOINT_URL"] == (
        "http://[fd00::9]:9000"
    )


# --------------------------------------------------------------------------------------------
# 2. Reserved namespaces
# --------------------------------------------------------------------------------------------


def test_reserved_namespace_message_says_why_and_what_to_do(deploy: Deploy) -> None:
    [problem] = refused(deploy, {"namespace": "kube-system"})

    assert problem == (
        "agent-platform:namespace: 'kube-system' is reserved for the cluster's own components; "
        "the platform's namespace gets Pod Security 'restricted' and a default-deny "
        "NetworkPolicy, which would cut them off. Use a namespace of its own, e.g. "
        "agent-platform"
    )


def test_metrics_namespace_may_be_a_system_namespace(deploy: Deploy) -> None:
    run = deploy("studio", {"observability": {"metricsNamespace": "kube-system"}})

    namespace = run.one("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["name"] == "agent-platform"


# --------------------------------------------------------------------------------------------
# 3. A value set as secret is never used in plain text
# --------------------------------------------------------------------------------------------

SENTINEL = "sentinel-5be1c0d7a9"
SECRET_MARKED: dict[str, Any] = {
    "cluster": {"name": SENTINEL},
    "namespace": SENTINEL,
    "gateway": {"image": f"nginxinc/nginx-unprivileged:{SENTINEL}"},
    "embedding": {"revision": SENTINEL},
    "vectorSearch": {"image": f"qdrant/qdrant:{SENTINEL}"},
    "mcp": {"image": f"mcp/qdrant:{SENTINEL}"},
    "observability": {"otlpEndpoint": f"http://{SENTINEL}.observability:4318"},
    "budget": {"cpu": "1", "memory": "2Gi"},
    "priorityClass": {"name": SENTINEL},
}


def test_every_config_key_has_a_secret_marked_case() -> None:
    assert set(SECRET_MARKED) == set(CONFIG_KEYS)


@pytest.mark.parametrize("key", sorted(SECRET_MARKED))
def test_setting_marked_secret_is_refused_and_its_value_shown_nowhere(
    deploy: Deploy, key: str
) -> None:
    stream = io.StringIO()
    configure_logging(stream)
    value = SECRET_MARKED[key]
    marked = value if isinstance(value, str) else json.dumps(value)

    run = deploy("studio", secrets={**KNOWN_SECRETS, key: marked}, check=False)

    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == []
    command = f"{key} <value>" if key == "namespace" else f"--path {key}.<field> <value>"
    assert run.error.problems == [
        f"agent-platform:{key}: is set as a secret (--secret), but the program uses its value "
        "in plain text (Kubernetes objects, the kind config, stack outputs); set it again "
        f"without --secret (`pulumi config set {command}`), and keep credentials out of it: "
        "they belong in the secret keys listed in the README"
    ]
    assert SENTINEL not in str(run.error)
    assert SENTINEL not in stream.getvalue()
    assert SENTINEL not in json.dumps(run.outputs)


def test_secure_value_inside_a_stack_file_object_is_refused_by_the_tools(tmp_path: Path) -> None:
    project = _project_with(
        tmp_path,
        {"agent-platform:observability": {"otlpEndpoint": {"secure": "v1:Zm9vYmFy"}}},
    )

    with pytest.raises(ConfigError) as raised:
        settings_from_stack_file("studio", project)

    assert raised.value.problems == [
        "agent-platform:observability.otlpEndpoint: is set as a secret (--secret), but the "
        "program uses its value in plain text (Kubernetes objects, the kind config, stack "
        "outputs); set it again without --secret (`pulumi config set --path "
        "observability.otlpEndpoint <value>`), and keep credentials out of it: they belong in "
        "the secret keys listed in the README"
    ]
    assert "Zm9vYmFy" not in str(raised.value)


# --------------------------------------------------------------------------------------------
# 4. YAML null where a value is expected
# --------------------------------------------------------------------------------------------

NULL_MEANS_UNSET = {
    "cluster.context": None,
    "gateway.tls.certificate": None,
    "embedding.revision": None,
    "vectorSearch.storage.storageClass": None,
    "vectorSearch.snapshots.bucket": None,
    "vectorSearch.snapshots.endpoint": None,
    "observability.otlpEndpoint": None,
    "observability.metricsNamespace": None,
    "gateway.priorityClassName": None,
    "embedding.priorityClassName": None,
    "vectorSearch.priorityClassName": None,
    "mcp.priorityClassName": None,
    "gateway.exposure.ingressClassName": None,
    "gateway.exposure.host": None,
    "gateway.exposure.tlsSecretName": None,
}
"""Fields whose documented meaning includes null (unset, or for metricsNamespace: nobody)."""


def _inner(annotation: Any) -> tuple[Any, bool]:
    """(the type without Optional/Annotated, whether it admits None)."""
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, nullable


def field_paths(
    model: type[BaseModel], prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], bool]]:
    """Every field of every settings model, by its config path, and whether it admits None."""
    for name, info in model.model_fields.items():
        if not prefix and name == "stack":
            continue
        path = (*prefix, info.alias or name)
        inner, nullable = _inner(info.annotation)
        yield path, nullable
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from field_paths(inner, path)
        elif typing.get_origin(inner) is tuple:
            yield (*path, 0), False


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path if isinstance(part, str)) + "".join(
        f"[{part}]" for part in path if isinstance(part, int)
    )


FIELDS = dict(field_paths(StackSettings))


def test_the_fields_where_null_means_unset_are_exactly_the_nullable_ones() -> None:
    assert {dotted(path) for path, nullable in FIELDS.items() if nullable} == set(NULL_MEANS_UNSET)


STUDIO_FILE = read_stack_file("studio", PROJECT_DIR)


def _null_override(path: tuple[str | int, ...]) -> dict[str, Any]:
    """The studio stack file's top-level object with a null at ``path`` (objects on the way
    created), as one override: the engine passes each top-level key as one JSON value."""
    top = f"agent-platform:{path[0]}"
    if len(path) == 1:
        return {top: None}
    value = copy.deepcopy(STUDIO_FILE.get(top, {}))
    node = value
    *parents, last = path[1:]
    if isinstance(last, int):  # an element of a list: the list is [null]
        *parents, last = parents
        leaf: Any = [None]
    else:
        leaf = None
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = leaf
    return {top: value}


@pytest.mark.parametrize("path", [p for p, nullable in FIELDS.items() if not nullable], ids=dotted)
def test_null_for_any_field_is_refused_naming_its_key(
    deploy: Deploy, path: tuple[str | int, ...]
) -> None:
    problems = refused(deploy, _null_override(path))

    assert problems == [
        f"agent-platform:{dotted(path)}: is empty (null); give it a value, or remove the key "
        "to use its default"
    ]


@pytest.mark.parametrize("key", sorted(NULL_MEANS_UNSET))
def test_null_for_an_optional_field_means_unset(key: str) -> None:
    *parents, last = key.split(".")
    raw: dict[str, Any] = {"stack": "studio"}
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = None

    settings = StackSettings.model_validate(raw)

    value: Any = settings.model_dump(by_alias=True)
    for part in key.split("."):
        value = value[part]
    assert value is None


def test_cluster_name_is_filled_in_the_type_not_checked_later() -> None:
    name_field = StackSettings.model_fields["cluster"].annotation.model_fields["name"]  # type: ignore[union-attr]
    assert name_field.is_required()
    assert _inner(name_field.annotation) == (str, False)


def _project_with(tmp_path: Path, overrides: dict[str, Any]) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.studio.yaml").read_text())
    for key, value in overrides.items():
        document["config"][key] = value
    (project / "Pulumi.studio.yaml").write_text(yaml.safe_dump(document))
    (project / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    return project


NULL_CLUSTER_NAME = {
    "agent-platform:cluster": {"name": None, "target": "kind", "workers": 0},
}


def test_render_reports_a_null_cluster_name_as_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project_with(tmp_path, NULL_CLUSTER_NAME)

    code = render.main(
        ["--stack", "studio", "--out", str(tmp_path / "out"), "--project-dir", str(project)]
    )

    assert code == 2
    assert "agent-platform:cluster.name: is empty (null)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_preflight_reports_a_null_cluster_name_as_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project_with(tmp_path, NULL_CLUSTER_NAME)

    code = preflight.main(["--stack", "studio", "--project-dir", str(project)])

    assert code == 2
    assert "agent-platform:cluster.name: is empty (null)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    ["config: [a, b]\n", "- just a list\n", "config:\n  agent-platform:cluster: {name: [\n"],
    ids=["config-not-a-map", "not-a-map", "not-yaml"],
)
def test_stack_file_that_is_not_a_stack_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    (tmp_path / "Pulumi.studio.yaml").write_text(text)

    assert preflight.main(["--stack", "studio", "--project-dir", str(tmp_path)]) == 2
    assert "Pulumi.studio.yaml" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# 5. Free text: no control characters anywhere
# --------------------------------------------------------------------------------------------

WORKLOADS = ("gateway", "embedding", "vectorSearch", "mcp")
VALID_TEXT = {
    "cluster.context": "kind-studio",
    "embedding.revision": "main",
    "vectorSearch.storage.storageClass": "standard",
    "vectorSearch.snapshots.bucket": "agent-snapshots",
    "vectorSearch.snapshots.endpoint": "http://minio:9000",
    "observability.otlpEndpoint": "http://otel:4318",
    "mcp.command[0]": "mcp-server-qdrant",
    "gateway.tls.dnsNames[0]": "homelab.lan",
    "gateway.tls.ipAddresses[0]": "192.168.1.10",
    **{f"{workload}.priorityClassName": "batch-high" for workload in WORKLOADS},
    "gateway.exposure.ingressClassName": "nginx",
    "gateway.exposure.host": "agents.example.com",
    "gateway.exposure.tlsSecretName": "agents-tls",
    "gateway.exposure.hostnames[0]": "agents.example.com",
    "gateway.exposure.loadBalancerSourceRanges[0]": "192.168.0.0/16",
    "vectorSearch.backup.collections[0]": "agent-memory",
}
_EXISTING: dict[str, Any] = {"cluster": {"target": "existing"}}
_INGRESS: dict[str, Any] = {
    **_EXISTING,
    "gateway": {"exposure": {"type": "ingress", "host": "a.example.com", "tlsSecretName": "t"}},
}
VALID_WITH: dict[str, dict[str, Any]] = {
    "gateway.tls.dnsNames[0]": {"gateway": {"tls": {"mode": "generated"}}},
    "gateway.tls.ipAddresses[0]": {"gateway": {"tls": {"mode": "generated"}}},
    "gateway.exposure.ingressClassName": _INGRESS,
    "gateway.exposure.host": _INGRESS,
    "gateway.exposure.tlsSecretName": _INGRESS,
    "gateway.exposure.hostnames[0]": {
        "cluster": {"target": "existing", "plainHttpBehindTlsProxy": True},
        "gateway": {"exposure": {"type": "httpRoute", "parentRefs": [{"name": "shared"}]}},
    },
    "gateway.exposure.loadBalancerSourceRanges[0]": {
        "cluster": {"target": "existing", "plainHttpBehindTlsProxy": True},
        "gateway": {"exposure": {"type": "loadBalancer"}},
    },
}
"""What a text field needs around it to be valid at all (SANs: a generated certificate)."""


def _text_fields() -> Iterator[tuple[str, str]]:
    defaults = StackSettings.model_validate({"stack": "studio"}).model_dump(by_alias=True)
    for path in FIELDS:
        key = dotted(path)
        if key in VALID_TEXT:
            yield key, VALID_TEXT[key]
            continue
        value: Any = defaults
        for part in path:
            if not value:  # an unset block or an empty list: nothing to walk into
                break
            value = value[part]
        if isinstance(value, str):
            yield key, value


TEXT_FIELDS = dict(_text_fields())


def test_the_text_fields_walked_include_every_free_text_setting() -> None:
    assert {
        "cluster.name",
        "cluster.context",
        "cluster.renderDirectory",
        "embedding.revision",
        "namespace",
        "mcp.collection",
        "mcp.command[0]",
        "vectorSearch.snapshots.region",
        "observability.metricsNamespace",
        "gateway.tls.mode",
        "gateway.tls.dnsNames[0]",
        "gateway.tls.ipAddresses[0]",
    } <= set(TEXT_FIELDS)


def _raw_with(key: str, value: str) -> dict[str, Any]:
    """Every default written out (and what ``key`` needs, VALID_WITH), with ``value`` at
    ``key``."""
    raw = StackSettings.model_validate({"stack": "studio", **VALID_WITH.get(key, {})}).model_dump(
        by_alias=True
    )
    value_any: str | list[str]
    if key.endswith("[0]"):
        key, value_any = key.removesuffix("[0]"), [value]
    else:
        value_any = value
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value_any
    return raw


@pytest.mark.parametrize("control", ["\n", "\x00", "\x7f", "\t", "\u2028"])
@pytest.mark.parametrize(
    "key",
    sorted(TEXT_FIELDS),
)
def test_a_control_character_in_any_text_setting_is_refused(key: str, control: str) -> None:
    valid = TEXT_FIELDS[key]
    StackSettings.model_validate(_raw_with(key, valid))

    for hostile in (valid + control, valid[:1] + control + valid[1:]):
        with pytest.raises(ValidationError) as raised:
            StackSettings.model_validate(_raw_with(key, hostile))
        locations = {dotted(tuple(e["loc"])) for e in raised.value.errors()}
        assert locations & {key, key.rsplit(".", 1)[0]}, (key, locations)
