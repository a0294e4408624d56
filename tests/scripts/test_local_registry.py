"""scripts/local-registry against a stub docker."""

from __future__ import annotations

from tests.stub_tools import Tools


def test_up_creates_the_registry_on_loopback_then_reuses_it(tools: Tools) -> None:
    first = tools.run("local-registry", "up", "--name", "kind-registry", "--port", "5001")
    second = tools.run("local-registry", "up", "--name", "kind-registry", "--port", "5001")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    runs = [call for call in second.calls if call[:2] == ["docker", "run"]]
    assert len(runs) == 1
    assert "127.0.0.1:5001:5000" in runs[0]
    assert "registry 'kind-registry' is running" in second.stderr


def test_status_reports_absent_running_and_after_down_absent(tools: Tools) -> None:
    assert tools.run("local-registry", "status").stdout == "absent\n"
    tools.run("local-registry", "up")
    assert tools.run("local-registry", "status").stdout == "running\n"
    assert tools.run("local-registry", "down").returncode == 0
    assert tools.run("local-registry", "status").stdout == "absent\n"


def test_registry_joins_the_kind_network_once_it_exists(tools: Tools) -> None:
    result = tools.run("local-registry", "up")

    assert result.called("docker", "network", "connect", "kind", "kind-registry")


def test_bad_arguments_are_rejected_before_docker_is_called(tools: Tools) -> None:
    for args in (("start",), ("up", "--port", "0"), ("up", "--name", "-x"), ("up", "--port")):
        result = tools.run("local-registry", *args)
        assert result.returncode == 2, args
        assert result.calls == []
