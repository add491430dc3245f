"""Account limits in the emulator: requests per minute on REST, concurrent realtime streams and
realtime streams per minute, counted per API key (a temporary key counts against the key that
minted it) across connections, off by default, switched on by config, admin API or handle."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from realtime_support import RAW_CONFIG, open_ws, run_session

from soniox.emulator import Emulator
from soniox.emulator.limits import WINDOW_S, AccountLimits, LimitSettings, account_of

KEYS = ("key-one", "key-two")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def models(emu: Emulator, key: str) -> httpx.Response:
    return httpx.get(
        f"{emu.rest_base_url}/models", headers={"Authorization": f"Bearer {key}"}, timeout=5
    )


# --- the counters ----------------------------------------------------------------------------


def test_a_window_admits_the_limit_then_says_when_the_oldest_leaves() -> None:
    """3 a minute: the 4th is refused with the seconds until the first is a minute old."""
    clock = Clock()
    limits = AccountLimits(LimitSettings(rest_requests_per_minute=3), clock)
    for step in range(3):
        clock.now = 100.0 + step * 10
        assert limits.rest_request("a") is None
    clock.now = 125.0
    assert limits.rest_request("a") == pytest.approx(100.0 + WINDOW_S - 125.0)
    assert limits.rest_request("b") is None  # another account
    clock.now = 160.0
    assert limits.rest_request("a") is None
    assert limits.refused["rest"] == 1


def test_stream_slots_are_taken_and_given_back() -> None:
    """realtime_streams=2: two held, the third refused, one closed, one more taken."""
    limits = AccountLimits(LimitSettings(realtime_streams=2))
    assert limits.open_stream("a")
    assert limits.open_stream("a")
    assert not limits.open_stream("a")
    limits.close_stream("a")
    assert limits.open_stream("a")
    assert limits.streams("a") == 2


def test_bad_settings_are_refused() -> None:
    """A limit below 1, or an unknown one: ValueError."""
    with pytest.raises(ValueError, match="rest_requests_per_minute"):
        LimitSettings(rest_requests_per_minute=0)
    with pytest.raises(ValueError, match="unknown"):
        LimitSettings.from_json({"requests": 5})


def test_accounts_are_digests_never_keys() -> None:
    """The account of a key does not contain it."""
    assert "key-one" not in account_of("key-one")
    assert account_of("key-one") != account_of("key-two")


# --- over the wire ---------------------------------------------------------------------------


def test_limits_are_off_by_default() -> None:
    """Without settings, 30 quick requests all pass."""
    with Emulator() as emu:
        assert all(models(emu, emu.api_key).status_code == 200 for _ in range(30))


def test_rest_requests_past_the_minute_limit_are_429_limit_exceeded_per_key() -> None:
    """rest_requests_per_minute=5: the 6th request of a key is the documented 429 body with
    Retry-After; the other key has its own five."""
    with Emulator(api_keys=KEYS, rest_requests_per_minute=5) as emu:
        assert [models(emu, KEYS[0]).status_code for _ in range(5)] == [200] * 5
        refused = models(emu, KEYS[0])
        assert refused.status_code == 429
        body = refused.json()
        assert body["status_code"] == 429
        assert body["error_type"] == "limit_exceeded"
        assert "per minute" in body["message"]
        assert body["request_id"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert models(emu, KEYS[1]).status_code == 200
        assert emu.limits.snapshot()["refused"]["rest"] == 1


def test_concurrent_streams_past_the_limit_get_the_documented_error_frame() -> None:
    """realtime_streams=1: a second stream while the first runs gets 429
    max_concurrent_connections_reached; once the first ended, a new one streams."""
    with Emulator(realtime_streams=1) as emu:
        with open_ws(emu) as first:
            first.send(json.dumps(RAW_CONFIG))
            first.send(b"\0" * 3840)
            first.recv(timeout=5)  # streaming
            second = run_session(emu, RAW_CONFIG)
            assert second.messages[-1]["error_code"] == 429
            assert second.messages[-1]["error_type"] == "max_concurrent_connections_reached"
            first.send("")
        emu.journal.wait_for(
            lambda es: sum(1 for e in es if e.protocol == "ws" and e.outcome != "pending") == 2
        )
        third = run_session(emu, RAW_CONFIG, [b"\0" * 3840, ""])
        assert third.finished


def test_streams_opened_per_minute_past_the_limit_are_429_limit_exceeded() -> None:
    """realtime_connects_per_minute=2: the third stream of the minute is refused."""
    with Emulator(realtime_connects_per_minute=2) as emu:
        outcomes = [run_session(emu, RAW_CONFIG, [b"\0" * 3840, ""]) for _ in range(3)]
        assert [o.finished for o in outcomes] == [True, True, False]
        assert outcomes[2].messages[-1]["error_type"] == "limit_exceeded"


def test_a_temporary_key_counts_against_the_key_that_minted_it() -> None:
    """Streams on temporary keys minted by one key share that key's concurrent limit."""
    with Emulator(realtime_streams=1) as emu:

        def temporary() -> str:
            response = httpx.post(
                f"{emu.rest_base_url}/auth/temporary-api-key",
                headers={"Authorization": f"Bearer {emu.api_key}"},
                json={"usage_type": "transcribe_websocket", "expires_in_seconds": 60},
                timeout=5,
            )
            return str(response.json()["api_key"])

        with open_ws(emu, key=temporary()) as first:
            first.send(json.dumps(RAW_CONFIG))
            first.send(b"\0" * 3840)
            first.recv(timeout=5)
            second = run_session(emu, RAW_CONFIG, key=temporary())
            assert second.messages[-1]["error_type"] == "max_concurrent_connections_reached"
            first.send("")


def test_limits_switch_at_runtime_through_the_handle_and_the_admin_api() -> None:
    """emu.limits.set / clear, and PUT / GET / DELETE /_emulator/limits."""
    with Emulator() as emu:
        emu.limits.set(rest_requests_per_minute=1)
        assert models(emu, emu.api_key).status_code == 200
        assert models(emu, emu.api_key).status_code == 429
        emu.limits.clear()
        assert models(emu, emu.api_key).status_code == 200
        admin = f"{emu.url}/_emulator/limits"
        put = httpx.put(admin, json={"realtime_streams": 3}, timeout=5)
        assert put.status_code == 200
        assert put.json()["realtime_streams"] == 3
        bad = httpx.put(admin, json={"realtime_streams": 0}, timeout=5)
        assert bad.status_code == 400
        assert httpx.delete(admin, timeout=5).status_code == 204
        current: dict[str, Any] = httpx.get(admin, timeout=5).json()
        assert current["realtime_streams"] is None


def test_a_subprocess_emulator_takes_limits_over_its_admin_api() -> None:
    """In subprocess mode emu.limits is a proxy over the admin API."""
    with Emulator(mode="subprocess") as emu:
        emu.limits.set(rest_requests_per_minute=2)
        statuses = [models(emu, emu.api_key).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert emu.limits.snapshot()["refused"]["rest"] == 1
