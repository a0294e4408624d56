"""Writing a render into ``--out`` safely: replace only what an earlier render wrote there.

Owns the marker file (``.rendered-by-infra-render.sha256``: every file written, with its SHA-256,
in ``sha256sum`` format, and the stack rendered on a ``# stack: NAME`` comment line, which
``sha256sum --check --strict`` skips like any line starting with ``#``), the decision whether a
directory may be replaced (``replaceable``: an earlier render of the same stack, unchanged), and
the staged write (files go next to ``--out`` first and move in only when all are written, so a
failed write leaves nothing behind). Directories are made as a plain ``mkdir`` makes them (0777
less the umask), files as a plain write does (0666 less the umask). It knows files and text, not
manifests; of the summary it knows only that its first line names the stack, which is how a
marker written before the stack line existed is read.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Final

MARKER: Final = ".rendered-by-infra-render.sha256"
_MARKER_HEADER: Final = (
    "# Written by scripts/render: the files it wrote here, with their SHA-256.\n"
    "# It replaces this directory only while these files, and nothing else, are in it,\n"
    "# and only with a render of the same stack.\n"
)
_MARKER_LINE: Final = re.compile(r"([0-9a-f]{64})  (.+)")
_STACK_LINE: Final = re.compile(r"# stack: (\S+)")
# A marker from before the stack line: summary.txt (listed, so vouched for) names the stack.
_SUMMARY: Final = "summary.txt"
_SUMMARY_STACK: Final = re.compile(rb"stack (\S+): ")
_SHOWN: Final = 5  # paths named in an error


class OutputError(Exception):
    """--out is something render may not replace; the message names it and the fix."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_marker(out: Path) -> tuple[dict[str, str], str | None] | None:
    """The files an earlier render wrote in ``out`` (path -> SHA-256) and the stack it recorded
    (None in a marker from before the stack line), or None without a valid list (a path outside
    ``out``, or not in the format render writes, is not valid)."""
    marker = out / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    files = {}
    stack = None
    for line in marker.read_text(errors="replace").splitlines():
        if stack_line := _STACK_LINE.fullmatch(line):
            stack = stack_line.group(1)
            continue
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
    return files, stack


def _summary_stack(out: Path, written: dict[str, str]) -> str | None:
    """The stack an older render's summary.txt names, if the marker lists it unchanged."""
    if not _unchanged(out / _SUMMARY, written.get(_SUMMARY)):
        return None
    first_line = (out / _SUMMARY).read_bytes().split(b"\n", 1)[0]
    match = _SUMMARY_STACK.match(first_line)
    return match.group(1).decode(errors="replace") if match else None


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


def replaceable(out: Path, stack: str) -> dict[str, str]:
    """What ``out`` holds that a render of ``stack`` may replace: {} for a new or empty
    directory, an earlier render's files (of the same stack) otherwise. Raises OutputError for
    anything else."""
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
    marker = _read_marker(out)
    if marker is None:
        raise OutputError(
            f"'{out}' is not empty and was not written by scripts/render (it has no "
            f"valid {MARKER}); pass an empty or new directory, or move its contents away "
            "yourself"
        )
    written, rendered = marker
    rendered = rendered or _summary_stack(out, written)
    if rendered is None:
        raise OutputError(
            f"'{out}' was written by an older scripts/render whose {MARKER} does not say which "
            f"stack it holds; pass another --out, or delete the directory and render again"
        )
    if rendered != stack:
        raise OutputError(
            f"'{out}' holds a render of stack '{rendered}', not '{stack}'; pass another --out "
            f"(such as rendered/{stack}), or delete the directory if the '{rendered}' render "
            "is no longer wanted"
        )
    render_dirs = {parent.as_posix() for name in written for parent in Path(name).parents}
    foreign = (
        [name for name in files if name != MARKER and not _unchanged(out / name, written.get(name))]
        + [name + "/" for name in directories if name not in render_dirs]
        # Listed but not the file render wrote (a forged list naming a directory, say): refused
        # here, because removing the listed files must never stop half-way.
        + [
            name
            for name, digest in written.items()
            if os.path.lexists(out / name) and not _unchanged(out / name, digest)
        ]
    )
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


def write_files(files: Mapping[str, str], out: Path, stack: str) -> None:
    """Write ``files`` (POSIX path relative to ``out`` -> text) and the marker recording
    ``stack`` to ``out``, replacing only an earlier render of that stack there.

    Raises OutputError when ``out`` holds anything else, OSError when writing fails (then
    nothing new is left behind)."""
    previous = replaceable(out, stack)
    missing = [parent for parent in (out, *out.parents) if not parent.exists()]
    created_parent = missing[-1] if missing and missing[-1] != out else None
    # Staged where a rename into place cannot cross a file system: inside an existing --out,
    # next to a new one.
    if out.exists():
        staging = _make_staging(out, ".rendering-")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = _make_staging(out.parent, f".{out.name}.rendering-")
    try:
        digests = {name: _write_file(staging / name, text) for name, text in files.items()}
        listing = "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items()))
        header = _MARKER_HEADER + f"# stack: {stack}\n"
        (staging / MARKER).write_bytes((header + listing).encode())
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


def _make_staging(parent: Path, prefix: str) -> Path:
    """A new directory in ``parent``, made as a plain mkdir would (0777 less the umask): a
    new ``--out`` is this directory renamed, so tempfile.mkdtemp's 0700 would stay on it."""
    for _ in range(100):
        staging = parent / f"{prefix}{secrets.token_hex(6)}"
        try:
            staging.mkdir()  # exclusive: never an existing directory or a link planted there
        except FileExistsError:
            continue
        return staging
    raise FileExistsError(f"no unused staging directory name in '{parent}'")


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
