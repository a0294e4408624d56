"""Known secret strings stay Pulumi secrets end to end.

Every stack runs with sentinel secret values; the tests walk everything the program sends to
the engine and everything it logs, and find them only where they belong: inside Kubernetes
Secrets, as secret-wrapped inputs. The gateway's TLS private keys too: a provided one (a real
key, the secret gatewayTlsKey) and the generated ones (the mocks' PEMs); the server key reaches
the cluster only in the ``gateway-tls`` Secret, the generated CA's key never.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.observability import configure_logging
from infra.offline import render
from infra.offline.mock_engine import SECRET_SIG, ProgramRun
from infra.offline.rendering import render_stack
from infra.settings import SUPPORTED_STACKS
from tests.certificates import authority, issue
from tests.conftest import KNOWN_SECRETS, Deploy

SNAPSHOT_SECRETS = {
    "snapshotAccessKeyId": "AKIA-SENTINEL-ACCESS-77",
    "snapshotSecretAccessKey": "s3-secret-SENTINEL-0042",
}
ALL_SECRETS = {**KNOWN_SECRETS, **SNAPSHOT_SECRETS}
WITH_SNAPSHOTS = {
    "vectorSearch.snapshots": {"enabled": True, "bucket": "agent-snapshots"},
}


def plain_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string outside a secret wrapper, with where it is."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == SECRET_SIG:
            return
        for key, item in value.items():
            yield from plain_strings(key, f"{path}.<key>")
            yield from plain_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from plain_strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)
    elif isinstance(value, str):
        yield value


@pytest.fixture(params=SUPPORTED_STACKS)
def run(request: pytest.FixtureRequest, deploy: Deploy) -> ProgramRun:
    return deploy(request.param, WITH_SNAPSHOTS, secrets=ALL_SECRETS)


def test_no_secret_appears_in_any_plain_input(run: ProgramRun) -> None:
    for registration in run.registrations:
        for path, text in plain_strings(registration.wire):
            for name, secret in ALL_SECRETS.items():
                assert secret not in text, (
                    f"{name} in {registration.type} {registration.name}{path}"
                )


def test_no_secret_appears_in_a_plain_stack_output(run: ProgramRun) -> None:
    for key, value in run.outputs.items():
        if key in run.secret_outputs:
            continue
        for text in all_strings(value):
            assert all(secret not in text for secret in ALL_SECRETS.values()), key


def test_secret_values_are_sent_only_inside_kubernetes_secrets(run: ProgramRun) -> None:
    holders = {
        (registration.type, registration.name)
        for registration in run.registrations
        if any(
            secret in text
            for text in all_strings(registration.inputs)
            for secret in ALL_SECRETS.values()
        )
    }

    assert holders == {
        ("kubernetes:core/v1:Secret", "vector-search-api-key"),
        ("kubernetes:core/v1:Secret", "vector-search-snapshots"),
        ("kubernetes:core/v1:Secret", "gateway-config"),
    }
    for registration in run.of_type("kubernetes:core/v1:Secret"):
        assert isinstance(registration.wire["stringData"], dict)
        assert registration.wire["stringData"].get("4dabf18193072939515e22adb298388d") == SECRET_SIG


def test_no_env_value_or_config_map_holds_a_secret_even_wrapped(run: ProgramRun) -> None:
    for registration in run.kubernetes_objects():
        spec = registration.inputs.get("spec", {})
        containers = spec.get("template", {}).get("spec", {}).get("containers", [])
        for container in containers:
            for variable in container.get("env", []):
                value = variable.get("value", "")
                assert all(secret not in value for secret in ALL_SECRETS.values()), variable["name"]
    for config_map in run.of_type("kubernetes:core/v1:ConfigMap"):
        for text in all_strings(config_map.inputs):
            assert all(secret not in text for secret in ALL_SECRETS.values())


def test_no_secret_reaches_the_program_log(deploy: Deploy) -> None:
    stream = io.StringIO()
    configure_logging(stream)

    deploy("homelab", WITH_SNAPSHOTS, secrets=ALL_SECRETS)
    failed = deploy("homelab", {"gateway.replicas": 0}, secrets=ALL_SECRETS, check=False)

    assert failed.error is not None
    assert "phase finished" in stream.getvalue()
    for secret in ALL_SECRETS.values():
        assert secret not in stream.getvalue()
        assert secret not in str(failed.error)


# ------------------------------------------------------------ the gateway's TLS private keys

TLS_CA = authority()
PROVIDED = issue(TLS_CA)
PROVIDED_KEY = PROVIDED.key.splitlines()[1]
"""The provided key's first line of base64 (64 random characters): a real key, set as the
secret gatewayTlsKey."""
SERVER_KEY = "mock-gateway-tls-key"
CA_KEY = "mock-gateway-ca-key"
"""What the mocks return for the generated keys (infra/offline/mock_engine.py MOCK_PEM_OUTPUTS:
``mock-<resource name>`` inside PEM armour)."""
TLS_SECRET = ("kubernetes:core/v1:Secret", "gateway-tls")


@pytest.fixture(params=["provided", "generated"])
def tls_run(request: pytest.FixtureRequest, deploy: Deploy) -> tuple[ProgramRun, dict[str, str]]:
    """A run of each TLS mode, and its private keys by name."""
    if request.param == "provided":
        run = deploy(
            "studio",
            {"gateway.tls": {"mode": "provided", "certificate": PROVIDED.chain}},
            secrets={**KNOWN_SECRETS, "gatewayTlsKey": PROVIDED.key},
        )
        return run, {"server key": PROVIDED_KEY}
    return deploy("homelab"), {"server key": SERVER_KEY, "CA key": CA_KEY}


def holders(run: ProgramRun, text: str) -> set[tuple[str, str]]:
    return {
        (registration.type, registration.name)
        for registration in run.registrations
        if any(text in found for found in all_strings(registration.inputs))
    }


def test_no_tls_private_key_appears_in_any_plain_input(
    tls_run: tuple[ProgramRun, dict[str, str]],
) -> None:
    run, keys = tls_run
    for registration in run.registrations:
        for path, text in plain_strings(registration.wire):
            for name, key in keys.items():
                assert key not in text, f"{name} in {registration.type} {registration.name}{path}"


def test_the_server_key_reaches_the_cluster_only_in_the_tls_secret(
    tls_run: tuple[ProgramRun, dict[str, str]],
) -> None:
    run, keys = tls_run

    kubernetes = {held for held in holders(run, keys["server key"]) if held[0].startswith("kub")}

    assert kubernetes == {TLS_SECRET}
    secret = run.one(*TLS_SECRET)
    assert secret.wire["stringData"].get("4dabf18193072939515e22adb298388d") == SECRET_SIG


def test_a_generated_key_goes_only_to_the_provider_resources_that_need_it(deploy: Deploy) -> None:
    run = deploy("homelab")

    assert holders(run, SERVER_KEY) == {
        TLS_SECRET,
        ("tls:index/certRequest:CertRequest", "gateway-tls-request"),
    }
    # The CA's key stays in the Pulumi state: it signs, and never reaches the cluster.
    assert holders(run, CA_KEY) == {
        ("tls:index/selfSignedCert:SelfSignedCert", "gateway-ca"),
        ("tls:index/locallySignedCert:LocallySignedCert", "gateway-tls-certificate"),
    }


def test_no_tls_private_key_is_in_any_stack_output_even_secret(
    tls_run: tuple[ProgramRun, dict[str, str]],
) -> None:
    run, keys = tls_run

    outputs = list(all_strings(run.outputs))
    assert "gatewayCaCertificate" in run.outputs
    for key in keys.values():
        assert all(key not in text for text in outputs)


def test_the_provided_key_reaches_no_log_line(deploy: Deploy) -> None:
    stream = io.StringIO()
    configure_logging(stream)
    overrides = {"gateway.tls": {"mode": "provided", "certificate": PROVIDED.chain}}
    secrets = {**KNOWN_SECRETS, "gatewayTlsKey": PROVIDED.key}

    deploy("studio", overrides, secrets=secrets)
    failed = deploy("studio", {**overrides, "gateway.replicas": 0}, secrets=secrets, check=False)

    assert failed.error is not None
    assert "phase finished" in stream.getvalue()
    for line in PROVIDED.key.splitlines()[1:-1]:
        assert line not in stream.getvalue()
        assert line not in str(failed.error)


def test_rendered_manifests_hold_no_tls_private_key(tmp_path: Path) -> None:
    rendering = render_stack("homelab")
    render.write(rendering, tmp_path)

    written = "".join(path.read_text() for path in tmp_path.rglob("*") if path.is_file())
    assert (tmp_path / "gateway").is_dir()
    assert SERVER_KEY not in written
    assert CA_KEY not in written
    assert "PRIVATE KEY" not in written
