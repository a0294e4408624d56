"""scripts/lib/install.sh's tool environments (ensure_tool_environment), run for real against a
stub uv that behaves like the real one where it matters: `uv venv` refuses a directory that
exists unless given --clear.

checkov and mcp-server-qdrant each live in an environment of their own (.tools/NAME: their pins
conflict with the project's), installed exactly as hash-pinned in their requirements file
(checkov's written by scripts/lock), and reinstalled when that file changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scripts.test_install_path import RECORD, REPO, Machine

REQUIREMENTS = REPO / "tools" / "checkov" / "requirements.txt"
# The tools scripts/test installs this way: (NAME, EXECUTABLE, REQUIREMENTS).
TOOLS = [
    ("checkov", "checkov", REQUIREMENTS),
    (
        "mcp-server-qdrant",
        "mcp-server-qdrant",
        REPO / "tests/mcp/mcp-server-qdrant-requirements.txt",
    ),
]

# `uv venv DIR`: refuses an existing DIR without --clear, as uv does; `uv pip sync ... FILE`
# installs the executables named in $STUB_STATE/installs (a stand-in for what FILE holds).
UV = """#!/usr/bin/env bash
RECORD
record "$@"
if [[ $1 == --version ]]; then echo "uv 0.13.8"; fi
if [[ $1 == venv ]]; then
  dir=${*: -1}
  if [[ -e $dir && " $* " != *" --clear "* ]]; then
    echo "error: A virtual environment already exists at \\`$dir\\`" >&2
    exit 2
  fi
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  cp "$0" "$dir/bin/python"
fi
if [[ $1 == pip ]]; then
  for word in "$@"; do
    [[ $word == --python ]] && python=next && continue
    [[ ${python:-} == next ]] && python=$word
  done
  for executable in $(cat "$STUB_STATE/installs" 2>/dev/null); do
    printf '#!/usr/bin/env bash\\n' >"$(dirname -- "$python")/$executable"
    chmod +x "$(dirname -- "$python")/$executable"
  done
fi
"""


def machine_with_uv(tmp_path: Path, installs: str) -> Machine:
    machine = Machine(tmp_path, uid=1000)
    (machine.stubs / "uv").write_text(UV.replace("RECORD\n", RECORD))
    (machine.stubs / "uv").chmod(0o755)
    (machine.state / "installs").write_text(installs)
    return machine


def uv_calls(
    machine: Machine, tools: Path, name: str, executable: str, requirements: Path
) -> list[list[str]]:
    outcome = machine.run(
        f'ensure_tool_environment {name} {executable} uv "{tools}" "{requirements}"'
    )
    assert outcome.returncode == 0, outcome.stderr
    return [call[1:] for call in outcome.of("uv")]


def expected(venv: Path, requirements: Path) -> list[list[str]]:
    return [
        ["venv", "--quiet", "--clear", "--python", ">=3.11,<3.14", str(venv)],
        ["pip", "sync", "--quiet", "--python", f"{venv}/bin/python", "--require-hashes",
         "--compile-bytecode", str(requirements)],
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "executable", "requirements"), TOOLS)
def test_a_tool_is_installed_from_its_hash_pinned_requirements_into_its_own_environment(
    tmp_path: Path, name: str, executable: str, requirements: Path
) -> None:
    machine = machine_with_uv(tmp_path, executable)
    tools = tmp_path / "tools"

    assert uv_calls(machine, tools, name, executable, requirements) == expected(
        tools / name, requirements
    )
    assert (tools / name / "installed-requirements.txt").read_text() == requirements.read_text()
    assert (tools / name / "bin" / executable).exists()


@pytest.mark.parametrize(("name", "executable", "requirements"), TOOLS)
def test_an_interrupted_install_is_redone_not_refused(
    tmp_path: Path, name: str, executable: str, requirements: Path
) -> None:
    """The environment exists (uv venv ran) but the tool is not in it: the next run replaces it."""
    machine = machine_with_uv(tmp_path, executable)
    venv = tmp_path / "tools" / name
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()

    assert uv_calls(machine, tmp_path / "tools", name, executable, requirements) == expected(
        venv, requirements
    )
    assert (venv / "bin" / executable).exists()


@pytest.mark.parametrize(("name", "executable", "requirements"), TOOLS)
def test_a_changed_lock_file_reinstalls_and_an_unchanged_one_does_nothing(
    tmp_path: Path, name: str, executable: str, requirements: Path
) -> None:
    machine = machine_with_uv(tmp_path, executable)
    tools = tmp_path / "tools"
    venv = tools / name
    uv_calls(machine, tools, name, executable, requirements)
    (machine.state / "calls.log").unlink()

    assert uv_calls(machine, tools, name, executable, requirements) == []  # as pinned

    (venv / "installed-requirements.txt").write_text("older==1.0 --hash=sha256:00\n")
    assert uv_calls(machine, tools, name, executable, requirements) == expected(venv, requirements)


def test_requirements_without_the_tool_are_a_missing_tool_not_a_silent_success(
    tmp_path: Path,
) -> None:
    """An install that does not provide the executable would be redone on every run and fail
    later, in the tests that need it; it stops here, saying so, and is not recorded as done."""
    machine = machine_with_uv(tmp_path, "something-else")
    venv = tmp_path / "tools" / "checkov"

    outcome = machine.run(
        f'ensure_tool_environment checkov checkov uv "{venv.parent}" "{REQUIREMENTS}"'
    )

    assert outcome.returncode == 3, outcome.stderr
    assert "it has no bin/checkov" in outcome.stderr
    assert not (venv / "installed-requirements.txt").exists()


def test_the_checkov_lock_pins_its_sources_version_with_hashes_for_every_package() -> None:
    """tools/checkov/requirements.in holds the one pin (checkov==X); scripts/lock's output pins
    the same, so a changed source without a new lock shows here."""
    source = (REPO / "tools/checkov/requirements.in").read_text()
    pins = [line for line in source.splitlines() if line and not line.startswith("#")]
    assert len(pins) == 1
    assert pins[0].startswith("checkov==")
    text = REQUIREMENTS.read_text()
    assert f"\n{pins[0]} \\\n" in text
    packages = [line for line in text.splitlines() if line and line[0].isalnum()]
    assert len(packages) > 20
    for line in packages:
        assert "==" in line, line
        assert line.endswith(" \\"), line
    assert text.count("--hash=sha256:") >= len(packages)
