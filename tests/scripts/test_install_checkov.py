"""scripts/lib/install.sh's checkov step, run for real against a stub uv that behaves like the
real one where it matters: `uv venv` refuses a directory that exists unless given --clear.

checkov lives in an environment of its own (.tools/checkov: its pins conflict with pulumi's),
installed exactly as hash-pinned in tools/checkov/requirements.txt (written by scripts/lock), and
reinstalled when that file changes, the way mcp-server-qdrant's environment is.
"""

from __future__ import annotations

from pathlib import Path

from tests.scripts.test_install_path import RECORD, REPO, Machine

REQUIREMENTS = REPO / "tools" / "checkov" / "requirements.txt"

# `uv venv DIR`: refuses an existing DIR without --clear, as uv does; `uv pip sync ... FILE`
# installs a `checkov` into the environment.
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
  printf '#!/usr/bin/env bash\\necho 3.3.30\\n' >"$(dirname -- "$python")/checkov"
  chmod +x "$(dirname -- "$python")/checkov"
fi
"""


def machine_with_uv(tmp_path: Path) -> Machine:
    machine = Machine(tmp_path, uid=1000)
    (machine.stubs / "uv").write_text(UV.replace("RECORD\n", RECORD))
    (machine.stubs / "uv").chmod(0o755)
    return machine


def uv_calls(machine: Machine, tools: Path) -> list[list[str]]:
    outcome = machine.run(f'ensure_checkov uv "{tools}" "{REQUIREMENTS}"')
    assert outcome.returncode == 0, outcome.stderr
    return [call[1:] for call in outcome.of("uv")]


EXPECTED = [
    ["venv", "--quiet", "--clear", "--python", ">=3.11,<3.14", "{venv}"],
    ["pip", "sync", "--quiet", "--python", "{venv}/bin/python", "--require-hashes",
     "--compile-bytecode", str(REQUIREMENTS)],
]  # fmt: skip


def expected(venv: Path) -> list[list[str]]:
    return [[word.replace("{venv}", str(venv)) for word in call] for call in EXPECTED]


def test_checkov_is_installed_from_its_hash_pinned_requirements(tmp_path: Path) -> None:
    machine = machine_with_uv(tmp_path)
    tools = tmp_path / "tools"

    assert uv_calls(machine, tools) == expected(tools / "checkov")
    assert (tools / "checkov" / "installed-requirements.txt").read_text() == (
        REQUIREMENTS.read_text()
    )


def test_an_interrupted_checkov_install_is_redone_not_refused(tmp_path: Path) -> None:
    """The environment exists (uv venv ran) but checkov is not in it: the next run replaces it."""
    machine = machine_with_uv(tmp_path)
    venv = tmp_path / "tools" / "checkov"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()

    assert uv_calls(machine, tmp_path / "tools") == expected(venv)
    assert (venv / "bin" / "checkov").exists()


def test_a_changed_lock_file_reinstalls_checkov_and_an_unchanged_one_does_nothing(
    tmp_path: Path,
) -> None:
    machine = machine_with_uv(tmp_path)
    tools = tmp_path / "tools"
    venv = tools / "checkov"
    uv_calls(machine, tools)
    (machine.state / "calls.log").unlink()

    assert uv_calls(machine, tools) == []  # installed as pinned: nothing to do

    (venv / "installed-requirements.txt").write_text("checkov==3.3.29 --hash=sha256:00\n")
    assert uv_calls(machine, tools) == expected(venv)


def test_the_checkov_lock_pins_checkov_3_3_30_with_hashes_for_every_package() -> None:
    text = REQUIREMENTS.read_text()
    assert "\ncheckov==3.3.30 \\\n" in text
    packages = [line for line in text.splitlines() if line and line[0].isalnum()]
    assert len(packages) > 20
    for line in packages:
        assert "==" in line, line
        assert line.endswith(" \\"), line
    assert text.count("--hash=sha256:") >= len(packages)
