"""scripts/install-pulumi-toolchain against a stub pulumi CLI and a fake go.

The real build is what the engine tier uses; these tests pin the script's own behaviour: the
plugin path with a recent CLI, the build steps and their order (the provider's generate step in
a writable copy, before its build), the cache it reuses, and what it refuses.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final

import pytest

from tests.conftest import PROJECT_DIR
from tests.go_modules import inputs_digest, required_version
from tests.stub_tools import STUB, Result, Tools

CLI_MODULE: Final = PROJECT_DIR / "tools" / "pulumi-cli"
PROVIDER_MODULE: Final = PROJECT_DIR / "tools" / "pulumi-kubernetes-provider"
BUILD_TOOLS: Final = ("awk", "find", "xargs", "sha256sum", "cut", "chmod")

# A pulumi CLI as the Pulumi action or installer leaves it: `version`, and `plugin install`
# writing the provider where Pulumi keeps plugins ($PULUMI_HOME/plugins/<kind>-<name>-v<x>/).
PULUMI_CLI: Final = """#!/usr/bin/env bash
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

# go as the script uses it: `env GOVERSION`, `-C DIR mod download|mod edit|list -m|build`.
# A build writes a small program to its -o path; the provider's source is a fake module
# directory ($FAKE_MODULE_DIR) whose generate step must run before the provider's build.
FAKE_GO: Final = r"""#!/usr/bin/env bash
set -euo pipefail
{ printf 'go'; printf '\t%s' "$@"; printf '\tcwd=%s\tflags=%s\n' "$PWD" "${GOFLAGS:-}"; } \
  >>"$STUB_STATE/calls.log"
if [[ "$1 ${2:-}" == "env GOVERSION" ]]; then echo "${FAKE_GO_VERSION:-go1.26.8}"; exit 0; fi
[[ $1 == -C ]] && { dir=$2; shift 2; }
[[ ! -e $STUB_STATE/fail-go-$1 ]] || { echo "go: $1: fake failure" >&2; exit 1; }
case $1 in
  mod) ;;
  list) echo "$FAKE_MODULE_DIR" ;;
  build)
    out=""; while (($#)); do [[ $1 == -o ]] && out=$2; last=$1; shift; done
    case $last in
      */cmd/pulumi) printf '#!/bin/sh\necho v%s\n' "${FAKE_BUILT_VERSION:-3.276.0}" >"$out" ;;
      *generate.go) printf '#!/bin/sh\necho "$VERSION" >schema-embed.json\n' >"$out" ;;
      */cmd/pulumi-resource-kubernetes)
        [[ -f $dir/provider/cmd/pulumi-resource-kubernetes/schema-embed.json ]] ||
          { echo "pattern schema-embed.json: no matching files found" >&2; exit 1; }
        printf '#!/bin/sh\nexit 0\n' >"$out" ;;
    esac
    chmod +x "$out" ;;
esac
"""


def built_cache(root: Path) -> Path:
    cli = required_version(CLI_MODULE, "github.com/pulumi/pulumi/pkg/v3")
    provider = required_version(PROVIDER_MODULE, "github.com/pulumi/pulumi-kubernetes/provider/v4")
    name = f"pulumi-{cli}-kubernetes-{provider}-{inputs_digest(CLI_MODULE, PROVIDER_MODULE)}"
    return root / name / "bin"


def with_pulumi_cli(tools: Tools) -> None:
    cli = tools.stub_bin / "pulumi"
    cli.unlink()
    cli.write_text(PULUMI_CLI)
    cli.chmod(0o755)


def with_build_tools(tools: Tools) -> None:
    """The system tools the build path uses besides those every script test has."""
    for tool in BUILD_TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (tools.system_bin / tool).symlink_to(found)


