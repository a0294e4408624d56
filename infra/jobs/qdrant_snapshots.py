"""Scheduled Qdrant snapshots: the program the vector search backup CronJob runs.

For each collection (the ones named in ``COLLECTIONS``, or every collection Qdrant lists), it
asks Qdrant for a new snapshot and, once that exists, deletes that collection's oldest
snapshots beyond ``RETENTION`` (every snapshot of the collection counts, one taken by hand
too). Qdrant writes each snapshot where its snapshot storage is: the data volume, or
S3 when ``vectorSearch.snapshots`` is on; the API is the same for both.

It runs as a file mounted into a pinned Python image, so it uses the standard library only and
imports nothing of this project. The API key comes from the environment (a secretKeyRef) and is
only ever sent as Qdrant's ``api-key`` header: no log line holds it.

A collection whose new snapshot fails keeps every snapshot it had: the job logs the failure,
naming the collection and the request, goes on with the next collection, and ends with exit 1.
So a failing night never deletes the last good snapshots, and a working collection is not held
back by a failing one.

Environment: QDRANT_URL (http://vector-search.<namespace>.svc.cluster.local:6333),
QDRANT_API_KEY, RETENTION (1-365), COLLECTIONS (comma-separated; empty: all),
REQUEST_TIMEOUT_SECONDS (default 600; the CronJob passes its deadline: a snapshot of a large
collection takes a while, and the Job's activeDeadlineSeconds bounds the whole run).
Exit codes: 0 done, 1 a request failed (nothing deleted), 2 bad environment.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2
MAX_RETENTION: Final = 365
MAX_NAME: Final = 255


def safe_name(text: str) -> bool:
    """A collection or snapshot name this job and the restore tool put into URLs and a file
    location: Qdrant's own names (spaces and dots included), but never a path (``/``, ``.``,
    ``..``) or a control character."""
    return (
        0 < len(text) <= MAX_NAME
        and "/" not in text
        and text not in (".", "..")
        and text.isprintable()
    )


class SnapshotError(Exception):
    """A request to Qdrant failed; the message says which and why (never the API key).
    ``timed_out``: Qdrant took longer than the bound (it may still be working)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Snapshot:
    name: str
    created: datetime


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str
    retention: int
    collections: tuple[str, ...]
    timeout: float

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        url = environ.get("QDRANT_URL", "")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"QDRANT_URL {url!r} is not an http(s) URL")
        api_key = environ.get("QDRANT_API_KEY", "")
        if not api_key:
            raise ValueError("QDRANT_API_KEY is empty; the job reads it from the API key Secret")
        retention_text = environ.get("RETENTION", "")
        if not retention_text.isdigit() or not 1 <= int(retention_text) <= MAX_RETENTION:
            raise ValueError(f"RETENTION {retention_text!r} is not a whole number from 1 to 365")
        collections = tuple(c for c in environ.get("COLLECTIONS", "").split(",") if c)
        for collection in collections:
            if not safe_name(collection):
                raise ValueError(f"COLLECTIONS holds {collection!r}, not a collection name")
        timeout_text = environ.get("REQUEST_TIMEOUT_SECONDS", "600")
        if not timeout_text.isdigit() or int(timeout_text) < 1:
            raise ValueError(f"REQUEST_TIMEOUT_SECONDS {timeout_text!r} is not a whole number")
        return cls(url.rstrip("/"), api_key, int(retention_text), collections, float(timeout_text))


