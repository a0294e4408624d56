"""A stand-in for Qdrant's snapshot API, on loopback: not Qdrant, the documented endpoints the
backup job and the restore tool call, with Qdrant's API-key rules.

- ``GET /collections``; ``POST /collections/{c}/snapshots`` (creates one, named as Qdrant names
  them: ``<collection>-<n>-<time>.snapshot``); ``GET /collections/{c}/snapshots``;
  ``DELETE /collections/{c}/snapshots/{name}``; ``PUT /collections/{c}/snapshots/recover``
  (``{"location": "file:///qdrant/snapshots/<c>/<name>"}``: the collection's points become the
  snapshot's).
- ``api-key``: the full key may do everything; the read-only key only GET; anything else 401
  (a read-only key on a write: 403, as Qdrant answers).
- Faults a test sets: ``fail`` (method, path prefix) -> 503, ``stall`` (method, path prefix)
  -> no answer for ``stall_seconds``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Collection:
    points: dict[str, str] = field(default_factory=dict)
    snapshots: dict[str, tuple[datetime, dict[str, str]]] = field(default_factory=dict)


@dataclass
class QdrantStandIn:
    api_key: str
    read_only_key: str = ""
    collections: dict[str, Collection] = field(default_factory=dict)
    fail: set[tuple[str, str]] = field(default_factory=set)
    stall: set[tuple[str, str]] = field(default_factory=set)
    stall_seconds: float = 5.0
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, which key: full, read-only, none or wrong)."""
    url: str = ""
    _clock: int = 0

    def snapshot_names(self, collection: str) -> list[str]:
        return sorted(self.collections[collection].snapshots)

    def add_snapshot(self, collection: str, minutes_ago: int) -> str:
        """An older snapshot, as a previous run would have left it."""
        name = f"{collection}-old-{minutes_ago}.snapshot"
        created = BASE_TIME - timedelta(minutes=minutes_ago)
        self.collections[collection].snapshots[name] = (created, {})
        return name

    def _tick(self) -> datetime:
        self._clock += 1
        return BASE_TIME + timedelta(minutes=self._clock)

    def handle(  # noqa: PLR0911 (one answer per documented endpoint and error)
        self, method: str, path: str, key: str, body: bytes
    ) -> tuple[int, Any]:
        who = (
            "full" if key == self.api_key
            else "read-only" if key and key == self.read_only_key
            else "none" if not key else "wrong"
        )  # fmt: skip
        self.requests.append((method, path, who))
        if who in ("none", "wrong"):
            return 401, {
                "status": {"error": "Must provide an API key or an Authorization bearer token"}
            }
        if who == "read-only" and method != "GET":
            return 403, {"status": {"error": "Forbidden: read-only access"}}
        parts = [unquote(p) for p in urlsplit(path).path.strip("/").split("/")]
        if parts == ["collections"] and method == "GET":
            names = [{"name": name} for name in sorted(self.collections)]
            return 200, {"result": {"collections": names}}
        if len(parts) < 3 or parts[0] != "collections" or parts[2] != "snapshots":
            return 404, {"status": {"error": f"no route {method} {path}"}}
        name = parts[1]
        if name not in self.collections:
            return 404, {"status": {"error": f"Not found: Collection `{name}` doesn't exist!"}}
        collection = self.collections[name]
        if len(parts) == 3 and method == "POST":
            created = self._tick()
            snapshot = f"{name}-{self._clock}-{created:%Y-%m-%d-%H-%M-%S}.snapshot"
            collection.snapshots[snapshot] = (created, dict(collection.points))
            return 200, {"result": _described(snapshot, created)}
        if len(parts) == 3 and method == "GET":
            listed = [_described(n, c) for n, (c, _) in collection.snapshots.items()]
            return 200, {"result": listed}
        if parts[3:] == ["recover"] and method == "PUT":
            location = str(json.loads(body or b"{}").get("location", ""))
            prefix = f"file:///qdrant/snapshots/{name}/"
            snapshot = location.removeprefix(prefix)
            if not location.startswith(prefix) or snapshot not in collection.snapshots:
                return 400, {"status": {"error": f"Snapshot {location} does not exist"}}
            collection.points = dict(collection.snapshots[snapshot][1])
            return 200, {"result": True}
        if len(parts) == 4 and method == "DELETE":
            if parts[3] not in collection.snapshots:
                return 404, {"status": {"error": f"Snapshot {parts[3]} not found"}}
            del collection.snapshots[parts[3]]
            return 200, {"result": True}
        return 404, {"status": {"error": f"no route {method} {path}"}}


def _described(name: str, created: datetime) -> dict[str, Any]:
    return {"name": name, "creation_time": created.strftime("%Y-%m-%dT%H:%M:%S"), "size": 1024}


@contextmanager
def serving(stand_in: QdrantStandIn) -> Iterator[QdrantStandIn]:
    """The stand-in on 127.0.0.1 (a free port) until the block ends."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            for method, prefix in stand_in.stall:
                if self.command == method and self.path.startswith(prefix):
                    stop.wait(stand_in.stall_seconds)
            failing = any(self.command == m and self.path.startswith(p) for m, p in stand_in.fail)
            if failing:
                status, answer = 503, {"status": {"error": "Service Unavailable (stand-in)"}}
            else:
                status, answer = stand_in.handle(
                    self.command, self.path, self.headers.get("api-key", ""), body
                )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``requests``."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stand_in
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
