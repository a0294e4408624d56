"""scripts/install-pulumi-toolchain against stub pulumi, providers and go."""

from __future__ import annotations

import os
from pathlib import Path

from tests.stub_tools import STUB, Result, Tools

PROVIDERS = ("pulumi-resource-kubernetes", "pulumi-resource-command", "pulumi-resource-tls")


def with_providers(tools: Tools) -> None:
    for name in PROVIDERS:
        (tools.stub_bin / name).symlink_to(STUB)


# A pulumi CLI as the Pulumi action or installer leaves it: `version`, and `plugin install`
# writing the provider where Pulumi keeps plugins ($PULUMI_HOME/plugins/<kind>-<name>-v<x>/).
PULUMI_CLI = """#!/usr/bin/env bash
set -euo pipefail
{ printf 'pulumi'; printf '\\t%s' "$@"; printf '\\tPULUMI_HOME=%s\\n' "${PULUMI_HOME:-}"; } \\
  >>"$STUB_STATE/calls.log"
case "$1 ${2:-}" in
  "version ") echo "v${STUB_PULUMI_VERSION:-3.272.0}" ;;
  "plugin install")
    [[ ! -e $STUB_STATE/fail-plugin-$4 ]] || { echo "error: 404 $4 $5" >&2; exit 255; }
    dir="$PULUMI_HOME/plugins/$3-$4-$5"
    mkdir -p "$dir"
    cp "$0" "$dir/pulumi-$3-$4" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""


def with_pulumi_cli(tools: Tools, *, language_host: bool = True) -> None:
    cli = tools.stub_bin / "pulumi"
    cli.unlink()
    cli.write_text(PULUMI_CLI)
    cli.chmod(0o755)
    if language_host:
        (tools.stub_bin / "pulumi-language-python").symlink_to(STUB)


def plugin_installs(result: Result) -> list[list[str]]:
    return [call for call in result.calls if call[:3] == ["pulumi", "plugin", "install"]]


def test_with_a_recent_pulumi_cli_installs_the_pinned_providers_as_plugins_and_builds_nothing(
    tools: Tools, tmp_path: Path
) -> None:
    with_pulumi_cli(tools)
    (tools.stub_bin / "go").symlink_to(STUB)
    env = {"PULUMI_TOOLCHAIN_CACHE": str(tmp_path)}

    first = tools.run("install-pulumi-toolchain", env=env)
    second = tools.run("install-pulumi-toolchain", env=env)

    assert first.returncode == 0, first.stderr
    home = f"PULUMI_HOME={tmp_path}/pulumi-home"
    # One plugin per provider SDK that requirements.txt pins.
    assert plugin_installs(first) == [
        ["pulumi", "plugin", "install", "resource", "command", "v1.2.1", home],
        ["pulumi", "plugin", "install", "resource", "kubernetes", "v4.34.2", home],
        ["pulumi", "plugin", "install", "resource", "tls", "v5.6.2", home],
    ]
    assert not first.called("go")
    bin_dir = Path(first.stdout.strip())
    assert bin_dir == tmp_path / "cli-3.272.0-command-1.2.1-kubernetes-4.34.2-tls-5.6.2" / "bin"
    assert (bin_dir / "pulumi").resolve() == (tools.stub_bin / "pulumi").resolve()
    assert (bin_dir / "pulumi-language-python").resolve() == STUB.resolve()
    for name, version in (("kubernetes", "4.34.2"), ("command", "1.2.1"), ("tls", "5.6.2")):
        provider = bin_dir / f"pulumi-resource-{name}"
        assert provider.resolve() == (
            tmp_path / "pulumi-home" / "plugins" / f"resource-{name}-v{version}"
            / f"pulumi-resource-{name}"
        )  # fmt: skip
        assert os.access(provider, os.X_OK)
    # The second run finds the plugins in the cache: nothing to download.
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert plugin_installs(second) == plugin_installs(first)  # the calls log is cumulative


def test_a_failed_plugin_install_names_the_plugin_and_exits_5(tools: Tools, tmp_path: Path) -> None:
    with_pulumi_cli(tools)
    (tools.state / "fail-plugin-command").touch()

    result = tools.run("install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path)})

    assert result.returncode == 5
    assert "pulumi plugin install resource command v1.2.1 failed" in result.stderr
    assert not plugin_installs(result)[1:], "stops at the first failure"
    assert result.stdout == ""


def test_a_cli_without_its_language_host_is_refused_with_the_fix(
    tools: Tools, tmp_path: Path
) -> None:
    with_pulumi_cli(tools, language_host=False)

    result = tools.run("install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path)})

    assert result.returncode == 5
    assert "no pulumi-language-python beside" in result.stderr
    assert "reinstall the Pulumi CLI" in result.stderr


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
        "github.com/pulumi/pulumi-tls/provider/v5@v5.6.2",
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
    cached = tmp_path / "pulumi-3.272.0-kubernetes-4.34.2-command-1.2.1-tls-5.6.2" / "bin"
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
    assert "install the Pulumi CLI 3.272.0 or newer" in result.stderr
