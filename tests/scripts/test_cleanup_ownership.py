"""What a failed, timed-out or interrupted run cleans up (issue 13, class 7): only what this run
created, decided by evidence (kind said it started creating; the container carries this run's
label), never a cluster or registry that existed before or that another process made meanwhile.
"""

from __future__ import annotations

import signal

from tests.stub_tools import Tools

EXIT_TIMEOUT = 4
EXIT_FAILED = 5
EXIT_REFUSED = 6
EXIT_SIGTERM = 143


def test_create_that_kind_finds_already_existing_leaves_that_cluster_alone(tools: Tools) -> None:
    tools.existing_clusters()
    (tools.state / "race-create").touch()  # made by another process after this run listed

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_REFUSED, result.stderr
    assert "already exist" in result.stderr
    assert "left as is" in result.stderr
    assert not result.called("kind", "delete")
    assert tools.clusters() == ["studio"]
    assert result.stdout == ""


def test_timeout_before_kind_started_creating_deletes_nothing(tools: Tools) -> None:
    tools.hang("kind", "create")
    # 2 s: the bound counts whole seconds, and the run must reach `kind create` within it.
    running = tools.start("create-kind-cluster", "studio", env={"CLUSTER_CREATE_TIMEOUT": "2"})
    tools.hung_pid("kind", "create")
    tools.existing_clusters("studio")  # another process creates it meanwhile

    result, _ = running.finish()

    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert not result.called("kind", "delete")
    assert tools.clusters() == ["studio"]


def test_interrupt_before_kind_started_creating_deletes_nothing(tools: Tools) -> None:
    tools.hang("kind", "create")
    running = tools.start("create-kind-cluster", "studio", env={"CLUSTER_CREATE_TIMEOUT": "60"})
    tools.hung_pid("kind", "create")
    tools.existing_clusters("studio")  # another process creates it meanwhile

    running.signal(signal.SIGTERM)
    result, _ = running.finish()

    assert result.returncode == EXIT_SIGTERM, result.stderr
    assert not result.called("kind", "delete")
    assert tools.clusters() == ["studio"]


def test_create_that_kind_fails_before_creating_deletes_nothing(tools: Tools) -> None:
    tools.fail("kind", "create")  # e.g. an invalid config: kind stops before any container

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "kind could not create cluster 'studio'" in result.stderr
    assert not result.called("kind", "delete")


def test_create_that_kind_started_and_failed_is_deleted(tools: Tools) -> None:
    tools.fail_after("kind", "create")

    result = tools.run("create-kind-cluster", "studio")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert result.called("kind", "delete", "cluster", "--name", "studio")
    assert tools.clusters() == []


def test_registry_that_appeared_before_docker_run_is_not_removed(tools: Tools) -> None:
    (tools.state / "race-run").touch()

    result = tools.run("local-registry", "up")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "already in use" in result.stderr
    assert not result.called("docker", "rm")
    assert (tools.state / "container-kind-registry").exists()


def test_registry_container_this_run_created_and_could_not_start_is_removed(tools: Tools) -> None:
    # docker run creates the container, then fails to start it (a port taken meanwhile):
    # without cleanup a stopped container stays, and every later `up` fails to start it.
    tools.fail_after("docker", "run")

    result = tools.run("local-registry", "up")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert result.called("docker", "rm", "-f", "kind-registry")
    assert not (tools.state / "container-kind-registry").exists()


def test_registry_that_was_there_is_not_removed_when_joining_the_network_fails(
    tools: Tools,
) -> None:
    (tools.state / "container-kind-registry").write_text("true\n")
    tools.fail("docker", "network")

    result = tools.run("local-registry", "up")

    assert result.returncode == EXIT_FAILED, result.stderr
    assert not result.called("docker", "rm")
    assert (tools.state / "container-kind-registry").exists()
