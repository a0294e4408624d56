"""Runs engine operations on one stack through the Automation API, in a process of its own.

``python -m infra.ops.engine_run`` reads an :class:`~infra.ops.engine.EngineRequest` (JSON) on
standard input, runs its operations in order with the program inline, and writes their
results to the request's ``result_path``: its standard output and error belong to the program's
log. :class:`~infra.ops.engine.EngineProject` starts it; see there why each run is a process.

The programs are imported when the engine calls them, not before, so an operation's time
includes importing them, as a ``pulumi preview`` of the project does.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from infra.ops.engine_protocol import EngineRequest, Operation, OperationResult, RunResults, Step


def _program(reference: str) -> Callable[[], None]:
    """``module:function``, imported when the engine first calls it."""
    module, _, function = reference.partition(":")

    def program() -> None:
        getattr(importlib.import_module(module), function)()

    return program


def _children_named(name: str) -> list[int]:
    """Process ids of this process's children called ``name`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its closing ")".
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == os.getpid() and comm == name:
            found.append(int(entry.name))
    return found


class _Recorder:
    """Collects an operation's events: steps, diagnostics, and completed resources."""

    def __init__(self, interrupt_after: int | None) -> None:
        self.steps: list[Step] = []
        self.diagnostics: list[str] = []
        self.output: list[str] = []
        self.completed = 0
        self.interrupt_after = interrupt_after
        self.interrupted = False
        self._lock = threading.Lock()

    def on_output(self, line: str) -> None:
        self.output.append(line)

    def on_event(self, event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            self.steps.append(
                Step(
                    op=meta.op.value,
                    urn=meta.urn,
                    type=meta.type,
                    diffs=tuple(meta.diffs or ()),
                )
            )
        if event.diagnostic_event is not None:
            diagnostic = event.diagnostic_event
            if diagnostic.severity in {"error", "warning"}:
                self.diagnostics.append(f"{diagnostic.severity}: {diagnostic.message.strip()}")
        if event.res_outputs_event is not None:
            self._completed_one()

    def _completed_one(self) -> None:
        with self._lock:
            self.completed += 1
            if self.interrupt_after is None or self.interrupted:
                return
            if self.completed >= self.interrupt_after:
                # What Ctrl-C in the terminal sends: the CLI cancels gracefully, waits for the
                # operations under way and records them in the state.
                for pid in _children_named("pulumi"):
                    os.kill(pid, signal.SIGINT)
                    self.interrupted = True


def _counts(summary: Mapping[Any, int] | None) -> dict[str, int]:
    """A change summary keyed by operation name (the API keys it by ``OpType`` or by string)."""
    return {getattr(op, "value", str(op)): count for op, count in (summary or {}).items()}


def _perform(stack: auto.Stack, operation: Operation) -> OperationResult:
    recorder = _Recorder(operation.interrupt_after)
    common: dict[str, Any] = {"on_output": recorder.on_output, "on_event": recorder.on_event}
    changes: dict[str, int] = {}
    error = ""
    started = time.perf_counter()
    try:
        if operation.kind == "preview":
            preview = stack.preview(expect_no_changes=operation.expect_no_changes, **common)
            changes = _counts(preview.change_summary)
        elif operation.kind == "up":
            up = stack.up(
                expect_no_changes=operation.expect_no_changes, show_secrets=False, **common
            )
            changes = _counts(up.summary.resource_changes)
        else:
            destroyed = stack.destroy(show_secrets=False, **common)
            changes = _counts(destroyed.summary.resource_changes)
    except auto.errors.CommandError as failure:
        error = str(failure)
    return OperationResult(
        kind=operation.kind,
        ok=not error,
        seconds=time.perf_counter() - started,
        output="\n".join(recorder.output),
        error=error,
        steps=tuple(recorder.steps),
        changes=changes,
        diagnostics=tuple(recorder.diagnostics),
        interrupted=recorder.interrupted,
    )


def main() -> int:
    request = EngineRequest.model_validate_json(sys.stdin.read())
    project = yaml.safe_load((request.project_dir / "Pulumi.yaml").read_text())
    stack = auto.select_stack(
        request.stack,
        project_name=project["name"],
        program=_program(request.program),
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(request.project_dir),
            pulumi_home=request.environment["PULUMI_HOME"],
            env_vars=request.environment,
            pulumi_command=auto.PulumiCommand(str(request.toolchain.parent)),
        ),
    )
    results: list[OperationResult] = []
    for operation in request.operations:
        results.append(_perform(stack, operation))
        if not results[-1].ok:
            break
    request.result_path.write_text(RunResults(results=results).model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
