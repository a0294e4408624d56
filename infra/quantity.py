"""Kubernetes resource quantities: validation and conversion to plain numbers.

Settings validate quantities with these rules so a typo such as ``512MB`` fails at ``pulumi
preview`` with the config key named, instead of at apply time inside the cluster. The render
summary and the budget check use the same parser to add requests up.
"""

from __future__ import annotations

import re
from decimal import Decimal

# The grammar of k8s.io/apimachinery resource.Quantity: a signed decimal number, then a binary
# suffix (Ki..Ei), a decimal suffix (n, u, m, k, M..E) or a decimal exponent.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?"
)

# No quantity this program takes needs more: E is 10^18, and a longer exponent would make
# Decimal overflow (an ArithmeticError, not the ValueError the settings report with its key).
MAX_EXPONENT = 18
_MAX_EXPONENT_DIGITS = 2

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def parse_quantity(text: str) -> Decimal:
    """Return the value of a Kubernetes quantity in base units (cores, bytes).

    Raises ValueError naming the text and the expected form when it is not a quantity.
    """
    # No trimming: the API server does not trim either, so " 1Gi" would fail at apply time.
    match = _QUANTITY.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a Kubernetes quantity; expected a number with an optional suffix, "
            "for example 250m, 0.5, 512Mi or 2Gi"
        )
    number = Decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    digits = suffix[1:].lstrip("+-").lstrip("0")
    if (
        len(digits) > _MAX_EXPONENT_DIGITS
        or int(suffix[1:]) > MAX_EXPONENT
        or int(suffix[1:]) < -MAX_EXPONENT
    ):
        raise ValueError(
            f"{text[:40]!r} has an exponent outside -{MAX_EXPONENT}..{MAX_EXPONENT}; "
            "write it with a suffix instead, for example 512Mi, 2Gi or 500m"
        )
    return number * (Decimal(10) ** int(suffix[1:]))


def millicores(text: str) -> int:
    """CPU quantity in millicores, rounded up as the kubelet does."""
    value = parse_quantity(text) * 1000
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def mebibytes(text: str) -> Decimal:
    """Memory quantity in MiB (for summaries; exact as a Decimal)."""
    return parse_quantity(text) / (2**20)
