"""benchmark: how long the program takes, against what it cannot go below.

Prints a table of median wall times (each run in a fresh process, so imports count):

- the import floor: ``import pulumi, pulumi_kubernetes, pulumi_command``, and the same with the
  Kubernetes API groups the program uses (pulumi_kubernetes imports them lazily, and they are
  most of the cost);
- the program under Pulumi mocks, per stack (settings, cluster, provider, the four components),
  shown over the second floor: what the program itself costs;
- with the real engine (when ``scripts/install-pulumi-toolchain`` can provide it), through the
  Automation API as the engine tier runs it: ``preview`` and ``up`` of each stack on the render
  target (homelab with TLS off, as generated certificates need the tls provider), each a ratio
  of two floors of the same operation: an empty program (the engine and the runtime) and one
  ConfigMap through the same rendering provider (the provider's start: the floor of any program
  here).

A figure, not a test: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from infra.cli import EXIT_BAD_INPUT, whole_number
from infra.offline.rendering import PLACEHOLDERS
from infra.ops.engine import (
    EngineProject,
    ToolchainUnavailableError,
    install_toolchain,
    preview,
    up,
)
from infra.ops.engine_floors import RENDER_DIRECTORY_KEY
from infra.ops.engine_protocol import PLATFORM
from infra.paths import REPO_ROOT
from infra.settings import PROJECT, SUPPORTED_STACKS, read_stack_file

MAX_RUNS: Final = 100
IMPORT_FLOOR: Final = "import pulumi, pulumi_kubernetes, pulumi_command"
# pulumi_kubernetes imports its API groups lazily; these are the ones the program uses.
IMPORT_FLOOR_WITH_GROUPS: Final = (
    IMPORT_FLOOR + "; k = pulumi_kubernetes; "
    "k.core.v1.Secret, k.apps.v1.Deployment, k.networking.v1.NetworkPolicy, "
    "k.policy.v1.PodDisruptionBudget, k.autoscaling.v2.HorizontalPodAutoscaler, "
    "k.Provider, pulumi_command.local.Command"
)
PROGRAM_UNDER_MOCKS: Final = """
import sys
from infra.offline.mock_engine import run_program
from infra.program import run
from infra.settings import read_stack_file
from pathlib import Path
stack = sys.argv[1]
run_program(run, stack=stack, config=read_stack_file(stack, Path(".")),
            secrets={"gatewayToken": sys.argv[2], "vectorSearchApiKey": sys.argv[3]})
