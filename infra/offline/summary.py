"""The text summary of a rendering: objects per kind, pod resources per workload, the budget.

Printed by ``scripts/render`` and written as ``summary.txt`` next to the manifests; kept apart so
its layout (fixed-width columns, CPU in cores, memory in Gi) is in one place.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal

from infra.offline.rendering import Rendering


def _cpu(millis: Decimal | int) -> str:
    return f"{Decimal(millis) / 1000:.2f}"


def _memory(mib: Decimal) -> str:
    return f"{mib / 1024:.2f}Gi"


def summary(rendering: Rendering) -> str:
    kinds = Counter(m.kind for m in rendering.manifests)
    lines = [f"stack {rendering.stack}: {len(rendering.manifests)} objects", ""]
    lines += [f"  {count:>3}  {kind}" for kind, count in sorted(kinds.items())]
    lines += [
        "",
        "workload        replicas  requests cpu/memory (per pod)  limits cpu/memory (per pod)",
    ]
    for u in rendering.usage:
        replicas = (
            str(u.min_replicas)
            if u.min_replicas == u.max_replicas
            else f"{u.min_replicas}-{u.max_replicas}"
        )
        lines.append(
            f"  {u.workload:<14}{replicas:>6}    {_cpu(u.requests_millicores):>6} / "
            f"{_memory(u.requests_mebibytes):<12}       {_cpu(u.limits_millicores):>6} / "
            f"{_memory(u.limits_mebibytes)}"
        )

    def totals(kind: str, budget: str = "") -> str:
        cells = [
            f"{_cpu(rendering.total(f'{kind}_millicores', replicas)):>6} / "
            f"{_memory(rendering.total(f'{kind}_mebibytes', replicas)):<9}"
            for replicas in ("min_replicas", "max_replicas")
        ]
        return f"  {kind:<29}{cells[0]}   {cells[1]}  {budget}".rstrip()

    budget = f"{_cpu(rendering.budget_millicores)} / {_memory(rendering.budget_mebibytes)}"
    lines += [
        "",
        "totals (CPU cores / memory)      at min replicas      at max replicas     budget",
        totals("requests", budget),
        totals("limits"),
        "",
        "budget: "
        + (
            "requests at max replicas fit"
            if rendering.within_budget
            else "OVER BUDGET: requests at max replicas exceed agent-platform:budget"
        ),
    ]
    return "\n".join(lines) + "\n"


def over_budget(rendering: Rendering) -> str | None:
    """One line saying which request totals exceed the budget and what to change, or None.

    The budget holds at maximum replicas (autoscalers at their bound), so the fix is a larger
    ``budget`` in the stack's file, or smaller requests or maxReplicas."""
    if not rendering.overruns:
        return None
    over: list[str] = []
    commands: list[str] = []
    for overrun in rendering.overruns:
        if overrun.resource == "cpu":
            shown = f"CPU {_cpu(overrun.requested)} > {_cpu(overrun.budget)}"
            commands.append(f"budget.cpu {math.ceil(overrun.requested)}m")
        else:
            shown = f"memory {_memory(overrun.requested)} > {_memory(overrun.budget)}"
            commands.append(f"budget.memory {math.ceil(overrun.requested)}Mi")
        over.append(f"{shown} (budget.{overrun.resource})")
    stack = rendering.stack
    settings = "; ".join(
        f"pulumi config set --path {command} --stack {stack}" for command in commands
    )
    return (
        f"over budget: requests at max replicas exceed {', '.join(over)}; raise "
        f"{'it' if len(over) == 1 else 'them'} in Pulumi.{stack}.yaml ({settings}), or lower "
        "the workloads' resources.requests or autoscaling.maxReplicas"
    )
