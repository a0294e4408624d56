"""The gateway over TLS (``gateway.tls``), run by a real nginx and checked by a real TLS client.

Two nginx instances for the module: one serving a certificate made here by a test CA (what
``mode: provided`` serves), one serving the certificate the *program* makes (``mode:
generated``), run under mocks with a stand-in for the pulumi-tls provider that makes real keys
and certificates from the program's inputs (tests/certificates.py). Clients trust only the CA,
check the name, and speak the protocol versions the test chooses (:mod:`ssl`).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from infra.components import gateway_config, gateway_tls_config
from infra.components.gateway_config import Upstreams
from infra.endpoints import Endpoint
from infra.offline import mock_engine
from infra.offline.mock_engine import ProgramRun, run_program
from infra.program import run
from infra.settings import GatewaySettings, read_stack_file, settings_from_stack_file
from tests.certificates import (
    Authority,
    Issued,
    TlsProviderMocks,
    authority,
    issue,
    write_tls_files,
)
from tests.components.helpers import container, pod_template
from tests.conftest import (
    GATEWAY_TOKEN,
    KNOWN_SECRETS,
    PROJECT_DIR,
    QDRANT_API_KEY,
    Deploy,
    first_set_up_in_session,
    merge,
)
from tests.nginx_gateway import (
    Gateway,
    client_context,
    deployed_nginx_conf,
    free_port,
    loopback_nginx_conf,
    running_nginx,
)

pytestmark = pytest.mark.nginx

SECRET = "kubernetes:core/v1:Secret"
HSTS = "max-age=63072000"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def ca() -> Authority:
    return authority()


@pytest.fixture(scope="module")
def issued(ca: Authority) -> Issued:
    return issue(ca, dns_names=("localhost",), ip_addresses=("127.0.0.1",))


def tls_settings(port: int, chain: str, **changes: Any) -> GatewaySettings:
    return GatewaySettings(
        port=port,
        rate_limit={"requests_per_second": 50, "burst": 100},
        tls={"mode": "provided", "certificate": chain},
        **changes,
    )


@pytest.fixture(scope="module")
def gateway(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    upstreams: Upstreams,
    ca: Authority,
    issued: Issued,
) -> Iterator[Gateway]:
    """nginx on the program's TLS configuration, serving a certificate from the test CA."""
    first_set_up_in_session(request)
    workdir = tmp_path_factory.mktemp("gateway-tls")
    write_tls_files(workdir / "tls", issued.chain, issued.key)
    port = free_port()
    config = loopback_nginx_conf(
        workdir, tls_settings(port, issued.chain), upstreams, tls_dir=workdir / "tls"
    )
    with running_nginx(workdir, config, port, tls=client_context(ca.pem)) as nginx:
        yield nginx


def handshake(
    port: int,
    context: ssl.SSLContext,
    server_hostname: str = "127.0.0.1",
) -> tuple[str | None, tuple[str, str, int] | None]:
    """(protocol version, cipher) of a completed handshake; raises ssl.SSLError otherwise."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        return tls.version(), tls.cipher()


def legacy_client(ca: Authority, version: ssl.TLSVersion, ciphers: str) -> ssl.SSLContext:
    """A client that offers exactly ``version`` and ``ciphers``, whatever OpenSSL's own policy
    (security level 0), so a refusal can only come from the server."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca.pem)
    context.minimum_version = context.maximum_version = version
    context.set_ciphers(f"{ciphers}:@SECLEVEL=0")
    return context


# --------------------------------------------------------------- handshake and protocols


def test_the_handshake_verifies_against_the_ca_and_negotiates_tls_1_3(
    gateway: Gateway, ca: Authority
) -> None:
    version, cipher = handshake(gateway.port, client_context(ca.pem))

    assert version == "TLSv1.3"
    assert cipher is not None
    assert cipher[0] in {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                         "TLS_CHACHA20_POLY1305_SHA256"}  # fmt: skip


