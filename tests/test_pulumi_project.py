"""Pulumi.yaml, read as data, against what the settings models, the lock and the README expect.

Pulumi's own project loader (the CLI 3.272.0 validation code, run outside this repository)
accepts the file. It also showed what it does not check for us: a misspelt runtime option is
silently ignored by the language host, a misspelt stack key is not rejected (only
infra/settings catches it), and ``type: object`` is only understood from CLI 3.187.0 on,
hence ``requiredPulumiVersion``. :func:`problems` states each rule; a test feeds it a broken
copy of the file for every rule, so each one is shown to be able to fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any, Final

import pytest
import yaml

from infra.settings import CONFIG_KEYS, OBJECT_KEYS, SECRET_KEYS, StackSettings
from tests.conftest import PROJECT_DIR

PROJECT_TEXT: Final = (PROJECT_DIR / "Pulumi.yaml").read_text()
PROJECT: Final[dict[str, Any]] = yaml.safe_load(PROJECT_TEXT)
README: Final = (PROJECT_DIR / "README.md").read_text()
OBJECT_TYPE_SINCE: Final = (3, 187, 0)
"""The first Pulumi CLI that accepts ``type: object`` for project config."""
RUNTIME: Final = {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
"""The Python language host ignores an option it does not know (a misspelt ``toolchian:``
silently falls back to its defaults), so the exact runtime is pinned."""
REQUIRED_SECRETS: Final = ("gatewayToken", "vectorSearchApiKey")


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def required_minimum(project: dict[str, Any]) -> tuple[int, ...] | None:
    match = re.fullmatch(r">=\s*(\d+\.\d+\.\d+)", str(project.get("requiredPulumiVersion", "")))
    return version(match[1]) if match else None


def pinned_sdk() -> tuple[int, ...]:
    pinned = re.search(
        r"^pulumi==(\d+\.\d+\.\d+)", (PROJECT_DIR / "requirements.txt").read_text(), re.M
    )
    assert pinned, "requirements.txt pins no pulumi"
    return version(pinned[1])


def readme_minimum(readme: str) -> tuple[tuple[int, ...], str] | None:
    row = re.search(r"^\|\s*pulumi\s*\|\s*(\d+\.\d+\.\d+)\s*\|(.*)$", readme, re.M)
    return (version(row[1]), row[2]) if row else None


def runtime_problems(project: dict[str, Any]) -> list[str]:
    found = []
    if project.get("runtime") != RUNTIME:
        found.append(f"runtime is {project.get('runtime')!r}, not exactly {RUNTIME!r}")
    if "main" in project:
        found.append("main: is set; the entry point is __main__.py")
    return found


def config_problems(config: dict[str, Any]) -> list[str]:
    found = []
    expected_keys = set(CONFIG_KEYS) | set(SECRET_KEYS)
    if set(config) != expected_keys:
        found.append(
            f"config declares {sorted(set(config) - expected_keys)} that the settings do not "
            f"read and misses {sorted(expected_keys - set(config))}"
        )
    for key in sorted(OBJECT_KEYS & set(config)):
        if config[key].get("type") != "object" or config[key].get("default") != {}:
            found.append(f"{key}: an object setting, must be `type: object` with `default: {{}}`")
    for key in sorted((set(CONFIG_KEYS) - OBJECT_KEYS) & set(config)):
        if config[key].get("type") != "string":
            found.append(f"{key}: must be `type: string`")
    namespace_default = StackSettings.model_fields["namespace"].get_default()
    if config.get("namespace", {}).get("default") != namespace_default:
        found.append(f"namespace: default must be the settings' {namespace_default!r}")
    for key in REQUIRED_SECRETS:
        declaration = config.get(key, {})
        if declaration.get("type") != "string" or declaration.get("secret") is not True:
            found.append(f"{key}: must be a `secret: true` string")
        if "default" in declaration:
            found.append(f"{key}: a default would let a stack run without setting the secret")
    found += [
        f"{key}: optional secret, must default to an empty string"
        for key in sorted(set(SECRET_KEYS) - set(REQUIRED_SECRETS))
        if config.get(key, {}).get("default") != ""
    ]
    return found


def version_problems(project: dict[str, Any], readme: str) -> list[str]:
    found = []
    minimum = required_minimum(project)
    if minimum is None:
        found.append("requiredPulumiVersion must be '>=X.Y.Z'")
    elif not OBJECT_TYPE_SINCE <= minimum <= pinned_sdk():
        found.append(
            f"requiredPulumiVersion {minimum} must admit `type: object` (3.187.0) and the "
            f"pinned SDK {pinned_sdk()}"
        )
    row = readme_minimum(readme)
    if row is None or row[0] != minimum or "requiredPulumiVersion" not in row[1]:
        found.append("README's pulumi prerequisite must state requiredPulumiVersion's minimum")
    return found


def problems(project: dict[str, Any], readme: str) -> list[str]:
    """Every way ``project`` (a parsed Pulumi.yaml) disagrees with the program."""
    return (
        runtime_problems(project)
        + config_problems(project.get("config") or {})
        + version_problems(project, readme)
    )


def test_pulumi_yaml_agrees_with_the_settings_the_lock_and_the_readme() -> None:
    assert problems(PROJECT, README) == []


def test_the_comment_about_undeclared_keys_says_what_pulumi_really_does() -> None:
    assert "engine then rejects" not in PROJECT_TEXT
    assert "3.46.0" in PROJECT_TEXT
    assert "infra/settings (loading.py)" in PROJECT_TEXT


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(project: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = project
        for part in parents:
            node = node[part]
        node[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(project: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = project
        for part in parents:
            node = node[part]
        del node[last]

    return change


FAULTS: Final = {
    "misspelt runtime option": (
        _set("runtime.options", {"toolchian": "pip", "virtualenv": ".venv"}),
        "runtime is",
    ),
    "object key without a type": (_drop("config.cluster.type"), "cluster: an object setting"),
    "object key typed string": (_set("config.budget.type", "string"), "budget: an object"),
    "undeclared setting": (_set("config.gatway", {"type": "object"}), "['gatway']"),
    "missing setting": (_drop("config.observability"), "misses ['observability']"),
    "required secret with a default": (
        _set("config.gatewayToken.default", ""),
        "gatewayToken: a default",
    ),
    "secret not marked secret": (
        _drop("config.vectorSearchApiKey.secret"),
        "vectorSearchApiKey: must be a `secret: true` string",
    ),
    "CLI too old for object config": (
        _set("requiredPulumiVersion", ">=3.150.0"),
        "must admit `type: object`",
    ),
    "no required version": (_drop("requiredPulumiVersion"), "must be '>=X.Y.Z'"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_rule_catches_its_fault(fault: str) -> None:
    change, message = FAULTS[fault]
    broken = copy.deepcopy(PROJECT)
    change(broken)

    found = problems(broken, README)

    assert any(message in problem for problem in found), found


def test_the_readme_rule_catches_a_stale_minimum() -> None:
    stale = re.sub(r"^(\|\s*pulumi\s*\|\s*)\d+\.\d+\.\d+", r"\g<1>3.150.0", README, flags=re.M)

    assert problems(PROJECT, stale) == [
        "README's pulumi prerequisite must state requiredPulumiVersion's minimum"
    ]
