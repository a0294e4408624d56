"""A time bound or a failing tool is never taken for "absent" (issue 13, class 8): it ends the
run with exit 4 (timeout) or 5 (failed), and nothing is created or replaced on a guess.

The bounds are as short as the scripts allow, for speed. A script counts its bound in whole
seconds (bash's SECONDS), so a bound of N seconds ends between N - 1 and N seconds after it
starts: 1 s where the test holds wherever the time runs out, 2 s where the run must first reach
the hung step.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.stub_tools import SCRIPTS, Tools

EXIT_TIMEOUT = 4
EXIT_FAILED = 5

# ----------------------------------------------------------------------------- registry


@pytest.mark.parametrize("action", ["status", "down", "up"])
def test_hung_inspect_is_a_timeout_not_an_absent_registry(tools: Tools, action: str) -> None:
    (tools.state / "container-kind-registry").write_text("true\n")
    tools.hang("docker", "inspect")

    result = tools.run("local-registry", action, env={"REGISTRY_TIMEOUT": "1"}, timeout=15)

    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert "REGISTRY_TIMEOUT" in result.stderr
    assert result.stdout == ""
    assert "nothing to do" not in result.stderr
    assert not result.called("docker", "run")
    assert (tools.state / "container-kind-registry").exists()


@pytest.mark.parametrize("action", ["status", "down", "up"])
def test_failing_inspect_is_a_failure_not_an_absent_registry(tools: Tools, action: str) -> None:
    (tools.state / "container-kind-registry").write_text("true\n")
    tools.fail("docker", "inspect")

    result = tools.run("local-registry", action)

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "simulated failure" in result.stderr  # docker's own message is shown
    assert result.stdout == ""
    assert not result.called("docker", "run")


def test_failing_network_inspect_is_a_failure_not_a_missing_network(tools: Tools) -> None:
    tools.fail("docker", "network")

    result = tools.run("local-registry", "up")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "kind network" in result.stderr


def test_missing_kind_network_is_not_joined(tools: Tools) -> None:
    (tools.state / "no-kind-network").touch()

    result = tools.run("local-registry", "up")

    assert result.returncode == 0, result.stderr
    assert not result.called("docker", "network", "connect")


# ----------------------------------------------------------------------------- create


def test_hung_node_image_check_on_reuse_is_a_timeout_not_a_refusal(tools: Tools) -> None:
    tools.existing_clusters("studio")
    tools.hang("docker", "inspect")

    result = tools.run(
        "create-kind-cluster",
        "studio",
        env={"CLUSTER_CREATE_TIMEOUT": "2", "KIND_NODE_IMAGE": "kindest/node:v1.34.0"},
        timeout=15,
    )

    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert "CLUSTER_CREATE_TIMEOUT" in result.stderr
    assert result.called("docker", "inspect", "--format", "{{.Config.Image}}")
    assert not result.called("kind", "delete")


def test_registry_that_cannot_be_wired_into_a_reused_cluster_is_a_failure(tools: Tools) -> None:
    tools.existing_clusters("studio")
    tools.fail("docker", "run")

    result = tools.run(
        "create-kind-cluster",
        "studio",
        env={"KIND_REGISTRY_NAME": "kind-registry", "KIND_REGISTRY_PORT": "5001"},
    )

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "registry" in result.stderr
    assert not result.called("kind", "delete")
    assert tools.clusters() == ["studio"]


# ----------------------------------------------------------------------------- up


# scripts/preflight (Python, 0.5 s and more under load) is a stub in these two: the bound
# covers it, and its start-up time is not what they are about.
def test_hung_config_get_is_a_timeout_and_the_secret_is_not_replaced(tools: Tools) -> None:
    tools.stub_script("preflight")
    (tools.state / "pulumi-stack-studio").touch()
    tools.hang("pulumi", "config")

    result = tools.run("up", "studio", env={"UP_TIMEOUT": "2"}, timeout=20)

    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert "UP_TIMEOUT" in result.stderr
    assert result.called("preflight", "--stack", "studio")
    assert result.called("pulumi", "config", "get")
    assert not result.called("pulumi", "config", "set")
    assert not result.called("pulumi", "up")


def test_failing_config_get_is_a_failure_and_the_secret_is_not_replaced(tools: Tools) -> None:
    (tools.state / "pulumi-stack-studio").touch()
    (tools.state / "pulumi-config-gatewayToken").write_text("kept")
    tools.fail("pulumi", "config")  # e.g. a wrong passphrase: not "key not found"

    result = tools.run("up", "studio")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "simulated failure" in result.stderr
    assert not result.called("pulumi", "config", "set")
    assert (tools.state / "pulumi-config-gatewayToken").read_text() == "kept"


def test_failing_stack_select_is_a_failure_not_a_missing_stack(tools: Tools) -> None:
    tools.fail("pulumi", "stack")

    result = tools.run("up", "studio")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "simulated failure" in result.stderr
    assert not result.called("pulumi", "stack", "init")


def test_hung_stack_select_is_a_timeout(tools: Tools) -> None:
    tools.stub_script("preflight")
    tools.hang("pulumi", "stack")

    result = tools.run("up", "studio", env={"UP_TIMEOUT": "2"}, timeout=20)

    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert "UP_TIMEOUT" in result.stderr
    assert result.called("pulumi", "stack", "select")
    assert not result.called("pulumi", "stack", "init")


def test_a_shell_function_is_never_run_under_timeout() -> None:
    # timeout runs programs: given a function's name it would run a program of that name, or
    # fail with 127 and look like the tool failing.
    completed = subprocess.run(
        ["bash", "-c", f'source "{SCRIPTS}/lib/common.sh"; helper() {{ :; }}; run_for 5 helper'],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == EXIT_FAILED
    assert "'helper' is a shell function, not a program" in completed.stderr