@pytest.fixture
def go(tools: Tools, tmp_path: Path) -> dict[str, str]:
    """A fake go and a fake provider module to copy; no pulumi CLI. Returns the environment."""
    tools.remove("pulumi")
    fake = tools.stub_bin / "go"
    fake.write_text(FAKE_GO)
    fake.chmod(0o755)
    with_build_tools(tools)
    module = tmp_path / "module-cache" / "provider"
    (module / "cmd" / "pulumi-resource-kubernetes").mkdir(parents=True)
    (module / "cmd" / "pulumi-resource-kubernetes" / "generate.go").write_text("package main\n")
    module.chmod(0o555)  # the module cache is read-only
    return {"PULUMI_TOOLCHAIN_CACHE": str(tmp_path / "cache"), "FAKE_MODULE_DIR": str(module)}


def go_calls(result: Result) -> list[list[str]]:
    return [call for call in result.calls if call[0] == "go" and call[1:3] != ["env", "GOVERSION"]]


def plugin_installs(result: Result) -> list[list[str]]:
    return [call for call in result.calls if call[:3] == ["pulumi", "plugin", "install"]]


def test_with_a_recent_pulumi_cli_installs_the_pinned_providers_as_plugins_and_builds_nothing(
    tools: Tools, tmp_path: Path
) -> None:
    with_pulumi_cli(tools)
    (tools.stub_bin / "go").symlink_to(STUB)
    env = {"PULUMI_TOOLCHAIN_CACHE": str(tmp_path / "cache")}

    first = tools.run("install-pulumi-toolchain", env=env)
    second = tools.run("install-pulumi-toolchain", env=env)

    assert first.returncode == 0, first.stderr
    home = f"PULUMI_HOME={tmp_path}/cache/pulumi-home"
    # One plugin per provider SDK that requirements.txt pins.
    assert plugin_installs(first) == [
        ["pulumi", "plugin", "install", "resource", "command", "v1.2.1", home],
        ["pulumi", "plugin", "install", "resource", "kubernetes", "v4.34.2", home],
        ["pulumi", "plugin", "install", "resource", "tls", "v5.6.2", home],
    ]
    assert not first.called("go")
    bin_dir = Path(first.stdout.strip())
    assert bin_dir == (
        tmp_path / "cache" / "cli-3.272.0-command-1.2.1-kubernetes-4.34.2-tls-5.6.2" / "bin"
    )
    assert (bin_dir / "pulumi").resolve() == (tools.stub_bin / "pulumi").resolve()
    for name, version in (("kubernetes", "4.34.2"), ("command", "1.2.1"), ("tls", "5.6.2")):
        provider = bin_dir / f"pulumi-resource-{name}"
        assert provider.resolve() == (
            tmp_path / "cache" / "pulumi-home" / "plugins" / f"resource-{name}-v{version}"
            / f"pulumi-resource-{name}"
        )  # fmt: skip
        assert os.access(provider, os.X_OK)
    # The second run finds the plugins in the cache: nothing to download.
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert plugin_installs(second) == plugin_installs(first)  # the calls log is cumulative


def test_its_own_bin_directory_first_on_path_is_passed_over(tools: Tools, tmp_path: Path) -> None:
    """The usage puts the printed directory first on PATH; a second run must still link the
    real CLI, never its own link to itself."""
    with_pulumi_cli(tools)
    env = {"PULUMI_TOOLCHAIN_CACHE": str(tmp_path / "cache")}
    first = tools.run("install-pulumi-toolchain", env=env)
    bin_dir = first.stdout.strip()

    again = tools.run(
        "install-pulumi-toolchain", env={**env, "PATH": f"{bin_dir}:{tools.environment()['PATH']}"}
    )

    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert (Path(bin_dir) / "pulumi").resolve() == (tools.stub_bin / "pulumi").resolve()
    assert f"({(tools.stub_bin / 'pulumi').resolve()})" in again.stderr


def test_a_failed_plugin_install_names_the_plugin_and_exits_5(tools: Tools, tmp_path: Path) -> None:
    with_pulumi_cli(tools)
    (tools.state / "fail-plugin-command").touch()

    result = tools.run(
        "install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path / "cache")}
    )

    assert result.returncode == 5
    assert "pulumi plugin install resource command v1.2.1 failed" in result.stderr
    assert not plugin_installs(result)[1:], "stops at the first failure"
    assert result.stdout == ""


