"""Every kind config the program can generate, decoded the way ``kind create cluster`` does.

``kind-config-check`` (tools/k8s-counterparts) uses sigs.k8s.io/kind v0.30.0's public v1alpha4
types with kind's strict decoder (unknown fields and wrong types are errors) and defaults, and
repeats the checks of kind's internal validation that apply to what the program writes. The
configs come from the program itself: the stdin it gives the cluster's create command.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from infra.settings import KIND_NODE_IMAGE, settings_from_stack_file
from tests.conftest import PROJECT_DIR, Deploy

REGISTRY_PATCH_FRAGMENT: Final = 'config_path = "/etc/containerd/certs.d"'


def decode(counterparts_bin: Path, config: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(counterparts_bin / "kind-config-check")],
        input=config,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def program_kind_config(deploy: Deploy, stack: str, overrides: dict[str, Any]) -> str:
    command = deploy(stack, overrides).one("command:local:Command")
    return str(command.inputs["stdin"])


CASES: Final = [
    pytest.param(stack, registry, workers, id=f"{stack}-registry-{registry}-workers-{workers}")
    for stack, registry, workers in itertools.product(
        ("studio", "homelab"), (True, False), (0, 3, 8)
    )
]


@pytest.mark.parametrize(("stack", "registry", "workers"), CASES)
def test_every_generated_kind_config_decodes_strictly_into_kinds_types(
    counterparts_bin: Path, deploy: Deploy, stack: str, registry: bool, workers: int
) -> None:
    config = program_kind_config(
        deploy, stack, {"cluster.registry": {"enabled": registry}, "cluster.workers": workers}
    )

    decoded = decode(counterparts_bin, config)

    assert decoded.returncode == 0, decoded.stderr
    cluster = json.loads(decoded.stdout)
    roles = [node["role"] for node in cluster["nodes"]]
    assert roles == ["control-plane"] + ["worker"] * workers
    assert {node["image"] for node in cluster["nodes"]} == {KIND_NODE_IMAGE}
    listen = yaml.safe_load(config)["nodes"][0]["extraPortMappings"][0]["listenAddress"]
    assert cluster["nodes"][0]["extraPortMappings"] == [
        {
            "containerPort": 30080,
            "hostPort": settings_from_stack_file(stack, PROJECT_DIR).cluster.gateway_host_port,
            "listenAddress": listen,
            "protocol": "TCP",
        }
    ]
    patches = cluster.get("containerdConfigPatches", [])
    assert any(REGISTRY_PATCH_FRAGMENT in patch for patch in patches) is registry
    assert cluster["name"] == stack
    assert cluster["networking"]["apiServerAddress"] == "127.0.0.1"


def test_the_stack_files_kind_configs_keep_their_listen_addresses(
    counterparts_bin: Path, deploy: Deploy
) -> None:
    addresses = {
        stack: json.loads(decode(counterparts_bin, program_kind_config(deploy, stack, {})).stdout)[
            "nodes"
        ][0]["extraPortMappings"][0]["listenAddress"]
        for stack in ("studio", "homelab")
    }

    assert addresses == {"studio": "127.0.0.1", "homelab": "0.0.0.0"}


def _broken(config: str, change: str) -> str:
    document = yaml.safe_load(config)
    control_plane = document["nodes"][0]
    mapping = control_plane["extraPortMappings"][0]
    if change == "misspelt field":
        control_plane["extraPortMapping"] = control_plane.pop("extraPortMappings")
    elif change == "wrong type":
        mapping["hostPort"] = "8080"
    elif change == "mapping instead of a list":
        control_plane["extraPortMappings"] = mapping
    elif change == "port out of range":
        mapping["hostPort"] = 70000
    elif change == "unknown protocol":
        mapping["protocol"] = "HTTP"
    elif change == "same host port twice":
        control_plane["extraPortMappings"] = [mapping, {**mapping, "containerPort": 30081}]
    elif change == "unknown apiVersion":
        document["apiVersion"] = "kind.x-k8s.io/v1alpha3"
    elif change == "no control plane":
        control_plane["role"] = "worker"
    return yaml.safe_dump(document, sort_keys=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("misspelt field", "field extraPortMapping not found in type v1alpha4.Node"),
        ("wrong type", "cannot unmarshal !!str `8080` into int32"),
        ("mapping instead of a list", "cannot unmarshal !!map into []v1alpha4.PortMapping"),
        ("port out of range", "invalid hostPort: invalid port number: 70000"),
        ("unknown protocol", 'Unknown PortMappingProtocol: "HTTP"'),
        ("same host port twice", "port mapping with same listen address, port and protocol"),
        ("unknown apiVersion", "unknown apiVersion: kind.x-k8s.io/v1alpha3"),
        ("no control plane", "must have at least one control-plane node"),
    ],
)
def test_the_kind_config_check_refuses_a_broken_config(
    counterparts_bin: Path, deploy: Deploy, change: str, message: str
) -> None:
    config = _broken(program_kind_config(deploy, "studio", {}), change)

    decoded = decode(counterparts_bin, config)

    assert decoded.returncode == 1
    assert message in decoded.stderr
    assert decoded.stdout == ""
