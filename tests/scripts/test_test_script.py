"""scripts/test's own arguments: --help answers at once, and pytest's usage error is bad input.

Run from a copy of the project's layout whose .venv holds a stub pytest (and ruff, mypy), with
SKIP_INSTALL=1 where the install is not the subject; uv, apt-get and the rest are stubs that
record their calls.
"""

from __future__ import annotations

from pathlib import Path

from tests.scripts.fake_repo import fake_repo, stub
from tests.stub_tools import Tools

# A stub .venv/bin tool: records its call; pytest exits 4 (its usage error) on an option it
# does not know, as the real one does.
VENV_TOOL = """#!/usr/bin/env bash
{ printf '%s' "$(basename -- "$0")"; printf '\\t%s' "$@"; printf '\\n'; } >>"$STUB_STATE/calls.log"
if [[ $(basename -- "$0") == pytest ]]; then
  for word in "$@"; do
    if [[ $word == --bogus ]]; then
      echo "ERROR: usage: pytest [options] [file_or_dir] [file_or_dir] [...]" >&2
      echo "pytest: error: unrecognized arguments: --bogus" >&2
      exit 4
    fi
    if [[ $word == fails ]]; then exit 1; fi
  done
fi
"""


def repo_with_venv(tools: Tools) -> Path:
    repo = fake_repo(tools)
    (repo / ".venv" / "bin").mkdir(parents=True)
    for name in ("pytest", "ruff", "mypy", "python"):
        path = repo / ".venv" / "bin" / name
        path.write_text(VENV_TOOL)
        path.chmod(0o755)
    stub(tools, "uv", "apt-get", "sudo", "go", "nginx")
    return repo


def test_help_prints_scripts_tests_own_usage_at_once_and_installs_nothing(tools: Tools) -> None:
    repo_with_venv(tools)

    result = tools.run("test", "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: scripts/test [PYTEST ARGS...]")
    for word in ("everyday", "engine", "counterparts", "mcp", "SKIP_INSTALL", "pytest --help",
                 "one\n", "pytest run gets them as they are"):  # fmt: skip
        assert word in result.stdout, word
    assert result.calls == []
    assert result.seconds < 5


def test_an_option_pytest_refuses_is_bad_input_not_a_time_bound(tools: Tools) -> None:
    repo_with_venv(tools)

    result = tools.run("test", "--bogus", env={"SKIP_INSTALL": "1"})

    assert result.returncode == 2, result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr
    assert "test: error: pytest refused the arguments" in result.stderr
    assert "pytest --help" in result.stderr
    assert result.called("pytest", "--bogus")


def test_other_pytest_statuses_pass_through(tools: Tools) -> None:
    repo_with_venv(tools)

    passed = tools.run("test", "tests/x.py", env={"SKIP_INSTALL": "1"})
    failed = tools.run("test", "fails", env={"SKIP_INSTALL": "1"})

    assert passed.returncode == 0, passed.stderr
    assert failed.returncode == 1, failed.stderr
    assert "refused" not in failed.stderr
