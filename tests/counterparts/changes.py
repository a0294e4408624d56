"""A change of settings on a deployed stack, carried out as ``pulumi up`` would carry it out.

The program is rendered with the changed settings (under the same mocks as ``scripts/render``),
and its resource options are recorded too. Then, object by object, what Pulumi would do:

- ``ignore_changes`` paths keep their old input, and the provider then sends the live value
  (or leaves out a field that only another manager owns), as pulumi-kubernetes does;
- a changed field that a ``replace_on_changes`` path of the object covers: a replacement,
  refused before anything changes when the object is ``protect``-ed (that option's purpose),
  else delete-then-create, as the provider does for an object whose name is fixed;
- any other change: a dry run (preview), then a server-side apply. Where the API server
  refuses a field that cannot change in place, the change is a problem: ``pulumi up`` would
  fail there, because nothing in the program asks for a replacement.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from unittest import mock

import yaml
from google.protobuf import json_format

from infra.offline import mock_engine
from infra.offline.rendering import render_stack
from infra.settings import read_stack_file
from tests.conftest import PROJECT_DIR, merge
from tests.counterparts.apply import (
    CLUSTER_SCOPED,
    FIELD_MANAGER,
    IMMUTABLE,
    ApplyResult,
    Key,
    apply,
    delete,
    describe,
    key_of,
    live,
    with_test_secrets,
)
from tests.counterparts.control_plane import Kubectl

PROJECT_FILE: Final = "Pulumi.yaml"


@dataclass(frozen=True)
class Options:
    """The resource options of one Kubernetes object that matter to a replacement."""

    replace_on_changes: tuple[str, ...] = ()
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()


@dataclass
class Rendered:
    manifests: list[dict[str, Any]]
    options: dict[Key, Options]


@contextlib.contextmanager
def _recording_options() -> Iterator[dict[Key, Options]]:
    recorded: dict[Key, Options] = {}
    original = mock_engine.RecordingMonitor.RegisterResource

    def register(self: mock_engine.RecordingMonitor, request: Any) -> Any:
        if request.custom and request.type.startswith("kubernetes:"):
            inputs = json_format.MessageToDict(request.object)
            metadata = inputs.get("metadata", {})
            key = (
                request.type.rsplit(":", 1)[1],
                str(metadata.get("namespace") or ""),
                str(metadata.get("name", "")),
            )
            recorded[key] = Options(
                tuple(request.replaceOnChanges),
                bool(request.protect),
                tuple(request.ignoreChanges),
            )
        return original(self, request)

    with mock.patch.object(mock_engine.RecordingMonitor, "RegisterResource", register):
        yield recorded


def render(stack: str, overrides: Mapping[str, Any], work: Path) -> Rendered:
    """The stack's objects with ``overrides`` (dotted keys, as tests/conftest.merge takes)
    applied to its stack file, Secret markers replaced by test values."""
    project = work / "project"
    project.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PROJECT_DIR / PROJECT_FILE, project / PROJECT_FILE)
    config = merge(read_stack_file(stack, PROJECT_DIR), overrides)
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    with _recording_options() as options:
        rendering = render_stack(stack, project)
    return Rendered(with_test_secrets(m.document for m in rendering.manifests), options)


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Property paths (Pulumi's dotted form) whose values differ; lists compare whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for name in sorted(set(old) | set(new)):
            path = f"{prefix}.{name}" if prefix else name
            paths += changed_paths(old.get(name), new.get(name), path)
        return paths
    return [] if old == new else [prefix]


def covered(path: str, patterns: Sequence[str]) -> bool:
    return any(p in ("*", path) or path.startswith(f"{p}.") for p in patterns)


@dataclass
class Outcome:
    accepted: list[Key] = field(default_factory=list)
    replaced: list[Key] = field(default_factory=list)
    blocked_by_protect: list[Key] = field(default_factory=list)
    deleted: list[Key] = field(default_factory=list)
    previous: dict[Key, dict[str, Any]] = field(default_factory=dict)
    """Each updated object as it was on the server just before the update."""
    written: dict[Key, dict[str, Any]] = field(default_factory=dict)
    """Each object as the API server wrote it."""
    problems: list[str] = field(default_factory=list)
    """What would make ``pulumi up`` fail: errors, warnings, and immutable fields the program
    does not replace."""


def carry_out(kubectl: Kubectl, old: Rendered, new: Rendered) -> Outcome:
    """Update the deployed ``old`` objects to ``new`` as ``pulumi up`` would."""
    outcome = Outcome()
    before = {key_of(d): d for d in old.manifests}
    after = {key_of(d): d for d in new.manifests}
    planned = [d for key, d in after.items() if before.get(key) != d]
    existing = [before[key_of(d)] for d in planned if key_of(d) in before]
    outcome.previous = live(kubectl, existing) if existing else {}
    updates: list[dict[str, Any]] = []
    for document in planned:
        key = key_of(document)
        options = new.options.get(key, Options())
        sent = ignoring_changes(
            before.get(key), document, outcome.previous.get(key), options.ignore_changes
        )
        if sent == before.get(key):
            continue  # the only differences are ignored: Pulumi plans no update
        paths = changed_paths(before[key], sent) if key in before else []
        if not any(covered(path, options.replace_on_changes) for path in paths):
            updates.append(sent)
        elif options.protect:
            # Pulumi refuses to replace a protected resource before it changes anything.
            outcome.blocked_by_protect.append(key)
        else:
            # Delete-then-create, as the provider replaces an object whose name is fixed.
            delete(kubectl, [before[key]])
            _record(outcome, apply(kubectl, [sent], dry_run=False), outcome.replaced)
    for group in (
        [d for d in updates if d["kind"] in CLUSTER_SCOPED],
        [d for d in updates if d["kind"] not in CLUSTER_SCOPED],
    ):
        if group and not _update_together(kubectl, group, outcome):
            for document in group:  # one by one, to say which object is refused and why
                _update(kubectl, document, before.get(key_of(document)), outcome)
    removed = [d for key, d in before.items() if key not in after]
    delete(kubectl, removed)
    outcome.deleted = [key_of(d) for d in removed]
    return outcome


def _record(outcome: Outcome, result: ApplyResult, done: list[Key]) -> None:
    outcome.written.update(result.objects)
    if result.clean:
        done += [key_of(d) for d in result.documents]
    else:
        outcome.problems.append(result.report())


def _update_together(kubectl: Kubectl, group: list[dict[str, Any]], outcome: Outcome) -> bool:
    """Preview and apply ``group`` in one go; False (nothing applied) when the preview is not
    clean."""
    if not apply(kubectl, group, dry_run=True).clean:
        return False
    _record(outcome, apply(kubectl, group, dry_run=False), outcome.accepted)
    return True


def _update(
    kubectl: Kubectl, document: dict[str, Any], old: dict[str, Any] | None, outcome: Outcome
) -> None:
    key = key_of(document)
    preview = apply(kubectl, [document], dry_run=True)
    if preview.clean:
        _record(outcome, apply(kubectl, [document], dry_run=False), outcome.accepted)
    elif old is not None and IMMUTABLE.search("\n".join(preview.errors)):
        paths = changed_paths(old, document)
        outcome.problems.append(
            f"{describe(key)}: the API server refuses to change {', '.join(paths)} in "
            f"place and the program does not replace it (no replace_on_changes covers "
            f"them), so `pulumi up` would fail:\n" + "\n".join(preview.errors)
        )
    else:
        outcome.problems.append(preview.report())


def _get(document: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _set(document: dict[str, Any], path: str, value: Any, *, present: bool) -> None:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    if present:
        node[last] = copy.deepcopy(value)
    else:
        node.pop(last, None)


def _managed_by_others(item: Mapping[str, Any], path: str) -> tuple[bool, bool]:
    """(another manager owns ``path``, our field manager owns it), from managedFields."""
    theirs = ours = False
    for entry in item["metadata"].get("managedFields", []):
        found, _ = _get(entry.get("fieldsV1", {}), ".".join(f"f:{p}" for p in path.split(".")))
        if found and entry.get("manager") == FIELD_MANAGER:
            ours = True
        elif found:
            theirs = True
    return theirs, ours


def ignoring_changes(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    item: Mapping[str, Any] | None,
    ignore_changes: Sequence[str],
) -> dict[str, Any]:
    """``new`` as Pulumi sends it with ``ignore_changes``: the engine keeps the old input of
    each ignored path; then, under server-side apply, the provider drops a field that only
    other managers own, or sends the live value (pulumi-kubernetes' handleSSAIgnoreFields)."""
    document = copy.deepcopy(dict(new))
    if old is None or item is None or not ignore_changes:
        return document
    for path in ignore_changes:
        present, value = _get(old, path)
        _set(document, path, value, present=present)
    for path in ignore_changes:
        theirs, ours = _managed_by_others(item, path)
        if theirs and not ours:
            _set(document, path, None, present=False)
            continue
        present, value = _get(item, path)
        if present:
            _set(document, path, value, present=True)
    return document


def scaled_down_below_the_autoscaler(outcome: Outcome, target: Rendered) -> dict[str, str]:
    """Deployments that an update scaled below both their previous count and their
    autoscaler's minimum: Pods killed only for the autoscaler to start them again."""
    minimums = {
        (d["metadata"]["namespace"], d["spec"]["scaleTargetRef"]["name"]): d["spec"]["minReplicas"]
        for d in target.manifests
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    dips = {}
    for key, written in outcome.written.items():
        minimum = minimums.get((key[1], key[2]))
        if key[0] != "Deployment" or minimum is None or key not in outcome.previous:
            continue
        before = outcome.previous[key]["spec"]["replicas"]
        after = written["spec"]["replicas"]
        if after < min(before, minimum):
            dips[describe(key)] = f"{before} -> {after} replicas (autoscaler minimum {minimum})"
    return dips
