"""infra.cli: the whole-number option type the Python tools share (bootstrap-bucket, benchmark).

A number on the command line is plain decimal digits without a leading zero, in range; ``int()``
alone would also take ``010``, `` 7``, ``+7``, ``1_0`` and other scripts' digits."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.cli import whole_number

LOW, HIGH = 1, 300
parse = whole_number(LOW, HIGH, "seconds")


@pytest.mark.parametrize(
    "value",
    ["010", "08", "00", "0", "301", " 7", "7 ", "7\n", "+7", "-1", "1_0", "\u0663", "\uff11",
     "1e2", "", "0x10", "18446744073709551618", "9" * 5000],
)  # fmt: skip
def test_anything_but_plain_decimal_in_range_is_refused(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"whole number of seconds from 1 to 300"):
        parse(value)


@pytest.mark.parametrize(("value", "number"), [("1", 1), ("7", 7), ("10", 10), ("300", 300)])
def test_plain_decimal_in_range_is_read(value: str, number: int) -> None:
    assert parse(value) == number


@given(st.text())
def test_a_value_is_read_only_when_it_is_the_numbers_own_spelling(value: str) -> None:
    """Whatever the text, the result is refused or is the number whose str() it is."""
    try:
        number = parse(value)
    except argparse.ArgumentTypeError:
        return
    assert str(number) == value
    assert LOW <= number <= HIGH


@given(st.integers())
def test_every_number_in_range_is_read_and_every_other_refused(number: int) -> None:
    if LOW <= number <= HIGH:
        assert parse(str(number)) == number
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(str(number))


@given(st.integers(min_value=LOW, max_value=HIGH), st.sampled_from(["0", " ", "+", "\t", "\n"]))
def test_a_number_in_range_with_a_prefix_is_refused(number: int, prefix: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse(prefix + str(number))


def test_the_option_is_named_in_the_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--timeout", type=parse)

    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--timeout", "010"])

    assert stop.value.code == 2
    assert "argument --timeout: '010' is not a whole number of seconds" in capsys.readouterr().err


@pytest.mark.parametrize(("low", "high"), [(5, 1), (-1, 3), (0, 10**18)])
def test_a_range_the_pattern_cannot_read_is_a_programming_error(low: int, high: int) -> None:
    with pytest.raises(ValueError, match="not a range"):
        whole_number(low, high, "runs")
