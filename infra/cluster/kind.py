"""KindCluster: a local kind cluster created by ``scripts/create-kind-cluster``.

The cluster is a pulumi-command ``local.Command``. Why a script rather than a provider: kind has
no Pulumi provider, and the script is also what operators run by hand, so both paths share one
implementation of preflight, idempotency and cleanup.

Safety of the command line: the create/delete strings are constants. The cluster name and all
options travel as environment variables (and the kind config on stdin), and the script quotes
them, so no setting is ever interpolated into a shell string.

Time: two bounds. ``CustomTimeouts`` tells the engine how long create/delete may take; the
script enforces ``CLUSTER_CREATE_TIMEOUT`` itself with ``timeout``, because a hung ``kind`` or
``docker`` would otherwise keep ``pulumi up`` waiting forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi

from infra.cluster.kind_config import config_digest, kind_config_yaml
from infra.paths import REPO_ROOT
from infra.settings import ClusterSettings

CREATE_COMMAND: Final = 'exec ./scripts/create-kind-cluster "$KIND_CLUSTER_NAME"'
DELETE_COMMAND: Final = 'exec ./scripts/delete-kind-cluster "$KIND_CLUSTER_NAME" --yes'
# Grace beyond the script's own bound, so the script reports the timeout, not the engine.
ENGINE_TIMEOUT_MARGIN_SECONDS: Final = 60


@dataclass(frozen=True)
class KindClusterArgs:
    cluster: ClusterSettings
    gateway_node_port: int


class KindCluster(pulumi.ComponentResource):
    """A kind cluster; ``kubeconfig`` is a secret Output."""

    TYPE: Final = "agent-platform:cluster:KindCluster"

    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    context: pulumi.Output[str]

    def __init__(
        self, name: str, args: KindClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        cluster = args.cluster
        config_yaml = kind_config_yaml(cluster, gateway_node_port=args.gateway_node_port)

        environment = {
            "KIND_CLUSTER_NAME": cluster.name,
            "KIND_NODE_IMAGE": cluster.node_image,
            "CLUSTER_CREATE_TIMEOUT": str(cluster.create_timeout_seconds),
            "CLUSTER_DELETE_TIMEOUT": str(cluster.delete_timeout_seconds),
        }
        if cluster.registry.enabled:
            environment["KIND_REGISTRY_NAME"] = cluster.registry.name
            environment["KIND_REGISTRY_PORT"] = str(cluster.registry.host_port)

        # Imported here: only the kind target uses pulumi-command.
        from pulumi_command import local  # noqa: PLC0415

        self.command = local.Command(
            f"{name}-kind",
            create=CREATE_COMMAND,
            delete=DELETE_COMMAND if cluster.delete_on_destroy else None,
            dir=str(REPO_ROOT),
            environment=environment,
            stdin=config_yaml,
            # Anything that changes the nodes replaces the cluster; kind cannot edit one.
            triggers=[cluster.node_image, cluster.workers, config_digest(config_yaml)],
            # stdout is the kubeconfig: keep it out of the engine's logs.
            logging=local.Logging.STDERR,
            # ...and out of the delete command's environment.
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["stdout"],
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{cluster.create_timeout_seconds + ENGINE_TIMEOUT_MARGIN_SECONDS}s",
                    update=f"{cluster.create_timeout_seconds + ENGINE_TIMEOUT_MARGIN_SECONDS}s",
                    delete=f"{cluster.delete_timeout_seconds + ENGINE_TIMEOUT_MARGIN_SECONDS}s",
                ),
                # Same name, so the old cluster must go before the new one is created.
                delete_before_replace=True,
                # A kept cluster (homelab) survives destroy and replacement; the create script
                # then refuses a reused cluster whose node image differs, with instructions.
                retain_on_delete=not cluster.delete_on_destroy,
            ),
        )
        self.cluster_name = pulumi.Output.from_input(cluster.name)
        self.kubeconfig = pulumi.Output.secret(self.command.stdout)
        self.context = pulumi.Output.from_input(f"kind-{cluster.name}")
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "context": self.context,
            }
        )
