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
directory only when it is new, empty, or exactly what an earlier render wrote (the list, and
nothing else, unchanged): an existing file, a directory with anything else in it (a ``.git``,
notes, a hand-edited manifest) is a usage error that names what is in the way, and nothing is
touched. The new files are written next to ``DIR`` first and moved in only when all are
written, so a failed write leaves nothing behind.

Exit codes: 0 rendered and within budget, 1 over budget, 2 bad input (unknown stack, invalid
settings, an ``--out`` render may not replace), 3 the files could not be written (the message
names the path; nothing was left behind).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import yaml

from infra import program
from infra.cli import bad_stack, stack_parser
from infra.offline.mock_engine import ProgramRun, Registration, run_program
from infra.paths import REPO_ROOT
from infra.quantity import mebibytes, millicores
from infra.settings import (
    ConfigError,
    StackError,
    StackSettings,
    read_stack_file,
    settings_from_stack_file,
)

SECRET_MARKER: Final = "<secret: set from Pulumi secret config at deploy time>"  # noqa: S105
PLACEHOLDERS: Final = {
    "gatewayToken": "placeholder-gateway-token-not-a-secret",
    "vectorSearchApiKey": "placeholder-vector-search-key-not-a-secret",
    "snapshotAccessKeyId": "placeholder-access-key-id",
    "snapshotSecretAccessKey": "placeholder-secret-access-key",
    "kubeconfig": "apiVersion: v1\nkind: Config\n# placeholder\n",
}
WORKLOAD_KINDS: Final = ("Deployment", "StatefulSet")

EXIT_OK: Final = 0
EXIT_OVER_BUDGET: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_WRITE_FAILED: Final = 3

MARKER: Final = ".rendered-by-infra-render.sha256"
_MARKER_HEADER: Final = (
    "# Written by scripts/render: the files it wrote here, with their SHA-256.\n"
    "# It replaces this directory only while these files, and nothing else, are in it.\n"
)
_MARKER_LINE: Final = re.compile(r"([0-9a-f]{64})  (.+)")
_SHOWN: Final = 5  # paths named in an error


@dataclass(frozen=True)
class Manifest:
    component: str
    document: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.document["kind"])

    @property
    def name(self) -> str:
        return str(self.document["metadata"]["name"])

    @property
    def path(self) -> Path:
        return Path(self.component) / f"{self.kind.lower()}-{self.name}.yaml"


@dataclass(frozen=True)
class Usage:
    """Per-workload pod resources and replica range."""

    workload: str
    min_replicas: int
    max_replicas: int
    requests_millicores: int
    requests_mebibytes: Decimal
    limits_millicores: int
    limits_mebibytes: Decimal


@dataclass
class Rendering:
    stack: str
    settings: StackSettings
    manifests: list[Manifest]
    usage: list[Usage] = field(default_factory=list)

    def total(self, attribute: str, replicas: str) -> Decimal:
        return sum(
            (Decimal(getattr(u, attribute)) * getattr(u, replicas) for u in self.usage),
            Decimal(0),
        )

    @property
    def budget_millicores(self) -> int:
        return millicores(self.settings.budget.cpu)

    @property
    def budget_mebibytes(self) -> Decimal:
        return mebibytes(self.settings.budget.memory)

    @property
    def within_budget(self) -> bool:
        return (
            self.total("requests_millicores", "max_replicas") <= self.budget_millicores
            and self.total("requests_mebibytes", "max_replicas") <= self.budget_mebibytes
        )


