"""The cache middleware over an in-memory transport: hits, keys, no-store, writes, streamed bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.middleware import Cache, CacheRules, HeadersMiddleware, Stack, build_stack
from soniox.middleware.cache import NO_CACHE, CacheStats
from soniox.middleware.driver import relay
from soniox.middleware.observe import Note
from soniox.transport import (
    URL,
    FakeClock,
    Headers,
    InMemoryTransport,
    Reply,
    Request,
    RequestOptions,
    Response,
)

BASE = URL.parse("http://127.0.0.1:9/v1")
TRANSCRIPT = json.dumps({"id": "t1", "text": "hi", "tokens": []}).encode()


def transport(**headers: str) -> InMemoryTransport:
    """Answers every GET with a transcript-ish body, echoing the auth header in x-who."""

    def handle(request: Request) -> Reply:
        if request.path.endswith("/t1") and request.method == "GET":
            body = json.dumps({"id": "t1", "status": headers.pop("job", "completed")}).encode()
            return Reply(200, headers=headers, content=body)
        who = request.headers.get("authorization", "-")
        return Reply(200, headers={"x-who": who, **headers}, content=TRANSCRIPT)

    return InMemoryTransport(handle)


def stack(key: str = "k1", **cache: Any) -> Stack:
    return Stack([HeadersMiddleware(key), Cache(**cache)])


def get(path: str = "/transcriptions/t1/transcript", **options: Any) -> Request:
    return Request("GET", BASE.join(path), options=RequestOptions(**options))


def test_a_second_fetch_is_served_from_the_cache() -> None:
    """Two GETs of a transcript: one transport request, two equal answers."""
    net, chain = transport(), stack()
    first = chain.run(get(), net)
    second = chain.run(get(), net)
    assert len(net.requests) == 1
    assert first.content == second.content == TRANSCRIPT
    cache = chain["cache"]
    assert isinstance(cache, Cache)
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.stores, stats.entries) == (1, 1, 1, 1)
    assert stats.bytes > len(TRANSCRIPT)


def test_each_hit_is_a_fresh_response_sharing_the_body_bytes() -> None:
    """Hits are distinct objects, carry the asking request and an Age, share the bytes."""
    net, chain = transport(), stack()
    chain.run(get(), net)
    ask_a, ask_b = get(), get()
    hit_a, hit_b = chain.run(ask_a, net), chain.run(ask_b, net)
    assert hit_a is not hit_b
    assert hit_a.request is not hit_b.request
    assert hit_a.request.url == ask_a.url
    assert hit_a.content is hit_b.content
    assert hit_a.headers.get("age") == "0"
    assert hit_a.headers.get("x-who") == "Bearer k1"


def test_two_api_keys_never_share_an_entry() -> None:
    """Key k2 asking after k1 goes upstream and gets its own answer."""
    net = transport()
    cache = Cache()
    one = Stack([HeadersMiddleware("k1"), cache])
    two = Stack([HeadersMiddleware("k2"), cache])
    one.run(get(), net)
    answer = two.run(get(), net)
    assert len(net.requests) == 2
    assert answer.headers.get("x-who") == "Bearer k2"
    assert two.run(get(), net).headers.get("x-who") == "Bearer k2"
    assert len(net.requests) == 2


def test_an_entry_expires_after_its_ttl_on_the_transport_clock() -> None:
    """With transcripts kept 10 s: a fetch 9 s later hits, one 10 s later goes upstream."""
    clock = FakeClock()
    net = InMemoryTransport(lambda r: Reply(200, content=TRANSCRIPT), clock=clock)
    chain = stack(rules=CacheRules(transcripts=10))
    chain.run(get(), net)
    clock.advance(9)
    chain.run(get(), net)
    clock.advance(1)
    chain.run(get(), net)
    assert len(net.requests) == 2


def test_a_pending_job_is_kept_only_for_the_pending_ttl() -> None:
    """A processing job's status is reused within pending_jobs seconds, not after."""
    clock = FakeClock()
    net = InMemoryTransport(
        lambda r: Reply(200, json_body={"id": "t1", "status": "processing"}), clock=clock
    )
    chain = stack(rules=CacheRules(pending_jobs=0.25))
    chain.run(get("/transcriptions/t1"), net)
    clock.advance(0.2)
    chain.run(get("/transcriptions/t1"), net)
    clock.advance(0.1)
    chain.run(get("/transcriptions/t1"), net)
    assert len(net.requests) == 2


@pytest.mark.parametrize("directive", ["no-store", "no-cache", "max-age=0"])
def test_a_response_cache_control_keeps_it_out(directive: str) -> None:
    """An answer with Cache-Control no-store / no-cache / max-age=0 is never reused."""
    net, chain = transport(**{"cache-control": directive}), stack()
    chain.run(get(), net)
    chain.run(get(), net)
    assert len(net.requests) == 2
    assert chain["cache"].stats.entries == 0  # type: ignore[union-attr]


