"""The scripts and the program accept exactly the same cluster names."""

from __future__ import annotations

import subprocess

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from infra.settings import validate_cluster_name
from tests.stub_tools import SCRIPTS

VALIDATE = f'source "{SCRIPTS}/lib/common.sh"; validate_cluster_name "$1"'


def script_accepts(name: str) -> bool:
    completed = subprocess.run(
        ["bash", "-c", VALIDATE, "validate", name], capture_output=True, check=False
    )
    assert completed.returncode in (0, 2), completed.stderr
    return completed.returncode == 0


def program_accepts(name: str) -> bool:
    try:
        validate_cluster_name(name)
    except ValueError:
        return False
    return True


names = st.one_of(
    st.from_regex(r"[a-z0-9-]{0,45}", fullmatch=True),
    # argv cannot carry NUL or lone surrogates; every other character is fair game.
    st.text(
        alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
        max_size=45,
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names)
@example("studio")
@example("-studio")
@example("a" * 40)
@example("a" * 41)
@example("stüdio")
@example("lab\n")
def test_script_and_program_agree_on_every_name(name: str) -> None:
    assert script_accepts(name) == program_accepts(name)