def _plain(value: Any) -> Any:
    """Wire values back to manifest values: integral floats to ints, recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _api_version_and_kind(type_token: str) -> tuple[str, str]:
    # kubernetes:apps/v1:Deployment, kubernetes:core/v1:Secret, kubernetes:networking.k8s.io/v1:...
    _, group_version, kind = type_token.split(":")
    group, version = group_version.split("/")
    return (version if group == "core" else f"{group}/{version}"), kind


def _redact_secret(document: dict[str, Any]) -> dict[str, Any]:
    for key in ("data", "stringData"):
        if isinstance(document.get(key), dict):
            document[key] = dict.fromkeys(document[key], SECRET_MARKER)
    return document


def _component(run: ProgramRun, registration: Registration) -> str:
    parent = next((r for r in run.registrations if r.urn == registration.parent), None)
    return parent.name if parent is not None else "stack"


def manifest_of(run: ProgramRun, registration: Registration) -> Manifest:
    api_version, kind = _api_version_and_kind(registration.type)
    body = {k: v for k, v in _plain(registration.inputs).items() if k not in ("apiVersion", "kind")}
    document = {"apiVersion": api_version, "kind": kind, **body}
    if kind == "Secret":
        document = _redact_secret(document)
    return Manifest(_component(run, registration), document)


def _usage(manifests: Sequence[Manifest]) -> list[Usage]:
    autoscalers = {
        m.document["spec"]["scaleTargetRef"]["name"]: m.document["spec"]
        for m in manifests
        if m.kind == "HorizontalPodAutoscaler"
    }
    usage = []
    for manifest in manifests:
        if manifest.kind not in WORKLOAD_KINDS:
            continue
        spec = manifest.document["spec"]
        if manifest.name in autoscalers:
            low = autoscalers[manifest.name]["minReplicas"]
            high = autoscalers[manifest.name]["maxReplicas"]
        else:
            low = high = spec.get("replicas", 1)
        containers = spec["template"]["spec"]["containers"]
        usage.append(
            Usage(
                workload=manifest.name,
                min_replicas=low,
                max_replicas=high,
                requests_millicores=sum(
                    millicores(c["resources"]["requests"]["cpu"]) for c in containers
                ),
                requests_mebibytes=sum(
                    (mebibytes(c["resources"]["requests"]["memory"]) for c in containers),
                    Decimal(0),
                ),
                limits_millicores=sum(
                    millicores(c["resources"]["limits"]["cpu"]) for c in containers
                ),
                limits_mebibytes=sum(
                    (mebibytes(c["resources"]["limits"]["memory"]) for c in containers), Decimal(0)
                ),
            )
        )
    return sorted(usage, key=lambda u: u.workload)


def render_stack(stack: str, project_dir: Path = REPO_ROOT) -> Rendering:
    """Run the program for ``stack`` under mocks and collect its Kubernetes objects."""
    settings = settings_from_stack_file(stack, project_dir)
    needed = ["gatewayToken", "vectorSearchApiKey"]
    if settings.vector_search.snapshots.enabled:
        needed += ["snapshotAccessKeyId", "snapshotSecretAccessKey"]
    if settings.cluster.target == "existing":
        needed.append("kubeconfig")
    run = run_program(
        program.run,
        stack=stack,
        config=read_stack_file(stack, project_dir),
        secrets={key: PLACEHOLDERS[key] for key in needed},
    )
    manifests = sorted(
        (manifest_of(run, registration) for registration in run.kubernetes_objects()),
        key=lambda m: str(m.path),
    )
    return Rendering(stack, settings, manifests, _usage(manifests))


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


class OutputError(Exception):
    """--out is something render may not replace; the message names it and the fix."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_marker(out: Path) -> dict[str, str] | None:
    """The files an earlier render wrote in ``out`` (path -> SHA-256), or None without a
    valid list (a path outside ``out``, or not in the format render writes, is not valid)."""
    marker = out / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    files = {}
    for line in marker.read_text(errors="replace").splitlines():
        if not line or line.startswith("#"):
            continue
        match = _MARKER_LINE.fullmatch(line)
        if not match:
            return None
        digest, name = match.groups()
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or name != relative.as_posix():
            return None
        files[name] = digest
    return files


def _contents(out: Path) -> tuple[list[str], list[str]]:
    """Every file (and anything that is not a plain directory) and every directory under
    ``out``, as POSIX paths relative to it; symbolic links are not followed."""
    files: list[str] = []
    directories: list[str] = []
    for root, dirs, names in os.walk(out, followlinks=False):
        base = Path(root).relative_to(out)
        for name in dirs:
            path = Path(root, name)
            (files if path.is_symlink() else directories).append((base / name).as_posix())
        files += [(base / name).as_posix() for name in names]
    return files, directories


