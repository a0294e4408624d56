"""The stack's secrets: which secret config keys the settings need (tokens, the vector search API
key, snapshot credentials, a kubeconfig, the provided TLS key), each read once, checked to be
set with ``--secret`` and well-formed (the TLS key against its certificate), handed to the log
redactor and returned as a ``pulumi.Output`` secret in :class:`StackSecrets`. Apart from
:mod:`infra.settings.loading` because it is the one place plaintext secrets pass through, so it
can be read (and reviewed) on its own; its messages name the key, never the value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
from pulumi.runtime import config as runtime_config

from infra.observability import redact_value
from infra.settings.stack import StackSettings
from infra.settings.tls import check_tls_key
from infra.settings.values import check_token


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values as Pulumi secret Outputs; ``None`` where the stack needs none."""

    gateway_token: pulumi.Output[str]
    vector_search_api_key: pulumi.Output[str]
    vector_search_read_only_api_key: pulumi.Output[str] | None = None
    """Qdrant's read-only key (``read_only_api_key``): searches, no writes. Set whenever the
    secret is; required by ``mcp.readOnly`` and ``gateway.searchReadOnly``."""
    snapshot_access_key_id: pulumi.Output[str] | None = None
    snapshot_secret_access_key: pulumi.Output[str] | None = None
    kubeconfig: pulumi.Output[str] | None = None
    gateway_tls_key: pulumi.Output[str] | None = None
    """The private key of ``gateway.tls.certificate`` (``gateway.tls.mode: provided``)."""


def load_secrets(
    config: pulumi.Config, settings: StackSettings | None
) -> tuple[StackSecrets | None, list[str]]:
    """The secrets ``settings`` needs, as Pulumi secret Outputs, and the problems found (each
    with its full config key); ``None`` for the secrets when there is any problem. ``settings``
    is ``None`` when they did not validate: the secrets every stack needs are still checked."""
    problems: list[str] = []
    read: dict[str, str] = {}
    """Each secret's value as read, to compare keys that must differ; never logged."""

    def secret(
        key: str,
        why: str,
        required: bool,
        check: Callable[[str], object] | None = None,
        value: str = "<value>",
    ) -> pulumi.Output[str] | None:
        """``check`` raises ValueError naming what is wrong (never the value); ``value`` is how
        the README's command passes it (a PEM key from a file, not on the command line)."""
        full_key = config.full_key(key)
        plaintext = runtime_config.get_config(full_key)
        if plaintext is None or plaintext == "":
            if required:
                problems.append(
                    f"{full_key}: required ({why}); set it with "
                    f"`pulumi config set --secret {key} {value}`"
                )
            return None
        if not runtime_config.is_config_secret(full_key):
            problems.append(
                f"{full_key}: is stored in plain text; set it again with "
                f"`pulumi config set --secret {key} {value}` so it stays encrypted"
            )
            return None
        redact_value(str(plaintext))
        redact_value(str(plaintext).strip())
        if check is not None:
            try:
                check(str(plaintext))
            except ValueError as error:
                problems.append(f"{full_key}: {error}")
                return None
        read[key] = str(plaintext)
        return pulumi.Output.secret(str(plaintext))

    target = settings.cluster.target if settings else "kind"
    snapshots = settings is not None and settings.vector_search.snapshots.enabled
    gateway_token = secret(
        "gatewayToken",
        "the gateway's bearer token",
        required=True,
        check=lambda text: check_token(text, "gatewayToken"),
    )
    api_key = secret(
        "vectorSearchApiKey",
        "the vector search API key",
        required=True,
        check=lambda text: check_token(text, "vectorSearchApiKey"),
    )
    read_only_users = [
        key
        for key, reads_only in (
            ("mcp.readOnly", settings is not None and settings.mcp.read_only),
            ("gateway.searchReadOnly", settings is not None and settings.gateway.search_read_only),
        )
        if reads_only
    ]
    read_only_key = secret(
        "vectorSearchReadOnlyApiKey",
        f"{' and '.join(read_only_users)} {'is' if len(read_only_users) == 1 else 'are'} true",
        required=bool(read_only_users),
        check=lambda text: check_token(text, "vectorSearchReadOnlyApiKey"),
    )
    access_key = secret(
        "snapshotAccessKeyId", "vectorSearch.snapshots.enabled is true", required=snapshots
    )
    secret_key = secret(
        "snapshotSecretAccessKey", "vectorSearch.snapshots.enabled is true", required=snapshots
    )
    kubeconfig = secret("kubeconfig", "cluster.target is existing", required=target == "existing")
    tls_key = None
    if settings is not None and settings.gateway.tls.certificate is not None:  # mode: provided
        chain: str = settings.gateway.tls.certificate
        tls_key = secret(
            "gatewayTlsKey",
            "gateway.tls.mode is provided",
            required=True,
            check=lambda text: check_tls_key(text, chain, "gatewayTlsKey"),
            value="< key.pem",
        )
    # A copy of a write key would make the "read-only" consumers writers, silently.
    problems += [
        f"{config.full_key('vectorSearchReadOnlyApiKey')}: is the same as {other}; give it a "
        "value of its own (openssl rand -hex 32 | pulumi config set --secret "
        "vectorSearchReadOnlyApiKey)"
        for other in ("vectorSearchApiKey", "gatewayToken")
        if "vectorSearchReadOnlyApiKey" in read
        and read.get(other) == read["vectorSearchReadOnlyApiKey"]
    ]
    if problems or gateway_token is None or api_key is None:
        return None, problems
    return (
        StackSecrets(
            gateway_token=gateway_token,
            vector_search_api_key=api_key,
            vector_search_read_only_api_key=read_only_key,
            snapshot_access_key_id=access_key,
            snapshot_secret_access_key=secret_key,
            kubeconfig=kubeconfig,
            gateway_tls_key=tls_key,
        ),
        problems,
    )
