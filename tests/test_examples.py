"""Every example runs against the emulator, as a user would run it (separate processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from examples_support import EXAMPLES, run_example


@pytest.fixture(scope="module")
def cli_emulator() -> Iterator[dict[str, Any]]:
    """`soniox emulator --ready-json` started the way the docs say, stopped after the module."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "soniox", "emulator", "--port", "0", "--ready-json"],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info: dict[str, Any] = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_rest_flow_over_http1(cli_emulator: dict[str, Any]) -> None:
    """Plain httpx runs upload → create → poll → transcript → delete over HTTP/1.1."""
    out = run_example(
        "emulator_rest_flow.py",
        "--base-url", cli_emulator["rest_base_url"],
        "--api-key", cli_emulator["api_key"],
    )  # fmt: skip
    assert out.startswith("[HTTP/1.1]")


def test_rest_flow_over_http2(cli_emulator: dict[str, Any]) -> None:
    """The same plain-httpx flow works over HTTP/2 (h2c prior knowledge)."""
    out = run_example(
        "emulator_rest_flow.py",
        "--base-url", cli_emulator["rest_base_url"],
        "--api-key", cli_emulator["api_key"],
        "--http2",
    )  # fmt: skip
    assert out.startswith("[HTTP/2]")


def test_realtime_session_with_plain_websockets(cli_emulator: dict[str, Any]) -> None:
    """A plain websockets client streams the sample and receives a final transcript."""
    out = run_example(
        "emulator_realtime.py",
        "--ws-url", cli_emulator["ws_url"],
        "--api-key", cli_emulator["api_key"],
    )  # fmt: skip
    transcript = out.split("final transcript:", 1)[1].strip()
    assert transcript


def test_fault_example_shows_the_injected_faults() -> None:
    """The fault-plan example prints a 429 and a reset-after-processing from the journal."""
    out = run_example("emulator_faults.py")
    assert "then 429 (Retry-After: 2)" in out
    assert "reset ['reset_after#1']" in out


def test_custom_middleware_example_registers_and_runs_its_middleware() -> None:
    """examples/custom_middleware.py: a registered name in a config's stack, under both clients."""
    out = run_example("custom_middleware.py")
    assert "3. timing" in out
    assert "GET /v1/models -> 200" in out
    assert "GET /v1/files -> 200" in out
    assert "async: Stack(headers → retry → timing → logging → transport)" in out


def test_official_sdk_code_runs_unchanged() -> None:
    """examples/official_sdk_code.py: official-style code transcribes, translates and cleans up."""
    out = run_example("official_sdk_code.py", "--translation", "two_way")
    assert "created " in out
    assert "Speaker 1:" in out
    assert "[Translation] [es]" in out or "[Translation] [en]" in out
    assert "file gone: HTTP 404" in out


def test_cache_and_dedup_example_hits_and_shares() -> None:
    """examples/cache_and_dedup.py: a cached second fetch, a delete that drops it, one shared
    request for 50 concurrent fetches."""
    out = run_example("cache_and_dedup.py")
    assert "4. cache" in out
    assert "5. dedup" in out
    assert "cache: 1 hit," in out
    assert "after delete: the transcript is asked again, and is gone (404)" in out
    assert "dedup: 50 concurrent fetches -> 1 upstream request (49 shared), all equal: True" in out


def test_observability_example_shows_metrics_traces_and_prewarmed_connections() -> None:
    """examples/observability.py: a snapshot per route and operation, an operation span over
    its attempt spans, and calls riding the pre-warmed connections."""
    out = run_example("observability.py")
    assert "pre-warmed 2 connection(s) before the first call" in out
    assert "GET /v1/models                                       5 calls" in out
    assert "op stt.transcribe_and_wait_with_tokens" in out
    assert "pool: opened 2 (pre-warmed 2), requests on a new connection 0" in out
    operation = "  soniox.stt.transcribe_and_wait_with_tokens  [INTERNAL]\n"
    assert operation + "    └ POST /v1/files  [CLIENT]" in out


def test_rate_limit_and_budget_example_shows_each_limit_at_work() -> None:
    """examples/rate_limit_and_budget.py: pacing, the deadline error, the cap, the budget."""
    out = run_example("rate_limit_and_budget.py")
    assert "4. rate_limit" in out
    assert "the first 2 at once, then one every 0.2 s" in out
    assert "deadline: RateLimitWaitError after 0.0" in out
    assert "at most 2 in flight" in out
    exhausted = "retry_budget_exhausted=True"
    assert f"first call: ServiceUnavailableError after 4 request(s), {exhausted}" in out
    assert f"next call: ServiceUnavailableError after 1 request(s), {exhausted}" in out


def test_compose_stack_example_edits_the_stack_by_name() -> None:
    """examples/compose_stack.py: a config stack with a registered middleware, and counters
    around retry that see one call and two attempts."""
    out = run_example("compose_stack.py")
    assert "2. stamp" in out
    assert "listings sent: 2" in out
    assert "calls → retry → attempts" in out
    assert "calls seen outside retry: 1, attempts inside: 2" in out
    assert "metrics: 1 call, 2 attempts" in out


