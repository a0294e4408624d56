"""Every operator script answers -h and --help with its usage, exit 0, and runs nothing.

The usage is the comment at the top of the script (lib/common.sh, usage_if_asked), so the help
and the header never disagree. The scripts run from a copy of the project's layout without .venv,
with every tool they might call stubbed to record the call: none may be called.
"""

from __future__ import annotations

import itertools
import re

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


# The option first, or after the script's own arguments (`up studio --yes --help` must not run
# preflight or create a stack on its way to pulumi's help).
POSITIONS = {"first": ("{option}", "extra"), "last": ("extra", "more", "{option}")}


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("option", ["--help", "-h"])
@pytest.mark.parametrize("script", BASH_SCRIPTS)
def test_help_prints_the_usage_and_runs_nothing(
    tools: Tools, script: str, option: str, position: str
) -> None:
    repo = fake_repo(tools)
    stub(tools, *CALLED)
    before = files_under(tools.root)
    arguments = [word.format(option=option) for word in POSITIONS[position]]

    result = tools.run(script, *arguments)

    assert result.returncode == 0, result.stderr
    assert result.stdout == usage_from_header(script)
    assert result.stderr == ""
    assert result.calls == []
    assert files_under(tools.root) == before
    assert not (repo / ".venv").exists()


@pytest.mark.parametrize(
    ("script", "arguments"),
    [
        ("up", ("studio", "--help")),
        ("test", ("tests/x", "--help")),
        ("create-kind-cluster", ("studio", "--help")),
        ("preflight", ("--stack", "studio", "-h")),
    ],
)
def test_help_after_the_scripts_arguments_runs_nothing(
    tools: Tools, script: str, arguments: tuple[str, ...]
) -> None:
    fake_repo(tools)
    stub(tools, *CALLED)
    before = files_under(tools.root)

    result = tools.run(script, *arguments)

    assert result.returncode == 0, result.stderr
    assert result.stdout == usage_from_header(script)
    assert result.calls == []
    assert files_under(tools.root) == before


def usage_from_header(script: str) -> str:
    """What print_usage must print: the comment at the top of the script, line for line, each
    without its `#` and one space after it, the first after "usage: "; a Python tool's wrapper
    (no .venv here) adds where the tool's own options are."""
    lines = (SCRIPTS / script).read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    header = list(itertools.takewhile(lambda line: line.startswith("#"), lines[1:]))
    assert header, script
    usage = [line.removeprefix("#").removeprefix(" ") for line in header]
    usage[0] = f"usage: {usage[0]}"
    if "run_python_module" in (SCRIPTS / script).read_text():
        usage.append(f"Its options: scripts/{script} --help, once scripts/test has created .venv.")
    return "".join(f"{line}\n" for line in usage)


def test_the_usage_is_the_scripts_whole_header(tools: Tools) -> None:
    fake_repo(tools)

    result = tools.run("up", "--help")

    header = (SCRIPTS / "up").read_text().split("\nset -euo pipefail\n", 1)[0]
    expected = [line.removeprefix("#").removeprefix(" ") for line in header.splitlines()[1:]]
    assert result.stdout.splitlines() == [f"usage: {expected[0]}", *expected[1:]]
    assert result.stdout.splitlines()[-1] == "  scripts/up studio --yes"


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


def test_usage_if_asked_is_defined_once_in_common_sh_and_run_first_by_every_script() -> None:
    """Code, not a mention in a comment: the definition, and each main's first line."""
    common = (SCRIPTS / "lib" / "common.sh").read_text()
    assert re.findall(r"^usage_if_asked\(\) \{$", common, re.M) == ["usage_if_asked() {"]
    python = (SCRIPTS / "lib" / "python.sh").read_text()
    assert re.findall(r"^ +if asks_for_help \"\$@\"; then$", python, re.M)
    for script in BASH_SCRIPTS:
        text = (SCRIPTS / script).read_text()
        first = text.split("\nmain() {\n", 1)[1].splitlines()[0]
        assert first == '  usage_if_asked "$@"' or re.fullmatch(
            r'  run_python_module infra\.[a-z_.]+ "\$@"', first
        ), script
