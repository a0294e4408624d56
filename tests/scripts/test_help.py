"""Every operator script answers -h and --help with its usage, exit 0, and runs nothing.

The usage is the comment at the top of the script (lib/common.sh, usage_if_asked), so the help
and the header never disagree. The scripts run from a copy of the project's layout without .venv,
with every tool they might call stubbed to record the call: none may be called.
"""

from __future__ import annotations

import pytest

from tests.scripts.fake_repo import fake_repo, files_under, stub
from tests.stub_tools import REPO, SCRIPTS, Tools

BASH_SCRIPTS = sorted(
    path.name
    for path in SCRIPTS.iterdir()
    if path.is_file() and path.read_text().startswith("#!/usr/bin/env bash")
)
# Every tool a script calls, besides the system tools of tests/stub_tools.py.
CALLED = ("uv", "go", "apt-get", "sudo", "nginx", "python3", "id", "nproc", "date", "awk",
          "openssl", "git", "curl", "sha256sum", "find", "cmp", "mktemp", "od")  # fmt: skip


def test_every_script_is_covered() -> None:
    assert len(BASH_SCRIPTS) >= 12
    assert {"up", "test", "lock", "create-kind-cluster", "preflight"} <= set(BASH_SCRIPTS)


@pytest.mark.parametrize("option", ["--help", "-h"])
@pytest.mark.parametrize("script", BASH_SCRIPTS)
def test_help_prints_the_usage_and_runs_nothing(tools: Tools, script: str, option: str) -> None:
    repo = fake_repo(tools)
    stub(tools, *CALLED)
    before = files_under(tools.root)

    result = tools.run(script, option, "extra")

    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"usage: {script}") or first.startswith(f"usage: scripts/{script}")
    assert "#" not in result.stdout.splitlines()[0]
    assert result.stderr == ""
    assert result.calls == []
    assert files_under(tools.root) == before
    assert not (repo / ".venv").exists()


def test_the_usage_is_the_scripts_header(tools: Tools) -> None:
    fake_repo(tools)

    result = tools.run("up", "--help")

    header = (SCRIPTS / "up").read_text().split("set -euo pipefail", 1)[0]
    assert "pulumi up" in result.stdout
    assert "UP_TIMEOUT" in result.stdout
    for line in result.stdout.splitlines()[1:]:
        assert f"# {line}".rstrip() in header


def test_a_python_tools_wrapper_with_the_environment_gives_the_tools_own_help(
    tools: Tools,
) -> None:
    """With .venv the Python tool answers (its options are its own); without, the wrapper."""
    result = tools.run("preflight", "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: preflight [-h] --stack STACK")
    assert result.calls == []
    assert (REPO / ".venv").exists()


def test_an_unknown_option_is_not_taken_for_help(tools: Tools) -> None:
    result = tools.run("up", "--helpful")

    assert result.returncode == 2
    assert "usage" not in result.stdout


def test_usage_if_asked_exists_once_in_common_sh() -> None:
    common = (SCRIPTS / "lib" / "common.sh").read_text()
    assert common.count("usage_if_asked() {") == 1
    for script in BASH_SCRIPTS:
        text = (SCRIPTS / script).read_text()
        assert "usage_if_asked" in text or "run_python_module" in text, script