def test_a_request_no_cache_skips_the_lookup_but_refreshes_the_entry() -> None:
    """Cache-Control: no-cache on a request goes upstream; its answer is kept for the next."""
    net, chain = transport(), stack()
    chain.run(get(), net)
    chain.run(get().with_header("cache-control", "no-cache"), net)
    chain.run(get(), net)
    assert len(net.requests) == 2


def test_error_statuses_are_never_kept() -> None:
    """A 409 (transcript not ready) is asked again next time."""
    net = InMemoryTransport(lambda r: Reply(409, json_body={"error_type": "x"}))
    chain = stack()
    chain.run(get(), net)
    chain.run(get(), net)
    assert len(net.requests) == 2


def test_listings_are_passed_through_untouched() -> None:
    """GET /files (a listing) is never looked up nor kept: counted as bypassed."""
    net, chain = transport(), stack()
    chain.run(get("/files"), net)
    chain.run(get("/files"), net)
    assert len(net.requests) == 2
    assert chain["cache"].stats.bypassed == 2  # type: ignore[union-attr]


def test_a_delete_drops_the_item_for_every_credential() -> None:
    """DELETE /transcriptions/t1 (by k1) makes k1's and k2's next transcript fetch go upstream."""
    net, cache = transport(), Cache()
    one, two = Stack([HeadersMiddleware("k1"), cache]), Stack([HeadersMiddleware("k2"), cache])
    one.run(get(), net)
    two.run(get(), net)
    one.run(Request("DELETE", BASE.join("/transcriptions/t1")), net)
    one.run(get(), net)
    two.run(get(), net)
    assert [r.method for r in net.requests].count("GET") == 4


def test_a_collection_post_keeps_the_items() -> None:
    """POST /transcriptions (a new job) leaves other jobs' transcripts cached."""
    net, chain = transport(), stack()
    chain.run(get(), net)
    chain.run(Request("POST", BASE.join("/transcriptions"), body=b"{}"), net)
    chain.run(get(), net)
    assert [r.method for r in net.requests] == ["GET", "POST"]


def test_a_get_that_raced_a_delete_does_not_store_the_old_state() -> None:
    """A GET answered after a DELETE of the same item began is not kept."""
    cache = Cache()
    chain = Stack([HeadersMiddleware("k1"), cache])
    net = InMemoryTransport(lambda r: Reply(200, content=TRANSCRIPT))

    def racing(request: Request) -> Reply:
        chain.run(Request("DELETE", BASE.join("/transcriptions/t1")), net)
        return Reply(200, content=TRANSCRIPT)

    chain.run(get(), InMemoryTransport(racing))
    assert cache.stats.entries == 0


def test_bodies_over_the_entry_cap_are_not_kept() -> None:
    """max_entry_bytes smaller than the body: passed through, asked again next time."""
    net, chain = transport(), stack(max_entry_bytes=len(TRANSCRIPT) - 1)
    chain.run(get(), net)
    chain.run(get(), net)
    assert len(net.requests) == 2


# --- streamed bodies -----------------------------------------------------------------------------


def streaming(chunks: list[bytes], **headers: str) -> InMemoryTransport:
    def handle(request: Request) -> Response:
        return Response(200, request, headers=Headers.of(headers), stream=iter(chunks))

    return InMemoryTransport(handle)


def astreaming(chunks: list[bytes]) -> InMemoryTransport:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    def handle(request: Request) -> Response:
        return Response(200, request, stream=body())

    return InMemoryTransport(handle)


def test_a_small_streamed_body_streams_and_is_kept_once_whole() -> None:
    """stream=True: chunks arrive as sent; once read to the end the next fetch is a hit."""
    chunks = [TRANSCRIPT[:10], TRANSCRIPT[10:]]
    net, chain = streaming(chunks), stack()
    first = chain.run(get(stream=True), net)
    assert list(first.iter_bytes()) == chunks
    again = chain.run(get(stream=True), net)
    assert b"".join(again.iter_bytes()) == TRANSCRIPT
    assert len(net.requests) == 1


def test_a_streamed_body_stopped_early_is_not_kept() -> None:
    """A consumer that stops after the first chunk leaves nothing in the cache."""
    net, chain = streaming([b"a", b"b"]), stack()
    with chain.run(get(stream=True), net) as response:
        next(iter(response.iter_bytes()))
    assert chain["cache"].stats.entries == 0  # type: ignore[union-attr]


def test_a_streamed_body_over_the_cap_passes_through_uncached() -> None:
    """Content-Length above max_entry_bytes: the very response comes back, nothing kept."""
    net = streaming([b"x" * 50], **{"content-length": "50"})
    chain = stack(max_entry_bytes=10)
    response = chain.run(get(stream=True), net)
    assert response.read() == b"x" * 50
    chain.run(get(stream=True), net).read()
    assert len(net.requests) == 2


