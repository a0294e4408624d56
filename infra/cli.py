"""What the Python command-line tools share: for those that read a stack (``scripts/render``,
``scripts/preflight``) the parser with ``--stack`` and the one way a bad stack is reported; for
all of them (``scripts/bootstrap-bucket``, ``scripts/benchmark``) the one reading of a number."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

from infra.paths import REPO_ROOT
from infra.settings import SUPPORTED_STACKS, ConfigError, StackError

EXIT_BAD_INPUT: Final = 2
"""argparse's own code for a usage error; a bad stack or setting is bad input too."""

# ASCII digits only (\d would take other scripts' digits), no sign, space, '_' or leading zero;
# at most 18 digits, so int() never works on a huge string (every range here is far smaller).
_PLAIN_DECIMAL: Final = re.compile(r"0|[1-9][0-9]{0,17}")


def whole_number(low: int, high: int, unit: str) -> Callable[[str], int]:
    """An argparse ``type``: plain decimal digits without a leading zero, from low to high.

    ``int()`` alone takes '010' (a shell or C reader would see octal 8), ' 7', '+7', '1_0' and
    Arabic-Indic digits; each of those is a usage error naming the option, never a guess."""

    if not 0 <= low <= high < 10**18:
        raise ValueError(f"whole_number({low}, {high}): not a range of 0 to 18 digits")

    def parse(value: str) -> int:
        if not _PLAIN_DECIMAL.fullmatch(value) or not low <= int(value) <= high:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a whole number of {unit} from {low} to {high} "
                "(plain decimal digits, no leading zero)"
            )
        return int(value)

    return parse


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
