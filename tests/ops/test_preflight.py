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

from infra.ops import preflight as preflight_module
from infra.ops import preflight_checks, state_backend
from infra.ops.preflight_checks import MINIMUM_VERSIONS
from tests.stub_tools import REPO, Result, Tools, alive


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


def preflight_of(
    tools: Tools, project: Path, *args: str, env: dict[str, str] | None = None
) -> Result:
    """scripts/preflight for studio in ``project``, with ``args`` (the backend among them)."""
    return tools.run(
        "preflight", "--stack", "studio", "--project-dir", str(project), *args, env=env
    )


def preflight(tools: Tools, project: Path, state_dir: Path, *args: str) -> Result:
    return preflight_of(tools, project, "--backend", f"file://{state_dir}", *args)


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
    result = preflight_of(
        tools,
        project,
        "--backend",
        "file:///proc/no-such-dir/state",
        "--json",
    )

    assert result.returncode == 1
    assert rows(result)["state backend"]["ok"] is False


def test_a_file_backend_that_is_a_link_to_nothing_fails(tmp_path: Path) -> None:
    link = tmp_path / "state"
    link.symlink_to(tmp_path / "gone")

    check = state_backend.backend_check(f"file://{link}")

    assert not check.ok
    assert f"{link} is a symbolic link to nothing" in check.hint


def test_unknown_stack_is_bad_input(tools: Tools, project: Path) -> None:
    result = tools.run("preflight", "--stack", "prod", "--project-dir", str(project))

    assert result.returncode == 2
    assert "stack 'prod' is not supported" in result.stderr


def test_readme_states_the_same_minimum_versions() -> None:
    readme = (REPO / "README.md").read_text()
    for tool, version in MINIMUM_VERSIONS.items():
        assert re.search(rf"\|\s*{tool}\b[^|\n]*\|\s*{re.escape(version)}\b", readme, re.I), tool


# ----------------------------------------------- a hung tool is "no answer", never "absent"


@pytest.fixture
def stub_path(tools: Tools, monkeypatch: pytest.MonkeyPatch) -> Tools:
    for key, value in tools.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(preflight_checks, "TOOL_TIMEOUT_SECONDS", 0.5)
    return tools


def test_preflight_hung_whoami_is_no_answer_not_no_backend(stub_path: Tools) -> None:
    stub_path.hang("pulumi", "whoami")

    check = state_backend.backend_check(None)

    assert not check.ok
    assert "did not answer" in check.found
    assert "pulumi login" not in check.hint
    assert not alive(stub_path.hung_pid("pulumi", "whoami"))


def test_no_backend_selected_names_both_ways_to_select_one(stub_path: Tools) -> None:
    """Tried as a new user would: preflight by hand, never logged in."""
    stub_path.fail("pulumi", "whoami")

    check = state_backend.backend_check(None)

    assert (check.ok, check.found) == (False, "none selected")
    assert "scripts/up selects file://~/.pulumi-agent-platform itself" in check.hint
    assert "PULUMI_BACKEND_URL" in check.hint
    assert "pulumi login" in check.hint


def test_preflight_hung_cluster_listing_is_reported_not_taken_for_no_cluster(
    stub_path: Tools,
) -> None:
    stub_path.hang("kind", "get")

    clusters = preflight_checks.kind_clusters()

    assert clusters is None
    assert not alive(stub_path.hung_pid("kind", "get"))


@pytest.mark.usefixtures("stub_path")
def test_preflight_stops_every_process_of_a_hung_tool(tmp_path: Path) -> None:
    # The stub's own child (its sleep) is in the tool's process group; it goes too.
    script = tmp_path / "spawner"
    script.write_text(f"#!/bin/bash\nsleep 30 &\necho $! >{tmp_path}/child\nwait\n")
    script.chmod(0o755)

    assert preflight_checks.run_tool([str(script)]).output is None
    child = int((tmp_path / "child").read_text())
    assert not alive(child)


# ------------------------------------------- a bad backend URL is a usage error (issue 13, 12)


@pytest.mark.parametrize(
    "backend",
    [
        "s3://b?endpoint=not%20a%20url",
        "s3://agent-platform-state?endpoint=not%20a%20url",
        "s3://agent-platform-state?endpoint=file:///etc/passwd",
        "s3://agent-platform-state?endpoint=http://[::1",
        "s3://agent-platform-state?endpoint=http://127.0.0.1:99999",
        "s3://agent-platform-state?region=moon",
        "s3://Bad_Bucket",
        "s3://192.168.5.4",
        "s3://",
        "nope://x",
        "not a url",
        "",
    ],
)
def test_bad_backend_is_a_usage_error_naming_the_option(
    project: Path, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        preflight_module.main(
            ["--stack", "studio", "--project-dir", str(project), "--backend", backend]
        )

    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --backend:" in err
    assert "such as" in err  # the fix, not only the fault


def test_bad_backend_through_the_script_is_a_usage_error_without_a_traceback(
    tools: Tools, project: Path
) -> None:
    result = preflight_of(
        tools,
        project,
        "--backend",
        "s3://b?endpoint=not%20a%20url",
    )

    assert result.returncode == 2, result.stderr
    assert "argument --backend:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.calls == []


def test_bad_backend_from_the_environment_names_the_variable(tools: Tools, project: Path) -> None:
    result = preflight_of(
        tools,
        project,
        env={"PULUMI_BACKEND_URL": "s3://b?endpoint=not%20a%20url"},
    )

    assert result.returncode == 2, result.stderr
    assert "PULUMI_BACKEND_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_s3_backend_with_an_endpoint_without_a_scheme_is_checked(
    tools: Tools, project: Path
) -> None:
    # Pulumi accepts endpoint=host:port; the check reaches it (a closed loopback port here).
    result = preflight_of(
        tools,
        project,
        "--backend",
        "s3://agent-platform-state?endpoint=127.0.0.1:9&disableSSL=true&region=us-east-1",
        "--json",
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )

    assert result.returncode == 1, result.stderr
    backend = rows(result)["state backend"]
    assert backend["ok"] is False
    assert "http://127.0.0.1:9" in backend["hint"]
