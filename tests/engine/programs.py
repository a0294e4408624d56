"""Inline programs for the engine tier that change what only a test harness may change.

The program itself (``infra.program:run``) has no code path for tests; what a scenario needs
around it is a transform registered here, before the program runs.
"""

from __future__ import annotations

from typing import Final

import pulumi

from infra.program import run

SKIP_AWAIT: Final = "pulumi.com/skipAwait"


def _skip_await(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Kubernetes objects get ``pulumi.com/skipAwait: "true"``: on a control plane with no
    node, no pod ever becomes ready, so the provider's readiness wait could only time out."""
    if not args.custom or not args.type_.startswith("kubernetes:"):
        return None
    props = dict(args.props)
    metadata = props.get("metadata") or {}
    if not isinstance(metadata, dict):  # the program passes every metadata as a plain dict
        raise TypeError(f"{args.name}: metadata is {type(metadata).__name__}, not a dict")
    metadata = dict(metadata)
    metadata["annotations"] = {**(metadata.get("annotations") or {}), SKIP_AWAIT: "true"}
    props["metadata"] = metadata
    return pulumi.ResourceTransformResult(props, args.opts)


def without_readiness_wait() -> None:
    """The program, with the provider's readiness wait off for every Kubernetes object."""
    pulumi.runtime.register_resource_transform(_skip_await)
    run()
