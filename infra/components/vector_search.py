"""VectorSearch: Qdrant as a one-replica StatefulSet on a protected PersistentVolumeClaim.

- Data lives in the PVC ``vector-search-data``, created by Pulumi (not a claim template) so it
  can carry ``protect``: an accidental destroy or replacement fails instead of deleting data.
  Pod restarts and ``pulumi up`` updates keep the same claim. It holds ``storage/`` (the
  collections) and ``snapshots/`` (local snapshots; with S3 configured they go to the bucket).
- The API key comes from a Kubernetes Secret made from the ``vectorSearchApiKey`` secret.
- Optional snapshots on S3-compatible storage (Qdrant's ``snapshots_config``), credentials from
  a second Secret.
- The unprivileged image runs as UID 1000 with a read-only root; Qdrant's init marker file goes
  to an emptyDir (``QDRANT_INIT_FILE_PATH``), as the official chart does.
- Qdrant's ``/metrics`` needs the API key, so no anonymous scrape annotation is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from infra.components.vector_search_backup import COMPONENT as BACKUP
from infra.components.vector_search_backup import VectorSearchBackup, VectorSearchBackupArgs
from infra.endpoints import Endpoint, SecretRef
from infra.settings import StackSecrets, VectorSearchSettings
from infra.workload import (
    ClaimVolume,
    ContainerPort,
    HttpProbe,
    Peer,
    PlatformContext,
    Probes,
    ScratchVolume,
    SecretEnv,
    WorkloadSpec,
    build_workload,
    checksum,
    component_labels,
)

COMPONENT: Final = "vector-search"
APP: Final = "qdrant"
RUN_AS_USER: Final = 1000
API_KEY_SECRET: Final = "vector-search-api-key"  # noqa: S105 (an object name)
API_KEY_FIELD: Final = "api-key"
READ_ONLY_KEY_FIELD: Final = "read-only-api-key"
SNAPSHOT_SECRET: Final = "vector-search-snapshots"  # noqa: S105 (an object name)
DATA_CLAIM: Final = "vector-search-data"


@dataclass(frozen=True)
class VectorSearchArgs:
    settings: VectorSearchSettings
    context: PlatformContext
    secrets: StackSecrets
    allow_from: tuple[str, ...] = ("gateway", "mcp")


CLAIM_REPLACED_ON: Final = ["spec.resources.requests.storage", "spec.storageClassName"]


class VectorSearch(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:VectorSearch"

    service_name: pulumi.Output[str]
    endpoint: Endpoint
    """Qdrant's REST API."""
    grpc: Endpoint
    """Qdrant's gRPC API, on the same Service."""
    api_key: SecretRef
    """The API key clients send; its checksum rolls the pods of clients that read it."""
    read_only_key: SecretRef | None
    """Qdrant's read-only key, when the secret ``vectorSearchReadOnlyApiKey`` is set."""

    def __init__(
        self, name: str, args: VectorSearchArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        settings, ctx = args.settings, args.context
        options = pulumi.ResourceOptions(parent=self, provider=ctx.provider)
        labels = component_labels(COMPONENT, APP, ctx)

        read_only_key = args.secrets.vector_search_read_only_api_key
        keys: dict[str, pulumi.Input[str]] = {API_KEY_FIELD: args.secrets.vector_search_api_key}
        if read_only_key is not None:
            keys[READ_ONLY_KEY_FIELD] = read_only_key
        api_key = k8s.core.v1.Secret(
            "vector-search-api-key",
            metadata={"name": API_KEY_SECRET, "namespace": ctx.namespace, "labels": labels},
            type="Opaque",
            string_data=keys,
            opts=options,
        )
        claim_spec: k8s.core.v1.PersistentVolumeClaimSpecArgsDict = {
            "access_modes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": settings.storage.size}},
        }
        if settings.storage.storage_class is not None:  # else the cluster's default class
            claim_spec["storage_class_name"] = settings.storage.storage_class
        claim = k8s.core.v1.PersistentVolumeClaim(
            "vector-search-data",
            metadata={"name": DATA_CLAIM, "namespace": ctx.namespace, "labels": labels},
            spec=claim_spec,
            opts=options.merge(
                pulumi.ResourceOptions(
                    protect=settings.storage.protect,
                    # A bound claim's size class and storage class cannot change in place (the
                    # API server refuses it: tests/counterparts); a new claim replaces the old
                    # one, which `protect` (homelab) refuses until lifted on purpose.
                    replace_on_changes=CLAIM_REPLACED_ON,
                    delete_before_replace=True,
                )
            ),
        )

        env: dict[str, pulumi.Input[str]] = {
            "QDRANT__SERVICE__HTTP_PORT": str(settings.http_port),
            "QDRANT__SERVICE__GRPC_PORT": str(settings.grpc_port),
            "QDRANT__STORAGE__STORAGE_PATH": "/qdrant/storage",
            "QDRANT__STORAGE__SNAPSHOTS_PATH": "/qdrant/snapshots",
            "QDRANT__TELEMETRY_DISABLED": "true",
            "QDRANT_INIT_FILE_PATH": "/qdrant/init/.qdrant-initialized",
        }
        secret_env = {"QDRANT__SERVICE__API_KEY": SecretEnv(api_key.metadata.name, API_KEY_FIELD)}
        config_parts: list[pulumi.Input[str]] = [args.secrets.vector_search_api_key]
        if read_only_key is not None:
            # Qdrant's read_only_api_key: searches and reads only, for the MCP server in
            # read-only mode and, when asked, the gateway's /v1/search.
            secret_env["QDRANT__SERVICE__READ_ONLY_API_KEY"] = SecretEnv(
                api_key.metadata.name, READ_ONLY_KEY_FIELD
            )
            config_parts.append(read_only_key)
        egress: list[Peer] = []
        snapshots = settings.snapshots
        if snapshots.enabled:
            access_key = args.secrets.snapshot_access_key_id
            secret_key = args.secrets.snapshot_secret_access_key
            assert access_key is not None  # noqa: S101 (settings require both when enabled)
            assert secret_key is not None  # noqa: S101
            snapshot_secret = k8s.core.v1.Secret(
                "vector-search-snapshots",
                metadata={"name": SNAPSHOT_SECRET, "namespace": ctx.namespace, "labels": labels},
                type="Opaque",
                string_data={"access-key-id": access_key, "secret-access-key": secret_key},
                opts=options,
            )
            prefix = "QDRANT__STORAGE__SNAPSHOTS_CONFIG__"
            env[f"{prefix}SNAPSHOTS_STORAGE"] = "s3"
            env[f"{prefix}S3_CONFIG__BUCKET"] = str(snapshots.bucket)
            env[f"{prefix}S3_CONFIG__REGION"] = snapshots.region
            if snapshots.endpoint:
                env[f"{prefix}S3_CONFIG__ENDPOINT_URL"] = snapshots.endpoint.url
            secret_env[f"{prefix}S3_CONFIG__ACCESS_KEY"] = SecretEnv(
                snapshot_secret.metadata.name, "access-key-id"
            )
            secret_env[f"{prefix}S3_CONFIG__SECRET_KEY"] = SecretEnv(
                snapshot_secret.metadata.name, "secret-access-key"
            )
            config_parts += [access_key, secret_key]
            # The object store may be on the LAN (MinIO) or in a cloud: any address, its port
            # (parsed in the settings; AWS S3 when no endpoint is given).
            port = snapshots.endpoint.port if snapshots.endpoint else 443
            egress.append(Peer("any", ports=(port,)))

        spec = WorkloadSpec(
            component=COMPONENT,
            app=APP,
            settings=settings,
            kind="StatefulSet",
            ports=(
                ContainerPort("http", settings.http_port, settings.http_port),
                ContainerPort("grpc", settings.grpc_port, settings.grpc_port),
            ),
            probes=Probes(
                liveness=HttpProbe("/healthz", "http"),
                readiness=HttpProbe("/readyz", "http", period_seconds=5),
                startup=HttpProbe("/healthz", "http", period_seconds=5, failure_threshold=60),
            ),
            run_as_user=RUN_AS_USER,
            env=env,
            secret_env=secret_env,
            volumes=(
                # Collections and local snapshots both live on the protected claim, so a
                # snapshot taken without S3 survives the pod (an emptyDir would not).
                ClaimVolume("data", "/qdrant/storage", claim.metadata.name, sub_path="storage"),
                ClaimVolume("data", "/qdrant/snapshots", claim.metadata.name, sub_path="snapshots"),
                ScratchVolume("init", "/qdrant/init", size_limit="1Mi"),
                ScratchVolume("tmp", "/tmp", size_limit="256Mi"),  # noqa: S108
            ),
            checksum=checksum(*config_parts),
            ingress=(
                *(
                    Peer.of(caller, settings.http_port, settings.grpc_port)
                    for caller in args.allow_from
                ),
                # The backup job calls the snapshot API (HTTP) and nothing else.
                *((Peer.of(BACKUP, settings.http_port),) if settings.backup.enabled else ()),
            ),
            egress=tuple(egress),
            # Qdrant flushes its write-ahead log on SIGTERM; give it time.
            termination_grace_period_seconds=60,
        )
        workload = build_workload(spec, ctx, self)
        self.service_name = workload.service.metadata.name
        self.endpoint = workload.endpoint
        self.grpc = workload.endpoint.with_port(settings.grpc_port)
        self.api_key = SecretRef(
            api_key.metadata.name, API_KEY_FIELD, checksum(args.secrets.vector_search_api_key)
        )
        self.read_only_key = (
            SecretRef(api_key.metadata.name, READ_ONLY_KEY_FIELD, checksum(read_only_key))
            if read_only_key is not None
            else None
        )
        if settings.backup.enabled:
            VectorSearchBackup(
                BACKUP,
                VectorSearchBackupArgs(
                    settings=settings.backup,
                    context=ctx,
                    vector_search=self.endpoint,
                    api_key=self.api_key,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "serviceName": self.service_name,
                "url": self.endpoint.url,
                "grpcUrl": self.grpc.url,
                "apiKeySecretName": self.api_key.name,
            }
        )
