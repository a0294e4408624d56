"""Run the program under Pulumi mocks and record everything it registers.

Used by the tests and by ``python -m infra.render``: both need the program's resources with
their inputs *and* options (parent, provider, timeouts, retain/protect, secret outputs), which
``pulumi.runtime.Mocks.new_resource`` alone does not see. :class:`RecordingMonitor` keeps the raw
``RegisterResource`` requests; :func:`run_program` runs a program inside a root stack, waits for
every registration, and returns them with the stack outputs.

The mocks stand in for the engine only: the program under test is the real one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from infra.settings import PROJECT

SECRET_SIG: Final = rpc._special_secret_sig  # noqa: SLF001 (the wire marker of a secret)

FAKE_KUBECONFIG: Final = "apiVersion: v1\nkind: Config\nclusters: []\n# mock kubeconfig\n"
MOCK_PEM_OUTPUTS: Final = {
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "PRIVATE KEY"),
    "tls:index/selfSignedCert:SelfSignedCert": ("certPem", "CERTIFICATE"),
    "tls:index/certRequest:CertRequest": ("certRequestPem", "CERTIFICATE REQUEST"),
    "tls:index/locallySignedCert:LocallySignedCert": ("certPem", "CERTIFICATE"),
}
"""What the tls provider computes, as PEM-shaped placeholders named after the resource (not
real keys: tests that need real ones stand in for the provider themselves)."""


@dataclass(frozen=True)
class Registration:
    """One resource the program registered, as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    provider: str
    inputs: dict[str, Any]
    """Inputs with secrets unwrapped to their values (for asserting on content)."""
    wire: dict[str, Any]
    """Inputs as sent on the wire: secrets still wrapped in the secret signature."""
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    additional_secret_outputs: tuple[str, ...]
    custom_timeouts: dict[str, str]
    dependencies: tuple[str, ...]
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()


@dataclass
class ProgramRun:
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    error: BaseException | None = None
    """What the program raised, when run with ``check=False``."""

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise AssertionError(f"expected one {type_token} {name or ''}, found {names}")
        return found[0]

    def kubernetes_objects(self) -> Iterator[Registration]:
        """Custom resources of the Kubernetes provider (its own type is pulumi:providers:...)."""
        for registration in self.registrations:
            if registration.custom and registration.type.startswith("kubernetes:"):
                yield registration


def _unwrap_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == SECRET_SIG:  # noqa: SLF001
            return _unwrap_secrets(value.get("value"))
        return {key: _unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(item) for item in value]
    return value


RENDER_INCOMPATIBLE: Final = ("cluster", "context", "kubeconfig")
"""What the Kubernetes provider's check refuses beside ``renderYamlToDirectory`` (pulumi-kubernetes
``provider.go``, CheckConfig): found by the first real ``pulumi up`` of a render stack."""


class ProviderCheckError(Exception):
    """An input the real provider's check refuses, in its words."""


def check_kubernetes_provider(inputs: Mapping[str, Any]) -> None:
    """The real provider's check of its own inputs, as far as the program can get it wrong."""
    if not inputs.get("renderYamlToDirectory"):
        return
    refused = [name for name in RENDER_INCOMPATIBLE if inputs.get(name)]
    if refused:
        raise ProviderCheckError(
            "; ".join(
                f'"{name}" arg is not compatible with "renderYamlToDirectory" arg'
                for name in refused
            )
        )


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs, like a provider that accepts everything it would accept, with a
    few outputs a real provider would compute (a kind cluster's kubeconfig). The Kubernetes
    provider's own input check is applied (:func:`check_kubernetes_provider`)."""

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:providers:kubernetes":
            check_kubernetes_provider(args.inputs)
        outputs = dict(args.inputs)
        if args.typ == "command:local:Command":
            outputs["stdout"] = FAKE_KUBECONFIG
            outputs["stderr"] = ""
        if args.typ in MOCK_PEM_OUTPUTS:
            field, label = MOCK_PEM_OUTPUTS[args.typ]
            outputs[field] = f"-----BEGIN {label}-----\nmock-{args.name}\n-----END {label}-----\n"
        return f"{args.name}-id", outputs

    def call(
        self,
        args: pulumi.runtime.MockCallArgs,  # noqa: ARG002 (the program invokes no functions)
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.run = ProgramRun()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        wire = json_format.MessageToDict(request.object)
        timeouts = request.customTimeouts
        self.run.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=request.custom,
                provider=request.provider,
                inputs=_unwrap_secrets(wire),
                wire=wire,
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                delete_before_replace=request.deleteBeforeReplace,
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                custom_timeouts={
                    key: value
                    for key, value in (
                        ("create", timeouts.create),
                        ("update", timeouts.update),
                        ("delete", timeouts.delete),
                    )
                    if value
                },
                dependencies=tuple(request.dependencies),
                ignore_changes=tuple(request.ignoreChanges),
                replace_on_changes=tuple(request.replaceOnChanges),
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        if "pulumi:pulumi:Stack" in request.urn:
            wire = json_format.MessageToDict(request.outputs)
            self.run.outputs = _unwrap_secrets(wire)
            self.run.secret_outputs = {
                key
                for key, value in wire.items()
                if isinstance(value, dict) and value.get(rpc._special_sig_key) == SECRET_SIG  # noqa: SLF001
            }
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def run_program(
    program: Callable[[], None],
    *,
    stack: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    preview: bool = False,
    check: bool = True,
) -> ProgramRun:
    """Run ``program`` under mocks as stack ``stack`` with ``config`` (keys with or without
    the ``agent-platform:`` prefix; objects are passed as JSON, as the engine does) and
    ``secrets`` (marked secret, as ``pulumi config set --secret`` would).

    With ``check=False`` an error raised by the program is returned in ``ProgramRun.error``
    together with whatever was registered before it, instead of being raised."""
    monitor = RecordingMonitor(RecordingMocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor
    )

    def full(key: str) -> str:
        return key if ":" in key else f"{PROJECT}:{key}"

    values: dict[str, str] = {}
    for key, value in config.items():
        values[full(key)] = value if isinstance(value, str) else json.dumps(value)
    for key, value in (secrets or {}).items():
        values[full(key)] = value
    runtime_config.set_all_config(values, [full(key) for key in (secrets or {})])

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    # set_mocks made (and finished) a root stack of its own; exports made after that would be
    # lost. Run the program in a fresh root stack, as the real entry point does.
    runtime_settings.ROOT.set(None)
    try:
        _sync_await(run_in_stack(program))
    except Exception as error:
        if check:
            raise
        monitor.run.error = error
    return monitor.run
