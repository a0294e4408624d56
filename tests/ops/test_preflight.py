"""scripts/preflight, run for real with stub tools and real sockets."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops.preflight import MINIMUM_VERSIONS
from tests.stub_tools import REPO, Result, Tools


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def project(tmp_path: Path, free_port: int) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    config = {
        "config": {
            "agent-platform:cluster": {
                "gatewayHostPort": free_port,
                "listenAddress": "127.0.0.1",
            }
        }
    }
    (directory / "Pulumi.studio.yaml").write_text(yaml.safe_dump(config))
    return directory


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "pulumi-state"
    directory.mkdir()
    return directory


def preflight(tools: Tools, project: Path, state_dir: Path, *args: str) -> Result:
    return tools.run(
        "preflight",
        "--stack",
        "studio",
        "--project-dir",
        str(project),
        "--backend",
        f"file://{state_dir}",
        *args,
    )


def rows(result: Result) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_ready_machine_passes_with_a_table(tools: Tools, project: Path, state_dir: Path) -> None:
    result = preflight(tools, project, state_dir)

    assert result.returncode == 0, result.stdout + result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["CHECK", "REQUIRED", "WANT", "FOUND", "STATUS"]
    for name in ("pulumi", "kind", "docker (container engine)", "kubectl", "gateway host port"):
        line = next(line for line in lines if line.startswith(name))
        assert line.split()[-1] == "ok", line


def test_too_old_kind_fails_and_says_what_to_do(
    tools: Tools, project: Path, state_dir: Path
) -> None:
    tools.version("kind", "0.20.0")

    result = preflight(tools, project, state_dir, "--json")

    assert result.returncode == 1
    kind = rows(result)["kind"]
    assert kind["found"] == "0.20.0"
    assert kind["ok"] is False
    assert kind["hint"].startswith("upgrade:")


def test_missing_tool_is_reported_missing(tools: Tools, project: Path, state_dir: Path) -> None:
    tools.remove("kubectl")

    result = preflight(tools, project, state_dir, "--json")

    assert result.returncode == 1
    assert rows(result)["kubectl"]["found"] == "missing"


def test_unreachable_docker_daemon_fails(tools: Tools, project: Path, state_dir: Path) -> None:
    tools.fail("docker", "version")

    result = preflight(tools, project, state_dir, "--json")

    assert result.returncode == 1
    assert rows(result)["docker (container engine)"]["found"] == "no answer"


@pytest.fixture
def occupied(free_port: int) -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", free_port))
        listener.listen()
        yield free_port


def test_gateway_port_in_use_fails(
    tools: Tools, project: Path, state_dir: Path, occupied: int
) -> None:
    result = preflight(tools, project, state_dir, "--json")

    assert result.returncode == 1
    port = rows(result)["gateway host port"]
    assert port["wanted"] == f"127.0.0.1:{occupied} free"
    assert port["found"].startswith("in use")


@pytest.mark.usefixtures("occupied")
def test_port_held_by_the_stacks_own_cluster_is_fine(
    tools: Tools, project: Path, state_dir: Path
) -> None:
    tools.existing_clusters("studio")

    result = preflight(tools, project, state_dir, "--json")

    assert result.returncode == 0, result.stdout
    assert rows(result)["gateway host port"]["found"] == "held by kind cluster studio"


def test_unwritable_or_missing_backend_fails(tools: Tools, project: Path) -> None:
    result = tools.run(
        "preflight",
        "--stack",
        "studio",
        "--project-dir",
        str(project),
        "--backend",
        "file:///proc/no-such-dir/state",
        "--json",
    )

    assert result.returncode == 1
    assert rows(result)["state backend"]["ok"] is False


def test_unknown_stack_is_bad_input(tools: Tools, project: Path) -> None:
    result = tools.run("preflight", "--stack", "prod", "--project-dir", str(project))

    assert result.returncode == 2
    assert "stack 'prod' is not supported" in result.stderr


def test_readme_states_the_same_minimum_versions() -> None:
    readme = (REPO / "README.md").read_text()
    for tool, version in MINIMUM_VERSIONS.items():
        assert re.search(rf"\|\s*{tool}\b[^|\n]*\|\s*{re.escape(version)}\b", readme, re.I), tool
