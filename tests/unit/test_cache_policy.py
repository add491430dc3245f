"""The cache's sans-IO decisions: keys, routes, TTL rules, invalidation tags, the byte-bounded LRU."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError
from soniox.middleware.cache import ENTRY_OVERHEAD, Cache, CachedResponse, MemoryStore
from soniox.middleware.cache_policy import (
    CacheKey,
    CacheRules,
    CredentialHasher,
    Route,
    invalidation_tags,
    request_directives,
    request_key,
    response_ttl,
    route_of,
    ttl_for,
)
from soniox.transport import URL, Headers, Request, RequestOptions, Response

BASE = URL.parse("https://api.soniox.com/v1")
RULES = CacheRules()
ids = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36).filter(lambda s: s != "count")
credentials = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=64
)
paths = st.sampled_from(
    ["/models", "/tts-models", "/files/f1", "/transcriptions/t1", "/transcriptions/t1/transcript"]
)


def get(path: str, **headers: str) -> Request:
    return Request("GET", BASE.join(path), Headers.of(headers))


def job(status: str, **fields: object) -> bytes:
    return json.dumps({"id": "t1", "status": status, "model": "m", **fields}).encode()


# --- keys ------------------------------------------------------------------------------------


@given(path=paths, a=credentials, b=credentials)
def test_two_credentials_never_share_a_key(path: str, a: str, b: str) -> None:
    """Keys of one URL differ whenever the bearer credentials differ, and match when equal."""
    key_a = request_key(get(path, authorization=f"Bearer {a}"))
    key_b = request_key(get(path, authorization=f"Bearer {b}"))
    assert (key_a == key_b) == (a == b)


@given(a=credentials, b=credentials)
def test_the_credential_header_name_is_part_of_the_key(a: str, b: str) -> None:
    """The same value in x-api-key and in authorization gives different keys."""
    assert request_key(get("/models", **{"x-api-key": a})) != request_key(
        get("/models", authorization=a)
    )


@given(path=paths, secret=credentials)
def test_a_key_holds_no_trace_of_the_credential(path: str, secret: str) -> None:
    """Neither the key's fields nor its repr contain the credential."""
    key = request_key(get(path, authorization=f"Bearer {secret}-0123456789"))
    for text in (key.method, key.url, key.credential, repr(key)):
        assert f"{secret}-0123456789" not in text


@given(path=paths, query=st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), max_size=3))
def test_method_url_and_query_all_separate_keys(path: str, query: dict[str, int]) -> None:
    """A different method, path or query never maps to the same key."""
    plain = request_key(Request("GET", BASE.join(path)))
    assert request_key(Request("HEAD", BASE.join(path))) != plain
    assert request_key(Request("GET", BASE.join(path + "x"))) != plain
    if query:
        assert request_key(Request("GET", BASE.join(path, query))) != plain


def test_hashers_with_different_secrets_disagree() -> None:
    """Digests are only comparable within one secret (one process by default)."""
    headers = Headers.of({"authorization": "Bearer k"})
    assert CredentialHasher(b"a" * 32).digest(headers) != CredentialHasher(b"b" * 32).digest(
        headers
    )
    assert CredentialHasher(b"a" * 32).digest(headers) == CredentialHasher(b"a" * 32).digest(
        headers
    )


# --- routes and tags ------------------------------------------------------------------------------


@given(item=ids)
def test_item_routes_are_templated_and_tagged_by_item(item: str) -> None:
    """/files/{id}, /transcriptions/{id}[/transcript] name the item; the rule follows the template."""
    assert route_of(f"/v1/files/{item}") == Route("/files/{id}", "files", f"files/{item}", "files")
    job_route = route_of(f"/v1/transcriptions/{item}")
    assert (job_route.template, job_route.rule) == ("/transcriptions/{id}", "jobs")
    transcript = route_of(f"/v1/transcriptions/{item}/transcript")
    assert transcript.template == "/transcriptions/{id}/transcript"
    assert transcript.rule == "transcripts"
    assert transcript.tags == job_route.tags == (f"transcriptions/{item}",)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/files",
        "/v1/files/count",
        "/v1/transcriptions",
        "/v1/transcriptions/count",
        "/v1/usage/summary",
        "/v1/usage-logs",
        "/v1/concurrency-limits",
        "/v1/auth/temporary-api-key",
        "/",
    ],
)
def test_listings_counts_and_usage_are_never_kept(path: str) -> None:
    """Routes whose answers change with every upload, job or second of use have no rule."""
    route = route_of(path)
    assert route.rule is None
    assert not RULES.may_keep(route)