def test_tls_1_2_is_served_with_a_forward_secret_aead_suite(
    gateway: Gateway, ca: Authority
) -> None:
    context = client_context(ca.pem)
    context.maximum_version = ssl.TLSVersion.TLSv1_2

    version, cipher = handshake(gateway.port, context)

    assert version == "TLSv1.2"
    assert cipher is not None
    assert cipher[0] in gateway_tls_config.TLS_CIPHERS.split(":")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_1_1_and_older_are_refused_by_the_server(
    gateway: Gateway, ca: Authority, version: str
) -> None:
    client = legacy_client(ca, ssl.TLSVersion[version], "ALL")

    with pytest.raises(ssl.SSLError) as refused:
        handshake(gateway.port, client)

    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"  # the server's alert


def test_a_tls_1_2_client_with_only_cbc_suites_is_refused(gateway: Gateway, ca: Authority) -> None:
    client = legacy_client(ca, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA256")

    with pytest.raises(ssl.SSLError, match=r"HANDSHAKE_FAILURE|handshake failure"):
        handshake(gateway.port, client)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_the_legacy_client_does_connect_where_the_server_allows_it(
    tmp_path: Path, upstreams: Upstreams, ca: Authority, issued: Issued
) -> None:
    """The refusals above are the server's: the same TLS 1.1 client, against the same
    configuration with TLS 1.1 and a SHA-1 suite let in, completes its handshake."""
    write_tls_files(tmp_path, issued.chain, issued.key)
    port = free_port()
    config = loopback_nginx_conf(tmp_path, tls_settings(port, issued.chain), upstreams)
    weakened = config.replace(
        f"ssl_protocols {gateway_tls_config.TLS_PROTOCOLS};", "ssl_protocols TLSv1.1 TLSv1.2;"
    ).replace(
        f"ssl_ciphers {gateway_tls_config.TLS_CIPHERS};",
        "ssl_ciphers ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0;",
    )
    assert weakened.count("TLSv1.1") == 1
    assert "@SECLEVEL=0" in weakened
    with running_nginx(tmp_path, weakened, port):
        version, _ = handshake(port, legacy_client(ca, ssl.TLSVersion.TLSv1_1, "ALL"))

    assert version == "TLSv1.1"


def test_a_client_that_does_not_trust_the_ca_is_refused(gateway: Gateway) -> None:
    stranger = authority("another CA")

    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        handshake(gateway.port, client_context(stranger.pem))


def test_a_name_the_certificate_does_not_cover_fails_verification(
    gateway: Gateway, ca: Authority
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"match|mismatch"):
        handshake(gateway.port, client_context(ca.pem), server_hostname="homelab.example")


# ----------------------------------------------------------------------- routes over HTTPS


def test_healthz_answers_over_https_without_a_token(gateway: Gateway) -> None:
    status, headers, body = gateway.request("GET", "/healthz", token=None)

    assert status == 200
    assert body == {"status": "ok"}
    assert headers["strict-transport-security"] == HSTS


@pytest.mark.parametrize(
    ("path", "upstream", "upstream_path"),
    [
        ("/v1/embeddings", "embedding", "/v1/embeddings"),
        ("/v1/embed", "embedding", "/embed"),
        ("/v1/search/collections", "vector-search", "/collections"),
        ("/mcp", "mcp", "/mcp"),
    ],
)
def test_with_the_token_each_route_reaches_its_upstream_over_https(
    gateway: Gateway, path: str, upstream: str, upstream_path: str
) -> None:
    status, headers, body = gateway.request("POST", path, body=b'{"inputs": "hello"}')

    assert status == 200, body
    assert (body["upstream"], body["path"]) == (upstream, upstream_path)
    assert body["authorization"] is None
    assert headers["strict-transport-security"] == HSTS


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"])
def test_without_the_token_the_answer_is_401_json_over_https(
    gateway: Gateway, token: str | None
) -> None:
    status, headers, body = gateway.request("POST", "/v1/embeddings", token=token, body=b"{}")

    assert status == 401
    assert body == {"error": "unauthorized", "status": 401}
    assert headers["www-authenticate"] == "Bearer"
    assert headers["strict-transport-security"] == HSTS


def test_unknown_path_is_404_json_with_hsts(gateway: Gateway) -> None:
    status, headers, body = gateway.request("GET", "/admin")

    assert (status, body) == (404, {"error": "not_found", "status": 404})
    assert headers["strict-transport-security"] == HSTS


def test_past_the_rate_limit_answers_429_over_https(
    tmp_path: Path, upstreams: Upstreams, ca: Authority, issued: Issued
) -> None:
    write_tls_files(tmp_path, issued.chain, issued.key)
    port = free_port()
    settings = tls_settings(port, issued.chain).model_copy(
        update={"rate_limit": GatewaySettings().rate_limit.model_copy(
            update={"requests_per_second": 1, "burst": 2})}
    )  # fmt: skip
    config = loopback_nginx_conf(tmp_path, settings, upstreams)
    with running_nginx(tmp_path, config, port, tls=client_context(ca.pem)) as gateway:
        answers = [gateway.request("POST", "/v1/embeddings", body=b"{}") for _ in range(8)]

    statuses = [status for status, _, _ in answers]
    assert statuses[:3] == [200, 200, 200]
    _, headers, body = next(answer for answer in answers if answer[0] == 429)
    assert body == {"error": "rate_limited", "status": 429}
    assert headers["retry-after"] == "1"
    assert headers["strict-transport-security"] == HSTS


def test_plain_http_to_the_tls_port_is_refused_with_json_not_redirected(gateway: Gateway) -> None:
    status, headers, body = gateway.request("GET", "/v1/search/collections", plain=True)

    assert status == 400
    assert body == {"error": "https_required", "status": 400}
    assert "location" not in headers
    assert "strict-transport-security" not in headers  # never sent over plain HTTP (RFC 6797)
    assert headers["connection"] == "close"


def test_plain_http_reaches_no_upstream_even_with_the_token(gateway: Gateway) -> None:
    agent = {"User-Agent": "plain-http-with-token"}
    gateway.request("POST", "/v1/embeddings", body=b"{}", plain=True, headers=agent)

    entry = gateway.logged_for("plain-http-with-token")
    assert (entry["status"], entry["path"], entry["upstream"]) == (400, "/v1/embeddings", "")


def test_neither_token_nor_key_reaches_the_access_log_or_the_configuration(
    gateway: Gateway, issued: Issued
) -> None:
    gateway.request(
        "GET", "/v1/search/collections?api-key=query-secret-123", headers={"User-Agent": "https"}
    )
    gateway.request(
        "POST", "/v1/embeddings", body=b"{}", plain=True, headers={"User-Agent": "http"}
    )

    assert gateway.logged_for("https")["status"] == 200
    assert gateway.logged_for("http")["status"] == 400
    text = gateway.log.read_text()
    key_lines = issued.key.splitlines()[1:-1]
    for secret in (GATEWAY_TOKEN, "Bearer", "query-secret-123", *key_lines):
        assert secret not in text
    assert "PRIVATE KEY" not in gateway.config
    assert all(line not in gateway.config for line in key_lines)


# ------------------------------------------------------- the certificate the program makes


@dataclass(frozen=True)
class Generated:
    run: ProgramRun
    ca: str
    """The CA certificate the (stood-in) provider made for this run."""


@pytest.fixture(scope="module")
def deploy_module() -> Iterator[Deploy]:
    """``deploy`` for this module's fixtures, with the pulumi-tls provider stood in for by one
    that makes real keys and certificates (tests/certificates.py)."""

    def _deploy(stack: str, overrides: dict[str, Any] | None = None) -> ProgramRun:
        config = merge(read_stack_file(stack, PROJECT_DIR), overrides or {})
        return run_program(run, stack=stack, config=config, secrets=KNOWN_SECRETS)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mock_engine, "RecordingMocks", TlsProviderMocks)
        yield _deploy


