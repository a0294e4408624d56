"""KindCluster: the command, its arguments and environment, timeouts, triggers, deletion and
the secret kubeconfig; and the kind config generated from settings."""

from __future__ import annotations

import yaml

from infra.cluster.kind import CREATE_COMMAND, ENGINE_TIMEOUT_MARGIN_SECONDS
from infra.cluster.kind_config import kind_config
from infra.settings import KIND_NODE_IMAGE, ClusterSettings, StackSettings
from tests.conftest import Deploy


def test_create_runs_the_script_with_the_name_from_the_environment_only(deploy: Deploy) -> None:
    command = deploy("studio", {"cluster.name": "lab-7"}).one("command:local:Command")

    assert command.inputs["create"] == CREATE_COMMAND
    assert "lab-7" not in command.inputs["create"]
    assert "lab-7" not in command.inputs["delete"]
    assert command.inputs["environment"]["KIND_CLUSTER_NAME"] == "lab-7"
    assert command.inputs["environment"]["KIND_NODE_IMAGE"] == KIND_NODE_IMAGE


def test_timeouts_bound_both_the_engine_and_the_script(deploy: Deploy) -> None:
    command = deploy(
        "studio", {"cluster.createTimeoutSeconds": 420, "cluster.deleteTimeoutSeconds": 90}
    ).one("command:local:Command")

    assert command.inputs["environment"]["CLUSTER_CREATE_TIMEOUT"] == "420"
    assert command.inputs["environment"]["CLUSTER_DELETE_TIMEOUT"] == "90"
    assert command.custom_timeouts == {
        "create": f"{420 + ENGINE_TIMEOUT_MARGIN_SECONDS}s",
        "update": f"{420 + ENGINE_TIMEOUT_MARGIN_SECONDS}s",
        "delete": f"{90 + ENGINE_TIMEOUT_MARGIN_SECONDS}s",
    }


def test_kubeconfig_is_secret_and_never_logged(deploy: Deploy) -> None:
    run = deploy("studio")
    command = run.one("command:local:Command")

    assert command.additional_secret_outputs == ("stdout",)
    assert command.inputs["logging"] == "stderr"
    assert command.inputs["addPreviousOutputInEnv"] is False
    assert "kubeconfig" in run.secret_outputs


def test_kind_config_goes_to_the_script_on_stdin(deploy: Deploy) -> None:
    command = deploy("homelab").one("command:local:Command")
    config = yaml.safe_load(command.inputs["stdin"])

    assert config["kind"] == "Cluster"
    assert [node["role"] for node in config["nodes"]] == ["control-plane", "worker", "worker"]


def test_changing_nodes_changes_the_triggers_and_replaces_before_creating(
    deploy: Deploy,
) -> None:
    base = deploy("studio").one("command:local:Command")
    more_workers = deploy("studio", {"cluster.workers": 2}).one("command:local:Command")
    other_image = deploy("studio", {"cluster.nodeImage": "kindest/node:v1.33.1"}).one(
        "command:local:Command"
    )
    other_port = deploy("studio", {"cluster.gatewayHostPort": 9090}).one("command:local:Command")

    triggers = {
        tuple(map(str, c.inputs["triggers"])) for c in (base, more_workers, other_image, other_port)
    }
    assert len(triggers) == 4
    assert base.delete_before_replace is True


def test_same_settings_give_the_same_triggers(deploy: Deploy) -> None:
    first = deploy("homelab").one("command:local:Command")
    second = deploy("homelab").one("command:local:Command")

    assert first.inputs["triggers"] == second.inputs["triggers"]


def test_registry_settings_reach_the_script_and_the_kind_config(deploy: Deploy) -> None:
    command = deploy(
        "homelab", {"cluster.registry": {"enabled": True, "name": "lab-registry", "hostPort": 5002}}
    ).one("command:local:Command")

    assert command.inputs["environment"]["KIND_REGISTRY_NAME"] == "lab-registry"
    assert command.inputs["environment"]["KIND_REGISTRY_PORT"] == "5002"
    patches = yaml.safe_load(command.inputs["stdin"])["containerdConfigPatches"]
    assert 'config_path = "/etc/containerd/certs.d"' in patches[0]


def test_without_registry_no_mirror_is_configured(deploy: Deploy) -> None:
    command = deploy("homelab").one("command:local:Command")

    assert "containerdConfigPatches" not in yaml.safe_load(command.inputs["stdin"])
    assert "KIND_REGISTRY_NAME" not in command.inputs["environment"]


def test_kind_config_maps_the_gateway_node_port_to_the_host() -> None:
    settings = StackSettings.model_validate(
        {
            "stack": "homelab",
            "cluster": {"gatewayHostPort": 8443, "listenAddress": "0.0.0.0"},
            "gateway": {"tls": {"mode": "generated", "dnsNames": ["homelab.lan"]}},
        }
    )
    config = kind_config(settings.cluster, gateway_node_port=30080)

    assert config["name"] == "homelab"
    assert config["nodes"][0]["extraPortMappings"] == [
        {"containerPort": 30080, "hostPort": 8443, "listenAddress": "0.0.0.0", "protocol": "TCP"}
    ]
    assert all(node["image"] == KIND_NODE_IMAGE for node in config["nodes"])


def test_kubernetes_version_comes_from_the_node_image() -> None:
    assert ClusterSettings(name="lab", node_image="kindest/node:v1.33.1").kubernetes_version == (
        "1.33"
    )
    assert ClusterSettings(name="lab").kubernetes_version == "1.34"
