"""scripts/install-k8s-counterparts on a private PATH, with no Go or a fake one.

The real build is what the rest of the tier uses; these tests pin the script's own behaviour:
the cache it reuses, what it refuses, and that a failed build leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

import pytest

from tests.conftest import PROJECT_DIR
from tests.go_modules import inputs_digest, required_version

SCRIPT: Final = PROJECT_DIR / "scripts" / "install-k8s-counterparts"
MODULE: Final = PROJECT_DIR / "tools" / "k8s-counterparts"
KWOK_MODULE: Final = PROJECT_DIR / "tools" / "kwok"
TOOLS: Final = (
    "bash", "awk", "find", "sort", "xargs", "sha256sum", "cut", "mkdir", "mktemp", "chmod",
    "rm", "mv", "touch", "timeout", "basename", "dirname", "head",
)  # fmt: skip
BINARIES: Final = (
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl",
    "kind-config-check", "kwok",
)  # fmt: skip
DATA_FILES: Final = ("kwok-stages.yaml", "kwok-storage-class.yaml", "gateway-api-crds.yaml")
GATEWAY_API_MODULE: Final = PROJECT_DIR / "tools" / "gateway-api"
FAKE_GO: Final = """#!/bin/bash
if [[ "$1 $2" == "env GOVERSION" ]]; then echo "${FAKE_GO_VERSION:-go1.26.0}"; exit 0; fi
echo "go: cannot load k8s.io/kubernetes/cmd/kube-apiserver: fake failure" >&2
exit 1
"""


def required(module: str) -> str:
    return required_version(MODULE, module)


def cache_name() -> str:
    """The script's directory name: versions from the go.mod files, then a digest of both
    modules."""
    kwok = required_version(KWOK_MODULE, "sigs.k8s.io/kwok")
    return (
        f"kubernetes-{required('k8s.io/kubernetes')}-etcd-{required('go.etcd.io/etcd/server/v3')}"
        f"-kind-{required('sigs.k8s.io/kind')}-kwok-{kwok}"
        f"-{inputs_digest(MODULE, KWOK_MODULE, GATEWAY_API_MODULE)}"
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def run(path: Path, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT)],
        env={
            "PATH": str(path),
            "HOME": str(cache.parent),
            "K8S_COUNTERPARTS_CACHE": str(cache),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fake_go(path: Path) -> None:
    go = path / "go"
    go.write_text(FAKE_GO)
    go.chmod(0o755)


def fake_cache(root: Path, *, data_files: bool = True, stamp: bool = True) -> Path:
    """A cache directory as the script leaves it: the binaries, kwok's and the Gateway API's
    files, and the completion stamp (each part optional, to fake an older or broken one)."""
    cached = root / cache_name()
    cached.mkdir(parents=True)
    for name in BINARIES:
        (cached / name).write_text("#!/bin/sh\n")
        (cached / name).chmod(0o755)
    for name in DATA_FILES if data_files else ():
        (cached / name).write_text("kind: Stage\n")
    if stamp:
        (cached / ".complete").touch()
    return cached


def test_a_complete_cache_is_used_at_once_without_go(path: Path, tmp_path: Path) -> None:
    cached = fake_cache(tmp_path / "cache")

    result = run(path, tmp_path / "cache")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{cached}\n"
    assert "using the cached counterparts" in result.stderr


def test_a_cache_without_kwoks_stages_is_not_used(path: Path, tmp_path: Path) -> None:
    """A cache an older script wrote (the binaries, no Stages) is built anew."""
    fake_cache(tmp_path / "cache", data_files=False)

    result = run(path, tmp_path / "cache")

    assert result.returncode == 3
    assert "'go' is not on PATH" in result.stderr


def test_a_cache_without_its_completion_stamp_is_not_used(path: Path, tmp_path: Path) -> None:
    fake_cache(tmp_path / "cache", stamp=False)

    result = run(path, tmp_path / "cache")

    assert result.returncode == 3
    assert "'go' is not on PATH" in result.stderr
    assert result.stdout == ""


def test_an_old_go_is_refused_with_the_version_needed(path: Path, tmp_path: Path) -> None:
    fake_go(path)

    result = run(path, tmp_path / "cache", FAKE_GO_VERSION="go1.22.5")

    assert result.returncode == 3
    assert (
        "go 1.22.5 is older than the 1.24.0 that the Kubernetes counterparts needs" in result.stderr
    )


def test_a_failed_build_says_why_and_leaves_nothing_behind(path: Path, tmp_path: Path) -> None:
    fake_go(path)

    result = run(path, tmp_path / "cache")

    assert result.returncode == 5
    assert "fake failure" in result.stderr
    assert "go build in tools/k8s-counterparts failed" in result.stderr
    assert result.stdout == ""
    assert os.listdir(tmp_path / "cache") == []


def test_a_bad_time_bound_is_bad_input(path: Path, tmp_path: Path) -> None:
    result = run(path, tmp_path / "cache", K8S_COUNTERPARTS_TIMEOUT="soon")

    assert result.returncode == 2
    assert "K8S_COUNTERPARTS_TIMEOUT must be a whole number of seconds" in result.stderr
