"""create-kind-cluster and delete-kind-cluster, run for real against stub tools."""

from __future__ import annotations

import os
import pty

import pytest

from tests.stub_tools import Tools

KIND_CONFIG = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
STUB_KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: kind-studio\n# stub kubeconfig\n"

EXIT_BAD_INPUT = 2
EXIT_MISSING_TOOL = 3
EXIT_TIMEOUT = 4
EXIT_FAILED = 5
EXIT_REFUSED = 6
EXIT_NOT_FOUND = 7
EXIT_NOT_CONFIRMED = 8


def test_create_prints_only_the_kubeconfig_on_stdout(tools: Tools) -> None:
    result = tools.run("create-kind-cluster", "studio", stdin=KIND_CONFIG)

    assert result.returncode == 0, result.stderr
    assert result.stdout == STUB_KUBECONFIG
    assert "creating kind cluster 'studio'" in result.stderr
    assert "Creating cluster" in result.stderr  # kind's own progress goes to stderr
    assert tools.clusters() == ["studio"]
    assert (tools.state / "kind-config-used.yaml").read_text() == KIND_CONFIG
    assert result.called("kubectl", "--kubeconfig")
    wait = next(call for call in result.calls if "wait" in call)
    assert "--for=condition=Ready" in wait
    assert "--all" in wait


def test_create_passes_the_name_as_one_argument(tools: Tools) -> None:
    result = tools.run("create-kind-cluster", "lab-2", stdin=KIND_CONFIG)

    create = next(call for call in result.calls if call[:3] == ["kind", "create", "cluster"])
    assert create[3:5] == ["--name", "lab-2"]
    assert "--wait" in create


def test_node_image_is_passed_when_no_config_is_given(tools: Tools) -> None:
    image = "kindest/node:v1.34.0@sha256:" + "a" * 64
    result = tools.run("create-kind-cluster", "studio", env={"KIND_NODE_IMAGE": image})

    assert result.returncode == 0, result.stderr
    create = next(call for call in result.calls if call[:3] == ["kind", "create", "cluster"])
    assert create[create.index("--image") + 1] == image