@pytest.fixture(scope="module")
def generated(deploy_module: Deploy) -> Generated:
    """homelab as its stack file says (``tls.mode: generated``)."""
    TlsProviderMocks.clear()
    homelab = deploy_module("homelab")
    return Generated(homelab, TlsProviderMocks.made["gateway-ca"]["certPem"])


def stored_tls(run: ProgramRun) -> tuple[str, str]:
    secret = run.one(SECRET, "gateway-tls")
    assert secret.inputs["type"] == "kubernetes.io/tls"
    data = secret.inputs["stringData"]
    return data["tls.crt"], data["tls.key"]


@pytest.fixture(scope="module")
def program_gateway(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    upstreams: Upstreams,
    generated: Generated,
) -> Iterator[Gateway]:
    """nginx serving the chain and key the program stored in its TLS Secret; the client trusts
    only the CA the program made."""
    first_set_up_in_session(request)
    chain, key = stored_tls(generated.run)
    workdir = tmp_path_factory.mktemp("gateway-generated")
    write_tls_files(workdir / "tls", chain, key)
    port = free_port()
    settings = settings_from_stack_file("homelab", PROJECT_DIR).gateway.model_copy(
        update={"port": port}
    )
    config = loopback_nginx_conf(workdir, settings, upstreams, tls_dir=workdir / "tls")
    with running_nginx(workdir, config, port, tls=client_context(generated.ca)) as nginx:
        yield nginx


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_program_made_certificate_is_served_and_trusted_through_its_ca(
    program_gateway: Gateway, name: str
) -> None:
    assert program_gateway.tls is not None
    version, _ = handshake(program_gateway.port, program_gateway.tls, server_hostname=name)
    status, headers, body = program_gateway.request("POST", "/v1/embeddings", body=b"{}")

    assert version == "TLSv1.3"
    assert (status, body["upstream"]) == (200, "embedding")
    assert headers["strict-transport-security"] == HSTS


