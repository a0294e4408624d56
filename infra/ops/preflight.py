"""preflight: is this machine ready for ``pulumi up`` of a stack?

Checks the tools against the minimum versions the README states, that the stack's host ports
(gateway, local registry) are free, and that the Pulumi state backend answers. Prints a table
(or JSON with ``--json``) on stdout. Exit codes: 0 ready, 1 something required is missing or
failing, 2 bad input (unknown stack, invalid stack file, a ``--backend`` or
``PULUMI_BACKEND_URL`` that is not a usable backend URL: a usage error naming it).

Every tool gets TOOL_TIMEOUT_SECONDS; one that does not answer in time is stopped with its whole
process group and reported as not answering, never taken for absent (no cluster, no login).

This module is the CLI: which checks a stack needs, the table and the exit code. The checks are
in ``preflight_checks`` (tools, ports) and ``state_backend`` (the backend URL and its check).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Final

from infra.cli import bad_stack, stack_parser
from infra.ops.preflight_checks import (
    Check,
    container_engine_check,
    kind_clusters,
    port_check,
    tool_check,
)
from infra.ops.state_backend import backend_check, backend_url
from infra.settings import (
    ConfigError,
    StackError,
    StackSettings,
    settings_from_stack_file,
)

EXIT_READY: Final = 0
EXIT_NOT_READY: Final = 1
EXIT_BAD_INPUT: Final = 2


def run_checks(settings: StackSettings, backend: str | None) -> list[Check]:
    checks = [
        tool_check("pulumi", ["pulumi", "version"], "https://www.pulumi.com/docs/install/"),
    ]
    if settings.cluster.target == "kind":
        checks += [
            tool_check("kind", ["kind", "version"], "https://kind.sigs.k8s.io (v0.30.0+)"),
            container_engine_check(),
        ]
    checks.append(
        tool_check(
            "kubectl",
            ["kubectl", "version", "--client", "-o", "json"],
            "https://kubernetes.io/docs/tasks/tools/",
            required=settings.cluster.target != "render",
        )
    )
    if settings.cluster.target == "kind":
        clusters = kind_clusters()
        cluster = settings.cluster_name
        checks.append(
            port_check(
                "gateway host port",
                settings.cluster.listen_address,
                settings.cluster.gateway_host_port,
                cluster,
                clusters,
            )
        )
        if settings.cluster.registry.enabled:
            checks.append(
                port_check(
                    "registry host port",
                    "127.0.0.1",
                    settings.cluster.registry.host_port,
                    settings.cluster.registry.name,
                    set(),
                )
            )
    checks.append(backend_check(backend))
    return checks


def format_table(checks: Sequence[Check]) -> str:
    rows = [("CHECK", "REQUIRED", "WANT", "FOUND", "STATUS")]
    for check in checks:
        status = "ok" if check.ok else ("FAIL" if check.required else "warn")
        rows.append(
            (check.name, "yes" if check.required else "no", check.wanted, check.found, status)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]  # fmt: skip
    hints = [f"- {check.name}: {check.hint}" for check in checks if not check.ok and check.hint]
    return "\n".join([line.rstrip() for line in lines] + (["", *hints] if hints else []))


def main(argv: Sequence[str] | None = None) -> int:
    parser = stack_parser(
        "preflight",
        "Check that this machine is ready for `pulumi up` of a stack.",
        "scripts/preflight --stack studio",
    )
    parser.add_argument(
        "--backend", type=backend_url, help="state backend URL (default: PULUMI_BACKEND_URL)"
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    args = parser.parse_args(argv)
    backend = args.backend
    if backend is None and os.environ.get("PULUMI_BACKEND_URL"):
        try:
            backend = backend_url(os.environ["PULUMI_BACKEND_URL"])
        except argparse.ArgumentTypeError as error:
            parser.error(f"PULUMI_BACKEND_URL: {error}")

    try:
        settings = settings_from_stack_file(args.stack, args.project_dir)
    except (StackError, ConfigError) as error:
        return bad_stack("preflight", error)

    checks = run_checks(settings, backend)
    if args.json:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        print(format_table(checks))
    failed = [check for check in checks if check.required and not check.ok]
    return EXIT_NOT_READY if failed else EXIT_READY


if __name__ == "__main__":
    sys.exit(main())
