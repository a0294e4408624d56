"""scripts/test's install steps (scripts/lib/install.sh), run for real against stub apt-get,
sudo, id, python3 and uv on a private PATH where nginx is absent.

Tried as a new user would on a fresh machine: as root, as a user with passwordless sudo, as a
user with neither. The stub sudo resets the environment like the real one (env_reset), so a
variable that must reach apt-get has to be carried through it explicitly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "scripts" / "lib"
SYSTEM_TOOLS = ("bash", "timeout", "env", "dirname", "basename", "cat", "mkdir", "cp", "rm", "true",
                "cmp", "chmod")  # fmt: skip
NGINX_BY_HAND = (
    "run as root: apt-get update && apt-get install -y --no-install-recommends nginx-light"
)

# Each stub appends one line to $STUB_STATE/calls.log: its name, the uid it runs as, then its
# arguments (tab-separated).
RECORD = """record() {
  local IFS=$'\\t'
  printf '%s\\tuid=%s\\t%s\\n' "$(basename -- "$0")" "${FAKE_UID:-?}" "$*" >>"$STUB_STATE/calls.log"
}
"""
STUBS = {
    "id": """#!/usr/bin/env bash
[[ $1 == -u ]] && echo "$FAKE_UID"
""",
    # Passwordless when $STUB_STATE/sudo-nopasswd exists; resets the environment.
    "sudo": """#!/usr/bin/env bash
RECORD
record "$@"
[[ $1 == -n ]] && shift
[[ -e $STUB_STATE/sudo-nopasswd ]] || { echo "sudo: a password is required" >&2; exit 1; }
exec /usr/bin/env -i PATH="$PATH" STUB_STATE="$STUB_STATE" FAKE_UID=0 "$@"
""",
    "apt-get": """#!/usr/bin/env bash
RECORD
record "DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}" "$@"
[[ $FAKE_UID == 0 ]] || { echo "E: Could not open lock file - are you root?" >&2; exit 100; }
[[ ! -e $STUB_STATE/apt-fails ]] || { echo "E: Unable to locate package" >&2; exit 100; }
if [[ $1 == install && " $* " == *" nginx-light "* ]]; then
  cp "$0" "$(dirname -- "$0")/nginx"
fi
if [[ $1 == install && " $* " == *" python3-venv "* ]]; then
  : >"$STUB_STATE/has-venv"
fi
""",
    # python3 -m venv DIR: works once python3-venv is "installed" (or from the start when
    # $STUB_STATE/has-venv exists); DIR/bin/python -m pip install uv==X makes DIR/bin/uv.
    "python3": """#!/usr/bin/env bash
RECORD
record "$@"
if [[ $1 == -m && $2 == venv ]]; then
  [[ -e $STUB_STATE/has-venv ]] || { echo "ensurepip is not available" >&2; exit 1; }
  dir=${*: -1}
  mkdir -p "$dir/bin"
  cp "$0" "$dir/bin/python"
elif [[ $1 == -m && $2 == pip ]]; then
  version=${*: -1}
  cp "$0" "$(dirname -- "$0")/uv"  # an executable file, then its contents
  printf '#!/usr/bin/env bash\\necho "uv %s"\\n' "${version#uv==}" >"$(dirname -- "$0")/uv"
fi
""",
    "uv": """#!/usr/bin/env bash