def test_the_program_made_certificate_names_loopback_the_service_and_the_listed_names(
    generated: Generated,
) -> None:
    chain, _ = stored_tls(generated.run)
    certificate = x509.load_pem_x509_certificate(chain.encode())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value

    assert set(names.get_values_for_type(x509.DNSName)) == {
        "localhost",
        "homelab.local",  # Pulumi.homelab.yaml's gateway.tls.dnsNames
        "gateway",
        "gateway.agent-platform",
        "gateway.agent-platform.svc",
        "gateway.agent-platform.svc.cluster.local",
    }
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    ca = x509.load_pem_x509_certificate(generated.ca.encode())
    assert certificate.issuer == ca.subject


def test_the_server_certificate_renews_early_and_the_ca_outlives_it(
    generated: Generated,
) -> None:
    ca = generated.run.one("tls:index/selfSignedCert:SelfSignedCert", "gateway-ca").inputs
    server = generated.run.one(
        "tls:index/locallySignedCert:LocallySignedCert", "gateway-tls-certificate"
    ).inputs

    assert ca["isCaCertificate"] is True
    assert "cert_signing" in ca["allowedUses"]
    assert ca["validityPeriodHours"] == 10 * 365 * 24
    assert server["validityPeriodHours"] == 365 * 24
    assert server["earlyRenewalHours"] == 30 * 24
    assert server["allowedUses"] == ["digital_signature", "server_auth"]


