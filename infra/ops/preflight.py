"""preflight: is this machine ready for ``pulumi up`` of a stack?

Checks the tools against the minimum versions the README states, that the stack's host ports
(gateway, local registry) are free, and that the Pulumi state backend answers. Prints a table
(or JSON with ``--json``) on stdout. Exit codes: 0 ready, 1 something required is missing or
failing, 2 bad input (unknown stack, invalid stack file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlparse

from infra.settings import ConfigError, StackError, StackSettings, settings_from_stack_file

REPO: Final = Path(__file__).resolve().parents[2]
TOOL_TIMEOUT_SECONDS: Final = 10

MINIMUM_VERSIONS: Final = {
    "pulumi": "3.150.0",
    "kind": "0.30.0",
    "kubectl": "1.33.0",
    "docker": "24.0.0",
    "podman": "4.9.0",
}
"""The README's prerequisites table states the same numbers (a test keeps them equal)."""

EXIT_READY: Final = 0
EXIT_NOT_READY: Final = 1
EXIT_BAD_INPUT: Final = 2


@dataclass
class Check:
    name: str
    required: bool
    wanted: str
    found: str
    ok: bool
    hint: str = ""


def _run(command: Sequence[str]) -> str | None:
    """stdout of a tool, or None when it is missing, fails or does not answer in time."""
    if shutil.which(command[0]) is None:
        return None
    try:
        completed = subprocess.run(  # noqa: S603 (fixed tool commands, no shell)
            list(command),
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return completed.stdout if completed.returncode == 0 else None


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _extract_version(output: str | None) -> str | None:
    if output is None:
        return None
    match = re.search(r"v?(\d+\.\d+\.\d+)", output)
    return match[1] if match else None


def tool_check(name: str, command: Sequence[str], hint: str, required: bool = True) -> Check:
    wanted = f">= {MINIMUM_VERSIONS[name]}"
    output = _run(command)
    if name == "kubectl" and output:
        try:
            output = json.loads(output)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError):
            output = None
    version = _extract_version(output)
    if version is None:
        found = "missing" if shutil.which(command[0]) is None else "no answer"
        return Check(name, required, wanted, found, False, hint)
    ok = _version_tuple(version) >= _version_tuple(MINIMUM_VERSIONS[name])
    return Check(name, required, wanted, version, ok, "" if ok else f"upgrade: {hint}")


def container_engine_check() -> Check:
    if shutil.which("docker") or not shutil.which("podman"):
        check = tool_check(
            "docker",
            ["docker", "version", "--format", "{{.Server.Version}}"],
            "install Docker Engine 24+ and start it (the server version needs the daemon)",
        )
    else:
        check = tool_check(
            "podman",
            ["podman", "version", "--format", "{{.Version}}"],
            "install Podman 4.9+ and set KIND_EXPERIMENTAL_PROVIDER=podman",
        )
    check.name = f"{check.name} (container engine)"
    return check


def kind_clusters() -> set[str]:
    output = _run(["kind", "get", "clusters"])
    return set(output.split()) if output else set()


def port_check(label: str, address: str, port: int, cluster: str, clusters: set[str]) -> Check:
    wanted = f"{address}:{port} free"
    if cluster in clusters:
        return Check(label, True, wanted, f"held by kind cluster {cluster}", True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError as error:
            return Check(
                label,
                True,
                wanted,
                f"in use ({error.strerror})",
                False,
                f"free port {port} or choose another in Pulumi.<stack>.yaml",
            )
    return Check(label, True, wanted, "free", True)


def backend_check(url: str | None) -> Check:
    wanted = "reachable"
    if url is None:
        whoami = _run(["pulumi", "whoami", "--json"])
        if whoami:
            try:
                url = json.loads(whoami).get("url")
            except ValueError:
                url = None
    if not url:
        return Check(
            "state backend",
            True,
            wanted,
            "none selected",
            False,
            "pulumi login file://~/.pulumi-agent-platform (see README), or set PULUMI_BACKEND_URL",
        )
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(os.path.expanduser(parsed.netloc + parsed.path))
        target = path if path.exists() else path.parent
        ok = target.is_dir() and os.access(target, os.W_OK)
        return Check(
            "state backend", True, wanted, url, ok, "" if ok else f"{target} is not writable"
        )
    if parsed.scheme == "s3":
        return _s3_backend_check(url, parsed.netloc, parse_qs(parsed.query))
    ok = _run(["pulumi", "whoami"]) is not None
    return Check("state backend", True, wanted, url, ok, "" if ok else "run pulumi login " + url)


def _s3_backend_check(url: str, bucket: str, query: dict[str, list[str]]) -> Check:
    import boto3  # noqa: PLC0415 (only for s3:// backends)
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    client = boto3.client(
        "s3",
        region_name=query.get("region", [None])[0],
        endpoint_url=query.get("endpoint", [None])[0],
        config=Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 1}),
    )
    try:
        client.head_bucket(Bucket=bucket)
    except (BotoCoreError, ClientError) as error:
        return Check(
            "state backend",
            True,
            "reachable",
            url,
            False,
            f"{error}; create it with scripts/bootstrap-bucket {bucket}",
        )
    return Check("state backend", True, "reachable", url, True)


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
    checks.append(backend_check(backend or os.environ.get("PULUMI_BACKEND_URL")))
    return checks


def render_table(checks: Sequence[Check]) -> str:
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
    parser = argparse.ArgumentParser(
        prog="preflight",
        description="Check that this machine is ready for `pulumi up` of a stack.",
        epilog="Example: scripts/preflight --stack studio",
    )
    parser.add_argument("--stack", required=True, help="studio or homelab")
    parser.add_argument("--project-dir", type=Path, default=REPO, help=argparse.SUPPRESS)
    parser.add_argument("--backend", help="state backend URL (default: PULUMI_BACKEND_URL)")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    args = parser.parse_args(argv)

    try:
        settings = settings_from_stack_file(args.stack, args.project_dir)
    except (StackError, ConfigError) as error:
        print(f"preflight: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    checks = run_checks(settings, args.backend)
    if args.json:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        print(render_table(checks))
    failed = [check for check in checks if check.required and not check.ok]
    return EXIT_NOT_READY if failed else EXIT_READY


if __name__ == "__main__":
    sys.exit(main())