def test_the_base_path_is_stripped_whatever_it_is() -> None:
    """A proxy's base path (/soniox/v1) is removed before matching; a foreign path is kept whole."""
    assert route_of("/soniox/v1/models", "/soniox/v1").rule == "models"
    assert route_of("/models", "/v1").rule == "models"
    assert route_of("/v10/models", "/v1").rule is None


@given(collection=st.sampled_from(["files", "transcriptions", "voices"]), item=ids)
def test_a_write_drops_its_item_and_its_collection_only(collection: str, item: str) -> None:
    """DELETE /c/{id} drops c/{id} and c; POST /c drops c, never another item's entries."""
    assert invalidation_tags(route_of(f"/v1/{collection}/{item}")) == (
        f"{collection}/{item}",
        collection,
    )
    assert invalidation_tags(route_of(f"/v1/{collection}")) == (collection,)
    assert collection not in route_of(f"/v1/{collection}/{item}").tags


# --- TTL rules --------------------------------------------------------------------------------


@given(status=st.integers(100, 599), path=paths)
def test_only_200_answers_are_kept(status: int, path: str) -> None:
    """Any status but 200 gets no TTL (errors, 404s, 204s are never reused)."""
    ttl = ttl_for(RULES, route_of("/v1" + path), status, Headers(), job("completed"))
    assert (ttl > 0) == (status == 200)


@given(status=st.sampled_from(["completed", "error"]))
def test_a_finished_job_is_kept_for_the_finished_ttl(status: str) -> None:
    """completed / error jobs: finished_jobs seconds."""
    route = route_of("/v1/transcriptions/t1")
    assert ttl_for(RULES, route, 200, Headers(), job(status)) == RULES.finished_jobs


@given(
    status=st.sampled_from(["completed", "error"]),
    code=st.none() | st.integers(100, 599).filter(lambda c: not 200 <= c < 300),
)
def test_a_finished_job_awaiting_its_webhook_is_kept_like_a_pending_one(
    status: str, code: int | None
) -> None:
    """A webhook not yet accepted (no code, or a refusal being retried): pending_jobs seconds,
    since webhook_status_code is about to change."""
    body = job(status, webhook_url="https://example.com/hook", webhook_status_code=code)
    route = route_of("/v1/transcriptions/t1")
    assert ttl_for(RULES, route, 200, Headers(), body) == RULES.pending_jobs


@given(code=st.integers(200, 299))
def test_a_finished_job_whose_webhook_was_accepted_is_kept_as_finished(code: int) -> None:
    """A 2xx webhook_status_code is final: finished_jobs seconds."""
    body = job("completed", webhook_url="https://example.com/hook", webhook_status_code=code)
    route = route_of("/v1/transcriptions/t1")
    assert ttl_for(RULES, route, 200, Headers(), body) == RULES.finished_jobs


@given(
    status=st.text(max_size=12).filter(lambda s: s not in ("completed", "error")),
    pending=st.floats(0, 5),
    finished=st.floats(0, 3600),
)
def test_a_job_not_finished_never_outlives_the_pending_ttl(
    status: str, pending: float, finished: float
) -> None:
    """queued, processing, or any unknown status: at most pending_jobs seconds."""
    rules = CacheRules(finished_jobs=finished, pending_jobs=pending)
    assert ttl_for(rules, route_of("/v1/transcriptions/t1"), 200, Headers(), job(status)) == pending


