"""scripts/test's own arguments, pytest's statuses and interrupts.

Run from a copy of the project's layout whose .venv holds a stub pytest (and ruff, mypy), with
SKIP_INSTALL=1 where the install is not the subject; uv, apt-get and the rest are stubs that
record their calls.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.scripts.fake_repo import fake_repo, stub
from tests.stub_tools import Running, Tools, alive

# A stub .venv/bin tool: records its call. pytest exits 4 (its usage error) on an option it
# does not know, as the real one does; it exits with the status in $STUB_STATE/pytest-status
# when that file exists; and with $STUB_STATE/hang-pytest it hangs until a signal ends it,
# recording its pid (pytest.pid) and the signal (signal-pytest).
VENV_TOOL = """#!/usr/bin/env bash
{ printf '%s' "$(basename -- "$0")"; printf '\\t%s' "$@"; printf '\\n'; } >>"$STUB_STATE/calls.log"
if [[ $(basename -- "$0") == pytest ]]; then
  for word in "$@"; do
    if [[ $word == --bogus ]]; then
      echo "ERROR: usage: pytest [options] [file_or_dir] [file_or_dir] [...]" >&2
      echo "pytest: error: unrecognized arguments: --bogus" >&2
      exit 4
    fi
  done
  if [[ -e $STUB_STATE/hang-pytest ]]; then
    for signal in INT TERM HUP; do
      trap "echo $signal >'$STUB_STATE/signal-pytest'; exit 2" "$signal"
    done
    echo "$$" >"$STUB_STATE/pytest.pid"
    while :; do sleep 0.1 & wait "$!" || true; done
  fi
  if [[ -e $STUB_STATE/pytest-status ]]; then exit "$(<"$STUB_STATE/pytest-status")"; fi
fi
"""
EXIT_SIGNAL = {signal.SIGHUP: 129, signal.SIGINT: 130, signal.SIGTERM: 143}


def repo_with_venv(tools: Tools) -> Path:
    repo = fake_repo(tools)
    (repo / ".venv" / "bin").mkdir(parents=True)
    for name in ("pytest", "ruff", "mypy", "python"):
        path = repo / ".venv" / "bin" / name
        path.write_text(VENV_TOOL)
        path.chmod(0o755)
    stub(tools, "uv", "apt-get", "sudo", "go", "nginx")
    # The tier mode times each tier and sizes its workers.
    for tool in ("date", "nproc"):
        found = shutil.which(tool)
        assert found
        (tools.system_bin / tool).symlink_to(found)
    return repo


def pytest_calls(tools: Tools) -> list[list[str]]:
    return [call for call in tools.calls() if call[0] == "pytest"]


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


def test_help_after_pytest_arguments_is_still_this_scripts_help(tools: Tools) -> None:
    repo_with_venv(tools)

    result = tools.run("test", "tests/x.py", "-k", "port", "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: scripts/test [PYTEST ARGS...]")
    assert ".venv/bin/pytest --help" in result.stdout  # where pytest's own help is
    assert result.calls == []


def test_an_option_pytest_refuses_is_bad_input_not_a_time_bound(tools: Tools) -> None:
    repo_with_venv(tools)

    result = tools.run("test", "--bogus", env={"SKIP_INSTALL": "1"})

    assert result.returncode == 2, result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr
    assert "test: error: pytest refused the arguments" in result.stderr
    assert "pytest --help" in result.stderr
    assert result.called("pytest", "--bogus")


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (0, 0, None),
        (1, 1, None),  # tests failed: pytest's own report says which
        (2, 1, "test: error: pytest stopped early: a collection error or an interruption"),
        (3, 1, "test: error: pytest had an internal error"),
        (4, 2, "test: error: pytest refused the arguments"),
        (5, 1, "test: error: no tests matched the arguments"),
        (137, 1, "test: error: pytest ended with status 137"),
    ],
)
def test_each_pytest_status_is_mapped_to_this_scripts_exit_code(
    tools: Tools, status: int, code: int, message: str | None
) -> None:
    repo_with_venv(tools)
    (tools.state / "pytest-status").write_text(f"{status}\n")

    result = tools.run("test", "tests/x.py", env={"SKIP_INSTALL": "1"})

    assert result.returncode == code, result.stderr
    assert result.called("pytest", "tests/x.py")
    if message is None:
        assert "error" not in result.stderr
    else:
        assert message in result.stderr
        assert f"status {status}" in result.stderr


def test_a_tier_pytest_cannot_run_fails_the_run_and_says_which(tools: Tools) -> None:
    repo_with_venv(tools)
    (tools.state / "pytest-status").write_text("3\n")

    result = tools.run("test", env={"SKIP_INSTALL": "1"})

    assert result.returncode == 1, result.stderr
    assert "test: everyday tier: pytest had an internal error (status 3" in result.stderr
    assert len(pytest_calls(tools)) == 4  # the other tiers still run


def test_tiers_with_nothing_to_run_pass(tools: Tools) -> None:
    repo_with_venv(tools)
    (tools.state / "pytest-status").write_text("5\n")

    result = tools.run("test", env={"SKIP_INSTALL": "1"})

    assert result.returncode == 0, result.stderr
    assert len(pytest_calls(tools)) == 4


def pytest_pid(tools: Tools, wait: float = 10) -> int:
    """The hanging stub pytest's pid, once it hangs."""
    path = tools.state / "pytest.pid"
    deadline = time.monotonic() + wait
    while not (path.exists() and path.read_text().endswith("\n")):
        assert time.monotonic() < deadline, "the stub pytest never started"
        time.sleep(0.02)
    return int(path.read_text())


def stop(running: Running, how: signal.Signals | str) -> int:
    if isinstance(how, signal.Signals):
        running.signal(how)
        return EXIT_SIGNAL[how]
    running.ctrl_c()
    return EXIT_SIGNAL[signal.SIGINT]


HOW = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, "ctrl-c"]


def name(how: signal.Signals | str) -> str:
    return how.name if isinstance(how, signal.Signals) else how


@pytest.mark.parametrize("arguments", [("tests/x.py",), ()], ids=["one-run", "tiers"])
@pytest.mark.parametrize("how", HOW, ids=name)
def test_an_interrupt_reaches_pytest_which_is_waited_for(
    tools: Tools, how: signal.Signals | str, arguments: tuple[str, ...]
) -> None:
    """pytest gets SIGINT (its graceful stop: a summary of what ran), the script waits for it,
    runs no further tier and exits 128 + the signal's number."""
    repo_with_venv(tools)
    (tools.state / "hang-pytest").touch()
    running = tools.start("test", *arguments, env={"SKIP_INSTALL": "1"})
    pid = pytest_pid(tools)

    code = stop(running, how)
    with contextlib.suppress(subprocess.TimeoutExpired):
        running.process.wait(timeout=10)
    seconds = time.monotonic() - running.signalled_at
    left_running = alive(pid)
    if left_running:  # a stub left behind would hold the script's output open
        os.kill(pid, signal.SIGKILL)
    result, _ = running.finish()

    assert not left_running, "pytest still runs"
    assert result.returncode == code, result.stderr
    assert seconds < 3, f"took {seconds:.1f}s to stop"
    assert (tools.state / "signal-pytest").read_text().strip() == "INT"
    assert len(pytest_calls(tools)) == 1
    assert "interrupted" in result.stderr
