"""Names the settings take: kind cluster names, Kubernetes names and namespaces, StorageClass
names, Hugging Face model ids. Each validator says what is wrong and what to write instead."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import (
    AfterValidator,
)

from infra.settings.matching import fullmatch_or_raise

CLUSTER_NAME_MAX_LENGTH: Final = 40
"""kind names node containers ``<name>-control-plane``, ``<name>-worker<N>`` and, with several
control planes, ``<name>-external-load-balancer`` (23 characters). Those names become container
hostnames and Kubernetes node names, which must be RFC 1123 labels of at most 63 characters:
63 - 23 = 40. The same bound keeps the kubeconfig context ``kind-<name>`` short and safe."""

CLUSTER_NAME_PATTERN: Final = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
"""A lowercase RFC 1123 (DNS-1123) label: starts and ends alphanumeric, so never with ``-``
(a leading hyphen would be read as an option by kind, docker and kubectl). ASCII only.
``scripts/lib/common.sh`` (``validate_cluster_name``) applies the same rule;
tests/scripts/test_name_rule.py keeps the two in agreement."""

_CLUSTER_NAME_RE: Final = re.compile(CLUSTER_NAME_PATTERN, re.ASCII)


def validate_cluster_name(name: str) -> str:
    """Return ``name`` if kind, docker and kubeconfig can all use it safely; raise otherwise."""
    if not isinstance(name, str) or not name:
        raise ValueError("cluster name is empty; use a lowercase name such as 'studio'")
    if len(name) > CLUSTER_NAME_MAX_LENGTH:
        raise ValueError(
            f"cluster name {name!r} is {len(name)} characters; at most "
            f"{CLUSTER_NAME_MAX_LENGTH} are allowed (kind node names must stay within 63)"
        )
    if name.startswith("-"):
        raise ValueError(
            f"cluster name {name!r} starts with '-', which tools would read as an option; "
            "start it with a lowercase letter or digit"
        )
    if _CLUSTER_NAME_RE.fullmatch(name) is None:
        raise ValueError(
            f"cluster name {name!r} is not a lowercase DNS-1123 label; use only a-z, 0-9 and "
            f"'-' (not first or last), matching {CLUSTER_NAME_PATTERN}"
        )
    return name


ClusterName = Annotated[str, AfterValidator(validate_cluster_name)]


# Hugging Face repository ids: owner/name, each at most 96 of letters, digits, '-', '_', '.',
# not starting or ending with '-' or '.', without '--' or '..' (the Hub's own rule).
_HF_NAME: Final = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_HF_MODEL_RE: Final = re.compile(rf"{_HF_NAME}/{_HF_NAME}", re.ASCII)


def _validate_model_id(text: str) -> str:
    if _HF_MODEL_RE.fullmatch(text) is None or "--" in text or ".." in text:
        raise ValueError(
            f"{text!r} is not a Hugging Face model id; write owner/name (each at most 96 of "
            "letters, digits, '-', '_' and '.', no '--' or '..'), "
            "e.g. sentence-transformers/all-MiniLM-L6-v2"
        )
    return text


_K8S_NAME_RE: Final = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def _validate_k8s_name(text: str) -> str:
    return fullmatch_or_raise(
        _K8S_NAME_RE,
        text,
        f"{text!r} is not a Kubernetes name (lowercase DNS-1123 label, ≤ 63)",
    )


RESERVED_NAMESPACES: Final = frozenset(
    {"default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage"}
)
"""Where the cluster's own components live (``kube-*`` is reserved by Kubernetes as a whole;
``local-path-storage`` holds kind's volume provisioner). The platform's namespace gets Pod
Security "restricted" and a default-deny NetworkPolicy, which would cut them off (CoreDNS for
the whole cluster, in kube-system). ``observability.metricsNamespace`` may name one of them:
it only opens the workloads' metrics ports to scrapers there."""


def _validate_platform_namespace(text: str) -> str:
    if text in RESERVED_NAMESPACES or text.startswith("kube-"):
        raise ValueError(
            f"{text!r} is reserved for the cluster's own components; the platform's namespace "
            "gets Pod Security 'restricted' and a default-deny NetworkPolicy, which would cut "
            "them off. Use a namespace of its own, e.g. agent-platform"
        )
    return text


_DNS_SUBDOMAIN_RE: Final = re.compile(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", re.ASCII
)


DNS_SUBDOMAIN_MAX_LENGTH: Final = 253


def _validate_storage_class(text: str) -> str:
    if len(text) > DNS_SUBDOMAIN_MAX_LENGTH or _DNS_SUBDOMAIN_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text!r} is not a StorageClass name (lowercase DNS-1123 subdomain: a-z, 0-9, '-' "
            "and '.', at most 253); list them with `kubectl get storageclass`"
        )
    return text


ModelId = Annotated[str, AfterValidator(_validate_model_id)]
KubernetesName = Annotated[str, AfterValidator(_validate_k8s_name)]
PlatformNamespace = Annotated[
    str, AfterValidator(_validate_k8s_name), AfterValidator(_validate_platform_namespace)
]
StorageClassName = Annotated[str, AfterValidator(_validate_storage_class)]
