"""scripts/restore-snapshot against a Qdrant stand-in (tests/qdrant_stand_in.py): a snapshot the
backup job took brings the collection back; hostile names, a missing key, an unknown snapshot,
no confirmation and a silent Qdrant each end with their exit code and change nothing."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from infra.ops import restore_snapshot
from infra.paths import REPO_ROOT
from tests.qdrant_stand_in import Collection, QdrantStandIn, serving

API_KEY: Final = "qdrant-key-SENTINEL-restore-3f0a"
JOB: Final = REPO_ROOT / "infra" / "jobs" / "qdrant_snapshots.py"


@pytest.fixture
def qdrant() -> Iterator[QdrantStandIn]:
    stand_in = QdrantStandIn(
        api_key=API_KEY, collections={"agent-memory": Collection({"p1": "kept"})}
    )
    with serving(stand_in) as served:
        yield served


def backup(qdrant: QdrantStandIn) -> str:
    """A snapshot taken the way the CronJob takes it: the job's program, run as it runs."""
    subprocess.run(
        [sys.executable, "-I", str(JOB)],
        env={"QDRANT_URL": qdrant.url, "QDRANT_API_KEY": API_KEY, "RETENTION": "3"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    (name,) = qdrant.snapshot_names("agent-memory")
    return name


def restore(
    qdrant: QdrantStandIn, *args: str, key: str = API_KEY, answer: str | None = None
) -> int:
    terminal = io.StringIO(answer) if answer is not None else None
    return restore_snapshot.main(
        ["homelab", *args, "--url", qdrant.url, "--timeout", "2"],
        environ={"QDRANT_API_KEY": key} if key else {},
        terminal=lambda: terminal,
    )


def test_a_snapshot_the_backup_took_brings_the_collection_back(
    qdrant: QdrantStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = backup(qdrant)
    qdrant.collections["agent-memory"].points = {"p1": "overwritten", "p2": "added later"}

    code = restore(qdrant, "agent-memory", snapshot, "--yes")

    assert code == 0, capsys.readouterr().err
    assert qdrant.collections["agent-memory"].points == {"p1": "kept"}
    assert API_KEY not in capsys.readouterr().err


def test_over_an_existing_collection_it_asks_and_typing_the_name_goes_on(
    qdrant: QdrantStandIn,
) -> None:
    snapshot = backup(qdrant)
    qdrant.collections["agent-memory"].points = {}

    assert restore(qdrant, "agent-memory", snapshot, answer="agent-memory\n") == 0
    assert qdrant.collections["agent-memory"].points == {"p1": "kept"}


@pytest.mark.parametrize("answer", [None, "no\n", "agent\n"])
def test_without_confirmation_nothing_changes_and_it_exits_8(
    qdrant: QdrantStandIn, answer: str | None
) -> None:
    snapshot = backup(qdrant)
    qdrant.collections["agent-memory"].points = {"p2": "new"}

    assert restore(qdrant, "agent-memory", snapshot, answer=answer) == 8
    assert qdrant.collections["agent-memory"].points == {"p2": "new"}
    assert not [r for r in qdrant.requests if r[0] == "PUT"]


@pytest.mark.parametrize(
    ("collection", "snapshot"),
    [
        ("../agent-memory", "x.snapshot"),
        ("agent-memory", "../../etc/passwd"),
        ("agent-memory", ".."),
        ("agent/memory", "x.snapshot"),
        ("agent-memory", "x\n.snapshot"),
    ],
)
def test_hostile_names_are_refused_before_any_request(
    qdrant: QdrantStandIn, collection: str, snapshot: str
) -> None:
    assert restore(qdrant, collection, snapshot, "--yes") == 2
    assert qdrant.requests == []


def test_an_unknown_snapshot_is_bad_input_naming_the_ones_there(
    qdrant: QdrantStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = backup(qdrant)

    assert restore(qdrant, "agent-memory", "agent-memory-nope.snapshot", "--yes") == 2
    assert snapshot in capsys.readouterr().err
    assert not [r for r in qdrant.requests if r[0] == "PUT"]


def test_without_the_key_it_is_bad_input_and_the_key_never_goes_on_a_command_line(
    qdrant: QdrantStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert restore(qdrant, "agent-memory", "x.snapshot", "--yes", key="") == 2
    assert "QDRANT_API_KEY is empty" in capsys.readouterr().err
    assert qdrant.requests == []


def test_a_silent_qdrant_is_a_time_out_exit_4(qdrant: QdrantStandIn) -> None:
    snapshot = backup(qdrant)
    qdrant.stall.add(("PUT", "/collections/agent-memory/snapshots/recover"))
    qdrant.stall_seconds = 5

    assert restore(qdrant, "agent-memory", snapshot, "--yes") == 4


def test_a_failing_qdrant_is_exit_5(qdrant: QdrantStandIn) -> None:
    snapshot = backup(qdrant)
    qdrant.fail.add(("PUT", "/collections/agent-memory/snapshots/recover"))

    assert restore(qdrant, "agent-memory", snapshot, "--yes") == 5
    assert qdrant.collections["agent-memory"].points == {"p1": "kept"}


def test_the_script_runs_the_tool_with_its_exit_code(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(REPO_ROOT / "scripts" / "restore-snapshot"), "prod", "c", "s"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )

    assert completed.returncode == 2
    assert "stack 'prod' is not supported" in completed.stderr
