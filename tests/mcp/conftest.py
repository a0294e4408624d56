"""Fixtures of the MCP tier; each test module starts its servers and nginx once."""

from __future__ import annotations

import pytest

from infra.settings import StackSettings, settings_from_stack_file
from tests.conftest import PROJECT_DIR


@pytest.fixture(scope="session")
def studio_settings() -> StackSettings:
    return settings_from_stack_file("studio", PROJECT_DIR)