def test_a_streamed_body_growing_past_the_cap_is_not_kept() -> None:
    """Without Content-Length, the copy stops at the cap; the consumer still gets every byte."""
    net, chain = streaming([b"x" * 8, b"y" * 8]), stack(max_entry_bytes=10)
    assert chain.run(get(stream=True), net).read() == b"x" * 8 + b"y" * 8
    assert chain["cache"].stats.entries == 0  # type: ignore[union-attr]


def test_an_async_streamed_body_is_kept_too() -> None:
    """The async driver's streamed body goes through the same tee."""
    net, chain = astreaming([b"ab", b"cd"]), stack(rules=CacheRules(transcripts=60))

    async def main() -> list[bytes]:
        first = await chain.arun(get(stream=True), net)
        seen = [chunk async for chunk in first.aiter_bytes()]
        second = await chain.arun(get(stream=True), net)
        return [*seen, await second.aread()]

    assert asyncio.run(main()) == [b"ab", b"cd", b"abcd"]
    assert len(net.requests) == 1


# --- the client's handle ---------------------------------------------------------------------------


def client_config(**overrides: Any) -> SonioxConfig:
    return SonioxConfig.testing(api_key="k", base_url="http://127.0.0.1:9/v1", **overrides)


def test_client_cache_without_a_cache_is_a_disabled_stand_in() -> None:
    """No cache in the stack: client.cache is NO_CACHE, with zero stats and a harmless clear()."""
    with SonioxClient(config=client_config(), transport=transport()) as client:
        assert client.cache is NO_CACHE
        client.cache.clear()
        assert not client.cache.enabled
        assert client.cache.stats == CacheStats()


def test_client_cache_reports_and_clears_the_stacks_cache() -> None:
    """client.cache.stats counts a hit; clear() empties it so the next fetch goes upstream."""
    config = client_config(middleware=("headers", "cache", "retry", "logging"))
    net = transport()
    with SonioxClient(config=config, transport=net) as client:
        client.stt.get_transcript("t1")
        client.stt.get_transcript("t1")
        assert (client.cache.stats.hits, client.cache.stats.entries) == (1, 1)
        client.cache.clear()
        assert client.cache.stats.entries == 0
        client.stt.get_transcript("t1")
    assert len(net.requests) == 2


def test_async_client_cache_is_the_same_handle() -> None:
    """AsyncSonioxClient.cache reports the async stack's cache."""
    config = client_config(middleware=("headers", "cache", "retry", "logging"))

    async def main() -> int:
        async with AsyncSonioxClient(config=config, transport=transport()) as client:
            await client.stt.get_transcript("t1")
            await client.stt.get_transcript("t1")
            return client.cache.stats.hits

    assert asyncio.run(main()) == 1


def test_the_registry_builds_cache_from_the_config_knobs() -> None:
    """build_stack reads cache_max_bytes, cache_max_entry_bytes and the TTLs."""
    config = client_config(
        middleware=("headers", "cache", "dedup"),
        cache_max_bytes=1000,
        cache_max_entry_bytes=10,
        cache_ttl_files=1.5,
    )
    built = build_stack(config)
    assert built.names == ["headers", "cache", "dedup"]
    cache = built["cache"]
    assert isinstance(cache, Cache)
    assert (cache.stats.max_bytes, cache.max_entry_bytes, cache.rules.files) == (1000, 10, 1.5)


def test_no_secret_in_the_cache_repr_or_stats() -> None:
    """The key never appears in the cache's repr, stats or its store's entries' reprs."""
    secret = "sk-cache-secret-0123456789"
    net, chain = transport(), stack(secret)
    chain.run(get(), net)
    cache = chain["cache"]
    assert isinstance(cache, Cache)
    texts: Iterator[str] = iter([repr(cache), repr(cache.stats), repr(cache.store)])
    assert all(secret not in text for text in texts)


class Notes:
    """An observer outside the cache: records the notes the flows inside it yield."""

    name = "notes"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def send(self, request: Request, call_next: Any) -> Any:
        def around(effect: Any) -> Any:
            if isinstance(effect, Note):
                self.seen.append((effect.kind, effect.detail))
            return (yield effect)

        return (yield from relay(call_next(request), around))


def test_observers_outside_hear_each_miss_and_hit() -> None:
    """metrics / tracing placed outside the cache get a cache note per lookup."""
    notes = Notes()
    chain = Stack([HeadersMiddleware("k1"), notes, Cache()])
    net = transport()
    chain.run(get(), net)
    chain.run(get(), net)
    chain.run(get("/files"), net)
    assert notes.seen == [("cache", "miss"), ("cache", "hit")]
