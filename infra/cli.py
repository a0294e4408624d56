"""What the command-line tools that read a stack share (``scripts/render``,
``scripts/preflight``): the parser with ``--stack``, and the one way a bad stack is reported."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from infra.paths import REPO_ROOT
from infra.settings import SUPPORTED_STACKS, ConfigError, StackError

EXIT_BAD_INPUT: Final = 2
"""argparse's own code for a usage error; a bad stack or setting is bad input too."""


def stack_parser(prog: str, description: str, example: str) -> argparse.ArgumentParser:
    """A parser with ``--stack`` (required) and the hidden ``--project-dir`` tests point
    elsewhere."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, epilog=f"Example: {example}"
    )
    parser.add_argument("--stack", required=True, help=" or ".join(SUPPORTED_STACKS))
    parser.add_argument("--project-dir", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    return parser


def bad_stack(prog: str, error: StackError | ConfigError) -> int:
    """Report an unsupported stack or invalid settings (every problem, with its key)."""
    print(f"{prog}: error: {error}", file=sys.stderr)
    return EXIT_BAD_INPUT
