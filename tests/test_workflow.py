"""The CI workflow (.github/workflows/ci.yml): current action majors, and only inputs they have.

GitHub ignores an input an action does not declare (a warning in the log, nothing else), so a
renamed or mistyped input fails silently there; here it fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT_DIR

WORKFLOW_FILE = PROJECT_DIR / ".github" / "workflows" / "ci.yml"
WORKFLOW: dict[str, Any] = yaml.safe_load(WORKFLOW_FILE.read_text())

CURRENT_MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/setup-go": "v7",
    "actions/cache": "v6",
    "pulumi/actions": "v7",
}
"""The current major of each action the workflow uses (checked November 2026: checkout v7.0.1,
setup-python v7.0.0, setup-go v7.0.0, cache v6.1.0, pulumi/actions v7.0.0, each on Node 24)."""

PULUMI_ACTIONS_V7_INPUTS = frozenset({
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir",
    "comment-on-pr", "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url",
    "secrets-provider", "parallel", "message", "config-map", "expect-no-changes", "diff",
    "replace", "target", "target-dependents", "policyPacks", "policyPackConfigs", "refresh",
    "upsert", "remove", "edit-pr-comment", "color", "exclude-protected", "plan",
    "suppress-outputs", "suppress-progress", "always-include-summary", "log-verbosity",
    "log-flow", "debug", "omit-stdout", "continue-on-error",
})  # fmt: skip
"""The inputs of pulumi/actions v7, from its action.yml (github.com/pulumi/actions, the inputs
of the v6 line, commit 4ddd4329, plus those its README documents since: log-verbosity, log-flow,
debug, omit-stdout, continue-on-error). v7.0.0 (pulumi/actions#1407, 2026-05-01) changed the
runtime to Node 24 and kept the inputs. Without ``command`` the action only installs the CLI;
with one and no ``cloud-url`` it logs in to Pulumi Cloud."""

EXPRESSION = re.compile(r"^\$\{\{\s*env\.(?P<name>[A-Z_]+)\s*\}\}$")


def steps() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(job name, job, step) for every step of every job."""
    for name, job in WORKFLOW["jobs"].items():
        for step in job["steps"]:
            yield name, job, step


def action_steps(action: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [found for found in steps() if found[2].get("uses", "").split("@")[0] == action]


def resolve(value: str, job: dict[str, Any]) -> str:
    """``${{ env.NAME }}`` from the job's env, else the workflow's (what the step sees)."""
    match = EXPRESSION.match(str(value))
    if not match:
        return str(value)
    environment = {**WORKFLOW.get("env", {}), **job.get("env", {})}
    return str(environment[match["name"]])


def test_every_action_is_on_its_current_major() -> None:
    used = {step["uses"] for _, _, step in steps() if "uses" in step}

    assert {use.split("@")[0] for use in used} == set(CURRENT_MAJORS)
    assert sorted(used) == sorted(f"{action}@{major}" for action, major in CURRENT_MAJORS.items())


@pytest.mark.parametrize(
    "found", action_steps("pulumi/actions"), ids=lambda found: found[2]["name"]
)
def test_pulumi_action_gets_only_inputs_v7_declares(
    found: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    _, _, step = found

    assert set(step.get("with", {})) - PULUMI_ACTIONS_V7_INPUTS == set()


def test_every_pulumi_action_installs_the_cli_the_sdk_is_pinned_to() -> None:
    pinned = re.search(r"^pulumi==(\S+)", (PROJECT_DIR / "requirements.txt").read_text(), re.M)
    assert pinned

    versions = {resolve(step["with"]["pulumi-version"], job)
                for _, job, step in action_steps("pulumi/actions")}  # fmt: skip

    assert versions == {pinned[1]}


def test_a_pulumi_command_logs_in_to_a_file_backend_not_pulumi_cloud() -> None:
    commands = [found for found in action_steps("pulumi/actions") if "command" in found[2]["with"]]

    assert [step["with"]["command"] for _, _, step in commands] == ["preview"]
    for _, job, step in commands:
        backend = resolve(step["with"]["cloud-url"], job)
        assert backend.startswith("file://"), backend
        assert backend == job["env"]["PULUMI_BACKEND_URL"]  # the steps that run pulumi agree
        assert step["with"]["secrets-provider"] == "passphrase"
        assert "PULUMI_ACCESS_TOKEN" not in {**WORKFLOW.get("env", {}), **job["env"]}


def test_the_test_job_installs_the_cli_only_and_caches_what_the_tiers_build() -> None:
    job = WORKFLOW["jobs"]["test"]
    pulumi = [step for name, _, step in action_steps("pulumi/actions") if name == "test"]
    cached = {step["with"]["path"]: step["with"]["key"]
              for name, _, step in action_steps("actions/cache") if name == "test"}  # fmt: skip

    assert [set(step["with"]) for step in pulumi] == [{"pulumi-version"}]
    assert "requirements.txt" in cached["~/.cache/agent-platform/pulumi-toolchain"]
    assert "scripts/install-pulumi-toolchain" in cached["~/.cache/agent-platform/pulumi-toolchain"]
    assert "scripts/install-k8s-counterparts" in cached["~/.cache/agent-platform/k8s-counterparts"]
    assert job["steps"][-1]["run"] == "scripts/test"


def test_the_workflow_installs_the_uv_scripts_test_uses() -> None:
    pinned = re.search(r"^readonly UV_VERSION=(\S+)$",
                       (PROJECT_DIR / "scripts/lib/install.sh").read_text(), re.M)  # fmt: skip
    assert pinned

    assert WORKFLOW["env"]["UV_VERSION"] == pinned[1]
