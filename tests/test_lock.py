"""The pins: every dependency in pyproject.toml is pinned, with hashes, in the requirement files."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.conftest import PROJECT_DIR

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())


def pins(name: str) -> dict[str, str]:
    text = (PROJECT_DIR / name).read_text()
    return {
        match["name"].lower(): match["version"]
        for match in re.finditer(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)", text, re.M)
    }


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return match[0].lower().replace("_", "-")


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("requirements.txt", PYPROJECT["project"]["dependencies"]),
        (
            "requirements-dev.txt",
            PYPROJECT["project"]["dependencies"] + PYPROJECT["dependency-groups"]["dev"],
        ),
    ],
)
def test_every_dependency_is_pinned(lock: str, requirements: list[str]) -> None:
    pinned = pins(lock)
    assert [r for r in map(requirement_name, requirements) if r not in pinned] == []


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_every_pin_carries_hashes_and_no_download_address(lock: str) -> None:
    text = (PROJECT_DIR / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1])
    for block in blocks:
        assert "--hash=sha256:" in block, block.splitlines()[0]
    assert "://" not in text


def test_the_runtime_pins_match_the_dev_pins() -> None:
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev[name] for name in runtime} == runtime


def test_pulumi_sdks_are_pinned_exactly_in_pyproject() -> None:
    for name in ("pulumi==", "pulumi-kubernetes==", "pulumi-command=="):
        assert any(d.startswith(name) for d in PYPROJECT["project"]["dependencies"]), name
