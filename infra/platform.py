"""The platform on the cluster (filled in by the components issue)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.settings import StackSecrets, StackSettings


def deploy_platform(
    settings: StackSettings, secrets: StackSecrets, provider: k8s.Provider
) -> dict[str, pulumi.Output[Any]]:
    del settings, secrets, provider
    return {}
