"""The NetworkPolicy of a workload: exactly the flows its spec declares, nothing else.

The namespace denies all traffic by default (:mod:`infra.platform`), so each workload's policy
is the complete list of what it may receive and send: the spec's ``ingress`` and ``egress``
peers, plus what every pod needs (DNS), the metrics namespace's scrape of an anonymous metrics
port, and OpenTelemetry export when a collector is configured.
"""

from __future__ import annotations

from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from infra.workload.labels import object_metadata, selector_labels
from infra.workload.spec import DNS, Peer, PlatformContext, WorkloadSpec

# Any address except the private ranges: "the internet" for egress rules (model downloads).
PRIVATE_RANGES: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

IngressRule = k8s.networking.v1.NetworkPolicyIngressRuleArgsDict
EgressRule = k8s.networking.v1.NetworkPolicyEgressRuleArgsDict


def _namespace_selector(name: str) -> k8s.meta.v1.LabelSelectorArgsDict:
    return {"match_labels": {"kubernetes.io/metadata.name": name}}


def _peer_selectors(
    peer: Peer, ctx: PlatformContext
) -> list[k8s.networking.v1.NetworkPolicyPeerArgsDict]:
    if peer.kind == "component":
        assert peer.component is not None  # noqa: S101 (Peer.of sets it)
        return [{"pod_selector": {"match_labels": selector_labels(peer.component, ctx.stack)}}]
    if peer.kind == "dns":
        return [
            {
                "namespace_selector": _namespace_selector("kube-system"),
                "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
            }
        ]
    if peer.kind == "internet":
        return [{"ip_block": {"cidr": "0.0.0.0/0", "except_": list(PRIVATE_RANGES)}}]
    if peer.kind == "namespace":
        return [{"namespace_selector": _namespace_selector(peer.namespace or "")}]
    return []  # "any": no "from"/"to" means every source or destination


def _ports(peer: Peer) -> list[k8s.networking.v1.NetworkPolicyPortArgsDict]:
    if peer.kind == "dns":
        return [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    return [{"protocol": "TCP", "port": port} for port in peer.ports]


def _ingress_peers(spec: WorkloadSpec, ctx: PlatformContext) -> list[Peer]:
    peers = list(spec.ingress)
    if spec.metrics is not None and ctx.metrics_namespace:
        port = spec.container_port(spec.metrics[0])
        peers.append(Peer("namespace", namespace=ctx.metrics_namespace, ports=(port,)))
    return peers


def _egress_peers(spec: WorkloadSpec, ctx: PlatformContext) -> list[Peer]:
    peers = [DNS, *spec.egress]
    if ctx.otlp_port is not None:
        # The collector may run in any namespace or outside the cluster: its port, anywhere.
        peers.append(Peer("any", ports=(ctx.otlp_port,)))
    return peers


def _ingress_rule(peer: Peer, ctx: PlatformContext) -> IngressRule:
    rule: IngressRule = {"ports": _ports(peer)}
    if sources := _peer_selectors(peer, ctx):
        rule["from_"] = sources
    return rule


def _egress_rule(peer: Peer, ctx: PlatformContext) -> EgressRule:
    rule: EgressRule = {"ports": _ports(peer)}
    if destinations := _peer_selectors(peer, ctx):
        rule["to"] = destinations
    return rule


def network_policy_rules(
    spec: WorkloadSpec, ctx: PlatformContext
) -> tuple[list[IngressRule], list[EgressRule]]:
    """The ingress and egress rules of ``spec``'s policy, one per peer, in the spec's order."""
    return (
        [_ingress_rule(peer, ctx) for peer in _ingress_peers(spec, ctx)],
        [_egress_rule(peer, ctx) for peer in _egress_peers(spec, ctx)],
    )


def network_policy(
    spec: WorkloadSpec, ctx: PlatformContext, options: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    ingress, egress = network_policy_rules(spec, ctx)
    return pods_policy(spec.component, object_metadata(spec, ctx), ctx, (ingress, egress), options)


def peers_policy(
    component: str,
    metadata: k8s.meta.v1.ObjectMetaArgsDict,
    ctx: PlatformContext,
    egress: tuple[Peer, ...],
    options: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """The policy of pods that take no traffic and send only to ``egress`` (and DNS): a job's."""
    rules = [_egress_rule(peer, ctx) for peer in (DNS, *egress)]
    return pods_policy(component, metadata, ctx, ([], rules), options)


def pods_policy(
    component: str,
    metadata: k8s.meta.v1.ObjectMetaArgsDict,
    ctx: PlatformContext,
    rules: tuple[list[IngressRule], list[EgressRule]],
    options: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """The NetworkPolicy ``<component>-netpol`` of the component's pods, with ``rules``."""
    ingress, egress = rules
    spec: k8s.networking.v1.NetworkPolicySpecArgsDict = {
        "pod_selector": {"match_labels": selector_labels(component, ctx.stack)},
        "policy_types": ["Ingress", "Egress"],
        "egress": egress,
    }
    # No ingress rules is written as none, not [] (the provider and the API server drop an
    # empty list, so [] made every apply a change); with policyTypes Ingress, none are allowed.
    if ingress:
        spec["ingress"] = ingress
    return k8s.networking.v1.NetworkPolicy(
        f"{component}-netpol", metadata=metadata, spec=spec, opts=options
    )
