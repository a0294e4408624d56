"""Where the project is: the one place that computes the repository root from this file."""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
"""The checkout: ``Pulumi.yaml``, the stack files, ``scripts/`` and ``.venv`` are here."""
