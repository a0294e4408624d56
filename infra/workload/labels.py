"""The platform's labels and object metadata, in one place so no object hand-writes them.

- :func:`selector_labels`: what selects a component's pods (Services, NetworkPolicies, PDBs);
  it never includes anything that changes, since a Deployment's selector is immutable.
- :func:`component_labels`: the `recommended labels`_ for any object a component owns
  (Secrets, claims, RBAC), selector labels included;
- :func:`standard_labels`: those plus the image version, for the objects of a workload.

.. _recommended labels:
   https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from infra.workload.spec import MANAGED_BY, PART_OF, PlatformContext, WorkloadSpec


def image_version(image: str) -> str:
    """The tag of a pinned image (``repo:tag`` or ``repo:tag@sha256:...``)."""
    reference = image.split("@", 1)[0]
    return reference.rsplit(":", 1)[1] if ":" in reference.rsplit("/", 1)[-1] else "unknown"


def selector_labels(component: str, stack: str) -> dict[str, str]:
    """The labels that select a component's pods; never includes anything that changes."""
    return {"app.kubernetes.io/component": component, "app.kubernetes.io/instance": stack}


def component_labels(component: str, app: str, ctx: PlatformContext) -> dict[str, str]:
    """The labels of any object that ``component`` (running ``app``) owns."""
    return {
        "app.kubernetes.io/name": app,
        **selector_labels(component, ctx.stack),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def standard_labels(spec: WorkloadSpec, ctx: PlatformContext) -> dict[str, str]:
    """The labels of a workload's objects and pods: the component's, and its image version."""
    return {
        **component_labels(spec.component, spec.app, ctx),
        # A label value holds 63 characters at most; a tag may be longer.
        "app.kubernetes.io/version": image_version(spec.settings.image)[:63],
    }


def object_metadata(spec: WorkloadSpec, ctx: PlatformContext) -> k8s.meta.v1.ObjectMetaArgsDict:
    """Name, namespace and labels shared by every object of a workload."""
    return {
        "name": spec.component,
        "namespace": ctx.namespace,
        "labels": standard_labels(spec, ctx),
    }
