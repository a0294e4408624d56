"""The README documents what the program accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml
from pydantic import BaseModel

from infra.settings import SECRET_KEYS, StackSettings
from tests.conftest import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()


def config_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        if name == "stack":
            continue
        key = f"{prefix}{field.alias or name}"
        yield key
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from config_paths(annotation, f"{key}.")


def test_every_config_key_is_in_the_config_reference() -> None:
    reference = README[README.index("## Config reference") : README.index("## The platform")]
    missing = [
        path
        for path in config_paths(StackSettings)
        if not re.search(rf"\b{re.escape(path.rsplit('.', 1)[-1])}\b", reference)
    ]
    assert missing == []


def test_every_secret_key_is_documented() -> None:
    for key in SECRET_KEYS:
        assert f"`{key}`" in README


def test_every_config_key_is_declared_in_pulumi_yaml() -> None:
    declared = set(yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"])
    top_level = {path for path in config_paths(StackSettings) if "." not in path}
    assert declared == top_level | set(SECRET_KEYS)


def test_the_readme_commands_exist() -> None:
    for command in ("scripts/test", "scripts/up", "scripts/preflight", "scripts/bootstrap-bucket",
                    "scripts/create-kind-cluster", "scripts/delete-kind-cluster",
                    "scripts/local-registry", "scripts/install-pulumi-toolchain",
                    "scripts/benchmark", "scripts/restore-snapshot"):  # fmt: skip
        assert command in README
        assert (PROJECT_DIR / command).exists(), command
