"""Stack settings: one frozen pydantic model per stack, validated once, before any resource.

Everything the program is told by a stack (``Pulumi.<stack>.yaml``) passes through this package
and nowhere else: components receive typed slices of :class:`StackSettings` and never read
config. The package is split by concern, and this module re-exports what the rest of the program
uses, so callers import from ``infra.settings`` alone:

- :mod:`~infra.settings.names`, :mod:`~infra.settings.text`, :mod:`~infra.settings.values`,
  :mod:`~infra.settings.tls`, :mod:`~infra.settings.url`: the types and their validators (no
  pulumi, no side effects), with :mod:`~infra.settings.matching` the rule they share;
- :mod:`~infra.settings.models`: the base model and the workload models;
  :mod:`~infra.settings.cluster` and :mod:`~infra.settings.gateway`: the cluster's and the
  gateway's;
- :mod:`~infra.settings.stack`: the supported stacks, their defaults, the stack model;
- :mod:`~infra.settings.loading` and :mod:`~infra.settings.stack_secrets`: reading config and
  secrets, the only part that touches ``pulumi`` and the log redactor.
"""

from infra.settings.cluster import KIND_NODE_IMAGE, ClusterSettings
from infra.settings.gateway import GatewayExposure, GatewaySettings, GatewayTls
from infra.settings.loading import (
    ConfigError,
    StackError,
    check_stack,
    load,
    read_stack_file,
    settings_from_stack_file,
)
from infra.settings.models import (
    BackupSettings,
    BudgetSettings,
    EmbeddingSettings,
    McpSettings,
    ObservabilitySettings,
    PriorityClassSettings,
    Quantities,
    Resources,
    Toleration,
    VectorSearchSettings,
    Workload,
)
from infra.settings.names import (
    CLUSTER_NAME_MAX_LENGTH,
    CLUSTER_NAME_PATTERN,
    validate_cluster_name,
)
from infra.settings.stack import (
    CONFIG_KEYS,
    OBJECT_KEYS,
    PROJECT,
    SECRET_KEYS,
    STACK_DEFAULTS,
    SUPPORTED_STACKS,
    StackName,
    StackSettings,
)
from infra.settings.stack_secrets import StackSecrets
from infra.settings.tls import check_tls_key
from infra.settings.url import HttpUrl
from infra.settings.values import check_token

__all__ = [
    "CLUSTER_NAME_MAX_LENGTH",
    "CLUSTER_NAME_PATTERN",
    "CONFIG_KEYS",
    "KIND_NODE_IMAGE",
    "OBJECT_KEYS",
    "PROJECT",
    "SECRET_KEYS",
    "STACK_DEFAULTS",
    "SUPPORTED_STACKS",
    "BackupSettings",
    "BudgetSettings",
    "ClusterSettings",
    "ConfigError",
    "EmbeddingSettings",
    "GatewayExposure",
    "GatewaySettings",
    "GatewayTls",
    "HttpUrl",
    "McpSettings",
    "ObservabilitySettings",
    "PriorityClassSettings",
    "Quantities",
    "Resources",
    "StackError",
    "StackName",
    "StackSecrets",
    "StackSettings",
    "Toleration",
    "VectorSearchSettings",
    "Workload",
    "check_stack",
    "check_tls_key",
    "check_token",
    "load",
    "read_stack_file",
    "settings_from_stack_file",
    "validate_cluster_name",
]
