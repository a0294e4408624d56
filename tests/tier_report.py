"""Sum up pytest's JUnit XML reports: one line per tier, and a total for all of them.

``scripts/test`` runs pytest once per tier (everyday, engine, counterparts, mcp) so that each
tier's time is reported on its own; this prints those lines. The total is the run's last line,
in the plain form CI reads: ``total: N passed, N failed, N skipped``.
"""

from __future__ import annotations

import argparse
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.passed + other.passed,
            self.failed + other.failed,
            self.skipped + other.skipped,
            self.seconds + other.seconds,
        )

    def line(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def read_counts(report: Path) -> Counts:
    """The counts of one JUnit XML report; a missing or unreadable report is one failure (the
    run crashed before it could write one)."""
    try:
        root = ET.parse(report).getroot()  # noqa: S314 (trusted: pytest wrote it)
    except (OSError, ET.ParseError):
        return Counts(failed=1)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = Counts()
    for suite in suites:
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        seconds = float(suite.get("time", 0.0))
        total += Counts(tests - failed - skipped, failed, skipped, seconds)
    return total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="pytest --junitxml files")
    parser.add_argument("--tier", help="print one tier's line")
    parser.add_argument("--started", type=float, help="the tier's start (epoch seconds)")
    parser.add_argument("--total", action="store_true", help="print the total of all reports")
    args = parser.parse_args(argv)
    counts = Counts()
    for report in args.reports:
        counts += read_counts(report)
    if args.total:
        print(f"total: {counts.line()}")
    else:
        wall = f", {time.time() - args.started:.1f} s in all" if args.started else ""
        print(f"tier {args.tier}: {counts.line()} (pytest {counts.seconds:.1f} s{wall})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