def test_http2_example_multiplexes_on_one_connection_either_lane() -> None:
    """examples/http2.py: HTTP/2 on the native lane and on httpcore, one connection each."""
    out = run_example("http2.py")
    assert "native HTTP/2 lane: HTTP/2, 40 of 40 concurrent calls answered 200" in out
    assert "httpcore + h2: HTTP/2, 40 of 40 concurrent calls answered 200" in out
    assert out.count("connections opened: 1") == 2


def test_realtime_file_example_streams_the_sample_and_prints_the_transcript() -> None:
    """examples/realtime_file.py: finals grow, non-finals in brackets, a final line."""
    out = run_example("realtime_file.py")
    final = next(line for line in out.splitlines() if line.startswith("final: "))
    assert len(final.split()) > 5
    assert "reconnects: 0" in out


def test_realtime_resume_example_survives_two_lost_connections_word_for_word() -> None:
    """examples/realtime_resume.py: a drop and a 503 frame, the same transcript and timing."""
    out = run_example("realtime_resume.py")
    assert out.count("Resumed(") == 2
    assert "identical, timing included: True" in out


def test_realtime_preconnect_example_serves_three_calls_and_prints_the_chain() -> None:
    """examples/realtime_preconnect.py: the same words three ways, the chain, the metrics."""
    out = run_example("realtime_preconnect.py")
    lines = [line for line in out.splitlines() if "ready in" in line]
    assert [line.split(" ready in")[0].strip() for line in lines] == [
        "on demand",
        "pre-connected link",
        "client pool",
    ]
    assert len({line.split(": ", 1)[1] for line in lines}) == 1
    assert "RealtimeChain (user → socket):" in out
    assert "3 sessions," in out


def test_realtime_microphone_example_captions_a_simulated_microphone() -> None:
    """examples/realtime_microphone.py --simulate: 20 ms frames at real time, captions, counts."""
    out = run_example("realtime_microphone.py", "--simulate", "--seconds", "15")
    assert "17 final tokens, 0 reconnects, 0 drop/gap notices" in out


def test_realtime_fastapi_relay_example_serves_a_key_and_a_relay() -> None:
    """examples/realtime_fastapi_relay.py: a temporary key for direct use, and a relay that
    survives a dropped connection with the same words."""
    out = run_example("realtime_fastapi_relay.py")
    assert "relay sessions 1, reconnects 1" in out
    assert "same words: True" in out


def test_many_workers_example_keeps_the_keys_limits_across_processes() -> None:
    """examples/many_workers.py: 4 processes, 12 transcriptions, none refused by the server."""
    out = run_example("many_workers.py")
    assert out.count(" 3 transcribed, 0 failed") == 4
    assert "transcriptions created: 12; refused by the server (429): 0" in out


def test_the_testing_example_is_a_passing_pytest_module_shown_in_the_docs() -> None:
    """examples/testing_your_app.py passes under pytest, and docs/emulator.md shows its code."""
    out = run_example("testing_your_app.py")
    assert "3 passed" in out
    source = (EXAMPLES / "testing_your_app.py").read_text()
    body = source[source.index("from collections.abc") : source.index("\n\nif __name__")]
    assert body.strip() in (EXAMPLES.parent / "docs" / "emulator.md").read_text()


def test_every_migration_pair_does_the_same_work() -> None:
    """examples/migration/run.py: for each surface, the official-style script and its rewrite
    both run against one emulator and print the same result."""
    out = run_example("migration/run.py")
    assert "7 of 7 surfaces: same result" in out


def test_shared_cache_example_fetches_each_transcript_once() -> None:
    """examples/shared_cache.py: three processes read three transcripts; after the first,
    every read comes from Redis and the server sent each transcript once."""
    out = run_example("shared_cache.py")
    assert "worker-1: 51 words, 3 of 3 transcripts from Redis" in out
    assert "worker-2: 51 words, 3 of 3 transcripts from Redis" in out
    assert "transcripts the server sent: 3 (for 9 reads)" in out


def test_distributed_example_survives_a_killed_worker_without_a_duplicate() -> None:
    """examples/distributed/run_local.py --kill-one: RQ workers on Redis, one work horse killed
    mid-job; every file has its result, each transcription was created once, no 429."""
    out = run_example("distributed/run_local.py", "--files", "6", "--workers", "3", "--kill-one")
    assert "killed the work horse of" in out
    assert "results: 6 of 6 files" in out
    assert "transcriptions created: 6; refused by the server (429): 0" in out


@pytest.mark.soak
def test_distributed_example_at_scale() -> None:
    """Opt-in: 4 workers, 24 files, a worker killed mid-job: all done, exactly once, no 429."""
    out = run_example("distributed/run_local.py", "--files", "24", "--workers", "4", "--kill-one")
    assert "results: 24 of 24 files" in out
    assert "transcriptions created: 24; refused by the server (429): 0" in out