class Qdrant:
    """The snapshot part of Qdrant's REST API, with the API key on every request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _request(
        self, method: str, path: str, what: str, payload: Mapping[str, str] | None = None
    ) -> Any:
        headers = {"api-key": self.settings.api_key, "Accept": "application/json"}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 (the URL's scheme is checked above)
            self.settings.url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:  # noqa: S310
                body = json.load(response)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode(errors="replace").strip()
            raise SnapshotError(
                f"{what}: Qdrant answered {error.code} {error.reason}: {detail}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise SnapshotError(
                    f"{what}: no answer from {self.settings.url} within "
                    f"{self.settings.timeout:.0f}s (Qdrant may still be working on it)",
                    timed_out=True,
                ) from None
            raise SnapshotError(f"{what}: cannot reach {self.settings.url} ({reason})") from None
        except json.JSONDecodeError:
            raise SnapshotError(f"{what}: Qdrant's answer is not JSON") from None
        if not isinstance(body, dict) or "result" not in body:
            raise SnapshotError(f"{what}: Qdrant's answer has no result")
        return body["result"]

    def collections(self) -> list[str]:
        result = self._request("GET", "/collections", "listing collections")
        return sorted(str(c["name"]) for c in result.get("collections", []))

    def create(self, collection: str) -> Snapshot:
        quoted = urllib.parse.quote(collection, safe="")
        result = self._request(
            "POST", f"/collections/{quoted}/snapshots?wait=true", f"snapshot of {collection}"
        )
        return _snapshot(result)

    def snapshots(self, collection: str) -> list[Snapshot]:
        quoted = urllib.parse.quote(collection, safe="")
        result = self._request(
            "GET", f"/collections/{quoted}/snapshots", f"listing snapshots of {collection}"
        )
        return [_snapshot(item) for item in result]

    def collection_exists(self, collection: str) -> bool:
        names = self.collections()
        return collection in names

    def recover(self, collection: str, snapshot: str) -> None:
        """Replace ``collection`` with ``snapshot``, a file in Qdrant's own snapshot directory
        (``priority: snapshot``: the snapshot's data wins over what the collection holds)."""
        quoted = urllib.parse.quote(collection, safe="")
        location = f"file:///qdrant/snapshots/{collection}/{snapshot}"
        self._request(
            "PUT",
            f"/collections/{quoted}/snapshots/recover?wait=true",
            f"recovering {collection} from {snapshot}",
            {"location": location, "priority": "snapshot"},
        )

    def delete(self, collection: str, snapshot: str) -> None:
        path = "/collections/{}/snapshots/{}?wait=true".format(
            urllib.parse.quote(collection, safe=""), urllib.parse.quote(snapshot, safe="")
        )
        self._request("DELETE", path, f"deleting {snapshot} of {collection}")


def _snapshot(item: Mapping[str, Any]) -> Snapshot:
    name = str(item.get("name", ""))
    created = datetime.fromisoformat(str(item.get("creation_time") or "1970-01-01T00:00:00"))
    return Snapshot(name, created if created.tzinfo else created.replace(tzinfo=UTC))


def expired(snapshots: Sequence[Snapshot], retention: int) -> list[Snapshot]:
    """The snapshots beyond the newest ``retention`` (by creation time, then name)."""
    newest_first = sorted(snapshots, key=lambda s: (s.created, s.name), reverse=True)
    return newest_first[retention:]


def log(event: str, **fields: object) -> None:
    """One JSON line on stdout (the job's log): the event and plain fields, never the key."""
    print(json.dumps({"event": event, **fields}), flush=True)


def back_up(qdrant: Qdrant, collection: str, retention: int) -> None:
    """A new snapshot of ``collection``, then, only once it exists, its oldest ones beyond
    ``retention`` deleted (names that are not safe are left alone)."""
    made = qdrant.create(collection)
    log("snapshot created", collection=collection, snapshot=made.name)
    for old in expired(qdrant.snapshots(collection), retention):
        if not safe_name(old.name):
            log("snapshot left alone: not a name this job deletes", collection=collection)
            continue
        qdrant.delete(collection, old.name)
        log("snapshot deleted", collection=collection, snapshot=old.name)


def run(settings: Settings) -> list[str]:
    """Every collection backed up on its own: one's failure keeps that collection's
    snapshots and goes on with the next. Returns the failures."""
    qdrant = Qdrant(settings)
    failures: list[str] = []
    collections = list(settings.collections)
    if not collections:
        for name in qdrant.collections():
            if safe_name(name):
                collections.append(name)
            else:
                failures.append(f"collection {name!r}: not a name this job can address")
    for collection in collections:
        try:
            back_up(qdrant, collection, settings.retention)
        except SnapshotError as error:
            failures.append(str(error))
            log(
                "collection failed; its snapshots were kept",
                collection=collection,
                error=str(error),
            )
    log("done", collections=len(collections), failed=len(failures), retention=settings.retention)
    return failures


def main(environ: Mapping[str, str] = os.environ) -> int:
    try:
        settings = Settings.from_environment(environ)
    except ValueError as error:
        log("bad environment", error=str(error))
        return EXIT_BAD_INPUT
    try:
        failures = run(settings)
    except SnapshotError as error:  # listing the collections failed: nothing was done
        log("failed", error=str(error))
        return EXIT_FAILED
    return EXIT_FAILED if failures else 0


if __name__ == "__main__":
    sys.exit(main())
