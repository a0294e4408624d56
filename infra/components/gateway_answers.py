"""The answers the gateway's nginx gives itself, always JSON with the security headers.

Every status nginx can produce on its own has an internal location here (under
:data:`ANSWERS_PREFIX`), so that no client ever sees one of nginx's HTML pages (which also lack
the security headers and HSTS): a malformed request (400), an oversized header line (nginx's
internal 494, sent as 400), a method nginx does not serve (405), an overlong URI (414), an
unknown transfer coding (501), and the gateway's own 401, 404, 413, 429 and 503. Internal
paths, not named locations: nginx cannot redirect a request whose URI it could not parse (an
overlong one, say) to a named location, and answers 500 in HTML instead.

A request without the token is answered from :data:`UNAUTHORIZED_PATH`, where the per-client
rate limit applies *before* the 401: ``return 401`` in a route would answer in nginx's rewrite
phase, ahead of ``limit_req``'s phase, so failed guesses would never count against the limit.
``try_files`` runs after it, hence its use (with a root where no file can exist) to send the 401.
"""

from __future__ import annotations

import json
from typing import Final

from infra.components.gateway_tls_config import Header

RETRY_AFTER_SECONDS: Final = 1
UNAUTHORIZED: Final = 401
RATE_LIMITED: Final = 429
ANSWERS_PREFIX: Final = "/.gateway/"
"""Where the internal locations live: ``location`` blocks marked ``internal``, which a client
asking for them directly is answered 404."""
UNAUTHORIZED_PATH: Final = f"{ANSWERS_PREFIX}unauthenticated"
"""The internal location a request without the token is rewritten to (see the docstring)."""

_ERRORS: Final[tuple[tuple[tuple[int, ...], int, str], ...]] = (
    # (statuses nginx produces, status answered, error code)
    ((400,), 400, "bad_request"),
    ((494,), 400, "request_header_too_large"),
    ((UNAUTHORIZED,), UNAUTHORIZED, "unauthorized"),
    ((404,), 404, "not_found"),
    ((405,), 405, "method_not_allowed"),
    ((413,), 413, "request_too_large"),
    ((414,), 414, "uri_too_long"),
    ((RATE_LIMITED,), RATE_LIMITED, "rate_limited"),
    ((501,), 501, "not_implemented"),
    ((502, 503, 504), 503, "upstream_unavailable"),
)


def header_lines(indent: str, headers: tuple[Header, ...]) -> str:
    return "".join(f'{indent}add_header {name} "{value}" always;\n' for name, value in headers)


def json_answer(
    status: int, body: dict[str, object], indent: str, headers: tuple[Header, ...], extra: str = ""
) -> str:
    """``return`` of a JSON body, with ``headers`` and any ``extra`` header lines."""
    text = json.dumps(body, separators=(",", ":"))
    return (
        f"{header_lines(indent, headers)}{extra}"
        f"{indent}default_type application/json;\n"
        f"{indent}return {status} '{text}';\n"
    )


def json_error(status: int, error: str, indent: str, headers: tuple[Header, ...]) -> str:
    extra = ""
    if status == UNAUTHORIZED:
        extra = f'{indent}add_header WWW-Authenticate "Bearer" always;\n'
    elif status == RATE_LIMITED:
        extra = f'{indent}add_header Retry-After "{RETRY_AFTER_SECONDS}" always;\n'
    return json_answer(status, {"error": error, "status": status}, indent, headers, extra)


def error_locations(headers: tuple[Header, ...], burst: int, indent: str) -> str:
    """The ``error_page`` lines, a named location per answer, and the internal location that
    rate-limits and then refuses a request without the token."""
    inner = indent + "    "
    pages = "".join(
        f"{indent}error_page {' '.join(map(str, produced))} = {ANSWERS_PREFIX}{error};\n"
        for produced, _, error in _ERRORS
    )
    named = "".join(
        _named(error, json_error(status, error, inner, headers), indent)
        for _, status, error in _ERRORS
    )
    unauthorized = (
        f"{indent}location = {UNAUTHORIZED_PATH} {{\n"
        f"{inner}internal;\n"
        f"{inner}limit_req zone=per_client burst={burst} nodelay;\n"
        f"{inner}root /nonexistent;\n"
        f"{inner}try_files /.never =401;\n"
        f"{indent}}}\n"
    )
    return pages + named + unauthorized


def refuse_without_token(indent: str) -> str:
    """The first line of every route but ``/healthz``."""
    return f"{indent}if ($authorized = 0) {{ rewrite ^ {UNAUTHORIZED_PATH} last; }}\n"


def https_required(headers: tuple[Header, ...], indent: str) -> str:
    """The answer to plain HTTP sent to the TLS port (nginx's 497): refused, never redirected
    (see :mod:`infra.components.gateway_tls_config`)."""
    body = {"error": "https_required", "status": 400}
    return f"{indent}error_page 497 = {ANSWERS_PREFIX}https_required;\n" + _named(
        "https_required", json_answer(400, body, indent + "    ", headers), indent
    )


def _named(name: str, answer: str, indent: str) -> str:
    return (
        f"{indent}location = {ANSWERS_PREFIX}{name} {{\n{indent}    internal;\n{answer}{indent}}}\n"
    )