def test_rerun_reuses_a_healthy_cluster(tools: Tools) -> None:
    tools.existing_clusters("studio")

    result = tools.run(
        "create-kind-cluster",
        "studio",
        stdin=KIND_CONFIG,
        env={"KIND_NODE_IMAGE": "kindest/node:v1.34.0"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == STUB_KUBECONFIG
    assert "reusing healthy cluster 'studio'" in result.stderr
    assert not result.called("kind", "create")
    assert not result.called("kind", "delete")


def test_existing_but_unreachable_cluster_is_refused_and_left_alone(tools: Tools) -> None:
    tools.existing_clusters("studio")
    (tools.state / "api-down").touch()

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_REFUSED
    assert "does not answer" in result.stderr
    assert "scripts/delete-kind-cluster studio" in result.stderr
    assert not result.called("kind", "delete")
    assert tools.clusters() == ["studio"]
    assert result.stdout == ""


def test_existing_cluster_with_another_node_image_is_refused(tools: Tools) -> None:
    tools.existing_clusters("homelab")
    (tools.state / "node-image").write_text("kindest/node:v1.33.1\n")

    result = tools.run(
        "create-kind-cluster", "homelab", env={"KIND_NODE_IMAGE": "kindest/node:v1.34.0"}
    )

    assert result.returncode == EXIT_REFUSED
    assert "runs node image 'kindest/node:v1.33.1', not 'kindest/node:v1.34.0'" in result.stderr
    assert not result.called("kind", "delete")


def test_hung_create_stops_at_the_bound_and_deletes_the_half_created_cluster(
    tools: Tools,
) -> None:
    tools.stall("kind", "create")

    # 2 s: the run must reach `kind create` before its whole-second bound runs out.
    result = tools.run(
        "create-kind-cluster", "studio", env={"CLUSTER_CREATE_TIMEOUT": "2"}, timeout=30
    )

    assert result.returncode == EXIT_TIMEOUT
    assert result.seconds < 2 + 10, f"took {result.seconds:.1f}s"
    assert "gave up after 2s (CLUSTER_CREATE_TIMEOUT)" in result.stderr
    assert result.called("kind", "delete", "cluster", "--name", "studio")
    assert result.stdout == ""


def test_hung_tool_before_create_also_stops_at_the_bound(tools: Tools) -> None:
    tools.hang("kind", "get")

    result = tools.run(
        "create-kind-cluster", "studio", env={"CLUSTER_CREATE_TIMEOUT": "1"}, timeout=30
    )

    assert result.returncode == EXIT_TIMEOUT
    assert result.seconds < 1 + 10
    assert not result.called("kind", "create")
    assert not result.called("kind", "delete")


def test_failed_create_deletes_the_half_created_cluster(tools: Tools) -> None:
    tools.fail_after("kind", "create")

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_FAILED
    assert "kind could not create cluster 'studio'" in result.stderr
    assert result.called("kind", "delete", "cluster", "--name", "studio")
    assert tools.clusters() == []


def test_nodes_that_never_get_ready_fail_the_create_and_are_cleaned_up(tools: Tools) -> None:
    tools.fail("kubectl", "--kubeconfig")

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_FAILED
    assert "did not become ready" in result.stderr
    assert tools.clusters() == []


def test_cluster_listing_failure_changes_nothing(tools: Tools) -> None:
    tools.existing_clusters("studio")
    tools.fail("kind", "get")

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_FAILED
    assert not result.called("kind", "create")
    assert not result.called("kind", "delete")


@pytest.mark.parametrize(
    "name",
    [
        "-rf",
        "--force",  # (-h and --help print the usage: tests/scripts/test_help.py)
        "a;touch pwned",
        "$(touch pwned)",
        "`touch pwned`",
        "a b",
        "Studio",
        "stüdio",
        "a|b",
        "lab-",
        "",
        "x" * 41,
        "a\nb",
    ],
)
def test_unsafe_names_are_rejected_before_any_tool_is_called(tools: Tools, name: str) -> None:
    for script in ("create-kind-cluster", "delete-kind-cluster"):
        result = tools.run(script, name, "--yes") if "delete" in script else tools.run(script, name)

        assert result.returncode == EXIT_BAD_INPUT, (script, result.stderr)
        assert "error:" in result.stderr
        assert result.calls == []
        assert not (tools.state / "pwned").exists()


def test_wrong_number_of_arguments_is_bad_input(tools: Tools) -> None:
    result = tools.run("create-kind-cluster", "studio", "homelab")

    assert result.returncode == EXIT_BAD_INPUT
    assert "usage:" in result.stderr


@pytest.mark.parametrize("value", ["0", "-5", "ten", "99999999"])
def test_bad_timeout_value_is_bad_input(tools: Tools, value: str) -> None:
    result = tools.run("create-kind-cluster", "studio", env={"CLUSTER_CREATE_TIMEOUT": value})

    assert result.returncode == EXIT_BAD_INPUT
    assert "CLUSTER_CREATE_TIMEOUT must be a whole number of seconds" in result.stderr
    assert result.calls == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [("kind", "'kind' is not on PATH"), ("kubectl", "'kubectl' is not on PATH")],
)
def test_missing_tool_is_named(tools: Tools, missing: str, message: str) -> None:
    tools.remove(missing)

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_MISSING_TOOL
    assert message in result.stderr


def test_missing_container_engine_is_named(tools: Tools) -> None:
    tools.remove("docker")
    tools.remove("podman")

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_MISSING_TOOL
    assert "neither docker nor podman" in result.stderr


def test_podman_is_used_when_docker_is_absent(tools: Tools) -> None:
    tools.remove("docker")

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == 0, result.stderr
    assert result.called("podman", "info")


def test_unreachable_daemon_is_a_missing_tool(tools: Tools) -> None:
    tools.fail("docker", "info")

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_MISSING_TOOL
    assert "'docker info' did not answer" in result.stderr
    assert not result.called("kind", "create")


def test_registry_is_started_and_wired_into_every_node(tools: Tools) -> None:
    result = tools.run(
        "create-kind-cluster",
        "studio",
        env={"KIND_REGISTRY_NAME": "kind-registry", "KIND_REGISTRY_PORT": "5001"},
    )

    assert result.returncode == 0, result.stderr
    run = next(call for call in result.calls if call[:2] == ["docker", "run"])
    assert "127.0.0.1:5001:5000" in run
    assert run[-1] == "registry:2.8.3"
    assert result.called("docker", "network", "connect", "kind", "kind-registry")
    for node in ("studio-control-plane", "studio-worker"):
        assert result.called(
            "docker", "exec", node, "mkdir", "-p", "/etc/containerd/certs.d/localhost:5001"
        )
    hosts = (tools.state / "exec-stdin").read_text()
    assert hosts.count('[host."http://kind-registry:5000"]') == 2


def test_bad_registry_port_is_bad_input(tools: Tools) -> None:
    result = tools.run(
        "create-kind-cluster",
        "studio",
        env={"KIND_REGISTRY_NAME": "kind-registry", "KIND_REGISTRY_PORT": "70000"},
    )

    assert result.returncode == EXIT_BAD_INPUT
    assert result.calls == []


# ----------------------------------------------------------------------------- delete


def test_delete_refuses_a_cluster_that_is_not_on_this_machine(tools: Tools) -> None:
    tools.existing_clusters("homelab")

    result = tools.run("delete-kind-cluster", "studio", "--yes")

    assert result.returncode == EXIT_NOT_FOUND
    assert "no kind cluster named 'studio' on this machine" in result.stderr
    assert not result.called("kind", "delete")
    assert tools.clusters() == ["homelab"]


def test_delete_with_yes_deletes(tools: Tools) -> None:
    tools.existing_clusters("studio", "homelab")

    result = tools.run("delete-kind-cluster", "studio", "--yes")

    assert result.returncode == 0, result.stderr
    assert result.called("kind", "delete", "cluster", "--name", "studio")
    assert tools.clusters() == ["homelab"]


def test_delete_without_yes_and_without_a_terminal_refuses(tools: Tools) -> None:
    tools.existing_clusters("studio")

    result = tools.run("delete-kind-cluster", "studio")

    assert result.returncode == EXIT_NOT_CONFIRMED
    assert "pass --yes" in result.stderr
    assert tools.clusters() == ["studio"]


@pytest.mark.parametrize(("typed", "deleted"), [("studio", True), ("yes", False)])
def test_delete_asks_for_the_name_on_a_terminal(tools: Tools, typed: str, deleted: bool) -> None:
    tools.existing_clusters("studio")
    controller, terminal = pty.openpty()
    try:
        os.write(controller, f"{typed}\n".encode())
        result = tools.run("delete-kind-cluster", "studio", stdin_fd=terminal)
    finally:
        os.close(controller)
        os.close(terminal)

    assert "Type its name to confirm" in result.stderr
    assert (result.returncode == 0) is deleted
    assert tools.clusters() == ([] if deleted else ["studio"])


def test_hung_delete_stops_at_its_bound(tools: Tools) -> None:
    tools.existing_clusters("studio")
    tools.hang("kind", "delete")

    result = tools.run(
        "delete-kind-cluster", "studio", "--yes", env={"CLUSTER_DELETE_TIMEOUT": "1"}
    )

    assert result.returncode == EXIT_TIMEOUT
    assert result.seconds < 1 + 10
