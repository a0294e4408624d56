"""Stack selection and the whole program per stack (under mocks)."""

from __future__ import annotations

import pytest

from infra.settings import STACK_DEFAULTS, SUPPORTED_STACKS, ConfigError, StackError
from tests.conftest import PROJECT_DIR, Deploy


@pytest.mark.parametrize("stack", ["prod", "dev", "Studio", "studio ", ""])
def test_unsupported_stack_fails_before_any_resource(deploy: Deploy, stack: str) -> None:
    run = deploy(stack, config={}, check=False)

    assert isinstance(run.error, StackError)
    assert f"stack {stack!r} is not supported" in str(run.error)
    assert "studio, homelab" in str(run.error)
    assert run.registrations == []


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_stack_registers_cluster_then_provider_with_its_kubeconfig(
    deploy: Deploy, stack: str
) -> None:
    run = deploy(stack)

    cluster = run.one("agent-platform:cluster:KindCluster")
    assert cluster.name == stack
    command = run.one("command:local:Command")
    assert command.parent == cluster.urn
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "apiVersion: v1\nkind: Config\nclusters: []\n" + (
        "# mock kubeconfig\n"
    )
    assert command.urn in provider.dependencies
    assert run.outputs["clusterName"] == stack
    assert run.outputs["kubeContext"] == f"kind-{stack}"
    assert "kubeconfig" in run.secret_outputs


def test_studio_deletes_its_cluster_on_destroy_and_homelab_keeps_it(deploy: Deploy) -> None:
    studio = deploy("studio").one("command:local:Command")
    homelab = deploy("homelab").one("command:local:Command")

    assert "delete-kind-cluster" in studio.inputs["delete"]
    assert studio.retain_on_delete is False
    assert "delete" not in homelab.inputs
    assert homelab.retain_on_delete is True


def test_bad_config_fails_before_any_resource(deploy: Deploy) -> None:
    run = deploy("studio", {"gateway.replicas": 0}, check=False)

    assert isinstance(run.error, ConfigError)
    assert "agent-platform:gateway.replicas" in str(run.error)
    assert run.registrations == []


def test_bad_cluster_name_fails_before_any_resource(deploy: Deploy) -> None:
    run = deploy("homelab", {"cluster.name": "lab;rm -rf ~"}, check=False)

    assert isinstance(run.error, ConfigError)
    assert "agent-platform:cluster.name" in str(run.error)
    assert "not a lowercase DNS-1123 label" in str(run.error)
    assert run.registrations == []


def test_the_one_list_of_stacks_has_defaults_and_a_stack_file_for_each() -> None:
    """SUPPORTED_STACKS (infra/settings/stack.py) is the one place that lists the stacks."""
    assert set(STACK_DEFAULTS) == set(SUPPORTED_STACKS)
    stack_files = sorted(path.name for path in PROJECT_DIR.glob("Pulumi.*.yaml"))
    assert stack_files == sorted(f"Pulumi.{stack}.yaml" for stack in SUPPORTED_STACKS)
