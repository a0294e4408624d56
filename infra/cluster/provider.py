"""The one Kubernetes provider of the program: explicit kubeconfig, server-side apply.

Built from a :class:`~infra.cluster.target.ClusterHandle`, never from the ambient default
context, so a ``pulumi up`` cannot land on whatever cluster ``kubectl`` happens to point at.
"""

from __future__ import annotations

from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from infra.cluster.target import ClusterHandle

PROVIDER_TYPE_NAME: Final = "k8s"


def build_provider(handle: ClusterHandle) -> k8s.Provider:
    """The one Kubernetes provider of the program, explicit and server-side-apply."""
    depends_on = [handle.component] if handle.component is not None else []
    return k8s.Provider(
        PROVIDER_TYPE_NAME,
        # Rendering: an empty kubeconfig, never None. The SDK fills a None from $KUBECONFIG, and
        # the provider refuses any kubeconfig beside renderYamlToDirectory (found by the engine
        # tier: every render failed for a user with KUBECONFIG set).
        kubeconfig=handle.kubeconfig if handle.kubeconfig is not None else "",
        context=handle.context,
        enable_server_side_apply=True,
        # A changed Secret (a rotated token) is updated in place; the pods reading it roll by
        # their checksum annotation. The provider's default replaces it, and as its name is
        # fixed, deletes it first: the gateway's Secret was gone while its pods rolled (found
        # by the engine tier). ConfigMaps likewise.
        enable_secret_mutable=True,
        enable_config_map_mutable=True,
        # Said here, not left to the SDK's PULUMI_K8S_* environment defaults, so that one
        # machine's environment cannot change how another's `pulumi up` behaves.
        enable_patch_force=False,
        upsert_existing_objects=False,
        skip_update_unreachable=False,
        render_yaml_to_directory=handle.render_directory,
        # Deleting a kind cluster takes its objects with it, so an unreachable kind cluster
        # may drop them from state. Never for an existing cluster: that would orphan objects.
        delete_unreachable=handle.disposable,
        opts=pulumi.ResourceOptions(depends_on=depends_on),
    )
