"""The real-nginx gateway fixtures the gateway test modules share: the echo upstreams and the
gateway on the default configuration. Module-scoped: each module starts its own once
(tests/conftest.py's first_set_up_in_session fails a second start); a module that needs another
gateway (TLS) defines its own ``gateway``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.components.gateway_config import Upstreams
from infra.settings import GatewaySettings
from tests.conftest import first_set_up_in_session
from tests.nginx_gateway import (
    Gateway,
    echo_upstreams,
    free_port,
    loopback_nginx_conf,
    running_nginx,
)


@pytest.fixture(scope="module")
def upstreams(request: pytest.FixtureRequest) -> Iterator[Upstreams]:
    first_set_up_in_session(request)
    with echo_upstreams() as started:
        yield started


@pytest.fixture(scope="module")
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstreams: Upstreams
) -> Iterator[Gateway]:
    """The default configuration with a rate limit no test reaches."""
    first_set_up_in_session(request)
    workdir = tmp_path_factory.mktemp("gateway")
    port = free_port()
    settings = GatewaySettings(port=port, rate_limit={"requests_per_second": 50, "burst": 100})
    with running_nginx(workdir, loopback_nginx_conf(workdir, settings, upstreams), port) as nginx:
        yield nginx