def replaceable(out: Path) -> dict[str, str]:
    """What ``out`` holds that render may replace: {} for a new or empty directory, an earlier
    render's files otherwise. Raises OutputError for anything else."""
    if not out.exists() and not out.is_symlink():
        existing = next(parent for parent in out.parents if parent.exists())
        if not existing.is_dir():
            raise OutputError(f"'{existing}' is a file; pass a directory render may create")
        return {}
    if not out.is_dir():
        raise OutputError(
            f"'{out}' is a file (or a link to nothing), not a directory; pass a new or empty "
            "directory, such as rendered/studio"
        )
    files, directories = _contents(out)
    if not files and not directories:
        return {}
    written = _read_marker(out)
    if written is None:
        raise OutputError(
            f"'{out}' is not empty and was not written by scripts/render (it has no "
            f"valid {MARKER}); pass an empty or new directory, or move its contents away "
            "yourself"
        )
    render_dirs = {parent.as_posix() for name in written for parent in Path(name).parents}
    foreign = [
        name for name in files if name != MARKER and not _unchanged(out / name, written.get(name))
    ] + [name + "/" for name in directories if name not in render_dirs]
    if foreign:
        shown = ", ".join(sorted(foreign)[:_SHOWN]) + (" ..." if len(foreign) > _SHOWN else "")
        raise OutputError(
            f"'{out}' holds files scripts/render did not write or that changed since "
            f"({shown}); move them away, or pass another directory"
        )
    return written


def _unchanged(path: Path, digest: str | None) -> bool:
    """A plain file render wrote (a link, a pipe or a device never is), unchanged since."""
    if digest is None or path.is_symlink() or not path.is_file():
        return False
    return _sha256(path.read_bytes()) == digest


def write(rendering: Rendering, out: Path) -> None:
    """Write the manifests and summary to ``out``, replacing only an earlier render there.

    Raises OutputError when ``out`` holds anything else, OSError when writing fails (then
    nothing new is left behind)."""
    previous = replaceable(out)
    missing = [parent for parent in (out, *out.parents) if not parent.exists()]
    created_parent = missing[-1] if missing and missing[-1] != out else None
    # Staged where a rename into place cannot cross a file system: inside an existing --out,
    # next to a new one.
    if out.exists():
        staging = Path(tempfile.mkdtemp(prefix=".rendering-", dir=out))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.rendering-", dir=out.parent))
    try:
        digests = {}
        for manifest in rendering.manifests:
            digests[manifest.path.as_posix()] = _write_file(
                staging / manifest.path,
                yaml.safe_dump(
                    manifest.document, sort_keys=True, default_flow_style=False, width=100
                ),
            )
        digests["summary.txt"] = _write_file(staging / "summary.txt", summary(rendering))
        listing = "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items()))
        (staging / MARKER).write_bytes((_MARKER_HEADER + listing).encode())
        if staging.parent == out:
            _remove_render(out, previous)
            for entry in sorted(staging.iterdir()):
                entry.rename(out / entry.name)
            staging.rmdir()
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created_parent is not None:
            shutil.rmtree(created_parent, ignore_errors=True)
        raise


def _write_file(path: Path, text: str) -> str:
    data = text.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _sha256(data)


def _remove_render(out: Path, files: dict[str, str]) -> None:
    """Remove an earlier render's files (checked by replaceable), then its empty directories."""
    for name in files:
        (out / name).unlink(missing_ok=True)
    (out / MARKER).unlink(missing_ok=True)
    parents = {parent for name in files for parent in Path(name).parents if parent != Path()}
    for directory in sorted(parents, key=lambda path: len(path.parts), reverse=True):
        if (out / directory).is_dir() and not any((out / directory).iterdir()):
            (out / directory).rmdir()


def main(argv: Sequence[str] | None = None) -> int:
    parser = stack_parser(
        "scripts/render",
        "Write every Kubernetes object a stack would create, without a cluster.",
        "scripts/render --stack studio --out rendered/studio",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output directory: new, empty, or written by an earlier render (then replaced)",
    )
    try:
        args = parser.parse_args(argv)
        replaceable(args.out)  # before the program runs, so a bad --out fails at once
    except SystemExit as stop:  # a usage error (2), or --help (0)
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    except OutputError as error:
        return _usage_error(parser, f"argument --out: {error}")
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
    print(summary(rendering), end="")
    return EXIT_OK if rendering.within_budget else EXIT_OVER_BUDGET


def _usage_error(parser: argparse.ArgumentParser, message: str) -> int:
    try:
        parser.error(message)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    return EXIT_BAD_INPUT  # pragma: no cover (parser.error always exits)


if __name__ == "__main__":
    sys.exit(main())
