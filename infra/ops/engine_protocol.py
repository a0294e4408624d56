"""What the engine tier's runner takes and gives back (``python -m infra.ops.engine_run``).

Kept apart from :mod:`infra.ops.engine` so the runner imports nothing of the program before
the engine calls it: an operation's time then includes every import the program makes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict


class Operation(BaseModel):
    """One engine operation of a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["preview", "up", "destroy"]
    expect_no_changes: bool = False
    """The operation fails if it would change anything (``--expect-no-changes``)."""
    interrupt_after: int | None = None
    """Interrupt the CLI (SIGINT, as Ctrl-C does) once this many resources have completed."""


class Step(BaseModel):
    """What the engine did, or planned, for one resource (its ``ResourcePreEvent``)."""

    model_config = ConfigDict(frozen=True)

    op: str
    urn: str
    type: str
    diffs: tuple[str, ...] = ()
    """The properties that differ."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[1]


class OperationResult(BaseModel):
    kind: str
    ok: bool
    seconds: float
    """Wall time of the operation alone (the process start and stack selection are not in it)."""
    output: str
    """The engine's own output, as a terminal shows it (secrets masked)."""
    error: str = ""
    steps: tuple[Step, ...] = ()
    changes: dict[str, int] = {}
    """The change summary: operation -> count (``same``, ``create``, ``update``, ...)."""
    diagnostics: tuple[str, ...] = ()
    """Errors and warnings the engine, the provider or the program reported."""
    interrupted: bool = False

    def steps_of(self, op: str) -> list[Step]:
        return [step for step in self.steps if step.op == op]

    def op(self, name: str, type_suffix: str = "") -> str:
        """What the engine did to one resource: ``replace`` when its steps replace it (a
        replacement is two or three steps), else its one step's operation."""
        ops = {s.op for s in self.steps if s.name == name and s.type.endswith(type_suffix)}
        if not ops:
            raise AssertionError(f"no step for {name} ({type_suffix or 'any type'})")
        if ops & {"replace", "create-replacement", "delete-replaced"}:
            return "replace"
        if len(ops) != 1:
            raise AssertionError(f"{name}: several operations {sorted(ops)}")
        return ops.pop()

    def changed(self) -> dict[str, int]:
        return {op: count for op, count in self.changes.items() if op != "same" and count}


PLATFORM: Final = "infra.program:run"
"""The program as ``pulumi up`` runs it (``__main__.py`` calls the same function)."""


class EngineRequest(BaseModel):
    """What ``python -m infra.ops.engine_run`` reads on standard input."""

    project_dir: Path
    stack: str
    toolchain: Path
    environment: dict[str, str]
    program: str = PLATFORM
    """``module:function``: the inline program, imported when the engine calls it."""
    operations: tuple[Operation, ...]
    result_path: Path


class RunResults(BaseModel):
    results: list[OperationResult]
