"""VectorSearchBackup: scheduled Qdrant snapshots with a retention (``vectorSearch.backup``).

A CronJob runs :mod:`infra.jobs.qdrant_snapshots` (mounted from a ConfigMap: it is code, not a
secret) in a pinned Python image. Qdrant writes the snapshots where its snapshot storage is: on
the data volume, or on S3 with ``vectorSearch.snapshots``.

- ``concurrencyPolicy: Forbid`` (a slow run is never doubled), a deadline, bounded history,
  and ``timeZone: Etc/UTC`` so the schedule means the same on every cluster;
- Pod Security "restricted": non-root (65534), read-only root, no privilege escalation, every
  capability dropped, seccomp RuntimeDefault, no ServiceAccount token;
- the API key only by secretKeyRef, never in the log (the program never prints it);
- a NetworkPolicy that lets the job's pods reach the vector search's HTTP port and DNS, and
  nothing else; the vector search admits them on that port (:class:`VectorSearch`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from infra.endpoints import Endpoint, SecretRef
from infra.jobs import qdrant_snapshots
from infra.settings import BackupSettings
from infra.workload import Peer, PlatformContext, component_labels, image_version, peers_policy

COMPONENT: Final = "vector-search-backup"
APP: Final = "qdrant-snapshots"
RUN_AS: Final = 65534  # nobody: the job writes nothing
JOB_DIR: Final = "/job"
PROGRAM: Final = Path(qdrant_snapshots.__file__)


@dataclass(frozen=True)
class VectorSearchBackupArgs:
    settings: BackupSettings
    context: PlatformContext
    vector_search: Endpoint
    api_key: SecretRef


class VectorSearchBackup(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:VectorSearchBackup"

    def __init__(
        self, name: str, args: VectorSearchBackupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        settings, ctx = args.settings, args.context
        options = pulumi.ResourceOptions(parent=self, provider=ctx.provider)
        labels = component_labels(COMPONENT, APP, ctx)
        metadata: k8s.meta.v1.ObjectMetaArgsDict = {
            "name": COMPONENT,
            "namespace": ctx.namespace,
            "labels": labels,
        }
        source = PROGRAM.read_text()
        program = k8s.core.v1.ConfigMap(
            f"{COMPONENT}-program", metadata=metadata, data={PROGRAM.name: source}, opts=options
        )
        account = k8s.core.v1.ServiceAccount(
            f"{COMPONENT}-sa",
            metadata=metadata,
            automount_service_account_token=False,
            opts=options,
        )
        peers_policy(
            COMPONENT, metadata, ctx, (Peer.of("vector-search", args.vector_search.port),), options
        )
        env: list[k8s.core.v1.EnvVarArgsDict] = [
            {"name": "QDRANT_URL", "value": args.vector_search.url},
            {
                "name": "QDRANT_API_KEY",
                "value_from": {
                    "secret_key_ref": {"name": args.api_key.name, "key": args.api_key.key}
                },
            },
            {"name": "RETENTION", "value": str(settings.retention)},
            # One snapshot may take long: each request may use the run's whole deadline, which
            # activeDeadlineSeconds enforces for the run.
            {"name": "REQUEST_TIMEOUT_SECONDS", "value": str(settings.deadline_seconds)},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        ]
        if settings.collections:  # unset: every collection (the provider drops an empty value)
            env.append({"name": "COLLECTIONS", "value": ",".join(settings.collections)})
        container: k8s.core.v1.ContainerArgsDict = {
            "name": "snapshots",
            "image": settings.image,
            "image_pull_policy": "IfNotPresent",
            "command": ["python", "-I", f"{JOB_DIR}/{PROGRAM.name}"],
            "env": env,
            "resources": {
                "requests": {"cpu": "10m", "memory": "32Mi"},
                "limits": {"cpu": "200m", "memory": "64Mi"},
            },
            "security_context": {
                "allow_privilege_escalation": False,
                "read_only_root_filesystem": True,
                "run_as_non_root": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "volume_mounts": [{"name": "program", "mount_path": JOB_DIR, "read_only": True}],
        }
        job_labels = {**labels, "app.kubernetes.io/version": image_version(settings.image)[:63]}
        k8s.batch.v1.CronJob(
            COMPONENT,
            metadata=metadata,
            spec={
                "schedule": settings.schedule,
                "time_zone": "Etc/UTC",
                "concurrency_policy": "Forbid",
                # A run missed by more than this (the controller was down) is skipped, not
                # started late into the next one.
                "starting_deadline_seconds": 600,
                "successful_jobs_history_limit": 3,
                "failed_jobs_history_limit": 3,
                "job_template": {
                    "metadata": {"labels": job_labels},
                    "spec": {
                        "active_deadline_seconds": settings.deadline_seconds,
                        # No retry: a retry would start new snapshots while Qdrant may still
                        # be writing the first; the next scheduled run tries again.
                        "backoff_limit": 0,
                        "template": {
                            "metadata": {
                                "labels": job_labels,
                                # The program's version: a new one shows in the next run's pods.
                                "annotations": {
                                    "checksum/program": hashlib.sha256(source.encode()).hexdigest()
                                },
                            },
                            "spec": {
                                "restart_policy": "Never",
                                "service_account_name": account.metadata.name,
                                "automount_service_account_token": False,
                                "enable_service_links": False,
                                "security_context": {
                                    "run_as_non_root": True,
                                    "run_as_user": RUN_AS,
                                    "run_as_group": RUN_AS,
                                    "seccomp_profile": {"type": "RuntimeDefault"},
                                },
                                "containers": [container],
                                "volumes": [
                                    {
                                        "name": "program",
                                        "config_map": {
                                            "name": program.metadata.name,
                                            "default_mode": 0o444,
                                        },
                                    }
                                ],
                            },
                        },
                    },
                },
            },
            opts=options,
        )
        self.register_outputs({})