RECORD
record "$@"
if [[ $1 == --version ]]; then echo "uv 0.13.8"; fi
if [[ $1 == venv ]]; then mkdir -p "${*: -1}/bin"; cp "$0" "${*: -1}/bin/python"; fi
""",
}


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    calls: list[list[str]]

    def of(self, tool: str) -> list[list[str]]:
        return [call[1:] for call in self.calls if call[0] == tool]


class Machine:
    """A private PATH: the stubs, and only the system tools the install functions need."""

    def __init__(self, root: Path, *, uid: int) -> None:
        self.root = root
        self.uid = uid
        self.state = root / "state"
        self.stubs = root / "stubs"
        self.system = root / "system"
        self.empty_sbin = root / "empty-sbin"
        for directory in (self.state, self.stubs, self.system, self.empty_sbin):
            directory.mkdir()
        for tool in SYSTEM_TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} is needed by the install tests"
            (self.system / tool).symlink_to(found)
        self.add("id")

    def add(self, *tools: str) -> None:
        for tool in tools:
            path = self.stubs / tool
            path.write_text(STUBS[tool].replace("RECORD\n", RECORD))
            path.chmod(0o755)

    def run(self, script: str) -> Outcome:
        """Source common.sh and install.sh, then run ``script`` (bash) with nginx nowhere."""
        program = (
            f'source "{LIBRARY}/common.sh"\nsource "{LIBRARY}/install.sh"\n'
            f'SYSTEM_SBIN_DIRS="{self.empty_sbin}"\n{script}\n'
        )
        completed = subprocess.run(
            [str(self.system / "bash"), "-c", program, "test"],
            env={
                "PATH": f"{self.stubs}{os.pathsep}{self.system}",
                "STUB_STATE": str(self.state),
                "FAKE_UID": str(self.uid),
                "HOME": str(self.root),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        log = self.state / "calls.log"
        calls = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
        return Outcome(completed.returncode, completed.stdout, completed.stderr, calls)


APT_CALLS = [
    ["uid=0", "DEBIAN_FRONTEND=noninteractive", "update", "-qq"],
    ["uid=0", "DEBIAN_FRONTEND=noninteractive", "install", "-y", "-qq",
     "--no-install-recommends", "nginx-light"],
]  # fmt: skip


def test_as_root_nginx_is_installed_with_apt_get_directly(tmp_path: Path) -> None:
    machine = Machine(tmp_path, uid=0)
    machine.add("apt-get", "sudo")

    outcome = machine.run("ensure_nginx && nginx_path")

    assert outcome.returncode == 0, outcome.stderr
    assert outcome.of("apt-get") == APT_CALLS
    assert outcome.of("sudo") == []
    assert outcome.stdout.strip() == str(machine.stubs / "nginx")


def test_as_a_user_with_passwordless_sudo_apt_get_runs_through_sudo_with_its_environment(
    tmp_path: Path,
) -> None:
    machine = Machine(tmp_path, uid=1000)
    machine.add("apt-get", "sudo")
    (machine.state / "sudo-nopasswd").touch()

    outcome = machine.run("ensure_nginx")

    assert outcome.returncode == 0, outcome.stderr
    # apt-get ran as root and still saw DEBIAN_FRONTEND, although sudo resets the environment.
    assert outcome.of("apt-get") == APT_CALLS
    assert [call[1:3] for call in outcome.of("sudo")] == [
        ["-n", "true"],
        ["-n", "env"],
        ["-n", "env"],
    ]


@pytest.mark.parametrize("sudo", ["needs a password", "absent"])
def test_without_root_or_passwordless_sudo_one_line_says_what_to_run(
    tmp_path: Path, sudo: str
) -> None:
    machine = Machine(tmp_path, uid=1000)
    machine.add("apt-get")
    if sudo == "needs a password":
        machine.add("sudo")

    outcome = machine.run("ensure_nginx")

    assert outcome.returncode == 3
    assert outcome.of("apt-get") == []
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert "not root, no passwordless sudo" in lines[0]
    assert lines[0].endswith(NGINX_BY_HAND)


def test_a_failed_apt_get_install_exits_3_with_the_command_to_run_by_hand(tmp_path: Path) -> None:
    machine = Machine(tmp_path, uid=0)
    machine.add("apt-get")
    (machine.state / "apt-fails").touch()

    outcome = machine.run("ensure_nginx")

    assert outcome.returncode == 3
    assert "apt-get update failed; " + NGINX_BY_HAND in outcome.stderr


def test_without_apt_get_it_asks_for_the_package_manager(tmp_path: Path) -> None:
    machine = Machine(tmp_path, uid=0)

    outcome = machine.run("ensure_nginx")

    assert outcome.returncode == 3
    assert "no apt-get" in outcome.stderr
    assert "install nginx-light with your package manager" in outcome.stderr


def test_nginx_already_installed_means_no_install(tmp_path: Path) -> None:
    machine = Machine(tmp_path, uid=1000)
    machine.add("apt-get", "sudo")
    (machine.empty_sbin / "nginx").symlink_to(machine.system / "cat")

    outcome = machine.run("ensure_nginx")

    assert outcome.returncode == 0, outcome.stderr
    assert outcome.calls == []


def test_uv_goes_into_a_venv_of_its_own_after_installing_python3_venv_when_missing(
    tmp_path: Path,
) -> None:
    machine = Machine(tmp_path, uid=1000)
    machine.add("apt-get", "sudo", "python3")
    (machine.state / "sudo-nopasswd").touch()
    tools = tmp_path / "tools"

    outcome = machine.run(f'ensure_uv "{tools}"')

    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.strip() == f"{tools}/uv/bin/uv"
    assert [call[1:] for call in outcome.of("python3")] == [
        ["-m", "venv", "--clear", f"{tools}/uv"],  # fails: no ensurepip
        ["-m", "venv", "--clear", f"{tools}/uv"],
    ]
    assert [call[1:] for call in outcome.of("python")] == [
        ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv==0.13.8"],
    ]
    assert outcome.of("apt-get")[-1][-1] == "python3-venv"


def test_the_project_environment_is_synced_from_the_hash_pinned_requirements(
    tmp_path: Path,
) -> None:
    machine = Machine(tmp_path, uid=1000)
    machine.add("uv")
    venv = tmp_path / "venv"

    outcome = machine.run(f'ensure_python_environment uv "{venv}" "{REPO}/requirements-dev.txt"')

    assert outcome.returncode == 0, outcome.stderr
    assert [call[1:] for call in outcome.of("uv")] == [
        ["venv", "--quiet", "--python", ">=3.11,<3.14", str(venv)],
        ["pip", "sync", "--quiet", "--python", f"{venv}/bin/python", "--require-hashes",
         "--compile-bytecode", f"{REPO}/requirements-dev.txt"],
    ]  # fmt: skip


# ------------------------------------------------------------------ the bug class, statically

# Commands that run their arguments as a program: a shell function given to one of them is
# "No such file or directory". `bounded` (lib/common.sh) hands its arguments to `timeout`.
RUNNERS = ("timeout", "env", "xargs", "nice", "nohup", "setsid", "sudo", "stdbuf", "ionice",
           "flock", "chroot", "bounded", "exec")  # fmt: skip
_FUNCTION = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\)\s*\{", re.MULTILINE)
_RUN = re.compile(
    r"\b(?P<runner>" + "|".join(RUNNERS) + r")\b"
    # options and their values, durations, VAR=value assignments, expanded prefix arrays
    r"(?:\s+(?:-{1,2}[\w-]+(?:=\S+)?|\d+[smhd]?|\"?\$\{?\w+\}?\"?|[A-Z_]+=\S*|"
    r"\$\{\w+\[@\]\+\"\$\{\w+\[@\]\}\"\}))*"
    r"\s+(?P<word>[A-Za-z_][A-Za-z0-9_]*)\b"
)


def shell_files() -> list[Path]:
    scripts = REPO / "scripts"
    shells = ("#!/usr/bin/env bash", "# shellcheck shell=bash")
    return sorted(
        path
        for path in scripts.rglob("*")
        if path.is_file() and path.read_text(errors="replace").startswith(shells)
    )


def functions_given_to_runners(text: str, functions: set[str]) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split(" #", 1)[0]
        if code.lstrip().startswith("#"):
            continue
        found += [
            f"{number}: {match['runner']} {match['word']}"
            for match in _RUN.finditer(code)
            if match["word"] in functions
        ]
    return found


def test_no_script_hands_a_shell_function_to_a_command_that_runs_programs() -> None:
    texts = {path: path.read_text() for path in shell_files()}
    functions = {name for text in texts.values() for name in _FUNCTION.findall(text)}

    assert {"bounded", "die", "root_prefix"} <= functions
    problems = {
        str(path.relative_to(REPO)): hits
        for path, text in texts.items()
        if (hits := functions_given_to_runners(text, functions))
    }
    assert problems == {}


def test_the_static_check_finds_the_line_that_broke_installs_on_a_fresh_machine() -> None:
    """The check above can fail: on the line scripts/test had before, it does."""
    old_line = "  timeout 600 as_root apt-get update -qq >&2 || die 'apt-get update failed'\n"

    assert functions_given_to_runners(old_line, {"as_root", "die"}) == ["1: timeout as_root"]
    assert functions_given_to_runners("  bounded --x 5 log hello\n", {"log"}) == ["1: bounded log"]
    assert functions_given_to_runners("  timeout 600 apt-get update\n", {"as_root"}) == []