"""


@dataclass
class Row:
    measure: str
    seconds: list[float]
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


def timed(runs: int, action: Callable[[], None]) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def python(*args: str) -> Callable[[], None]:
    def action() -> None:
        subprocess.run(  # noqa: S603 (this interpreter, fixed code)
            [sys.executable, *args],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )

    return action


def mock_rows(runs: int) -> list[Row]:
    rows = [
        Row("import floor (pulumi, pulumi_kubernetes, pulumi_command)",
            timed(runs, python("-c", IMPORT_FLOOR))),
        Row("import floor + the Kubernetes API groups used",
            timed(runs, python("-c", IMPORT_FLOOR_WITH_GROUPS))),
    ]  # fmt: skip
    for stack in SUPPORTED_STACKS:
        samples = timed(
            runs,
            python(
                "-c",
                PROGRAM_UNDER_MOCKS,
                stack,
                PLACEHOLDERS["gatewayToken"],
                PLACEHOLDERS["vectorSearchApiKey"],
            ),
        )
        rows.append(Row(f"program under mocks: {stack}", samples))
    return rows


ENGINE_FLOORS: Final = {
    "empty program": "infra.ops.engine_floors:empty",
    "one ConfigMap": "infra.ops.engine_floors:one_configmap",
}


def engine_samples(
    root: Path, toolchain: Path, what: str, program: str, config: dict[str, object]
) -> tuple[float, float]:
    """One sample of ``preview`` and of ``up`` (render target), each in a fresh process of a
    fresh project: the operation's own time, the program's imports included."""
    secrets = {key: PLACEHOLDERS[key] for key in ("gatewayToken", "vectorSearchApiKey")}
    stack = what if what in SUPPORTED_STACKS else "studio"
    project = EngineProject.create(root, toolchain, stack, config, secrets, program=program)
    (previewed,) = project.run(preview())
    (applied,) = project.run(up())
    for result in (previewed, applied):
        if not result.ok:
            raise RuntimeError(f"{what}: {result.kind} failed: {result.error}")
    return previewed.seconds, applied.seconds


def engine_rows(runs: int) -> list[Row]:
    try:
        toolchain = install_toolchain()
    except ToolchainUnavailableError as error:
        print(f"benchmark: the real engine is unavailable: {error}", file=sys.stderr)
        return [
            Row(f"pulumi {operation}: {what}", [], "unavailable (reason above)")
            for what in (*ENGINE_FLOORS, *SUPPORTED_STACKS)
            for operation in ("preview", "up")
        ]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for what in (*ENGINE_FLOORS, *SUPPORTED_STACKS):
            previews, ups = [], []
            for run in range(runs):
                root = Path(scratch) / f"{what.replace(' ', '-')}-{run}"
                out = str(root / "rendered")
                if what in SUPPORTED_STACKS:
                    program = PLATFORM
                    config = {**read_stack_file(what, REPO_ROOT)}
                    cluster = dict(config.get(f"{PROJECT}:cluster") or {})
                    cluster.update(target="render", renderDirectory=out)
                    config[f"{PROJECT}:cluster"] = cluster
                    if what == "homelab":  # generated certificates need the tls provider
                        config[f"{PROJECT}:gateway"] = {
                            **config[f"{PROJECT}:gateway"], "tls": {"mode": "off"},
                        }  # fmt: skip
                        cluster["listenAddress"] = "127.0.0.1"
                else:
                    program = ENGINE_FLOORS[what]
                    config = {f"{PROJECT}:{RENDER_DIRECTORY_KEY}": out}
                previewed, applied = engine_samples(root, toolchain, what, program, config)
                previews.append(previewed)
                ups.append(applied)
            rows += [Row(f"pulumi preview: {what}", previews), Row(f"pulumi up: {what}", ups)]
    return rows


def ratio_table(rows: Sequence[Row]) -> str:
    """Each engine measure as a ratio of the two floors of the same operation."""
    medians = {row.measure: row.median for row in rows}
    width = max(len(row.measure) for row in rows)
    floors = list(ENGINE_FLOORS)
    lines = [
        f"{'measure':<{width}}  {'median s':>9}  "
        + "  ".join(f"{'x ' + floor:>16}" for floor in floors)
        + "  runs  note"
    ]
    for row in rows:
        operation = row.measure.split(":")[0]
        shown = f"{row.median:.2f}" if row.median is not None else "-"
        ratios = []
        for floor in floors:
            base = medians.get(f"{operation}: {floor}")
            ratio = f"{row.median / base:.2f}" if row.median and base else ""
            ratios.append(f"{ratio:>16}")
        lines.append(
            f"{row.measure:<{width}}  {shown:>9}  {'  '.join(ratios)}  {len(row.seconds):>4}  "
            f"{row.note}"
        )
    return "\n".join(lines)


def table(rows: Sequence[Row], floors: dict[str, float | None]) -> str:
    width = max(len(row.measure) for row in rows)
    lines = [f"{'measure':<{width}}  {'median s':>9}  {'over floor':>10}  runs  note"]
    for row in rows:
        median = row.median
        floor = floors.get(row.measure.split(":")[0])
        over = f"{median - floor:+.2f}" if median is not None and floor is not None else ""
        shown = f"{median:.2f}" if median is not None else "-"
        lines.append(
            f"{row.measure:<{width}}  {shown:>9}  {over:>10}  {len(row.seconds):>4}  {row.note}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmark", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--runs",
        type=whole_number(1, MAX_RUNS, "runs"),
        default=5,
        help=f"runs per measure, 1-{MAX_RUNS} (5)",
    )
    parser.add_argument("--skip-engine", action="store_true", help="only the mock measures")
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # a usage error (2), or --help (0)
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    rows = mock_rows(args.runs)
    print(table(rows, {"program under mocks": rows[1].median}))
    if not args.skip_engine:
        print()
        print(ratio_table(engine_rows(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
