"""scripts/render: files, determinism, no secret data, the summary and the budget."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.offline import render
from infra.offline.output_dir import MARKER
from infra.offline.rendering import PLACEHOLDERS, SECRET_MARKER, render_stack
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
    project = tmp_path / "project"
    project.mkdir()
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.homelab.yaml").read_text())
    config["config"]["agent-platform:budget"] = {"cpu": "1", "memory": "1Gi"}
    (project / "Pulumi.homelab.yaml").write_text(yaml.safe_dump(config))

    code = render.main(
        ["--stack", "homelab", "--out", str(tmp_path / "out"), "--project-dir", str(project)]
    )

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


# ------------------------------------------- --out never replaces what render did not write
# (issue 13, class 10): a new or empty directory, or one a previous render wrote and nobody
# changed since, is written; anything else is a usage error (exit 2) and left as it was.


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def render_to(out: Path, stack: str = "studio") -> int:
    return render.main(["--stack", stack, "--out", str(out)])


def test_a_directory_render_did_not_write_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "notes"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "config").write_text("[core]\n")
    (out / "notes.md").write_text("my notes\n")
    before = snapshot(out)

    assert render_to(out) == 2

    err = capsys.readouterr().err
    assert "argument --out:" in err
    assert "was not written by scripts/render" in err
    assert "empty or new directory" in err
    assert snapshot(out) == before


def test_an_existing_file_as_out_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "manifests.yaml"
    out.write_text("kind: Keep\n")

    assert render_to(out) == 2

    err = capsys.readouterr().err
    assert "argument --out:" in err
    assert "is a file" in err
    assert "Traceback" not in err
    assert out.read_text() == "kind: Keep\n"


def test_out_under_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")

    assert render_to(tmp_path / "file" / "out") == 2
    assert "argument --out:" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "x"


def test_a_previous_render_with_a_file_added_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert render_to(out) == 0
    (out / "gateway" / "my-patch.yaml").write_text("kind: Mine\n")
    before = snapshot(out)
    capsys.readouterr()

    assert render_to(out) == 2

    err = capsys.readouterr().err
    assert "gateway/my-patch.yaml" in err
    assert snapshot(out) == before


def test_a_previous_render_with_a_file_changed_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert render_to(out) == 0
    (out / "summary.txt").write_text("edited by hand\n")
    before = snapshot(out)
    capsys.readouterr()

    assert render_to(out) == 2

    assert "summary.txt" in capsys.readouterr().err
    assert snapshot(out) == before


def test_a_marker_that_names_files_outside_out_deletes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    assert render_to(out) == 0
    marker = out / MARKER
    digest = hashlib.sha256(b"keep me\n").hexdigest()
    marker.write_text(marker.read_text() + f"{digest}  ../victim.txt\n")
    capsys.readouterr()

    assert render_to(out) == 2

    assert victim.read_text() == "keep me\n"
    assert "argument --out:" in capsys.readouterr().err


def test_a_marker_that_lists_a_directory_as_a_file_deletes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A forged list naming ``extra`` (a directory here) and ``extra/kept.txt`` (its right
    hash): render must refuse before removing anything, not delete the file and then fail."""
    out = tmp_path / "out"
    assert render_to(out) == 0
    (out / "extra").mkdir()
    (out / "extra" / "kept.txt").write_text("keep me\n")
    digest = hashlib.sha256(b"keep me\n").hexdigest()
    marker = out / MARKER
    marker.write_text(marker.read_text() + f"{'0' * 64}  extra\n" + f"{digest}  extra/kept.txt\n")
    before = snapshot(out)
    capsys.readouterr()

    assert render_to(out) == 2

    assert snapshot(out) == before
    assert "extra" in capsys.readouterr().err


