"""scripts/render: files, determinism, no secret data, the summary and the budget."""

from __future__ import annotations

import filecmp
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.offline import render
from infra.offline.rendering import PLACEHOLDERS, SECRET_MARKER, render_stack
from tests.conftest import PROJECT_DIR
from tests.test_render_out import snapshot


def test_writes_one_file_per_object_grouped_by_component(tmp_path: Path) -> None:
    assert render.main(["--stack", "studio", "--out", str(tmp_path / "out")]) == 0

    written = snapshot(tmp_path / "out")
    groups = {name.split("/")[0] for name in written if "/" in name}
    assert groups == {"platform", "gateway", "embedding", "vector-search", "mcp"}
    assert "gateway/deployment-gateway.yaml" in written
    assert "vector-search/statefulset-vector-search.yaml" in written
    assert "summary.txt" in written
    for name, content in written.items():
        if name.endswith(".yaml"):
            document = yaml.safe_load(content)
            assert document["kind"].lower() in name
            assert document["apiVersion"]


def test_two_renders_are_byte_identical(tmp_path: Path) -> None:
    for out in ("a", "b"):
        assert render.main(["--stack", "homelab", "--out", str(tmp_path / out)]) == 0

    comparison = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert not comparison.diff_files


def test_secret_data_is_never_written(tmp_path: Path) -> None:
    render.main(["--stack", "studio", "--out", str(tmp_path)])

    text = "\n".join(content.decode() for content in snapshot(tmp_path).values())
    for placeholder in PLACEHOLDERS.values():
        assert placeholder not in text
    secrets = [yaml.safe_load(path.read_text()) for path in tmp_path.rglob("secret-*.yaml")]
    assert {s["metadata"]["name"] for s in secrets} == {"gateway-config", "vector-search-api-key"}
    for secret in secrets:
        assert set(secret["stringData"].values()) == {SECRET_MARKER}


def test_integers_stay_integers(tmp_path: Path) -> None:
    render.main(["--stack", "studio", "--out", str(tmp_path)])
    service = yaml.safe_load((tmp_path / "gateway/service-gateway.yaml").read_text())

    assert service["spec"]["ports"][0]["port"] == 80
    assert isinstance(service["spec"]["ports"][0]["nodePort"], int)


def test_summary_counts_objects_and_totals_requests_against_the_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    render.main(["--stack", "studio", "--out", str(tmp_path)])
    printed = capsys.readouterr().out

    assert printed == (tmp_path / "summary.txt").read_text()
    assert printed.startswith("stack studio: 22 objects\n")
    assert "    3  Deployment\n" in printed
    assert "    1  StatefulSet\n" in printed
    requests = next(line for line in printed.splitlines() if line.strip().startswith("requests"))
    assert requests.split() == [
        "requests",
        "0.50",
        "/",
        "1.03Gi",
        "0.50",
        "/",
        "1.03Gi",
        "1.00",
        "/",
        "2.00Gi",
    ]
    assert "budget: requests at max replicas fit" in printed


def test_studio_requests_fit_its_budget_and_homelab_counts_autoscaling_at_max() -> None:
    studio = render_stack("studio")
    homelab = render_stack("homelab")

    assert studio.within_budget
    assert studio.total("requests_millicores", "max_replicas") <= studio.budget_millicores
    assert studio.total("requests_mebibytes", "max_replicas") <= studio.budget_mebibytes
    gateway = next(u for u in homelab.usage if u.workload == "gateway")
    assert (gateway.min_replicas, gateway.max_replicas) == (2, 4)
    assert homelab.total("requests_millicores", "max_replicas") == 2850
    assert "metrics-server" in {u.workload for u in homelab.usage}
    assert "metrics-server" not in {u.workload for u in studio.usage}


def render_with_budget(tmp_path: Path, stack: str, cpu: str, memory: str) -> int:
    """Render ``stack`` from a copy of its stack file with ``budget`` set to cpu and memory."""
    project = tmp_path / "project"
    project.mkdir()
    config = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    config["config"]["agent-platform:budget"] = {"cpu": cpu, "memory": memory}
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(config))
    return render.main(
        ["--stack", stack, "--out", str(tmp_path / "out"), "--project-dir", str(project)]
    )


def test_over_budget_exits_1_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = render_with_budget(tmp_path, "studio", "250m", "2Gi")

    assert code == 1
    captured = capsys.readouterr()
    assert "OVER BUDGET" in captured.out
    # stderr says what is over and what to change, in one line (issue: it was empty)
    [line] = captured.err.splitlines()
    assert line.startswith("render: over budget: requests at max replicas exceed")
    assert "CPU 0.50 > 0.25 (budget.cpu)" in line
    assert "memory" not in line
    assert "Pulumi.studio.yaml" in line
    assert "pulumi config set --path budget.cpu 500m --stack studio" in line
    assert "lower the workloads' resources.requests" in line


def test_over_budget_on_both_totals_names_both_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = render_with_budget(tmp_path, "homelab", "1", "1Gi")

    assert code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "CPU 2.85 > 1.00 (budget.cpu)" in line
    assert "> 1.00Gi (budget.memory)" in line
    assert "Pulumi.homelab.yaml" in line
    assert "budget.memory" in line.split("pulumi config set", 1)[1]


def test_unknown_stack_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["--stack", "prod", "--out", str(tmp_path)]) == 2
    assert "stack 'prod' is not supported" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_scripts_render_runs_the_tool_from_any_directory(tmp_path: Path) -> None:
    """The launcher users run: the project's environment, from wherever they stand."""
    out = tmp_path / "out"

    completed = subprocess.run(
        [str(PROJECT_DIR / "scripts" / "render"), "--stack", "studio", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert (out / "gateway" / "deployment-gateway.yaml").is_file()
    assert "budget" in completed.stdout
    assert completed.stderr == ""  # the program's phase log is for pulumi up, not this tool


def test_verbose_prints_the_programs_log_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert render.main(["--stack", "studio", "--out", str(tmp_path / "quiet")]) == 0
    assert capsys.readouterr().err == ""

    assert render.main(["--stack", "studio", "--out", str(tmp_path / "loud"), "--verbose"]) == 0
    phases = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert any(
        entry["event"] == "phase finished" and entry.get("resource") == "gateway"
        for entry in phases
    )
