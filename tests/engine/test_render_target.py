"""`cluster.target: render` under the real engine and provider: what `pulumi up` writes.

The first real `pulumi up` of a render stack failed at once on the provider's own check (a
kubeconfig and context beside renderYamlToDirectory). These tests run both stacks through the
engine, check what the provider writes against what `scripts/render` (the mocks) writes, and
hold the policy checks to it.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from infra.offline.mock_engine import run_program
from infra.offline.rendering import manifest_of
from infra.ops.engine import EngineProject, preview, up
from infra.program import run
from infra.settings import SUPPORTED_STACKS
from tests import certificates
from tests.conftest import KNOWN_SECRETS
from tests.engine.conftest import NewProject, stack_config
from tests.policy.checks import (
    checkov_failures,
    checkov_skips,
    pod_specs,
    restricted_violations,
    schema_errors,
)

PROVIDED: Final = certificates.issue(
    certificates.authority(), dns_names=("homelab.local", "localhost"), days=30
)
SECRETS: Final = {
    "studio": KNOWN_SECRETS,
    "homelab": {**KNOWN_SECRETS, "gatewayTlsKey": PROVIDED.key},
}


def render_overrides(stack: str, out: Path) -> dict[str, Any]:
    """Render target, into ``out``; homelab with a provided certificate (generated ones need
    the tls provider)."""
    overrides: dict[str, Any] = {"cluster.target": "render", "cluster.renderDirectory": str(out)}
    if stack == "homelab":
        overrides["gateway.tls"] = {"mode": "provided", "certificate": PROVIDED.chain}
    return overrides


def engine_documents(directory: Path) -> list[dict[str, Any]]:
    """What the provider wrote: one object a file, under 1-manifest/ (0-crd/ for CRDs)."""
    documents: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*.yaml")):
        documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return documents


def mock_documents(stack: str, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """What the mocks register for the same config and secrets (scripts/render's objects,
    with the Secret values left in, so the two can be compared)."""
    # `pulumi config set --secret KEY < file` stores the value without its last newline.
    stored = {name: value.removesuffix("\n") for name, value in SECRETS[stack].items()}
    program_run = run_program(
        run, stack=stack, config=stack_config(stack, overrides), secrets=stored
    )
    documents = []
    for registration in program_run.kubernetes_objects():
        document = manifest_of(program_run, registration).document
        if document["kind"] == "Secret":  # the values, not scripts/render's markers
            document = {**document, "stringData": dict(registration.inputs["stringData"])}
        documents.append(document)
    return documents


def key(document: dict[str, Any]) -> tuple[str, str, str]:
    metadata = document["metadata"]
    return document["kind"], metadata.get("namespace", ""), metadata["name"]


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server would read it, so two spellings of it compare equal:
    Secret ``data`` decoded (the provider writes ``stringData`` as base64 ``data``), and
    ``pulumi.com/*`` annotations, which the provider adds for itself, left out."""
    document = dict(document)
    if document["kind"] == "Secret":
        plain = {
            name: base64.b64decode(value).decode()
            for name, value in (document.get("data") or {}).items()
        }
        document["data"] = {**plain, **(document.pop("stringData", None) or {})}
    metadata = dict(document["metadata"])
    annotations = {
        name: value
        for name, value in (metadata.get("annotations") or {}).items()
        if not name.startswith("pulumi.com/")
    }
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    document["metadata"] = metadata
    return document


@pytest.fixture(scope="module")
def rendered(
    toolchain: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[EngineProject, Path, list[Any]]]:
    """Each stack rendered once by `pulumi up`, then previewed again expecting no change."""
    results: dict[str, tuple[EngineProject, Path, list[Any]]] = {}
    for stack in SUPPORTED_STACKS:
        root = tmp_path_factory.mktemp(f"render-{stack}")
        out = root / "rendered"
        project = EngineProject.create(
            root / "engine", toolchain, stack, stack_config(stack, render_overrides(stack, out)),
            SECRETS[stack],
        )  # fmt: skip
        results[stack] = (project, out / stack, project.run(up(), preview(expect_no_changes=True)))
    return results


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_up_renders_every_object_and_a_second_preview_changes_nothing(
    rendered: dict[str, tuple[EngineProject, Path, list[Any]]], stack: str
) -> None:
    _, out, results = rendered[stack]
    first, second = results

    assert first.ok, first.error
    assert second.ok, second.error
    objects = [s for s in first.steps_of("create") if s.type.startswith("kubernetes:")]
    assert len(objects) == len(engine_documents(out))
    assert second.changed() == {}
    assert not [d for d in first.diagnostics if d.startswith("error")]


@pytest.mark.parametrize("stack", SUPPORTED_STACKS)
def test_the_engine_writes_the_objects_the_mocks_render(
    rendered: dict[str, tuple[EngineProject, Path, list[Any]]], stack: str
) -> None:
    """The first check of the mocks against the real engine: the same objects, field for
    field, once both are read as the API server would read them."""
    _, out, _ = rendered[stack]
    real = {key(d): normalised(d) for d in engine_documents(out)}
    mocked = {key(d): normalised(d) for d in mock_documents(stack, render_overrides(stack, out))}

    assert sorted(real) == sorted(mocked)
    for name, document in mocked.items():
        assert real[name] == document, name


def test_rendered_files_are_private_to_their_owner(
    rendered: dict[str, tuple[EngineProject, Path, list[Any]]],
) -> None:
    """Secret manifests hold their values (README: "Rendering manifests with the engine"); the
    provider writes every file 0600 in 0700 directories."""
    _, out, _ = rendered["studio"]
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_what_the_engine_renders_passes_schema_pod_security_and_checkov(
    rendered: dict[str, tuple[EngineProject, Path, list[Any]]],
) -> None:
    _, out, _ = rendered["homelab"]
    documents = engine_documents(out)

    assert schema_errors(documents, "1.34") == []
    for name, spec in pod_specs(documents):
        assert restricted_violations(spec) == [], name
    assert checkov_failures(out, skip=checkov_skips()) == {}


def test_a_render_stack_exports_its_directory_and_no_kubeconfig(
    rendered: dict[str, tuple[EngineProject, Path, list[Any]]],
) -> None:
    project, out, _ = rendered["studio"]

    outputs = yaml.safe_load(project.cli("stack", "output", "--json").stdout)

    assert outputs["renderDirectory"] == str(out)
    assert "kubeconfig" not in outputs
    assert outputs["clusterTarget"] == "render"


def test_render_mode_reads_no_cluster(new_project: NewProject, tmp_path: Path) -> None:
    """With KUBECONFIG pointing at nothing (the harness's default), the provider renders
    without any cluster: nothing in the program needs one."""
    project = new_project("studio", render_overrides("studio", tmp_path / "out"))

    (result,) = project.run(preview())

    assert result.ok, result.error
    assert result.changes.get("create", 0) > 20
