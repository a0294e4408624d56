"""Known secret strings stay Pulumi secrets end to end.

Every stack runs with sentinel secret values; the tests walk everything the program sends to
the engine and everything it logs, and find them only where they belong: inside Kubernetes
Secrets, as secret-wrapped inputs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from infra.offline.mock_engine import SECRET_SIG, ProgramRun
from infra.observability import configure_logging
from infra.settings import SUPPORTED_STACKS
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
