"""A copy of the project's layout made of links to its scripts, for script tests that must not
touch the real checkout: scripts/lock writes lock files in its repository, and scripts/up and the
Python tools' wrappers look for the repository's .venv (absent here)."""

from __future__ import annotations

from pathlib import Path

from tests.stub_tools import SCRIPTS, STUB, Tools


def fake_repo(tools: Tools) -> Path:
    """tools.root/repo: scripts/ (links to every script, lib/ a link too) and nothing else;
    the scripts run from there (tools.scripts)."""
    repo = tools.root / "repo"
    (repo / "scripts").mkdir(parents=True)
    for path in SCRIPTS.iterdir():
        (repo / "scripts" / path.name).symlink_to(path)
    tools.scripts = repo / "scripts"
    return repo


def stub(tools: Tools, *names: str) -> None:
    """More tools that only record their calls (tests/stubs/fake-tool under each name)."""
    for name in names:
        path = tools.stub_bin / name
        if path.exists() or path.is_symlink():
            path.unlink()
        path.symlink_to(STUB)


def files_under(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*")}
