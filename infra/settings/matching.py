"""The rule most validators of names and free text share: the whole value matches a pattern,
or a ``ValueError`` with the validator's own message (what is wrong and what to write) is
raised. One helper, so each validator states only its pattern and its message."""

from __future__ import annotations

import re


def fullmatch_or_raise(pattern: re.Pattern[str], text: str, problem: str) -> str:
    """Return ``text`` when ``pattern`` matches all of it; raise ``ValueError(problem)``
    otherwise."""
    if pattern.fullmatch(text) is None:
        raise ValueError(problem)
    return text
