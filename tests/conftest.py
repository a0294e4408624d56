"""Shared fixtures: run the real program under Pulumi mocks with a stack's real config.

``deploy(stack, ...)`` reads ``Pulumi.<stack>.yaml`` as the engine would, applies overrides,
adds secret config (known strings, so tests can prove they never leak), runs
``infra.program.run`` and returns every registration and stack output.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from infra import observability
from infra.offline.mock_engine import ProgramRun, run_program
from infra.paths import REPO_ROOT
from infra.program import run
from infra.settings import read_stack_file
from tests.stub_tools import Tools

PROJECT_DIR = REPO_ROOT

GATEWAY_TOKEN = "gw-token-SENTINEL-7f3a9c51d0"
QDRANT_API_KEY = "qdrant-key-SENTINEL-41d2e8b7"
KNOWN_SECRETS: dict[str, str] = {
    "gatewayToken": GATEWAY_TOKEN,
    "vectorSearchApiKey": QDRANT_API_KEY,
}
DROP = object()
"""An override value that removes the key, as if the stack file did not set it."""

Deploy = Callable[..., ProgramRun]


def mark_tier(items: list[pytest.Item], directory: Path, marker: str, timeout: float) -> None:
    """Mark every test collected under ``directory`` with its tier's marker and time bound
    (a tier directory's conftest calls this from its collection hook)."""
    for item in items:
        if directory in Path(str(item.fspath)).parents:
            item.add_marker(getattr(pytest.mark, marker))
            item.add_marker(pytest.mark.timeout(timeout))


def merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` (dotted keys allowed: ``"cluster.workers"``) into ``base``."""
    result = copy.deepcopy(base)
    for dotted, value in overrides.items():
        *parents, last = dotted.split(".")
        node = result
        for part in parents:
            key = part if part in node or ":" in part else f"agent-platform:{part}"
            node = node.setdefault(key, {})
        key = last if (last in node or ":" in last or parents) else f"agent-platform:{last}"
        if value is DROP:
            node.pop(key, None)
        else:
            node[key] = value
    return result


@pytest.fixture
def deploy() -> Deploy:
    def _deploy(
        stack: str,
        overrides: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
        check: bool = True,
    ) -> ProgramRun:
        base = dict(config) if config is not None else read_stack_file(stack, PROJECT_DIR)
        return run_program(
            run,
            stack=stack,
            config=merge(base, overrides or {}),
            secrets=KNOWN_SECRETS if secrets is None else secrets,
            check=check,
        )

    return _deploy


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()
    observability.configure_logging()


def first_set_up_in_session(request: pytest.FixtureRequest) -> None:
    """Fails the set-up of a costly module-scoped fixture (a real nginx, a checkov run) that has
    already run once in this test session, in this process or in another pytest-xdist worker.

    That happens when the run splits one module across workers: each worker then repeats the
    module's set-up (pytest-xdist 3.8's ``--dist loadgroup`` did exactly that, silently, on
    pytest 9.2). pyproject.toml keeps each module on one worker (``--dist=loadfile``); this
    check turns a change there, or a fixture made function-scoped, into a failure instead of a
    slower run."""
    base = request.getfixturevalue("tmp_path_factory").getbasetemp()
    # Every xdist worker's base is a folder of the controller's (.../popen-gw0). A worker is
    # told by its config's workerinput, not by PYTEST_XDIST_WORKER, which child processes
    # inherit: outside xdist, base.parent is shared by every session of this user.
    shared = base.parent if hasattr(request.config, "workerinput") else base
    # Keyed by module, not by the requesting node: a function-scoped fixture fails too.
    what = f"{request.module.__name__}.{request.fixturename}"
    marker = shared / f"set-up-once-{hashlib.sha256(what.encode()).hexdigest()[:16]}"
    try:
        marker.open("x").close()
    except FileExistsError:
        pytest.fail(
            f"{what} was set up a second time in this session: its module ran on more than one"
            " worker, or the fixture lost its module scope (pyproject.toml's addopts keep a module"
            " on one worker with --dist=loadfile)",
            pytrace=False,
        )


@pytest.fixture
def tools(tmp_path: Path) -> Tools:
    """Stub kind/docker/kubectl/podman/pulumi on a PATH of their own (see tests/stub_tools.py)."""
    return Tools(tmp_path)


@pytest.fixture(scope="module")
def studio() -> ProgramRun:
    """The studio stack as its stack file says, run once per test module (read-only use)."""
    return run_program(
        run,
        stack="studio",
        config=read_stack_file("studio", PROJECT_DIR),
        secrets=KNOWN_SECRETS,
    )