def test_without_a_recent_cli_builds_the_cli_then_generates_and_builds_the_provider(
    tools: Tools, go: dict[str, str], tmp_path: Path
) -> None:
    first = tools.run("install-pulumi-toolchain", env=go)

    assert first.returncode == 0, first.stderr
    bin_dir = Path(first.stdout.strip())
    assert bin_dir == built_cache(tmp_path / "cache")
    assert {p.name for p in bin_dir.iterdir()} == {
        ".complete", "pulumi", "pulumi-resource-kubernetes",
    }  # fmt: skip
    steps = [(call[1], call[2], call[3]) for call in go_calls(first)]
    assert steps == [
        ("-C", str(CLI_MODULE), "build"),
        ("-C", str(PROVIDER_MODULE), "mod"),  # download, verified against go.sum
        ("-C", str(PROVIDER_MODULE), "list"),
        (steps[3][0], steps[3][1], "mod"),  # edit: the replace, in the copy of the module
        (steps[4][0], steps[3][1], "build"),  # generate.go
        (steps[5][0], steps[3][1], "build"),  # the provider, after its generate step
    ]
    assert all("flags=-mod=readonly -buildvcs=false" in call[-1] for call in go_calls(first))
    assert "provider/v4=./provider" in "\t".join(go_calls(first)[3])
    # The build's scratch copy is gone; the module cache was never written.
    assert not Path(steps[3][1]).exists()
    second = tools.run("install-pulumi-toolchain", env=go)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert go_calls(second) == go_calls(first), "a complete cache is reused at once"


def test_a_failed_build_exits_5_with_gos_error_and_caches_nothing(
    tools: Tools, go: dict[str, str], tmp_path: Path
) -> None:
    (tools.state / "fail-go-build").touch()

    result = tools.run("install-pulumi-toolchain", env=go)

    assert result.returncode == 5
    assert "go: build: fake failure" in result.stderr
    assert "go build in tools/pulumi-cli failed" in result.stderr
    assert result.stdout == ""
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []


def test_a_built_cli_that_reports_another_version_is_not_cached(
    tools: Tools, go: dict[str, str], tmp_path: Path
) -> None:
    result = tools.run("install-pulumi-toolchain", env={**go, "FAKE_BUILT_VERSION": "3.1.0"})

    assert result.returncode == 5
    assert "the built pulumi says '3.1.0', not '3.276.0'" in result.stderr
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []


def test_an_old_go_is_refused_with_the_version_needed(tools: Tools, go: dict[str, str]) -> None:
    result = tools.run("install-pulumi-toolchain", env={**go, "FAKE_GO_VERSION": "go1.22.5"})

    assert result.returncode == 3
    assert "go 1.22.5 is older than the 1.26.6 that the Pulumi CLI" in result.stderr
    assert "install the Pulumi CLI 3.272.0 or newer" in result.stderr


def test_an_older_cli_on_path_is_passed_over_for_the_build(
    tools: Tools, go: dict[str, str]
) -> None:
    (tools.stub_bin / "pulumi").write_text(PULUMI_CLI)
    (tools.stub_bin / "pulumi").chmod(0o755)

    result = tools.run("install-pulumi-toolchain", env={**go, "STUB_PULUMI_VERSION": "3.100.0"})

    assert result.returncode == 0, result.stderr
    assert not plugin_installs(result)
    assert go_calls(result)


def test_without_pulumi_or_go_says_what_to_install(tools: Tools, tmp_path: Path) -> None:
    tools.remove("pulumi")
    with_build_tools(tools)

    result = tools.run(
        "install-pulumi-toolchain", env={"PULUMI_TOOLCHAIN_CACHE": str(tmp_path / "cache")}
    )

    assert result.returncode == 3
    assert "'go' is not on PATH" in result.stderr
    assert "install the Pulumi CLI 3.272.0 or newer" in result.stderr
