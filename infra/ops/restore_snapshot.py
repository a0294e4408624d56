"""restore-snapshot: bring a Qdrant collection back from one of its snapshots.

The way back from ``vectorSearch.backup``: Qdrant's recover endpoint, with a snapshot in its
own snapshot directory on the data volume (the CronJob's snapshots, or any other there), through
a port-forward to the vector search Service (or any URL that reaches its HTTP port). The
collection's points become the snapshot's; what was written since the snapshot is gone, so
recovering over an existing collection asks first (``--yes`` answers for a script).

The API key comes from ``QDRANT_API_KEY`` in the environment, never from the command line:
``QDRANT_API_KEY=$(pulumi config get vectorSearchApiKey)``.

Exit codes: 0 restored, 2 bad input (names, URL, no key, a snapshot the existing collection
does not have), 4 Qdrant did not answer in time (it may still be recovering), 5 Qdrant refused,
failed or could not be reached (no port-forward; a deleted collection's snapshot file missing),
8 not confirmed (nothing changed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TextIO

from infra.cli import EXIT_BAD_INPUT, bad_stack, whole_number
from infra.jobs.qdrant_snapshots import Qdrant, Settings, SnapshotError, safe_name
from infra.paths import REPO_ROOT
from infra.settings import ConfigError, StackError, settings_from_stack_file

EXIT_TIMEOUT: Final = 4
EXIT_FAILED: Final = 5
EXIT_NOT_CONFIRMED: Final = 8
PROG: Final = "restore-snapshot"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=(
            "Example: kubectl -n agent-platform port-forward svc/vector-search 6333 & "
            "QDRANT_API_KEY=$(pulumi config get vectorSearchApiKey) "
            "scripts/restore-snapshot homelab agent-memory "
            "agent-memory-2026-12-05-03-17-00.snapshot"
        ),
    )
    parser.add_argument("stack", help="studio or homelab")
    parser.add_argument("collection", help="the collection to restore")
    parser.add_argument(
        "snapshot", help="a snapshot of it (GET /collections/<collection>/snapshots lists them)"
    )
    parser.add_argument("--url", help="Qdrant's HTTP API (default: http://127.0.0.1:<httpPort>)")
    parser.add_argument("--yes", action="store_true", help="restore over an existing collection")
    parser.add_argument(
        "--timeout",
        type=whole_number(1, 86_400, "seconds"),
        default=900,
        help="bound on each request to Qdrant, 1-86400 s (900)",
    )
    return parser


def _check_names(collection: str, snapshot: str) -> None:
    """Names Qdrant would take as a path are refused: they go into URLs and a file location."""
    for what, value in (("collection", collection), ("snapshot", snapshot)):
        if not safe_name(value):
            raise ValueError(
                f"{what} {value!r} is not a name to restore: no '/', '.' or '..', no control "
                "characters, at most 255"
            )


def _confirmed(collection: str, ask: TextIO | None, out: TextIO) -> bool:
    if ask is None:
        return False
    out.write(
        f"{PROG}: collection {collection!r} exists; restoring replaces all its points with the "
        f"snapshot's. Type the collection's name to go on: "
    )
    out.flush()
    return ask.readline().strip() == collection


def main(  # noqa: PLR0911 (one return per documented exit code)
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] = os.environ,
    terminal: Callable[[], TextIO | None] = lambda: sys.stdin if sys.stdin.isatty() else None,
) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # a usage error (2), or --help (0)
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    try:
        settings = settings_from_stack_file(args.stack, REPO_ROOT)
    except (StackError, ConfigError) as error:
        return bad_stack(PROG, error)
    url = args.url or f"http://127.0.0.1:{settings.vector_search.http_port}"
    try:
        _check_names(args.collection, args.snapshot)
        qdrant = Qdrant(
            Settings.from_environment(
                {
                    "QDRANT_URL": url,
                    "QDRANT_API_KEY": environ.get("QDRANT_API_KEY", ""),
                    "RETENTION": "1",
                    "REQUEST_TIMEOUT_SECONDS": str(args.timeout),
                }
            )
        )
    except ValueError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        # Over a collection that exists, the snapshot must be one of its own and the operator
        # must say so; a deleted collection has nothing to lose, and Qdrant makes it anew.
        if qdrant.collection_exists(args.collection):
            refused = _refusal_over_existing(qdrant, args, terminal)
            if refused is not None:
                return refused
        qdrant.recover(args.collection, args.snapshot)
    except SnapshotError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        if error.timed_out:
            print(
                f"{PROG}: Qdrant may still be recovering: check the collection before running "
                "this again",
                file=sys.stderr,
            )
            return EXIT_TIMEOUT
        return EXIT_FAILED
    print(f"{PROG}: restored {args.collection} from {args.snapshot}", file=sys.stderr)
    return 0


def _refusal_over_existing(
    qdrant: Qdrant, args: argparse.Namespace, terminal: Callable[[], TextIO | None]
) -> int | None:
    """The exit code when the restore may not go over the existing collection, else None:
    the snapshot is not one of its own (2), or the operator did not confirm (8)."""
    names = [s.name for s in qdrant.snapshots(args.collection)]
    if args.snapshot not in names:
        listed = ", ".join(sorted(names)) or "none"
        print(
            f"{PROG}: error: {args.collection} has no snapshot {args.snapshot!r} "
            f"(it has: {listed})",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if not args.yes and not _confirmed(args.collection, terminal(), sys.stderr):
        print(f"{PROG}: not confirmed; nothing was changed (--yes to skip)", file=sys.stderr)
        return EXIT_NOT_CONFIRMED
    return None


if __name__ == "__main__":
    sys.exit(main())
