"""Every operator script has one shape (issue 11): no file extension (the libraries in
scripts/lib, which are sourced, not run, keep `.sh`), strict mode, lib/common.sh, and every
command in a function, with `main "$@"` as the last line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.stub_tools import SCRIPTS

EXECUTABLES = sorted(path for path in SCRIPTS.iterdir() if path.is_file())
# What may stand outside a function: comments, strict mode, constants and state, sourcing.
DECLARATION = re.compile(
    r"(#.*|set -euo pipefail|(readonly |export )?[A-Z_]+=.*|readonly [A-Z_ ]+|unset [A-Z_ ]+"
    r"|source \"\$SCRIPT_DIR/lib/[a-z_]+\.sh\"|[a-z_]+\(\) \{.*\}|)"
)


def top_level(text: str) -> list[str]:
    """The lines outside function bodies (a body runs from `name() {` to the first `}`)."""
    lines, inside = [], False
    for line in text.splitlines():
        if inside:
            inside = line != "}"
        elif re.fullmatch(r"[a-z_]+\(\) \{( +#.*)?", line):
            inside = True
        else:
            lines.append(line)
    return lines


def test_executables_have_no_extension_and_libraries_have_sh() -> None:
    assert {path.name for path in EXECUTABLES} >= {"create-kind-cluster", "delete-kind-cluster"}
    for path in EXECUTABLES:
        assert path.suffix == "", path.name
        assert os.access(path, os.X_OK), path.name
    for path in (SCRIPTS / "lib").iterdir():
        assert path.suffix == ".sh", path.name
        assert not os.access(path, os.X_OK), path.name


@pytest.mark.parametrize("path", EXECUTABLES, ids=lambda path: path.name)
def test_every_script_is_strict_on_common_sh_with_main_last(path: Path) -> None:
    text = path.read_text()
    outside = top_level(text)

    assert "set -euo pipefail" in outside
    assert 'SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)' in outside
    assert 'source "$SCRIPT_DIR/lib/common.sh"' in outside
    assert text.splitlines()[-1] == 'main "$@"'
    commands = [line for line in outside[:-1] if not DECLARATION.fullmatch(line)]
    assert commands == [], f"{path.name}: top-level commands outside main"


def test_exit_codes_are_named() -> None:
    # `die 1`, `exit 3` or `return 5` say nothing; the EXIT_* names of common.sh do.
    for path in [*EXECUTABLES, *(SCRIPTS / "lib").iterdir()]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            assert not re.search(r"\b(die|exit) +[0-9]", code), f"{path.name}:{number}: {line}"
