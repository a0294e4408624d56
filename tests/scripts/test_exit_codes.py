"""The README's exit-code table is the one scripts/lib/common.sh defines, and every script that
handles interrupts says so in its header."""

from __future__ import annotations

import re

import pytest

from tests.stub_tools import REPO, SCRIPTS


def common_codes() -> set[int]:
    text = (SCRIPTS / "lib" / "common.sh").read_text()
    return {int(code) for code in re.findall(r"^readonly EXIT_[A-Z_]+=(\d+)$", text, re.M)}


def readme_codes() -> set[int]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Operator scripts", 1)[1].split("\n### ", 1)[0]
    return {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.M)}


def test_readme_table_lists_exactly_the_codes_of_common_sh() -> None:
    assert readme_codes() == common_codes()


@pytest.mark.parametrize(
    "script", ["create-kind-cluster", "delete-kind-cluster", "local-registry", "up"]
)
def test_scripts_that_handle_interrupts_document_their_codes(script: str) -> None:
    text = (SCRIPTS / script).read_text()

    assert "start_run" in text
    header = text.split("set -euo pipefail", 1)[0]
    assert "129/130/143" in header
