"""Secrets and bad input through the real engine, for the render and existing targets.

Known secret strings (tests.conftest.KNOWN_SECRETS, the control plane's token) must never be
in the state, the stack outputs or what the engine prints; bad config must fail with the
program's own message, no traceback, and nothing in the state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.ops.engine import EngineProject, preview, up
from tests.conftest import KNOWN_SECRETS
from tests.counterparts.control_plane import ControlPlane
from tests.engine.conftest import NewProject, stack_config
from tests.engine.test_existing_target import existing_overrides, existing_secrets
from tests.engine.test_render_target import render_overrides


def where_in_clear(project: EngineProject, secrets: list[str], printed: str) -> list[str]:
    """Where any of ``secrets`` appears in clear: the engine's output, the outputs as
    `pulumi stack output` shows them, the exported state, the state backend's files."""
    places = {
        "engine output": printed,
        "stack outputs": project.cli("stack", "output", "--json").stdout,
        "exported state": project.cli("stack", "export").stdout,
    }
    for path in project.state_dir.rglob("*"):
        if path.is_file():
            places[f"state file {path.name}"] = path.read_text(errors="replace")
    return [
        f"{place} holds {secret[:8]}..."
        for place, text in places.items()
        for secret in secrets
        if secret in text
    ]


def test_render_target_keeps_every_secret_out_of_state_outputs_and_output(
    new_project: NewProject, tmp_path: Path
) -> None:
    secrets = {
        "gatewayToken": "gw-token-SENTINEL-render-5a1",
        "vectorSearchApiKey": "key-SENTINEL-render-77c",
    }
    project = new_project("studio", render_overrides("studio", tmp_path / "out"), secrets)

    (result,) = project.run(up())

    assert result.ok, result.error
    assert where_in_clear(project, list(secrets.values()), result.output) == []


def test_existing_target_keeps_every_secret_and_the_kubeconfig_out_of_state_and_output(
    new_project: NewProject, control_plane: ControlPlane
) -> None:
    secrets = existing_secrets("studio", control_plane)
    overrides = {**existing_overrides("studio"), "namespace": "engine-secrets"}
    project = new_project("studio", overrides, secrets)

    (result,) = project.run(up())

    assert result.ok, result.error
    token = json.loads(secrets["kubeconfig"])["users"][0]["user"]["token"]
    assert where_in_clear(project, [*secrets.values(), token], result.output) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"gateway.replicas": 0},
            "agent-platform:gateway.replicas: Input should be greater than or equal to 1",
        ),
        ({"cluster.name": "Not_A-Name"}, "agent-platform:cluster.name"),
    ],
)
def test_bad_config_fails_through_the_engine_with_the_programs_message_and_creates_nothing(
    new_project: NewProject, tmp_path: Path, overrides: dict[str, object], message: str
) -> None:
    project = new_project("studio", {**render_overrides("studio", tmp_path / "out"), **overrides})

    (result,) = project.run(up())

    assert not result.ok
    assert message in result.error
    assert "Traceback" not in result.error + result.output
    state = json.loads(project.cli("stack", "export").stdout)
    # The engine registers the stack itself before the program runs; nothing else may exist.
    created = [r["type"] for r in state["deployment"].get("resources") or []]
    assert created in ([], ["pulumi:pulumi:Stack"])
    assert not (tmp_path / "out").exists()


def test_an_unsupported_stack_fails_with_the_programs_message(
    toolchain: Path, tmp_path: Path
) -> None:
    project = EngineProject.create(
        tmp_path / "prod", toolchain, "prod", stack_config("studio"), KNOWN_SECRETS
    )

    (result,) = project.run(preview())

    assert not result.ok
    assert "stack 'prod' is not supported" in result.error
    assert "Traceback" not in result.error + result.output