@given(body=st.binary(max_size=64))
def test_an_unreadable_job_body_is_not_kept(body: bytes) -> None:
    """A status answer that is not a JSON object with a status string gets no TTL."""
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    if not isinstance(status, str):
        assert ttl_for(RULES, route_of("/v1/transcriptions/t1"), 200, Headers(), body) == 0


@given(
    rule_ttl=st.floats(0, 1e6),
    max_age=st.integers(0, 10**7),
    directive=st.sampled_from(["", "no-store", "no-cache", "private"]),
)
def test_response_headers_only_ever_shorten_the_ttl(
    rule_ttl: float, max_age: int, directive: str
) -> None:
    """max-age caps the route's TTL; no-store / no-cache make it 0; nothing lengthens it."""
    value = ", ".join(filter(None, [directive, f"max-age={max_age}"]))
    ttl = response_ttl(rule_ttl, Headers.of({"cache-control": value}))
    assert 0 <= ttl <= rule_ttl
    assert ttl <= max_age
    if directive in ("no-store", "no-cache"):
        assert ttl == 0


def test_vary_star_is_never_kept() -> None:
    """Vary: * means the answer depends on things the key cannot see."""
    assert response_ttl(60, Headers.of({"vary": "accept, *"})) == 0
    assert response_ttl(60, Headers.of({"vary": "accept"})) == 60


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (True, True)),
        ("no-cache", (False, True)),
        ("max-age=0", (False, True)),
        ("no-store", (False, False)),
        ("max-age=60", (True, True)),
    ],
)
def test_a_request_can_skip_the_lookup_or_the_keeping(
    value: str | None, expected: tuple[bool, bool]
) -> None:
    """Request Cache-Control: no-cache / max-age=0 skip the lookup, no-store skips both."""
    headers = Headers.of({"cache-control": value} if value else {})
    assert request_directives(headers) == expected


@pytest.mark.parametrize(
    "field", ["models", "files", "transcripts", "finished_jobs", "pending_jobs"]
)
@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf, True, "5"])
def test_bad_ttls_fail_naming_the_field(field: str, bad: object) -> None:
    """NaN, negative, infinite or non-numeric TTLs are refused at construction."""
    with pytest.raises(ClientValidationError) as caught:
        CacheRules(**{field: bad})  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("cache_ttl_models", math.nan),
        ("cache_ttl_transcripts", -5.0),
        ("cache_ttl_pending_jobs", math.inf),
        ("cache_max_bytes", -1),
        ("cache_max_entry_bytes", 1.5),
    ],
)
def test_bad_cache_knobs_fail_at_config_construction(field: str, bad: object) -> None:
    """SonioxConfig refuses NaN / negative / non-integer cache knobs, naming the field."""
    with pytest.raises(ClientValidationError) as caught:
        SonioxConfig(**{field: bad})
    assert caught.value.field == field


@pytest.mark.parametrize(("field", "bad"), [("max_bytes", -1), ("max_entry_bytes", 2.0)])
def test_bad_sizes_fail_at_cache_construction(field: str, bad: object) -> None:
    """Cache(max_bytes=-1) is a ClientValidationError naming max_bytes."""
    with pytest.raises(ClientValidationError) as caught:
        Cache(**{field: bad})  # type: ignore[arg-type]
    assert caught.value.field == field


# --- the byte-bounded LRU ------------------------------------------------------------------------


def entry(path: str, body: bytes = b"x" * 100, *, now: float = 0.0, ttl: float = 60.0):
    request = get(path)
    key = request_key(request)
    response = Response.build(200, request, content=body)
    cached = CachedResponse.of(key, response, body, now=now, ttl=ttl, tags=route_of(path).tags)
    return key, cached


