"""The Kubernetes value syntaxes that placement and exposure settings take: label and
annotation keys and values, PriorityClass names, CIDR blocks. Checked here, with a message that
says what to write, not by the API server after resources exist."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Final

from pydantic import AfterValidator

from infra.settings.matching import fullmatch_or_raise
from infra.settings.names import DNS_SUBDOMAIN_MAX_LENGTH
from infra.settings.text import refuse_control_characters

_NAME_PART: Final = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_SUBDOMAIN: Final = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
_QUALIFIED_NAME_RE: Final = re.compile(rf"({_SUBDOMAIN}/)?{_NAME_PART}", re.ASCII)
_LABEL_VALUE_RE: Final = re.compile(rf"({_NAME_PART})?", re.ASCII)
_SUBDOMAIN_RE: Final = re.compile(_SUBDOMAIN, re.ASCII)
MAX_ANNOTATION_VALUE: Final = 4096
SYSTEM_PRIORITY_CLASSES: Final = frozenset({"system-cluster-critical", "system-node-critical"})


def _validate_qualified_name(text: str) -> str:
    prefix = text.rpartition("/")[0]
    if len(prefix) > DNS_SUBDOMAIN_MAX_LENGTH:
        raise ValueError(f"{text!r}: the prefix before '/' is longer than 253 characters")
    return fullmatch_or_raise(
        _QUALIFIED_NAME_RE,
        text,
        f"{text!r} is not a Kubernetes label or annotation key; write [prefix/]name: an optional "
        "DNS subdomain prefix and a name of at most 63 letters, digits, '-', '_' and '.', "
        "starting and ending with a letter or digit (e.g. topology.kubernetes.io/zone)",
    )


def _validate_label_value(text: str) -> str:
    return fullmatch_or_raise(
        _LABEL_VALUE_RE,
        text,
        f"{text!r} is not a Kubernetes label value; at most 63 letters, digits, '-', '_' and "
        "'.', starting and ending with a letter or digit (or empty)",
    )


def _validate_annotation_value(text: str) -> str:
    if len(text) > MAX_ANNOTATION_VALUE:
        raise ValueError(f"an annotation value is over {MAX_ANNOTATION_VALUE} characters")
    refuse_control_characters(text)
    return text


def _validate_priority_class(text: str) -> str:
    if len(text) > DNS_SUBDOMAIN_MAX_LENGTH or _SUBDOMAIN_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text!r} is not a PriorityClass name (lowercase DNS-1123 subdomain, at most 253); "
            "list them with `kubectl get priorityclass`"
        )
    if text.startswith("system-") and text not in {
        "system-cluster-critical",
        "system-node-critical",
    }:
        raise ValueError(f"{text!r}: the system- prefix is reserved for Kubernetes' own classes")
    return text


def _validate_ingress_class(text: str) -> str:
    return fullmatch_or_raise(
        _SUBDOMAIN_RE,
        text,
        f"{text!r} is not an IngressClass name (lowercase DNS-1123 subdomain); list them with "
        "`kubectl get ingressclass`",
    )


def _validate_cidr(text: str) -> str:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        raise ValueError(
            f"{text!r} is not a CIDR block with its host bits zero (e.g. 192.168.1.0/24, "
            f"2001:db8::/32): {error}"
        ) from None
    return str(network)


LabelKey = Annotated[str, AfterValidator(_validate_qualified_name)]
LabelValue = Annotated[str, AfterValidator(_validate_label_value)]
AnnotationValue = Annotated[str, AfterValidator(_validate_annotation_value)]
PriorityClassName = Annotated[str, AfterValidator(_validate_priority_class)]
IngressClassName = Annotated[str, AfterValidator(_validate_ingress_class)]
Cidr = Annotated[str, AfterValidator(_validate_cidr)]
