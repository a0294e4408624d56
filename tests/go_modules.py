"""What the install scripts read from the Go build modules (tools/*/go.mod), computed here the
way scripts/lib/go_build.sh does, so tests can name the cache directories the scripts use."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path


def required_version(module_dir: Path, module: str) -> str:
    """The version ``module_dir/go.mod`` requires of ``module`` (in or outside a block)."""
    text = (module_dir / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", text, re.M)
    assert match, f"{module_dir}/go.mod requires no {module}"
    return match[1]


def inputs_digest(*module_dirs: Path) -> str:
    """``inputs_digest``: sha256sum lines of each module's .go, go.mod and go.sum files, in
    byte order per module, digested together; the first 12 hex digits."""
    listing = ""
    for module_dir in module_dirs:
        files = sorted(
            f"./{p.relative_to(module_dir)}"
            for p in module_dir.rglob("*")
            if p.is_file() and (p.suffix == ".go" or p.name in {"go.mod", "go.sum"})
        )
        listing += "".join(
            f"{hashlib.sha256((module_dir / name).read_bytes()).hexdigest()}  {name}\n"
            for name in files
        )
    return hashlib.sha256(listing.encode()).hexdigest()[:12]
