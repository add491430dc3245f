"""Request values: headers, URLs, timeouts, bodies and the request itself."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import ClientValidationError, forget_secret, register_secret
from soniox.transport import URL, Headers, Request, RequestOptions, StreamBody, Timeout
from soniox.transport.request import is_credential_header

BASE = URL.parse("https://api.soniox.com/v1")


# --- headers ----------------------------------------------------------------------------------


def test_header_lookup_is_case_insensitive() -> None:
    """Names are stored lower-case; any spelling finds them."""
    headers = Headers.of({"Content-Type": "application/json"})
    assert headers.get("CONTENT-TYPE") == "application/json"
    assert "content-type" in headers


def test_set_replaces_every_value_of_a_name() -> None:
    """set() leaves exactly one value."""
    headers = Headers.of([("x-a", "1"), ("X-A", "2")]).set("x-a", "3")
    assert headers.get_all("x-a") == ["3"]


def test_add_keeps_existing_values() -> None:
    """add() is for multi-valued headers."""
    assert Headers.of({"x-a": "1"}).add("x-a", "2").get_all("x-a") == ["1", "2"]


def test_merge_lets_the_other_side_win_per_name() -> None:
    """merge() replaces names present in the argument, keeps the rest."""
    merged = Headers.of({"a": "1", "b": "2"}).merge({"B": "3", "c": "4"})
    assert dict(merged) == {"a": "1", "b": "3", "c": "4"}


def test_headers_are_immutable_values() -> None:
    """Every change returns a new object; the original is untouched."""
    original = Headers.of({"a": "1"})
    original.set("a", "2").remove("a")
    assert original.get("a") == "1"


def test_header_repr_redacts_values_off_the_allowlist() -> None:
    """Authorization (and anything not allow-listed) never shows in a repr."""
    headers = Headers.of({"authorization": "Bearer sk-secret-123", "content-type": "text/plain"})
    text = repr(headers)
    assert "sk-secret-123" not in text
    assert "text/plain" in text
    assert "<redacted>" in text


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("Authorization", True),
        ("proxy-authorization", True),
        ("Cookie", True),
        ("set-cookie", True),
        ("X-Api-Key", True),
        ("api-key", True),
        ("X-Auth-Token", True),
        ("x-soniox-webhook-secret", True),
        ("www-authenticate", True),
        ("x-session", True),
        ("idempotency-key", False),
        ("content-type", False),
        ("user-agent", False),
        ("x-request-id", False),
    ],
)
def test_which_headers_carry_credentials(name: str, credential: bool) -> None:
    """Listed names, and any name containing key/token/secret/auth/…, except idempotency-key."""
    assert is_credential_header(name) is credential


def test_a_credential_header_is_never_shown_even_if_allowed() -> None:
    """The name rule wins over an allowlist that (wrongly) names a credential header."""
    headers = Headers.of({"x-api-key": "sk-secret-456", "accept": "text/csv"})
    shown = dict(headers.redacted(allow=frozenset({"x-api-key", "accept"})))
    assert shown == {"x-api-key": "<redacted>", "accept": "text/csv"}


def test_a_registered_secret_is_masked_under_an_allowed_name() -> None:
    """A value shown by the allowlist still passes redact(): a registered secret is masked."""
    secret = "sk-agent-leak-77aa"
    register_secret(secret)
    try:
        text = repr(Headers.of({"user-agent": f"app/1 {secret}"}))
    finally:
        forget_secret(secret)
    assert secret not in text
    assert "app/1 ***" in text


def test_options_repr_masks_extra_headers() -> None:
    """An API key in extra_headers (under any name off the allowlist) never shows in the
    options' repr, nor in the repr of a request that carries them."""
    options = RequestOptions(
        extra_headers={"X-Api-Key": "sk-extra-123456", "X-Trace": "t1", "Accept": "text/csv"},
        max_retries=3,
    )
    text = repr(options)
    assert "sk-extra-123456" not in text
    assert "t1" not in text
    assert "('accept', 'text/csv')" in text
    assert "max_retries=3" in text
    request_text = repr(Request("GET", BASE, options=options))
    assert "sk-extra-123456" not in request_text
    assert "options=RequestOptions(" in request_text
    assert "options=" not in repr(Request("GET", BASE))


# --- URLs -------------------------------------------------------------------------------------


def test_join_appends_the_path_to_the_base_path() -> None:
    """/v1 + /models = /v1/models, whichever slashes are used."""
    assert BASE.join("/models").path == "/v1/models"
    assert URL.parse("https://h/v1/").join("models").path == "/v1/models"


def test_join_encodes_params_and_drops_none() -> None:
    """Query params are URL-encoded; None values are left out; booleans are lower-case."""
    url = BASE.join("/files", {"limit": 10, "cursor": None, "q": "a b", "x": True})
    assert url.query == "limit=10&q=a+b&x=true"
    assert str(url) == "https://api.soniox.com/v1/files?limit=10&q=a+b&x=true"


