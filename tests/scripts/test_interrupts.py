"""Interrupts (issue 13, class 6): every script stops its tool, removes what this run created
and exits promptly with 128 + the signal's number, whether the signal comes from `kill` (the
script's process only) or from a terminal's Ctrl-C (the whole foreground process group).

Real signals against the stub tools; the bounds are long (600 s), so a script that only stops
at its bound fails these tests by their own timeout.
"""

from __future__ import annotations

import signal

import pytest

from tests.stub_tools import Running, Tools, alive

EXIT_SIGNAL = {signal.SIGHUP: 129, signal.SIGINT: 130, signal.SIGTERM: 143}
PROMPT_SECONDS = 3.0
LONG_BOUNDS = {
    "CLUSTER_CREATE_TIMEOUT": "600",
    "CLUSTER_DELETE_TIMEOUT": "600",
    "REGISTRY_TIMEOUT": "600",
    "UP_TIMEOUT": "600",
}


def interrupt(running: Running, how: signal.Signals | str) -> None:
    if isinstance(how, signal.Signals):
        running.signal(how)
    else:
        running.ctrl_c()


def expected_code(how: signal.Signals | str) -> int:
    return EXIT_SIGNAL[how if isinstance(how, signal.Signals) else signal.SIGINT]


def name(how: signal.Signals | str) -> str:
    return how.name if isinstance(how, signal.Signals) else how


# kill -TERM / -HUP / -INT to the script alone, and a terminal's Ctrl-C to its process group.
HOW = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, "ctrl-c"]


# ----------------------------------------------------------------------------- create


@pytest.mark.parametrize("how", HOW, ids=name)
def test_interrupted_create_stops_kind_and_deletes_the_half_created_cluster(
    tools: Tools, how: signal.Signals | str
) -> None:
    tools.stall("kind", "create")
    running = tools.start("create-kind-cluster", "studio", env=LONG_BOUNDS)
    stub = tools.hung_pid("kind", "create")

    interrupt(running, how)
    result, seconds = running.finish()

    assert result.returncode == expected_code(how), result.stderr
    assert seconds < PROMPT_SECONDS, f"took {seconds:.1f}s to stop"
    assert not alive(stub), "the stub's `kind create` is still running"
    assert tools.signal_received("kind", "create") is not None
    assert tools.clusters() == [], "the half-created cluster is still there"
    assert result.called("kind", "delete", "cluster", "--name", "studio")
    assert "interrupted" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("how", [signal.SIGTERM, "ctrl-c"], ids=name)
def test_interrupted_wait_for_nodes_deletes_the_cluster_this_run_created(
    tools: Tools, how: signal.Signals | str
) -> None:
    tools.hang("kubectl", "--kubeconfig")
    running = tools.start("create-kind-cluster", "studio", env=LONG_BOUNDS)
    stub = tools.hung_pid("kubectl", "--kubeconfig")

    interrupt(running, how)
    result, seconds = running.finish()

    assert result.returncode == expected_code(how), result.stderr
    assert seconds < PROMPT_SECONDS, f"took {seconds:.1f}s to stop"
    assert not alive(stub)
    assert tools.clusters() == []


@pytest.mark.parametrize("how", [signal.SIGTERM, "ctrl-c"], ids=name)
def test_interrupt_before_create_deletes_nothing(tools: Tools, how: signal.Signals | str) -> None:
    tools.hang("kind", "get")
    running = tools.start("create-kind-cluster", "studio", env=LONG_BOUNDS)
    stub = tools.hung_pid("kind", "get")

    interrupt(running, how)
    result, seconds = running.finish()

    assert result.returncode == expected_code(how), result.stderr
    assert seconds < PROMPT_SECONDS
    assert not alive(stub)
    assert not result.called("kind", "create")
    assert not result.called("kind", "delete")


def test_interrupting_a_reused_cluster_leaves_it_alone(tools: Tools) -> None:
    tools.existing_clusters("studio")
    tools.hang("kubectl", "--kubeconfig")
    running = tools.start("create-kind-cluster", "studio", env=LONG_BOUNDS)
    stub = tools.hung_pid("kubectl", "--kubeconfig")

    running.signal(signal.SIGTERM)
    result, seconds = running.finish()

    assert result.returncode == EXIT_SIGNAL[signal.SIGTERM], result.stderr
    assert seconds < PROMPT_SECONDS
    assert not alive(stub)
    assert not result.called("kind", "delete")
    assert tools.clusters() == ["studio"]


def test_interrupt_during_the_cleanup_stops_it_and_says_what_is_left(tools: Tools) -> None:
    tools.stall("kind", "create")
    tools.hang("kind", "delete")
    running = tools.start("create-kind-cluster", "studio", env=LONG_BOUNDS)
    tools.hung_pid("kind", "create")
    running.signal(signal.SIGTERM)
    cleanup = tools.hung_pid("kind", "delete")

    running.ctrl_c()
    result, seconds = running.finish()

    assert result.returncode == EXIT_SIGNAL[signal.SIGINT], result.stderr
    assert seconds < PROMPT_SECONDS
    assert not alive(cleanup)
    assert "kind delete cluster --name studio" in result.stderr


def test_interrupted_create_stops_the_registry_script_and_both_clean_up(tools: Tools) -> None:
    tools.stall("docker", "run")
    running = tools.start(
        "create-kind-cluster",
        "studio",
        env={**LONG_BOUNDS, "KIND_REGISTRY_NAME": "kind-registry", "KIND_REGISTRY_PORT": "5001"},
    )
    stub = tools.hung_pid("docker", "run")

    running.ctrl_c()
    result, seconds = running.finish()

    assert result.returncode == EXIT_SIGNAL[signal.SIGINT], result.stderr
    assert seconds < PROMPT_SECONDS
    assert not alive(stub)
    assert not (tools.state / "container-kind-registry").exists()
    assert tools.clusters() == []


