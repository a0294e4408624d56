"""The backup job (infra/jobs/qdrant_snapshots.py) against a Qdrant stand-in
(tests/qdrant_stand_in.py): run as the CronJob runs it, a file with a bare Python (isolated
mode, no project on the path), with the API key from the environment."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.jobs.qdrant_snapshots import Snapshot, expired
from infra.paths import REPO_ROOT
from tests.qdrant_stand_in import BASE_TIME, Collection, QdrantStandIn, serving

JOB: Final = REPO_ROOT / "infra" / "jobs" / "qdrant_snapshots.py"
API_KEY: Final = "qdrant-key-SENTINEL-backup-91c2"


@pytest.fixture
def qdrant() -> Iterator[QdrantStandIn]:
    stand_in = QdrantStandIn(
        api_key=API_KEY,
        collections={"agent-memory": Collection({"p1": "hello"}), "docs": Collection()},
    )
    with serving(stand_in) as served:
        yield served


def run_job(
    qdrant: QdrantStandIn, tmp_path: Path, **env: str
) -> tuple[int, list[dict[str, Any]], str]:
    environment = {
        "QDRANT_URL": qdrant.url,
        "QDRANT_API_KEY": API_KEY,
        "RETENTION": "3",
        "REQUEST_TIMEOUT_SECONDS": "2",
        **env,
    }
    completed = subprocess.run(
        [sys.executable, "-I", str(JOB)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    return completed.returncode, lines, completed.stdout + completed.stderr


def test_every_collection_gets_a_snapshot_with_the_api_key(
    qdrant: QdrantStandIn, tmp_path: Path
) -> None:
    code, lines, output = run_job(qdrant, tmp_path)

    assert code == 0, output
    for name in ("agent-memory", "docs"):
        assert len(qdrant.snapshot_names(name)) == 1
    assert {who for _, _, who in qdrant.requests} == {"full"}
    assert lines[-1] == {"event": "done", "collections": 2, "failed": 0, "retention": 3}
    assert API_KEY not in output, "the key is never logged"


def test_only_the_named_collections_are_snapshotted(qdrant: QdrantStandIn, tmp_path: Path) -> None:
    code, _, output = run_job(qdrant, tmp_path, COLLECTIONS="docs")

    assert code == 0, output
    assert qdrant.snapshot_names("agent-memory") == []
    assert len(qdrant.snapshot_names("docs")) == 1
    assert ("GET", "/collections", "full") not in qdrant.requests


def test_retention_keeps_the_newest_and_deletes_the_oldest(
    qdrant: QdrantStandIn, tmp_path: Path
) -> None:
    old = [qdrant.add_snapshot("docs", minutes) for minutes in (50, 40, 30, 20)]

    code, lines, output = run_job(qdrant, tmp_path, COLLECTIONS="docs", RETENTION="3")

    assert code == 0, output
    kept = qdrant.snapshot_names("docs")
    assert len(kept) == 3
    # The new one and the two newest of the old; the two oldest are gone.
    assert set(kept) >= {old[2], old[3]}
    assert not set(kept) & {old[0], old[1]}
    deleted = [line["snapshot"] for line in lines if line["event"] == "snapshot deleted"]
    assert sorted(deleted) == sorted(old[:2])


def failures(lines: list[dict[str, Any]]) -> dict[str, str]:
    return {
        line["collection"]: line["error"]
        for line in lines
        if line["event"] == "collection failed; its snapshots were kept"
    }


def test_a_server_error_keeps_that_collections_snapshots_and_the_others_go_on(
    qdrant: QdrantStandIn, tmp_path: Path
) -> None:
    old = [qdrant.add_snapshot("docs", minutes) for minutes in (50, 40, 30, 20)]
    other = [qdrant.add_snapshot("agent-memory", minutes) for minutes in (50, 40)]
    qdrant.fail.add(("POST", "/collections/docs/snapshots"))

    code, lines, _ = run_job(qdrant, tmp_path, RETENTION="1")

    assert code == 1
    assert "snapshot of docs: Qdrant answered 503" in failures(lines)["docs"]
    assert set(old) == set(qdrant.snapshot_names("docs")), "a failing night deletes none"
    assert not [r for r in qdrant.requests if r[0] == "DELETE" and "/docs/" in r[1]]
    # The working collection was backed up and kept to its retention all the same.
    assert len(qdrant.snapshot_names("agent-memory")) == 1
    assert not set(other) & set(qdrant.snapshot_names("agent-memory"))
    assert lines[-1]["failed"] == 1


def test_a_timeout_fails_the_job_clearly_and_deletes_nothing(
    qdrant: QdrantStandIn, tmp_path: Path
) -> None:
    qdrant.add_snapshot("agent-memory", 90)
    qdrant.stall.add(("POST", "/collections/docs"))
    qdrant.stall_seconds = 5

    code, lines, _ = run_job(
        qdrant, tmp_path, COLLECTIONS="docs", RETENTION="1", REQUEST_TIMEOUT_SECONDS="1"
    )

    assert code == 1
    assert "snapshot of docs: no answer from" in failures(lines)["docs"]
    assert not [r for r in qdrant.requests if r[0] == "DELETE"]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"RETENTION": "0"}, "RETENTION"),
        ({"RETENTION": "1e3"}, "RETENTION"),
        ({"QDRANT_API_KEY": ""}, "QDRANT_API_KEY is empty"),
        ({"QDRANT_URL": "file:///etc/passwd"}, "not an http(s) URL"),
        ({"COLLECTIONS": "docs,../etc"}, "not a collection name"),
        ({"COLLECTIONS": "docs,a\tb"}, "not a collection name"),
    ],
)
def test_a_bad_environment_is_exit_2_before_any_request(
    qdrant: QdrantStandIn, tmp_path: Path, env: dict[str, str], says: str
) -> None:
    code, lines, _ = run_job(qdrant, tmp_path, **env)

    assert code == 2
    assert says in lines[-1]["error"]
    assert qdrant.requests == []


def test_a_wrong_key_fails_with_qdrants_answer(qdrant: QdrantStandIn, tmp_path: Path) -> None:
    code, lines, output = run_job(qdrant, tmp_path, QDRANT_API_KEY="not-the-key")

    assert code == 1
    assert "listing collections: Qdrant answered 401" in lines[-1]["error"]
    assert "not-the-key" not in output


@given(
    st.lists(st.integers(min_value=0, max_value=10_000), unique=True, max_size=30),
    st.integers(min_value=1, max_value=40),
)
def test_retention_always_keeps_exactly_the_newest(minutes: list[int], retention: int) -> None:
    snapshots = [Snapshot(f"s{m}", BASE_TIME + timedelta(minutes=m)) for m in minutes]

    gone = expired(snapshots, retention)

    kept = [s for s in snapshots if s not in gone]
    assert len(kept) == min(retention, len(snapshots))
    if gone and kept:
        assert max(s.created for s in gone) < min(s.created for s in kept)


def test_the_read_only_key_cannot_take_or_delete_a_snapshot(tmp_path: Path) -> None:
    """What the read-only MCP server holds can read, never write (Qdrant's 403, which the
    stand-in gives as Qdrant documents it)."""
    stand_in = QdrantStandIn(
        api_key=API_KEY, read_only_key="read-only-SENTINEL-77", collections={"docs": Collection()}
    )
    stand_in.add_snapshot("docs", 10)
    with serving(stand_in) as qdrant:
        code, lines, _ = run_job(
            qdrant, tmp_path, QDRANT_API_KEY="read-only-SENTINEL-77", RETENTION="1"
        )

    assert code == 1
    assert "Qdrant answered 403" in failures(lines)["docs"]
    assert len(stand_in.snapshot_names("docs")) == 1
    assert {(method, who) for method, _, who in stand_in.requests} == {
        ("GET", "read-only"), ("POST", "read-only"),
    }  # fmt: skip