def test_the_tls_secret_is_mounted_read_only_and_the_probes_use_https(
    generated: Generated,
) -> None:
    gateway = container(generated.run, "gateway")
    pod = pod_template(generated.run, "gateway")["spec"]
    mounts = {mount["name"]: mount for mount in gateway["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}

    assert mounts["tls"]["mountPath"] == "/etc/nginx/tls"
    assert mounts["tls"]["readOnly"] is True
    assert volumes["tls"]["secret"]["secretName"] == "gateway-tls"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert gateway[probe]["httpGet"] == {"path": "/healthz", "port": "https", "scheme": "HTTPS"}
    assert [port["name"] for port in gateway["ports"]] == ["https"]


def test_the_stored_configuration_is_the_tls_one_this_module_runs(
    generated: Generated,
) -> None:
    stored = generated.run.one(SECRET, "gateway-config").inputs["stringData"]["nginx.conf"]
    expected = deployed_nginx_conf(settings_from_stack_file("homelab", PROJECT_DIR))

    assert stored == expected
    assert "listen 8080 ssl;" in stored
    assert "ssl_certificate_key /etc/nginx/tls/tls.key;" in stored


def test_pods_roll_when_the_program_makes_a_new_certificate(deploy_module: Deploy) -> None:
    def annotation(run: ProgramRun) -> str:
        value: str = pod_template(run, "gateway")["metadata"]["annotations"]["checksum/config"]
        return value

    first, second = deploy_module("homelab"), deploy_module("homelab")

    assert stored_tls(first) != stored_tls(second)  # the stand-in makes new keys each run
    assert annotation(first) != annotation(second)


def test_without_tls_no_certificate_is_made_and_the_probes_use_http(studio: ProgramRun) -> None:
    assert [r for r in studio.registrations if r.type.startswith("tls:")] == []
    assert [r.name for r in studio.of_type(SECRET) if r.name == "gateway-tls"] == []
    gateway = container(studio, "gateway")
    assert gateway["livenessProbe"]["httpGet"]["scheme"] == "HTTP"
    assert "ssl" not in studio.one(SECRET, "gateway-config").inputs["stringData"]["nginx.conf"]


def test_no_http_client_redirect_is_ever_configured(issued: Issued) -> None:
    """Refusing, not redirecting: no ``return 30x`` and no ``error_page 497`` to a URL."""
    endpoint = Endpoint("127.0.0.1", 1)
    config = gateway_config.nginx_conf(
        tls_settings(8443, issued.chain),
        Upstreams(endpoint, endpoint, endpoint),
        token=GATEWAY_TOKEN,
        vector_search_api_key=QDRANT_API_KEY,
    )

    assert "error_page 497 = /.gateway/https_required;" in config
    assert "return 301" not in config
    assert "return 302" not in config
    assert "https://$host" not in config


# -------------------------------------- a provided certificate, through the whole program


def test_a_provided_chain_and_key_are_stored_served_and_exported(
    deploy: Deploy, tmp_path: Path, upstreams: Upstreams, ca: Authority, issued: Issued
) -> None:
    run = deploy(
        "studio",
        {"gateway.tls": {"mode": "provided", "certificate": issued.chain}},
        secrets={**KNOWN_SECRETS, "gatewayTlsKey": issued.key},
    )
    chain, key = stored_tls(run)
    write_tls_files(tmp_path / "tls", chain, key)
    port = free_port()
    settings = tls_settings(port, issued.chain)
    config = loopback_nginx_conf(tmp_path, settings, upstreams, tls_dir=tmp_path / "tls")
    with running_nginx(tmp_path, config, port, tls=client_context(ca.pem)) as gateway:
        status, _, body = gateway.request("POST", "/v1/search/collections", body=b"{}")

    assert (chain, key) == (issued.chain, issued.key)
    assert (status, body["upstream"]) == (200, "vector-search")
    assert run.outputs["gatewayUrl"] == "https://localhost:8080"
    assert run.outputs["gatewayCaCertificate"] == issued.chain
    assert [r for r in run.registrations if r.type.startswith("tls:")] == []


# ------------------------------------------------------------- what the stack exports


def test_the_gateway_url_is_https_when_tls_is_on(generated: Generated) -> None:
    outputs = generated.run.outputs

    assert outputs["gatewayUrl"] == "https://localhost:8443"  # Pulumi.homelab.yaml's host port
    assert outputs["endpoints"]["gateway"] == "https://gateway.agent-platform.svc.cluster.local:443"


def test_the_ca_is_exported_in_plain_text_for_clients_to_trust(generated: Generated) -> None:
    outputs = generated.run.outputs

    assert outputs["gatewayCaCertificate"] == generated.ca
    assert "gatewayCaCertificate" not in generated.run.secret_outputs
    assert "PRIVATE KEY" not in str(outputs)


def test_without_tls_no_ca_is_exported_and_the_url_is_http(studio: ProgramRun) -> None:
    assert "gatewayCaCertificate" not in studio.outputs
    assert studio.outputs["gatewayUrl"] == "http://localhost:8080"
