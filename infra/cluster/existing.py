"""ExistingCluster: deploy onto a cluster someone else runs (the way past one machine).

Nothing is created: the kubeconfig comes from the secret config value ``agent-platform:kubeconfig``
and the context from ``cluster.context`` (the kubeconfig's current context when unset).
"""

from __future__ import annotations

from typing import Final

import pulumi


class ExistingCluster(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:cluster:ExistingCluster"

    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    context: pulumi.Output[str | None]

    def __init__(
        self,
        name: str,
        *,
        cluster_name: str,
        kubeconfig: pulumi.Output[str],
        context: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.cluster_name = pulumi.Output.from_input(cluster_name)
        self.kubeconfig = pulumi.Output.secret(kubeconfig)
        self.context = pulumi.Output.from_input(context)
        self.register_outputs({"clusterName": self.cluster_name, "kubeconfig": self.kubeconfig})
