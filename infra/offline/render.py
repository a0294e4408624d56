"""Render a stack without a cluster: ``scripts/render --stack studio --out DIR``.

Runs the real program under Pulumi mocks with the stack's config (secret values replaced by
placeholders) and writes every Kubernetes object it would create as YAML, one file per object,
grouped by component (``DIR/<component>/<kind>-<name>.yaml``), plus ``DIR/summary.txt``: objects
per kind, and the CPU and memory the stack's pods request and are limited to, against the
stack's ``budget``. The summary is also printed.

Output is deterministic (sorted keys and files, no timestamps): two runs give identical bytes.
Secret data is never written: every value of a Secret's ``data``/``stringData`` is replaced by a
marker, whatever it held.

``--out`` is never emptied blindly. Render writes a list of its files with their SHA-256
(``DIR/.rendered-by-infra-render.sha256``, the format of ``sha256sum``) and replaces a
directory only when it is new, empty, or exactly what an earlier render wrote (the list, and
nothing else, unchanged): an existing file, a directory with anything else in it (a ``.git``,
notes, a hand-edited manifest) is a usage error that names what is in the way, and nothing is
touched. The new files are written next to ``DIR`` first and moved in only when all are
written, so a failed write leaves nothing behind.

The program's own log (a line per phase) is for ``pulumi up``; render prints only its warnings
and errors on stderr, and all of it with ``--verbose``.

Exit codes: 0 rendered and within budget, 1 over budget, 2 bad input (unknown stack, invalid
settings, an ``--out`` render may not replace), 3 the files could not be written (the message
names the path; nothing was left behind).

This module is the CLI and the glue: the manifests are collected in ``rendering``, summarised in
``summary`` and written by ``output_dir``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import yaml

from infra import observability
from infra.cli import bad_stack, stack_parser
from infra.offline.output_dir import OutputError, replaceable, write_files
from infra.offline.rendering import Rendering, render_stack
from infra.offline.summary import summary
from infra.settings import ConfigError, StackError

EXIT_OK: Final = 0
EXIT_OVER_BUDGET: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_WRITE_FAILED: Final = 3


def write(rendering: Rendering, out: Path) -> None:
    """Write the manifests and summary to ``out``, replacing only an earlier render there.

    Raises OutputError when ``out`` holds anything else, OSError when writing fails (then
    nothing new is left behind)."""
    files = {
        manifest.path.as_posix(): yaml.safe_dump(
            manifest.document, sort_keys=True, default_flow_style=False, width=100
        )
        for manifest in rendering.manifests
    }
    files["summary.txt"] = summary(rendering)
    write_files(files, out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = stack_parser(
        "scripts/render",
        "Write every Kubernetes object a stack would create, without a cluster.",
        "scripts/render --stack studio --out rendered/studio",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output directory: new, empty, or written by an earlier render (then replaced)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print the program's whole log on stderr, not only its warnings and errors",
    )
    try:
        args = parser.parse_args(argv)
        replaceable(args.out)  # before the program runs, so a bad --out fails at once
    except SystemExit as stop:  # a usage error (2), or --help (0)
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    except OutputError as error:
        return _usage_error(parser, f"argument --out: {error}")
    observability.configure_logging(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        rendering = render_stack(args.stack, args.project_dir)
    except (StackError, ConfigError) as error:
        return bad_stack("render", error)
    try:
        write(rendering, args.out)
    except OutputError as error:  # changed while the program ran
        return _usage_error(parser, f"argument --out: {error}")
    except OSError as error:
        print(f"render: error: could not write {args.out}: {error}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    print(summary(rendering), end="")
    return EXIT_OK if rendering.within_budget else EXIT_OVER_BUDGET


def _usage_error(parser: argparse.ArgumentParser, message: str) -> int:
    try:
        parser.error(message)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    return EXIT_BAD_INPUT  # pragma: no cover (parser.error always exits)


if __name__ == "__main__":
    sys.exit(main())
