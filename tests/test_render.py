"""python -m infra.render: files, determinism, no secret data, the summary and the budget."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
import yaml

from infra import render
from infra.render import PLACEHOLDERS, SECRET_MARKER
from tests.conftest import PROJECT_DIR


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_writes_one_file_per_object_grouped_by_component(tmp_path: Path) -> None:
    assert render.main(["--stack", "studio", "--out", str(tmp_path / "out")]) == 0

    written = files(tmp_path / "out")
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
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert not comparison.diff_files


def test_secret_data_is_never_written(tmp_path: Path) -> None:
    render.main(["--stack", "studio", "--out", str(tmp_path)])

    text = "\n".join(content.decode() for content in files(tmp_path).values())
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
    studio = render.render_stack("studio")
    homelab = render.render_stack("homelab")

    assert studio.within_budget
    assert studio.total("requests_millicores", "max_replicas") <= studio.budget_millicores
    assert studio.total("requests_mebibytes", "max_replicas") <= studio.budget_mebibytes
    gateway = next(u for u in homelab.usage if u.workload == "gateway")
    assert (gateway.min_replicas, gateway.max_replicas) == (2, 4)
    assert homelab.total("requests_millicores", "max_replicas") == 2850
    assert "metrics-server" in {u.workload for u in homelab.usage}
    assert "metrics-server" not in {u.workload for u in studio.usage}


def test_over_budget_exits_1_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.studio.yaml").read_text())
    config["config"]["agent-platform:budget"] = {"cpu": "250m", "memory": "2Gi"}
    (project / "Pulumi.studio.yaml").write_text(yaml.safe_dump(config))

    code = render.main(
        ["--stack", "studio", "--out", str(tmp_path / "out"), "--project-dir", str(project)]
    )

    assert code == 1
    assert "OVER BUDGET" in capsys.readouterr().out


def test_unknown_stack_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["--stack", "prod", "--out", str(tmp_path)]) == 2
    assert "stack 'prod' is not supported" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_rerender_replaces_what_was_there(tmp_path: Path) -> None:
    out = tmp_path / "out"
    render.main(["--stack", "studio", "--out", str(out)])
    (out / "stale.yaml").write_text("kind: Stale\n")
    render.main(["--stack", "studio", "--out", str(out)])

    assert not (out / "stale.yaml").exists()
    shutil.rmtree(out)
