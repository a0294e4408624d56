"""The real engine: preview both stacks, fail an unsupported one, up in render mode, secrets.

Mocks cannot show what only the engine checks: duplicate URNs, provider input validation, the
config schema in Pulumi.yaml, secret handling in state, unknown outputs during preview.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.offline.mock_engine import run_program
from infra.ops.engine import Workspace
from infra.program import run
from infra.settings import SUPPORTED_STACKS, read_stack_file
from tests.conftest import KNOWN_SECRETS, PROJECT_DIR
from tests.policy.checks import (
    checkov_failures,
    checkov_skips,
    load_documents,
    pod_specs,
    restricted_violations,
    schema_errors,
)

pytestmark = pytest.mark.engine


def expected_creates(stack: str, config: dict[str, object] | None = None) -> int:
    """What the program registers (as the mocks see it), plus the engine's own two: the stack
    resource and the default provider of pulumi-command."""
    mock = run_program(
        run,
        stack=stack,
        config=config or read_stack_file(stack, PROJECT_DIR),
        secrets=KNOWN_SECRETS,
    )
    return len(mock.registrations) + 2


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_preview_of_each_stack_reports_the_resources_to_create(
    engine: Workspace, stack: str
) -> None:
    engine.init_stack(stack, KNOWN_SECRETS)

    steps = engine.preview_steps(stack)

    creates = [step for step in steps if step.get("op") == "create"]
    assert len(creates) == expected_creates(stack)
    assert {step["urn"].rsplit("::", 1)[1] for step in creates} >= {"gateway", "vector-search-data"}


def test_preview_of_an_unsupported_stack_fails_with_the_programs_message(engine: Workspace) -> None:
    engine.init_stack("prod", KNOWN_SECRETS)

    completed = engine.run("preview", "--stack", "prod", check=False)

    assert completed.returncode != 0
    assert "stack 'prod' is not supported" in completed.stdout + completed.stderr


def test_render_mode_up_writes_checked_manifests_and_a_second_up_changes_nothing(
    engine: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "rendered"
    engine.init_stack(
        "studio",
        KNOWN_SECRETS,
        [("cluster.target", "render"), ("cluster.renderDirectory", str(out))],
    )

    engine.run("up", "--stack", "studio", "--yes", "--skip-preview")

    documents = load_documents(out / "studio")
    assert len(documents) >= 20
    assert schema_errors(documents, "1.34") == []
    for name, spec in pod_specs(documents):
        assert restricted_violations(spec) == [], name
    assert checkov_failures(out / "studio", skip=checkov_skips()) == {}
    engine.run("preview", "--stack", "studio", "--expect-no-changes")


def test_secret_config_is_not_in_the_state_or_the_engine_output_in_clear(
    engine: Workspace, tmp_path: Path
) -> None:
    engine.init_stack(
        "studio",
        KNOWN_SECRETS,
        [("cluster.target", "render"), ("cluster.renderDirectory", str(tmp_path / "rendered"))],
    )

    up = engine.run("up", "--stack", "studio", "--yes", "--skip-preview")
    outputs = engine.run("stack", "output", "--stack", "studio", "--json")
    state = engine.run("stack", "export", "--stack", "studio")

    json.loads(state.stdout)
    for secret in KNOWN_SECRETS.values():
        assert secret not in up.stdout + up.stderr
        assert secret not in outputs.stdout
        assert secret not in state.stdout
        for path in engine.state.rglob("*.json"):
            assert secret not in path.read_text()