def test_netloc_omits_default_ports() -> None:
    """The Host header carries a port only when it is not the scheme's default."""
    assert URL.parse("https://h:443/").netloc == "h"
    assert URL.parse("http://h:8080/").netloc == "h:8080"
    assert URL.parse("http://[::1]:8080/").netloc == "[::1]:8080"


@pytest.mark.parametrize("bad", ["ftp://h/", "/relative", "http:///nohost", "https://u:p@h/"])
def test_unusable_urls_are_rejected_with_advice(bad: str) -> None:
    """Only absolute http(s)/ws(s) URLs without credentials are accepted."""
    with pytest.raises(ClientValidationError):
        URL.parse(bad)


@given(st.lists(st.text(alphabet="abcxyz/_-.", min_size=1, max_size=8), max_size=4))
def test_joined_paths_keep_the_base_prefix(parts: list[str]) -> None:
    """Whatever is joined, the result stays under the base path."""
    assert BASE.join("/" + "/".join(parts)).path.startswith("/v1/")


# --- timeouts -----------------------------------------------------------------------------------


def test_one_number_sets_every_phase() -> None:
    """Timeout.of(3) limits connect, read, write and pool to 3 s."""
    assert Timeout.of(3) == Timeout(3, 3, 3, 3)


def test_negative_timeouts_are_rejected() -> None:
    """A negative limit is a mistake, reported with the phase named."""
    with pytest.raises(ClientValidationError, match="read"):
        Timeout(read=-1)


@given(
    phases=st.tuples(*[st.one_of(st.none(), st.floats(0, 1e4)) for _ in range(4)]),
    remaining=st.floats(0.001, 1e4),
)
def test_clamp_never_exceeds_the_remaining_time(
    phases: tuple[float | None, ...], remaining: float
) -> None:
    """After clamp(r) every phase is set and at most r, and never longer than before."""
    original = Timeout(*phases)
    clamped = original.clamp(remaining)
    for before, after in zip(
        (original.connect, original.read, original.write, original.pool),
        (clamped.connect, clamped.read, clamped.write, clamped.pool),
        strict=True,
    ):
        assert after is not None
        assert after <= remaining
        assert before is None or after <= before


# --- bodies -----------------------------------------------------------------------------------


def test_bytes_bodies_are_replayable() -> None:
    """Bytes can be sent any number of times."""
    assert Request("POST", BASE, body=b"x").replayable


def test_factory_bodies_give_a_fresh_iterator_each_time() -> None:
    """from_factory opens a new chunk iterator per attempt."""
    body = StreamBody.from_factory(lambda: iter([b"a", b"b"]), length=2)
    assert b"".join(body.open()) == b"".join(body.open()) == b"ab"  # type: ignore[arg-type]
    assert body.replayable


def test_one_shot_bodies_refuse_a_second_read() -> None:
    """A one-shot stream is marked not replayable and cannot be opened twice."""
    body = StreamBody.one_shot(iter([b"a"]))
    assert not body.replayable
    body.open()
    assert body.consumed
    with pytest.raises(ClientValidationError, match="one-shot"):
        body.open()


def test_seekable_files_rewind_for_each_attempt() -> None:
    """A seekable file is replayable from where it started, and its length is known."""
    handle = io.BytesIO(b"headerDATA")
    handle.seek(6)
    body = StreamBody.from_file(handle, chunk_size=2)
    assert body.length == 4
    assert body.replayable
    assert b"".join(body.open()) == b"DATA"  # type: ignore[arg-type]
    assert b"".join(body.open()) == b"DATA"  # type: ignore[arg-type]


def test_file_paths_are_reopened_per_attempt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A path body knows its size and reads the whole file every time."""
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789")
    body = StreamBody.from_file(path, chunk_size=3)
    assert body.length == 10
    assert b"".join(body.open()) == b"".join(body.open()) == b"0123456789"  # type: ignore[arg-type]


# --- requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "options", "expected"),
    [
        ("GET", RequestOptions(), True),
        ("DELETE", RequestOptions(), True),
        ("POST", RequestOptions(), False),
        ("POST", RequestOptions(idempotency_key="k"), True),
        ("POST", RequestOptions(idempotent=True), True),
        ("GET", RequestOptions(idempotent=False), False),
    ],
)
def test_idempotency_follows_method_key_and_override(
    method: str, options: RequestOptions, expected: bool
) -> None:
    """Idempotent: by method, by idempotency key, or by explicit option."""
    assert Request(method, BASE, options=options).idempotent is expected


def test_request_repr_never_shows_the_authorization_value() -> None:
    """A logged or printed request keeps the key hidden."""
    request = Request("GET", BASE).with_header("Authorization", "Bearer abc123secretkey")
    assert "abc123secretkey" not in repr(request)


def test_options_merge_prefers_the_newer_values() -> None:
    """merge(): set fields of the argument win; extra headers merge by name."""
    base = RequestOptions(max_retries=1, extra_headers={"a": "1", "b": "1"})
    merged = base.merge(RequestOptions(max_retries=4, extra_headers={"b": "2"}))
    assert merged.max_retries == 4
    assert dict(merged.extra_headers) == {"a": "1", "b": "2"}