# ----------------------------------------------------------------------------- delete


@pytest.mark.parametrize("how", HOW, ids=name)
def test_interrupted_delete_stops_kind_promptly(tools: Tools, how: signal.Signals | str) -> None:
    tools.existing_clusters("studio")
    tools.hang("kind", "delete")
    running = tools.start("delete-kind-cluster", "studio", "--yes", env=LONG_BOUNDS)
    stub = tools.hung_pid("kind", "delete")

    interrupt(running, how)
    result, seconds = running.finish()

    assert result.returncode == expected_code(how), result.stderr
    assert seconds < PROMPT_SECONDS, f"took {seconds:.1f}s to stop"
    assert not alive(stub)
    assert "run it again" in result.stderr


# ----------------------------------------------------------------------------- registry


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGHUP, "ctrl-c"], ids=name)
def test_interrupted_registry_up_removes_the_container_this_run_created(
    tools: Tools, how: signal.Signals | str
) -> None:
    tools.stall("docker", "run")
    running = tools.start("local-registry", "up", env=LONG_BOUNDS)
    stub = tools.hung_pid("docker", "run")

    interrupt(running, how)
    result, seconds = running.finish()

    assert result.returncode == expected_code(how), result.stderr
    assert seconds < PROMPT_SECONDS, f"took {seconds:.1f}s to stop"
    assert not alive(stub)
    assert not (tools.state / "container-kind-registry").exists()
    assert result.called("docker", "rm", "-f", "kind-registry")


def test_interrupted_registry_up_keeps_a_registry_that_was_there(tools: Tools) -> None:
    (tools.state / "container-kind-registry").write_text("false\n")
    tools.hang("docker", "start")
    running = tools.start("local-registry", "up", env=LONG_BOUNDS)
    stub = tools.hung_pid("docker", "start")

    running.ctrl_c()
    result, seconds = running.finish()

    assert result.returncode == EXIT_SIGNAL[signal.SIGINT], result.stderr
    assert seconds < PROMPT_SECONDS
    assert not alive(stub)
    assert (tools.state / "container-kind-registry").exists()
    assert not result.called("docker", "rm")


LABEL_FORMAT = '{{index .Config.Labels "io.agent-platform.local-registry.run"}}'


@pytest.mark.parametrize("parent", ["create-kind-cluster", None], ids=["nested", "alone"])
def test_signals_after_the_first_stop_the_cleanup_only_of_a_script_run_alone(
    tools: Tools, parent: str | None
) -> None:
    # create-kind-cluster runs local-registry under GNU timeout, which passes a signal twice (to
    # the script, then to its process group) and passes on later ones: all one request to stop,
    # so a nested script finishes its cleanup (its parent's --kill-after bounds it). Run alone,
    # a second interrupt is the user's, and stops the cleanup too.
    tools.stall("docker", "run")
    env = {**LONG_BOUNDS, **({"PARENT_SCRIPT": parent} if parent else {})}
    running = tools.start("local-registry", "up", env=env)
    tools.hung_pid("docker", "run")
    tools.slow("docker", "inspect", 0.5)  # the cleanup's look at the container's label

    running.signal(signal.SIGTERM)
    tools.wait_for_call("docker", "inspect", LABEL_FORMAT)
    running.signal(signal.SIGTERM)
    running.signal(signal.SIGINT)
    result, seconds = running.finish()

    assert seconds < PROMPT_SECONDS
    if parent:
        assert result.returncode == EXIT_SIGNAL[signal.SIGTERM], result.stderr
        assert "interrupted again" not in result.stderr
        assert result.called("docker", "rm", "-f", "kind-registry")
        assert not (tools.state / "container-kind-registry").exists()
    else:
        assert result.returncode in (EXIT_SIGNAL[signal.SIGTERM], EXIT_SIGNAL[signal.SIGINT])
        assert "interrupted again" in result.stderr
        assert "left behind: registry container 'kind-registry'" in result.stderr
        assert not result.called("docker", "rm")


@pytest.mark.parametrize("how", [signal.SIGTERM, "ctrl-c"], ids=name)
def test_interrupted_registry_status_stops_promptly(
    tools: Tools, how: signal.Signals | str
) -> None:
    tools.hang("docker", "inspect")
    running = tools.start("local-registry", "status", env=LONG_BOUNDS)
    stub = tools.hung_pid("docker", "inspect")

    interrupt(running, how)
    result, seconds = running.finish()

    assert result.returncode == expected_code(how), result.stderr
    assert seconds < PROMPT_SECONDS
    assert not alive(stub)
    assert result.stdout == ""


# ----------------------------------------------------------------------------- up


@pytest.mark.parametrize("how", [signal.SIGTERM, "ctrl-c"], ids=name)
def test_interrupted_up_passes_the_interrupt_to_pulumi_and_exits(
    tools: Tools, how: signal.Signals | str
) -> None:
    tools.hang("pulumi", "up")
    running = tools.start("up", "studio", "--yes", env=LONG_BOUNDS)
    stub = tools.hung_pid("pulumi", "up", wait=20)

    interrupt(running, how)
    result, seconds = running.finish()

    assert result.returncode == expected_code(how), result.stderr
    assert seconds < PROMPT_SECONDS
    assert not alive(stub)
    # pulumi cancels an update gracefully on SIGINT, as on a Ctrl-C in its terminal.
    assert tools.signal_received("pulumi", "up") == "INT"