def test_an_empty_directory_is_written(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()

    assert render_to(out) == 0
    assert (out / "gateway" / "deployment-gateway.yaml").exists()


def test_rerender_replaces_its_own_files_and_drops_objects_that_are_gone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render_to(out, "homelab") == 0
    # an object an earlier render wrote that this program no longer makes
    gone = b"kind: ConfigMap\n"
    (out / "old").mkdir()
    (out / "old" / "configmap-gone.yaml").write_bytes(gone)
    marker = out / MARKER
    marker.write_text(
        marker.read_text() + f"{hashlib.sha256(gone).hexdigest()}  old/configmap-gone.yaml\n"
    )

    assert render_to(out, "homelab") == 0

    assert not (out / "old").exists()
    fresh = tmp_path / "fresh"
    assert render_to(fresh, "homelab") == 0
    assert snapshot(out) == snapshot(fresh)


# ------------------------------------------- --out holds one stack's render: never another's


def test_the_marker_records_the_stack_and_sha256sum_still_checks_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render_to(out, "homelab") == 0

    assert "# stack: homelab\n" in (out / MARKER).read_text()
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", "--quiet", MARKER],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stderr == ""


def test_another_stacks_render_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert render_to(out, "studio") == 0
    before = snapshot(out)
    capsys.readouterr()

    assert render_to(out, "homelab") == 2

    err = capsys.readouterr().err
    assert "argument --out:" in err
    assert "holds a render of stack 'studio', not 'homelab'" in err
    assert "pass another --out" in err
    assert "delete the directory" in err
    assert snapshot(out) == before


def test_an_unknown_stack_is_reported_as_such_whatever_out_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert render_to(out, "studio") == 0
    capsys.readouterr()

    assert render_to(out, "prod") == 2
    assert "stack 'prod' is not supported" in capsys.readouterr().err


def drop_stack_line(out: Path) -> None:
    """Make the marker one an older render wrote: the same, without the stack line."""
    marker = out / MARKER
    lines = marker.read_text().splitlines(keepends=True)
    marker.write_text("".join(line for line in lines if not line.startswith("# stack:")))


def test_an_older_render_without_the_stack_is_known_by_its_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """summary.txt names the stack, and the marker vouches for it: no need to refuse."""
    out = tmp_path / "out"
    assert render_to(out, "studio") == 0
    drop_stack_line(out)
    before = snapshot(out)
    capsys.readouterr()

    assert render_to(out, "homelab") == 2
    assert "holds a render of stack 'studio', not 'homelab'" in capsys.readouterr().err
    assert snapshot(out) == before

    assert render_to(out, "studio") == 0
    assert "# stack: studio\n" in (out / MARKER).read_text()


def test_an_older_render_whose_stack_cannot_be_told_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert render_to(out, "studio") == 0
    drop_stack_line(out)
    marker = out / MARKER
    lines = marker.read_text().splitlines(keepends=True)
    marker.write_text("".join(line for line in lines if not line.endswith("  summary.txt\n")))
    (out / "summary.txt").unlink()
    before = snapshot(out)
    capsys.readouterr()

    assert render_to(out, "studio") == 2

    err = capsys.readouterr().err
    assert "does not say which stack" in err
    assert "delete the directory" in err
    assert snapshot(out) == before


# ------------------------------------------- --out is a path as the shell would have given it


@pytest.mark.parametrize(
    ("out", "said"),
    [
        ("", "is empty"),
        ("~", "'~' is not expanded"),
        ("~/rendered", "'~' is not expanded"),
        ("~bob/rendered", "'~bob' is not expanded"),
    ],
)
def test_an_empty_or_unexpanded_out_is_a_usage_error_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    out: str, said: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.md").write_text("mine\n")

    assert render.main(["--stack", "studio", "--out", out]) == 2

    err = capsys.readouterr().err
    assert f"argument --out: {said}" in err
    if out:
        assert "$HOME/" in err
    assert "Traceback" not in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.md"]


def test_a_tilde_later_in_the_path_is_an_ordinary_name(tmp_path: Path) -> None:
    assert render_to(tmp_path / "backup~" / "~out") == 0
    assert (tmp_path / "backup~" / "~out" / "summary.txt").is_file()


# ------------------------------------------- modes: what a plain mkdir and write would give


@pytest.mark.parametrize(
    ("umask", "directory", "file"), [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)]
)
@pytest.mark.parametrize("existing", [False, True], ids=["new-out", "empty-out"])
def test_directories_and_files_get_the_modes_the_umask_gives(
    tmp_path: Path, umask: int, directory: int, file: int, existing: bool
) -> None:
    out = tmp_path / "parent" / "out"
    kept = {}
    if existing:  # a directory the user made keeps the mode they gave it
        out.mkdir(parents=True)
        out.chmod(0o700)
        kept = {"parent": (tmp_path / "parent").stat().st_mode & 0o7777, "parent/out": 0o700}
    previous = os.umask(umask)
    try:
        assert render_to(out) == 0
        assert render_to(out) == 0  # and again, replacing its own render
    finally:
        os.umask(previous)

    modes = {
        path.relative_to(tmp_path).as_posix(): path.stat().st_mode & 0o7777
        for path in [tmp_path / "parent", out, *out.rglob("*")]
    }
    expected = {name: directory if (tmp_path / name).is_dir() else file for name in modes}
    assert modes == expected | kept


def test_bad_stack_creates_nothing_not_even_the_parents(tmp_path: Path) -> None:
    assert render.main(["--stack", "prod", "--out", str(tmp_path / "a" / "b")]) == 2
    assert not (tmp_path / "a").exists()


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    written = 0
    real_write = Path.write_bytes

    def failing_write(path: Path, data: Any) -> int:
        nonlocal written
        written += 1
        if written > 3:
            raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)

    assert render_to(out) == render.EXIT_WRITE_FAILED

    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rerender_keeps_the_earlier_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert render_to(out) == 0
    before = snapshot(out)

    def no_space(_path: Path, _data: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", no_space)

    assert render_to(out) == render.EXIT_WRITE_FAILED
    assert snapshot(out) == before
    assert sorted(path.name for path in out.iterdir()) == sorted(
        {name.split("/")[0] for name in before}
    )


def test_a_pipe_in_out_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert render_to(out) == 0
    os.mkfifo(out / "gateway" / "pipe")
    capsys.readouterr()

    assert render_to(out) == 2
    assert "gateway/pipe" in capsys.readouterr().err


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
