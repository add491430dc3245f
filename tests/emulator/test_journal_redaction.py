"""The journal never stores a credential: every credential-bearing header, and query parameter,
is redacted the way ``Authorization: Bearer`` is (the emulator's own rule, no SDK import)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from soniox.emulator import Emulator
from soniox.emulator.journal import is_credential_name, redact_headers, redact_query

SECRET = "sk-journal-0123456789abcdef"


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("Authorization", True),
        ("Proxy-Authorization", True),
        ("Cookie", True),
        ("Set-Cookie", True),
        ("X-Api-Key", True),
        ("api-key", True),
        ("Sec-WebSocket-Protocol", True),
        ("X-Soniox-Webhook-Secret", True),
        ("X-Auth-Token", True),
        ("x-session-id", True),
        ("webhook_auth_header_value", True),
        ("api_key", True),
        ("Idempotency-Key", False),
        ("Content-Type", False),
        ("User-Agent", False),
        ("X-Request-Id", False),
    ],
)
def test_the_name_rule(name: str, credential: bool) -> None:
    """Listed names and names containing key/token/secret/auth/cookie/session/... are
    credentials; idempotency-key and ordinary headers are not."""
    assert is_credential_name(name) is credential


def test_credential_headers_keep_only_their_length_and_scheme() -> None:
    """Values become a length-only marker; an auth scheme stays; other headers are untouched."""
    redacted = dict(
        redact_headers(
            [
                ("Authorization", f"Bearer {SECRET}"),
                ("X-Api-Key", SECRET),
                ("Cookie", f"session={SECRET}; theme=dark"),
                ("X-Soniox-Webhook-Secret", SECRET),
                ("X-Forwarded-Auth", f"Basic {SECRET}"),
                ("X-Custom", f"Bearer {SECRET}"),
                ("Idempotency-Key", "idem-1"),
                ("Content-Type", "application/json"),
            ]
        )
    )
    assert redacted == {
        "authorization": f"Bearer <redacted {len(SECRET) + 7} chars>",
        "x-api-key": f"<redacted {len(SECRET)} chars>",
        "cookie": f"<redacted {len(SECRET) + 20} chars>",
        "x-soniox-webhook-secret": f"<redacted {len(SECRET)} chars>",
        "x-forwarded-auth": f"Basic <redacted {len(SECRET) + 6} chars>",
        "x-custom": f"Bearer <redacted {len(SECRET) + 7} chars>",
        "idempotency-key": "idem-1",
        "content-type": "application/json",
    }


def test_credential_query_parameters_are_redacted() -> None:
    """api_key=, token=, webhook_auth_header_value= … lose their values; the rest is kept."""
    query = f"a=1&api_key={SECRET}&webhook_auth_header_value={SECRET}&flag&b=x%20y"
    assert redact_query(query) == (
        f"a=1&api_key=<redacted {len(SECRET)} chars>"
        f"&webhook_auth_header_value=<redacted {len(SECRET)} chars>&flag&b=x%20y"
    )
    assert redact_query("") == ""


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.mark.parametrize("http2", [False, True], ids=["h1", "h2c"])
def test_requests_with_credentials_leave_none_in_the_journal(emu: Emulator, http2: bool) -> None:
    """A real request carrying a key in every usual place (bearer, x-api-key, api-key, cookie,
    a webhook secret header, the query string): the journal, and its JSON, hold none of them."""
    headers = {
        "Authorization": f"Bearer {emu.api_key}",
        "X-Api-Key": SECRET,
        "Api-Key": SECRET,
        "Cookie": f"sid={SECRET}",
        "X-Soniox-Webhook-Secret": SECRET,
        "X-Custom-Token": SECRET,
    }
    with httpx.Client(trust_env=False, http1=not http2, http2=http2, timeout=10) as client:
        response = client.get(f"{emu.rest_base_url}/models?api_key={SECRET}", headers=headers)
    assert response.status_code == 200
    entry = emu.journal.entries(path="/v1/models")[0]
    assert entry.http_version == ("2" if http2 else "1.1")
    assert entry.header("x-api-key") == f"<redacted {len(SECRET)} chars>"
    assert entry.header("authorization") == f"Bearer <redacted {len(emu.api_key) + 7} chars>"
    assert entry.query == f"api_key=<redacted {len(SECRET)} chars>"
    text = repr(emu.journal.to_json())
    assert SECRET not in text
    assert emu.api_key not in text
