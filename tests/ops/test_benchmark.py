"""benchmark's options: a bad --runs is a usage error before anything is measured."""

from __future__ import annotations

import pytest

from infra.ops import benchmark


@pytest.fixture(autouse=True)
def no_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    def measured(_runs: int) -> list[benchmark.Row]:
        raise AssertionError("a measure ran despite a bad --runs")

    monkeypatch.setattr(benchmark, "mock_rows", measured)
    monkeypatch.setattr(benchmark, "engine_rows", measured)


@pytest.mark.parametrize(
    "runs", ["010", "08", "0", "101", "-1", " 7", "+7", "1_0", "\u0663", "1e1", "x", ""]
)
def test_runs_is_plain_decimal_in_range_or_a_usage_error(
    runs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert benchmark.main(["--runs", runs, "--skip-engine"]) == 2

    err = capsys.readouterr().err
    assert "usage: benchmark" in err
    assert f"argument --runs: {runs!r} is not a whole number of runs from 1 to 100" in err
    assert "Traceback" not in err


def test_runs_in_range_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def measured(runs: int) -> list[benchmark.Row]:
        seen.append(runs)
        return [benchmark.Row("import floor", [0.1]), benchmark.Row("with groups", [0.2])]

    monkeypatch.setattr(benchmark, "mock_rows", measured)

    assert benchmark.main(["--runs", "10", "--skip-engine"]) == 0
    assert seen == [10]
