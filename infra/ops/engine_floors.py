"""The floors the benchmark measures the program against, run inline like it.

An empty program is the floor of the engine and the runtime; one ConfigMap through a rendering
Kubernetes provider is the floor of any program here (the provider's start, one object). Both
import what they use when the engine calls them, as the program does.
"""

from __future__ import annotations

from typing import Final

RENDER_DIRECTORY_KEY: Final = "floorRenderDirectory"


def empty() -> None:
    """No resource: the engine and the language runtime alone."""


def one_configmap() -> None:
    """One ConfigMap through the same provider, rendering to the stack's directory."""
    import pulumi  # noqa: PLC0415 (timed with the operation, as the program's imports are)
    import pulumi_kubernetes as k8s  # noqa: PLC0415

    directory = pulumi.Config().require(RENDER_DIRECTORY_KEY)
    # kubeconfig "": as the program's render provider (infra/cluster/provider.py says why).
    provider = k8s.Provider("k8s", kubeconfig="", render_yaml_to_directory=directory)
    k8s.core.v1.ConfigMap(
        "floor",
        metadata={"name": "floor", "namespace": "default"},
        data={"floor": "1"},
        opts=pulumi.ResourceOptions(provider=provider),
    )
