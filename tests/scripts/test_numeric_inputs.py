"""Numbers in environment variables and arguments (issue 13, class 9): one validator in
scripts/lib/common.sh accepts only plain decimal numbers in range, so bash arithmetic never
reads "010" as octal, fails on "08", or wraps 2^64 + 2 around to 2.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.stub_tools import SCRIPTS, Tools

EXIT_BAD_INPUT = 2

# (script, arguments, the variable or option, extra environment): every numeric input.
NUMERIC_INPUTS = [
    ("create-kind-cluster", ("studio",), "CLUSTER_CREATE_TIMEOUT", {}),
    ("create-kind-cluster", ("studio",), "KIND_REGISTRY_PORT", {"KIND_REGISTRY_NAME": "reg"}),
    ("delete-kind-cluster", ("studio", "--yes"), "CLUSTER_DELETE_TIMEOUT", {}),
    ("local-registry", ("up",), "REGISTRY_TIMEOUT", {}),
    ("local-registry", ("up",), "--port", {}),
    ("up", ("studio",), "UP_TIMEOUT", {}),
    ("install-pulumi-toolchain", (), "PULUMI_TOOLCHAIN_TIMEOUT", {}),
]
# Each script with one value of every kind; the validator itself gets many more (hypothesis).
BAD_NUMBERS = [
    "010",  # octal to bash arithmetic: 8
    "08",  # not octal: bash arithmetic fails
    "0",
    "-1",
    "+5",
    " 5",
    "1e3",
    "0x10",
    "\u0661\u0662",  # Arabic-Indic digits
    "18446744073709551618",  # 2^64 + 2: wraps to 2
    "9" * 40,
    "99999999",
]


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=ascii)
@pytest.mark.parametrize("case", NUMERIC_INPUTS, ids=[case[2] for case in NUMERIC_INPUTS])
def test_every_numeric_input_refuses_anything_but_a_plain_number_in_range(
    tools: Tools, case: tuple[str, tuple[str, ...], str, dict[str, str]], value: str
) -> None:
    script, args, name, env = case

    if name.startswith("--"):
        result = tools.run(script, *args, name, value, env=env)
    else:
        result = tools.run(script, *args, env={**env, name: value})

    assert result.returncode == EXIT_BAD_INPUT, (script, name, value, result.stderr)
    assert f"error: {name} must be" in result.stderr
    assert "without a leading zero, such as" in result.stderr  # the fix, not only the fault
    assert result.calls == []


# What bash arithmetic makes of an accepted value: the script's own reading of it.
VALIDATE = f'source "{SCRIPTS}/lib/common.sh"; validate_seconds VALUE "$1" && echo "$(($1))"'


def script_reads(text: str) -> int | None:
    completed = subprocess.run(
        ["bash", "-c", VALIDATE, "validate", text], capture_output=True, text=True, check=False
    )
    assert completed.returncode in (0, EXIT_BAD_INPUT), completed.stderr
    return int(completed.stdout) if completed.returncode == 0 else None


def expected(text: str) -> int | None:
    if re.fullmatch(r"[1-9][0-9]*", text, re.ASCII) and int(text) <= 86400:
        return int(text)
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.from_regex(r"[0-9+\- x.e]{0,25}", fullmatch=True),
        st.text(
            alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
            max_size=25,
        ),
    )
)
@example("86400")
@example("86401")
@example("010")
@example("18446744073709551617")
@example("9223372036854775808")
@example("5\n")
@example("$((7))")
def test_the_validator_accepts_exactly_plain_decimal_numbers_in_range(text: str) -> None:
    assert script_reads(text) == expected(text)
