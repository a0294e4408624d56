"""scripts/up: the README's bring-up command, against a stub pulumi."""

from __future__ import annotations

import pytest

from infra.settings import SUPPORTED_STACKS, StackError
from infra.settings.loading import check_stack
from tests.scripts.fake_repo import fake_repo
from tests.stub_tools import Tools


def test_up_creates_the_stack_generates_secrets_on_stdin_and_runs_up(tools: Tools) -> None:
    result = tools.run("up", "studio", "--yes")

    assert result.returncode == 0, result.stderr
    assert result.called("pulumi", "stack", "init", "studio", "--secrets-provider", "passphrase")
    for key in ("gatewayToken", "vectorSearchApiKey", "vectorSearchReadOnlyApiKey"):
        assert result.called("pulumi", "config", "set", "--stack", "studio", "--secret", key)
        secret = (tools.state / f"pulumi-config-{key}").read_text()
        assert len(secret) == 64
        assert all(secret not in "\t".join(call) for call in result.calls)
    assert result.called("pulumi", "up", "--stack", "studio", "--yes")
    assert f"file://{tools.state}/.pulumi-agent-platform" in result.stderr


def test_up_keeps_existing_stack_and_secrets(tools: Tools) -> None:
    (tools.state / "pulumi-stack-homelab").touch()
    for key in ("gatewayToken", "vectorSearchApiKey", "vectorSearchReadOnlyApiKey"):
        (tools.state / f"pulumi-config-{key}").write_text("kept")

    result = tools.run("up", "homelab")

    assert result.returncode == 0, result.stderr
    assert not result.called("pulumi", "stack", "init")
    assert not result.called("pulumi", "config", "set")
    assert (tools.state / "pulumi-config-gatewayToken").read_text() == "kept"


def test_up_generates_a_secret_that_pulumi_yaml_defaults_to_empty(tools: Tools) -> None:
    """`pulumi config get` prints an empty line, exit 0, for an optional key left at its
    default "" (measured with the real CLI 3.276.0): that is unset, not a value to keep."""
    (tools.state / "pulumi-stack-homelab").touch()
    for key in ("gatewayToken", "vectorSearchApiKey"):
        (tools.state / f"pulumi-config-{key}").write_text("kept")
    (tools.state / "pulumi-config-vectorSearchReadOnlyApiKey").write_text("\n")

    result = tools.run("up", "homelab")

    assert result.returncode == 0, result.stderr
    generated = (tools.state / "pulumi-config-vectorSearchReadOnlyApiKey").read_text()
    assert len(generated) == 64
    assert (tools.state / "pulumi-config-gatewayToken").read_text() == "kept"


def test_up_rejects_an_unsupported_stack_before_calling_pulumi(tools: Tools) -> None:
    result = tools.run("up", "prod")

    assert result.returncode == 2
    assert "stack 'prod' is not supported" in result.stderr
    assert result.calls == []


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_up_brings_up_every_stack_the_program_supports(tools: Tools, stack: str) -> None:
    result = tools.run("up", stack)

    assert result.returncode == 0, result.stderr
    assert result.called("pulumi", "up", "--stack", stack)


def test_up_refuses_an_unknown_stack_in_the_programs_own_words(tools: Tools) -> None:
    with pytest.raises(StackError) as refused:
        check_stack("prod")
    programs_reason = str(refused.value).split(". ", 1)[0]

    result = tools.run("up", "prod")

    assert programs_reason in result.stderr


def test_up_stops_when_preflight_fails(tools: Tools) -> None:
    tools.version("kind", "0.19.0")

    result = tools.run("up", "studio")

    assert result.returncode == 1
    assert "preflight failed" in result.stderr
    assert not result.called("pulumi", "up")


def test_up_without_the_project_environment_exits_3_and_creates_nothing(tools: Tools) -> None:
    """A fresh clone before scripts/test: preflight's "no .venv" (a missing tool) is up's exit
    3, and the state backend directory is not made before preflight passes."""
    fake_repo(tools)

    result = tools.run("up", "studio")

    assert result.returncode == 3, result.stderr
    assert "no project environment (.venv); run scripts/test first" in result.stderr
    assert not (tools.state / ".pulumi-agent-platform").exists()
    assert not result.called("pulumi", "stack")
    assert not result.called("pulumi", "up")


def test_up_makes_the_file_backend_only_after_preflight_passes(tools: Tools) -> None:
    tools.version("kind", "0.19.0")  # preflight fails

    result = tools.run("up", "studio")

    assert result.returncode == 1, result.stderr
    assert not (tools.state / ".pulumi-agent-platform").exists()
    assert f"file://{tools.state}/.pulumi-agent-platform" in result.stderr


def test_up_preflight_passes_for_a_file_backend_that_does_not_exist_yet(tools: Tools) -> None:
    result = tools.run("up", "studio", "--yes")

    assert result.returncode == 0, result.stderr
    assert (tools.state / ".pulumi-agent-platform").is_dir()


def test_up_stops_at_preflight_when_the_file_backends_parent_does_not_exist(tools: Tools) -> None:
    """Preflight judges a file backend that does not exist yet by its parent directory: here
    a HOME that does not exist (as root, permissions would not stop the write)."""
    home = tools.root / "no-such-home"

    result = tools.run("up", "studio", env={"HOME": str(home)})

    assert result.returncode == 1, result.stderr
    assert f"{home} is not writable" in result.stderr
    assert not home.exists()


def test_up_stops_at_preflight_when_its_file_backend_is_a_link_to_nothing(tools: Tools) -> None:
    backend = tools.state / ".pulumi-agent-platform"
    backend.symlink_to(tools.root / "moved-away")

    result = tools.run("up", "studio", "--yes")

    assert result.returncode == 1, result.stderr
    assert f"{backend} is a symbolic link to nothing" in result.stdout + result.stderr
    assert backend.is_symlink()
    assert not (tools.root / "moved-away").exists()
    assert not result.called("pulumi", "stack")


def test_up_stops_when_its_file_backend_cannot_be_made(tools: Tools) -> None:
    """The link appears after preflight passed (preflight stubbed here): mkdir cannot make
    the directory, so exit 5, naming the path and the fix, before any stack."""
    tools.stub_script("preflight")
    backend = tools.state / ".pulumi-agent-platform"
    backend.symlink_to(tools.root / "moved-away")

    result = tools.run("up", "studio", "--yes")

    assert result.returncode == 5, result.stderr
    assert (
        f"up: error: the state backend {backend} is a symbolic link to no directory; create the"
        " directory it points to, or remove the link" in result.stderr
    )
    assert "or set PULUMI_BACKEND_URL to another backend" in result.stderr
    assert backend.is_symlink()
    assert not (tools.root / "moved-away").exists()
    assert not result.called("pulumi", "stack")
    assert not result.called("pulumi", "up")


def test_up_help_anywhere_runs_nothing(tools: Tools) -> None:
    result = tools.run("up", "studio", "--yes", "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: up STACK [PULUMI UP OPTIONS...]")
    assert "`pulumi up --help` lists pulumi up's own options" in result.stdout
    assert result.calls == []
    assert not (tools.state / ".pulumi-agent-platform").exists()
