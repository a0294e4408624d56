"""Cluster name rules, with property-based tests (hypothesis)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from infra.settings import CLUSTER_NAME_MAX_LENGTH, CLUSTER_NAME_PATTERN, validate_cluster_name

SHELL_METACHARACTERS = ";&|$`\\\"'<>(){}[]*?!~#\n\t %^="
DOCUMENTED = re.compile(CLUSTER_NAME_PATTERN)


def accepts(name: str) -> bool:
    try:
        validate_cluster_name(name)
    except ValueError:
        return False
    return True


@given(st.text(max_size=60))
@example("studio")
@example("home-lab-2")
def test_every_accepted_name_matches_the_documented_pattern(name: str) -> None:
    if accepts(name):
        assert DOCUMENTED.fullmatch(name)
        assert len(name) <= CLUSTER_NAME_MAX_LENGTH
        assert name.isascii()


@given(
    st.text(max_size=20),
    st.sampled_from(SHELL_METACHARACTERS),
    st.text(max_size=20),
)
def test_every_name_with_a_shell_metacharacter_is_rejected(
    before: str, metacharacter: str, after: str
) -> None:
    assert not accepts(before + metacharacter + after)


@given(st.text(max_size=40))
def test_every_name_starting_with_a_hyphen_is_rejected(rest: str) -> None:
    assert not accepts("-" + rest)


@given(st.from_regex(re.compile(r"[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?"), fullmatch=True))
def test_every_short_dns_label_is_accepted(name: str) -> None:
    assert accepts(name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("Studio", "not a lowercase DNS-1123 label"),
        ("stüdio", "not a lowercase DNS-1123 label"),
        ("ѕtudio", "not a lowercase DNS-1123 label"),  # noqa: RUF001 Cyrillic 's' look-alike
        ("studio\n", "not a lowercase DNS-1123 label"),
        ("my lab", "not a lowercase DNS-1123 label"),
        ("lab-", "not a lowercase DNS-1123 label"),
        ("--help", "starts with '-'"),
        ("a" * (CLUSTER_NAME_MAX_LENGTH + 1), "at most 40"),
        ("lab.local", "not a lowercase DNS-1123 label"),
    ],
)
def test_bad_name_is_rejected_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        validate_cluster_name(name)