def test_a_flood_of_10000_distinct_urls_stays_within_the_bound() -> None:
    """10,000 distinct URLs into 200 kB: the byte count never passes the bound; the newest stay."""
    store = MemoryStore(max_bytes=200_000)
    keys: list[CacheKey] = []
    for i in range(10_000):
        key, cached = entry(f"/v1/files/{i:08d}")
        assert store.put(key, cached, generation=store.generation)
        assert store.usage().bytes <= 200_000
        keys.append(key)
    usage = store.usage()
    assert 0 < usage.entries < 200_000 // ENTRY_OVERHEAD + 1
    assert usage.evictions == 10_000 - usage.entries
    assert store.get(keys[-1], 1.0) is not None
    assert store.get(keys[0], 1.0) is None


@settings(max_examples=50)
@given(
    sizes=st.lists(st.integers(0, 5_000), min_size=1, max_size=200),
    bound=st.integers(0, 20_000),
)
def test_the_byte_bound_holds_for_any_sizes(sizes: list[int], bound: int) -> None:
    """Whatever bodies arrive, bytes held never exceed max_bytes and the count adds up."""
    store = MemoryStore(max_bytes=bound)
    for i, size in enumerate(sizes):
        key, cached = entry(f"/v1/files/{i}", b"y" * size)
        store.put(key, cached, generation=store.generation)
        usage = store.usage()
        assert usage.bytes <= bound
    assert store.usage().entries == len(store)


def test_a_lookup_makes_an_entry_the_most_recently_used() -> None:
    """The entry read last survives the next eviction; the untouched one goes."""
    first, second, third = (entry(f"/v1/files/{n}") for n in "abc")
    store = MemoryStore(max_bytes=first[1].size * 2)
    store.put(*first, generation=0)
    store.put(*second, generation=0)
    assert store.get(first[0], 1.0) is not None
    store.put(*third, generation=0)
    assert store.get(first[0], 1.0) is not None
    assert store.get(second[0], 1.0) is None


def test_an_expired_entry_is_gone_at_its_ttl() -> None:
    """get() at stored_at + ttl finds nothing and frees its bytes."""
    key, cached = entry("/v1/models", now=10.0, ttl=5.0)
    store = MemoryStore()
    store.put(key, cached, generation=0)
    assert store.get(key, 14.99) is not None
    assert store.get(key, 15.0) is None
    assert store.usage() == store.usage().__class__(0, 0, store.max_bytes, 0, 1, 0)


def test_a_put_after_an_invalidation_is_refused() -> None:
    """A GET that read the generation before a write happened does not store its answer."""
    store = MemoryStore()
    generation = store.generation
    store.invalidate(["files/x"])
    assert not store.put(*entry("/v1/files/x"), generation=generation)
    assert store.put(*entry("/v1/files/x"), generation=store.generation)


def test_invalidation_drops_every_entry_of_the_tag() -> None:
    """All credentials' entries of an item go; other items stay."""
    store = MemoryStore()
    for token in ("a", "b"):
        request = get("/v1/files/x", authorization=f"Bearer {token}")
        body = b"{}"
        cached = CachedResponse.of(
            request_key(request),
            Response.build(200, request, content=body),
            body,
            now=0,
            ttl=60,
            tags=("files/x",),
        )
        store.put(request_key(request), cached, generation=store.generation)
    store.put(*entry("/v1/files/y"), generation=store.generation)
    assert store.invalidate(["files/x", "files"]) == 2
    assert len(store) == 1


def test_an_entry_larger_than_the_store_is_refused() -> None:
    """A body that can never fit is not stored (and evicts nothing)."""
    store = MemoryStore(max_bytes=ENTRY_OVERHEAD * 3)
    store.put(*entry("/v1/files/a", b""), generation=0)
    assert not store.put(*entry("/v1/files/b", b"z" * ENTRY_OVERHEAD * 3), generation=0)
    assert len(store) == 1


@given(a=credentials, b=credentials)
def test_a_per_call_key_not_yet_merged_still_separates_keys(a: str, b: str) -> None:
    """Outside ``headers`` a call's extra_headers credential is part of the key all the same."""

    def ask(key: str) -> Request:
        options = RequestOptions(extra_headers={"authorization": f"Bearer {key}"})
        return Request("GET", BASE.join("/models"), options=options)

    assert (request_key(ask(a)) == request_key(ask(b))) == (a == b)
