"""scripts/install-pulumi-toolchain against stub pulumi, providers and go."""

from __future__ import annotations

import os
from pathlib import Path

from tests.stub_tools import STUB, Tools

PROVIDERS = ("pulumi-resource-kubernetes", "pulumi-resource-command")


def with_providers(tools: Tools) -> None:
    for name in PROVIDERS:
        (tools.stub_bin / name).symlink_to(STUB)


def test_uses_a_recent_pulumi_on_path_with_its_providers(tools: Tools, tmp_path: Path) -> None:
    with_providers(tools)
    tools.remove("kind")

    result = tools.run("install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tools.stub_bin)
    assert "using pulumi 3.272.0" in result.stderr
    assert not result.called("go")


def test_builds_all_four_from_go_modules_when_pulumi_is_too_old(
    tools: Tools, tmp_path: Path
) -> None:
    with_providers(tools)
    tools.version("pulumi", "3.100.0")
    (tools.stub_bin / "go").symlink_to(STUB)

    result = tools.run("install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path)})

    assert result.returncode == 5
    downloads = [call[-1] for call in result.calls if call[:3] == ["go", "mod", "download"]]
    assert downloads == [
        "github.com/pulumi/pulumi/pkg/v3@v3.272.0",
        "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@v3.272.0",
        "github.com/pulumi/pulumi-kubernetes/provider/v4@v4.34.2",
        "github.com/pulumi/pulumi-command/provider@v1.2.1",
    ]
    assert (
        "could not build: pulumi pulumi-language-python pulumi-resource-kubernetes "
        in result.stderr
    )
    assert "403 Forbidden" in result.stderr
    assert result.stdout == ""


def test_reuses_a_cached_toolchain_at_the_pinned_versions(tools: Tools, tmp_path: Path) -> None:
    tools.remove("pulumi")
    (tools.stub_bin / "go").symlink_to(STUB)
    cached = tmp_path / "pulumi-3.272.0-kubernetes-4.34.2-command-1.2.1" / "bin"
    cached.mkdir(parents=True)
    for name in ("pulumi", "pulumi-language-python", *PROVIDERS):
        (cached / name).symlink_to(STUB)

    result = tools.run("install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(cached)
    assert not result.called("go")
    assert os.access(cached / "pulumi", os.X_OK)


def test_without_pulumi_or_go_says_what_to_install(tools: Tools, tmp_path: Path) -> None:
    tools.remove("pulumi")

    result = tools.run("install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path)})

    assert result.returncode == 3
    assert "'go' is not on PATH" in result.stderr
