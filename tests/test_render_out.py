"""scripts/render's ``--out``: what it may replace, which stack it holds, the path as given,
the modes it writes, and failed writes. The program's output itself is tests/test_render.py's.

The subject here is the directory, not the program, so each stack's rendering is made once for
this module (``render_stack`` cached for the repository's own stack files; a test with a stack
file of its own still runs the program).
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.offline import render
from infra.offline.output_dir import MARKER
from infra.offline.rendering import Rendering, render_stack
from infra.paths import REPO_ROOT


@pytest.fixture(autouse=True, scope="module")
def _one_rendering_per_stack() -> Iterator[None]:
    once = functools.cache(render_stack)

    def cached(stack: str, project_dir: Path = REPO_ROOT) -> Rendering:
        return (
            once(stack, project_dir)
            if project_dir == REPO_ROOT
            else render_stack(stack, project_dir)
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "render_stack", cached)
        yield


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
