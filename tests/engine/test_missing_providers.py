"""Scenarios that need the command provider (the kind target) or the tls provider (generated
gateway certificates). Their Go modules cannot be had here, so on a toolchain built from Go they
skip, naming the provider; with a pulumi CLI that installs plugins they run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.ops.engine import preview, up
from infra.settings import SUPPORTED_STACKS
from tests.engine.conftest import NewProject, require_providers


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_preview_of_each_stack_as_its_file_says_plans_the_kind_cluster(
    toolchain: Path, new_project: NewProject, stack: str
) -> None:
    """The stack files target kind; a preview plans the cluster's command without running it."""
    require_providers(toolchain, "command", *(["tls"] if stack == "homelab" else []))
    project = new_project(stack)

    (result,) = project.run(preview())

    assert result.ok, result.error
    assert result.op(stack, "command:local:Command") == "create"


def test_homelab_renders_with_a_generated_certificate(
    toolchain: Path, new_project: NewProject, tmp_path: Path
) -> None:
    require_providers(toolchain, "tls")
    out = tmp_path / "out"
    project = new_project(
        "homelab", {"cluster.target": "render", "cluster.renderDirectory": str(out)}
    )

    applied, again = project.run(up(), preview(expect_no_changes=True))

    assert applied.ok, applied.error
    assert again.ok, again.error
    assert (out / "homelab" / "1-manifest").is_dir()
    assert applied.op("gateway-ca-key", "tls:index/privateKey:PrivateKey") == "create"
