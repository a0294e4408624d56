"""ExistingCluster and render targets, and the provider every Kubernetes object uses."""

from __future__ import annotations

import pytest

from infra.offline.mock_engine import ProviderCheckError, check_kubernetes_provider
from tests.conftest import KNOWN_SECRETS, Deploy

EXISTING_KUBECONFIG = "apiVersion: v1\nkind: Config\n# existing-cluster-SENTINEL-99\n"


def test_existing_target_creates_no_cluster_and_uses_the_secret_kubeconfig(
    deploy: Deploy,
) -> None:
    run = deploy(
        "homelab",
        {"cluster.target": "existing", "cluster.context": "lab-admin"},
        secrets={**KNOWN_SECRETS, "kubeconfig": EXISTING_KUBECONFIG},
    )

    assert run.of_type("command:local:Command") == []
    assert run.of_type("agent-platform:cluster:KindCluster") == []
    assert run.one("agent-platform:cluster:ExistingCluster").name == "homelab"
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == EXISTING_KUBECONFIG
    assert provider.inputs["context"] == "lab-admin"
    # An unreachable cluster someone else runs must not be dropped from state.
    assert provider.inputs.get("deleteUnreachable") in (None, False, "false")
    assert "kubeconfig" in run.secret_outputs
    assert run.outputs["kubeconfig"] == EXISTING_KUBECONFIG


def test_provider_is_explicit_and_server_side_apply(deploy: Deploy) -> None:
    provider = deploy("studio").one("pulumi:providers:kubernetes")

    assert provider.inputs["enableServerSideApply"] in (True, "true")
    assert provider.inputs["context"] == "kind-studio"
    assert provider.inputs["kubeconfig"]
    assert provider.inputs["deleteUnreachable"] in (True, "true")


def test_provider_kubeconfig_is_sent_as_a_secret(deploy: Deploy) -> None:
    provider = deploy("studio").one("pulumi:providers:kubernetes")

    assert isinstance(provider.wire["kubeconfig"], dict), "kubeconfig must be a secret input"


def test_render_target_creates_no_cluster_and_renders_to_a_directory_per_stack(
    deploy: Deploy,
) -> None:
    run = deploy("studio", {"cluster.target": "render", "cluster.renderDirectory": "/tmp/out"})

    assert run.of_type("command:local:Command") == []
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.inputs["renderYamlToDirectory"] == "/tmp/out/studio"
    # The real provider refuses a kubeconfig, context or cluster beside renderYamlToDirectory.
    assert not any(provider.inputs.get(name) for name in ("kubeconfig", "context", "cluster"))
    assert run.outputs["renderDirectory"] == "/tmp/out/studio"
    assert "kubeconfig" not in run.outputs


def test_render_target_ignores_a_kubeconfig_set_in_the_environment(
    deploy: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK fills an unset kubeconfig from $KUBECONFIG, which the provider then refuses
    beside renderYamlToDirectory: found by the engine tier, whose harness sets KUBECONFIG."""
    monkeypatch.setenv("KUBECONFIG", "/home/someone/.kube/config")

    run = deploy("studio", {"cluster.target": "render", "cluster.renderDirectory": "/tmp/out"})

    assert run.error is None
    assert run.one("pulumi:providers:kubernetes").inputs.get("kubeconfig") == ""


@pytest.mark.parametrize("refused", ["kubeconfig", "context", "cluster"])
def test_the_mock_engine_refuses_what_the_real_provider_refuses_beside_render(
    refused: str,
) -> None:
    """The first real `pulumi up` of a render stack failed on this check; the mocks now make it."""
    with pytest.raises(ProviderCheckError, match=f'"{refused}" arg is not compatible'):
        check_kubernetes_provider({"renderYamlToDirectory": "/out", refused: "x"})
    check_kubernetes_provider({"renderYamlToDirectory": "/out"})
    check_kubernetes_provider({refused: "x"})


def test_the_provider_updates_secrets_in_place_whatever_the_environment_says(
    deploy: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotated secret is an in-place update (its pods roll by checksum), and a machine's
    PULUMI_K8S_* variables cannot change the provider's behaviour."""
    for variable in ("ENABLE_SECRET_MUTABLE", "ENABLE_CONFIGMAP_MUTABLE"):
        monkeypatch.setenv(f"PULUMI_K8S_{variable}", "false")
    for variable in ("ENABLE_PATCH_FORCE", "UPSERT_EXISTING_OBJECTS", "SKIP_UPDATE_UNREACHABLE"):
        monkeypatch.setenv(f"PULUMI_K8S_{variable}", "true")

    inputs = deploy("studio").one("pulumi:providers:kubernetes").inputs

    assert inputs["enableSecretMutable"] in (True, "true")
    assert inputs["enableConfigMapMutable"] in (True, "true")
    for name in ("enablePatchForce", "upsertExistingObjects", "skipUpdateUnreachable"):
        assert inputs[name] in (False, "false"), name
