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
directory only when it is new, empty, or exactly what an earlier render of the same stack
wrote (the list, and nothing else, unchanged; the marker's ``# stack:`` line, or for a marker
from before that line the summary it lists, names the stack): an existing file, a directory
with anything else in it (a ``.git``, notes, a hand-edited manifest), another stack's render is
a usage error that names what is in the way, and nothing is touched. So is an empty ``--out``
(which would mean the current directory) or one starting with an unexpanded ``~`` or ``~user``
(quoted, the shell leaves it as a name). The new files are written next to ``DIR`` first and
moved in only when all are written, so a failed write leaves nothing behind.

The program's own log (a line per phase) is for ``pulumi up``; render prints only its warnings
and errors on stderr, and all of it with ``--verbose``.

Exit codes: 0 rendered and within budget, 1 over budget (written all the same; stderr says which
totals exceed which ``budget`` key and what to change), 2 bad input (unknown stack, invalid
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
from infra.offline.summary import over_budget, summary
from infra.settings import SUPPORTED_STACKS, ConfigError, StackError

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
    write_files(files, out, rendering.stack)


def out_directory(value: str) -> Path:
    """``--out`` as given, refusing what the shell would have changed had it been unquoted:
    '' (Path reads it as '.', the current directory) and a leading '~' or '~user' (a tilde
    expands only unquoted and first: quoted, it would make a directory named '~' here)."""
    if not value:
        raise argparse.ArgumentTypeError(
            "is empty; pass the directory to write, such as rendered/studio"
        )
    first, _, rest = value.partition("/")
    if first.startswith("~"):
        raise argparse.ArgumentTypeError(
            f"'{first}' is not expanded (the shell expands it only unquoted, at the start of a "
            f"word); write the home directory out, such as $HOME/{rest or '...'}"
        )
    return Path(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = stack_parser(
        "scripts/render",
        "Write every Kubernetes object a stack would create, without a cluster.",
        "scripts/render --stack studio --out rendered/studio",
    )
    parser.add_argument(
        "--out",
        type=out_directory,
        required=True,
        help="output directory: new, empty, or written by an earlier render of the same stack "
        "(then replaced)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print the program's whole log on stderr, not only its warnings and errors",
    )
    try:
        args = parser.parse_args(argv)
        if args.stack in SUPPORTED_STACKS:  # an unknown one is reported as such, below
            replaceable(args.out, args.stack)  # before the program runs: fail at once
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
    return _report(rendering)


def _report(rendering: Rendering) -> int:
    """The summary on stdout; over budget, one line on stderr saying what to change."""
    print(summary(rendering), end="")
    if (over := over_budget(rendering)) is None:
        return EXIT_OK
    print(f"render: {over}", file=sys.stderr)
    return EXIT_OVER_BUDGET


def _usage_error(parser: argparse.ArgumentParser, message: str) -> int:
    try:
        parser.error(message)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    return EXIT_BAD_INPUT  # pragma: no cover (parser.error always exits)


if __name__ == "__main__":
    sys.exit(main())
