"""Reading a stack's settings and secrets: from ``pulumi.Config`` (the program) or from the stack
file (the tools that run outside ``pulumi``). The only part of the settings that touches
``pulumi`` and the log redactor: every secret's plaintext goes to the redactor, never to a log.

Validation runs before any resource is registered and reports *every* problem at once, each with
its full config key (``agent-platform:gateway.replicas``) and what is expected. Secret values
(tokens, API keys, kubeconfig) are not part of the pydantic model: they stay ``pulumi.Output``
secrets in :class:`StackSecrets`; the loader only checks that they are present and were set with
``--secret``; reading and checking them is :mod:`infra.settings.stack_secrets`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pydantic import (
    ValidationError,
)

from infra.observability import redact_value
from infra.settings.stack import (
    CONFIG_KEYS,
    OBJECT_KEYS,
    PROJECT,
    SECRET_KEYS,
    SUPPORTED_STACKS,
    StackName,
    StackSettings,
)
from infra.settings.stack_secrets import StackSecrets, load_secrets


class StackError(pulumi.RunError):
    """The selected stack is not one this program supports."""


class ConfigError(pulumi.RunError):
    """Stack config is invalid; the message lists every problem with its config key."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"stack {stack!r} has {len(problems)} invalid setting(s):\n{listing}\n"
            f"Fix them in Pulumi.{stack}.yaml (or with `pulumi config set`) and run again."
        )


def check_stack(stack: str) -> StackName:
    for supported in SUPPORTED_STACKS:
        if stack == supported:
            return supported
    raise StackError(
        f"stack {stack!r} is not supported; this program deploys only the stacks "
        f"{', '.join(SUPPORTED_STACKS)}. Select one with `pulumi stack select studio` "
        "(or create it with `pulumi stack init homelab`)."
    )


def _project_keys_in_config() -> set[str]:
    """Every ``agent-platform:*`` key the engine passed, to catch typos in key names."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}


def _format_location(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return f"{PROJECT}:{path}"


_KEYED_MESSAGE: Final = re.compile(r"(?P<key>[a-z][A-Za-z.]*): (?P<message>.+)", re.DOTALL)
NULL_MESSAGE: Final = "is empty (null); give it a value, or remove the key to use its default"


def _describe(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    location = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown key; check its spelling against the README's config reference"
    elif error["type"] == "missing":
        message = "required"
    elif "input" in error and error["input"] is None:
        # A YAML key with nothing after it; fields where null means something accept it.
        message = NULL_MESSAGE
    elif not location and (keyed := _KEYED_MESSAGE.fullmatch(message)):
        # A rule across the whole stack names the key to change at the start of its message.
        location, message = tuple(keyed["key"].split(".")), keyed["message"]
    return f"{_format_location(location)}: {message}"


def read_stack_file(stack: str, project_dir: Path) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml`` (empty when there is no such file).

    Raises :class:`ConfigError` naming the file when it is not YAML or not a stack file."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(stack, [f"{path.name}: is not valid YAML{where}"]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(config or {}, dict):
        raise ConfigError(
            stack,
            [
                f"{path.name}: is not a stack file; it must be a mapping with `config:` mapping "
                f"{PROJECT}:<key> to values"
            ],
        )
    return dict(config or {})


def _marked_secret(path: tuple[str | int, ...]) -> str:
    """The problem for a non-secret setting that was set with ``--secret``."""
    key = _format_location(path).removeprefix(f"{PROJECT}:")
    if path == ("namespace",):
        command = f"{key} <value>"
    elif len(path) == 1:
        command = f"--path {key}.<field> <value>"
    else:
        command = f"--path {key} <value>"
    return (
        f"{PROJECT}:{key}: is set as a secret (--secret), but the program uses its value in "
        "plain text (Kubernetes objects, the kind config, stack outputs); set it again without "
        f"--secret (`pulumi config set {command}`), and keep credentials out of it: they "
        "belong in the secret keys listed in the README"
    )


def _secure_paths(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    """Where a stack file holds an encrypted value (``{secure: ...}``) inside ``value``."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            yield path
            return
        for key, item in value.items():
            yield from _secure_paths(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secure_paths(item, (*path, index))


def _redact_leaves(value: Any) -> None:
    """Hand every string inside a secret-marked value to the log redactor."""
    if isinstance(value, str):
        redact_value(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _redact_leaves(item)
    elif isinstance(value, list):
        for item in value:
            _redact_leaves(item)


def _validate(raw: dict[str, Any], problems: list[str]) -> StackSettings | None:
    try:
        return StackSettings.model_validate(raw)
    except ValidationError as error:
        problems += [_describe(item) for item in error.errors()]
        return None


def settings_from_stack_file(stack: str, project_dir: Path) -> StackSettings:
    """The non-secret settings of a stack, for tools that run outside ``pulumi`` (preflight).

    Raises :class:`StackError` or :class:`ConfigError` like :func:`load`.
    """
    supported = check_stack(stack)
    prefix = f"{PROJECT}:"
    raw: dict[str, Any] = {"stack": supported}
    problems: list[str] = []
    for key, value in read_stack_file(stack, project_dir).items():
        name = key.removeprefix(prefix)
        if not key.startswith(prefix) or name not in CONFIG_KEYS:
            continue
        # An encrypted value cannot be read here, and the program would refuse it anyway.
        marked = list(_secure_paths(value, (name,)))
        if marked:
            problems += [_marked_secret(path) for path in marked]
        else:
            raw[name] = value
    settings = _validate(raw, problems)
    if problems or settings is None:
        raise ConfigError(stack, problems)
    return settings


def _config_value(key: str, text: str) -> Any:
    """A config value as the engine passed it: objects as JSON, a YAML null as "null" (or ""
    from older engines), which both become ``None`` so validation names the key."""
    if text in ("", "null"):
        return None
    if key in OBJECT_KEYS:
        return json.loads(text)
    return text


def load(stack: str, config: pulumi.Config | None = None) -> tuple[StackSettings, StackSecrets]:
    """Read, validate and return the settings and secrets of ``stack``.

    Raises :class:`StackError` for an unsupported stack and :class:`ConfigError` listing every
    invalid setting. Registers no resource.
    """
    supported = check_stack(stack)
    config = config or pulumi.Config(PROJECT)
    problems: list[str] = []

    raw: dict[str, Any] = {"stack": supported}
    for key in CONFIG_KEYS:
        full_key = config.full_key(key)
        text = runtime_config.get_config(full_key)
        if text is None:
            continue
        if runtime_config.is_config_secret(full_key):
            # Every value here ends up in plain text (Kubernetes objects, env, outputs), so a
            # value set with --secret is refused, unread, and kept out of every log line.
            with contextlib.suppress(ValueError):
                _redact_leaves(json.loads(str(text)))
            redact_value(str(text))
            problems.append(_marked_secret((key,)))
            continue
        try:
            raw[key] = _config_value(key, str(text))
        except ValueError:
            problems.append(f"{PROJECT}:{key}: is not a valid object; see the README")

    unknown = _project_keys_in_config() - set(CONFIG_KEYS) - set(SECRET_KEYS)
    problems += [
        f"{PROJECT}:{key}: unknown key; the supported keys are listed in the README"
        for key in sorted(unknown)
    ]

    settings = _validate(raw, problems)

    secrets, secret_problems = load_secrets(config, settings)
    problems += secret_problems
    if problems or settings is None or secrets is None:
        raise ConfigError(stack, problems)
    return settings, secrets
