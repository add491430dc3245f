"""The realtime chain: built from the config's names through an open registry, printed in order,
edited by value, and written into a session's options link by link."""

from __future__ import annotations

import pytest

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError
from soniox.realtime import (
    Buffer,
    Health,
    Keepalive,
    LinkHooks,
    Observe,
    Pacing,
    RealtimeChain,
    RealtimeLink,
    Reconnect,
    ReconnectPolicy,
    build_chain,
    register_realtime_link,
)
from soniox.realtime.api import tune_chain
from soniox.realtime.ledger import AudioLayout
from soniox.realtime.options import SessionOptions


class Tag(RealtimeLink):
    """A user's link: prefixes nothing, watches events."""

    name = "tag"

    def open(self, context: object) -> LinkHooks:
        return LinkHooks()


def test_the_default_chain_follows_the_config_names_in_order() -> None:
    """observe → pacing → buffer → keepalive → health → reconnect, as SonioxConfig names them."""
    chain = build_chain(SonioxConfig())
    assert chain.names == ("observe", "pacing", "buffer", "keepalive", "health", "reconnect")
    assert repr(chain) == (
        "RealtimeChain(observe → pacing → buffer → keepalive → health → reconnect)"
    )


def test_printing_a_chain_shows_each_link_with_its_settings_then_the_socket() -> None:
    """str(chain): one line per link, in order, ending at the websocket."""
    text = str(build_chain(SonioxConfig()))
    lines = text.splitlines()
    assert lines[0] == "RealtimeChain (user → socket):"
    assert "Buffer(max_ms=30000, max_bytes=None, overflow='block')" in lines[3]
    assert lines[-1].strip() == "→ websocket"


def test_an_unknown_link_name_is_refused_listing_the_registered_ones() -> None:
    """A name nobody registered: ClientValidationError naming it."""
    config = SonioxConfig(realtime_chain=("buffer", "nope"))
    with pytest.raises(ClientValidationError, match=r"nope.*registered: buffer"):
        build_chain(config)


def test_a_registered_link_can_be_named_in_the_config() -> None:
    """register_realtime_link makes a user's link nameable; a taken name needs replace."""
    register_realtime_link("tag", lambda config: Tag(), replace=True)
    chain = build_chain(SonioxConfig(realtime_chain=("tag", "reconnect")))
    assert chain.names == ("tag", "reconnect")
    with pytest.raises(ClientValidationError, match="already registered"):
        register_realtime_link("tag", lambda config: Tag())


def test_a_setting_of_none_leaves_its_link_out() -> None:
    """realtime_keepalive_sec=None / realtime_receive_timeout_sec=None: no such link."""
    chain = build_chain(
        SonioxConfig(realtime_keepalive_sec=None, realtime_receive_timeout_sec=None)
    )
    assert "keepalive" not in chain
    assert "health" not in chain


def test_links_write_their_settings_and_absent_ones_stay_off() -> None:
    """configure(): each link's settings in the options; without reconnect, no attempts."""
    chain = RealtimeChain([Buffer(max_ms=500, overflow="raise"), Keepalive(3.0)])
    options = chain.configure(SessionOptions.bare())
    assert options.buffer_ms == 500
    assert options.overflow == "raise"
    assert options.keepalive_interval_sec == 3.0
    assert options.policy.max_attempts == 0
    assert options.receive_timeout_sec is None
    assert options.pace is None


def test_the_buffer_bound_in_ms_follows_the_audio_layout() -> None:
    """100 ms of 16 kHz mono PCM is 3200 bytes; unknown layouts count 32 KiB a second."""
    options = RealtimeChain([Buffer(max_ms=100)]).configure(SessionOptions.bare())
    assert options.buffer_bound(AudioLayout(16_000, 2)) == 3200
    assert options.buffer_bound(None) == 3276
    both = RealtimeChain([Buffer(max_ms=100, max_bytes=1000)]).configure(SessionOptions.bare())
    assert both.buffer_bound(AudioLayout(16_000, 2)) == 1000


def test_editing_a_chain_returns_a_new_one() -> None:
    """without / with_link / insert_before / insert_after leave the original alone."""
    chain = RealtimeChain([Pacing(), Buffer(), Reconnect()])
    edited = chain.insert_after("pacing", Tag()).without("buffer").with_link(Pacing(2.0))
    assert edited.names == ("pacing", "tag", "reconnect")
    assert edited.get("pacing") == Pacing(2.0)
    assert chain.names == ("pacing", "buffer", "reconnect")
    with pytest.raises(ClientValidationError, match="no link 'nope'"):
        chain.insert_before("nope", Tag())


def test_a_chain_holds_each_link_once() -> None:
    """Two links of one name: refused."""
    with pytest.raises(ClientValidationError, match="each link once"):
        RealtimeChain([Buffer(), Buffer(max_ms=5)])


@pytest.mark.parametrize(
    ("link", "field"),
    [
        (lambda: Buffer(overflow="spill"), "overflow"),  # type: ignore[arg-type]
        (lambda: Buffer(max_ms=0), "max_ms"),
        (lambda: Pacing(factor=0), "factor"),
    ],
)
def test_bad_link_settings_are_client_validation_errors(link: object, field: str) -> None:
    """Settings are checked when the link is made."""
    with pytest.raises(ClientValidationError) as caught:
        link()  # type: ignore[operator]
    assert caught.value.field == field


def test_connect_keywords_change_one_link_each() -> None:
    """reconnect=False removes reconnect; a policy replaces its policy; keepalive None removes
    keepalive; overflow changes the buffer; receive_timeout_sec changes health."""
    chain = build_chain(SonioxConfig())
    policy = ReconnectPolicy(max_attempts=2)
    assert "reconnect" not in tune_chain(chain, reconnect=False)
    assert tune_chain(chain, reconnect=policy).find(Reconnect) == Reconnect(policy)
    assert "keepalive" not in tune_chain(chain, keepalive_interval_sec=None)
    assert tune_chain(chain, overflow="drop_oldest").find(Buffer) == Buffer(overflow="drop_oldest")
    health = tune_chain(chain, receive_timeout_sec=3.0).find(Health)
    assert health is not None
    assert health.receive_timeout_sec == 3.0
    assert tune_chain(chain) == chain


def test_observe_opens_nothing_when_switched_off() -> None:
    """Observe(metrics=False, tracing=False, logging=False) adds no hooks."""
    from soniox.realtime.chain import LinkContext
    from soniox.types import RealtimeSTTConfig

    context = LinkContext(RealtimeSTTConfig(model="stt-rt-v4"), "ws://x", "sync")
    assert Observe(metrics=False, tracing=False, logging=False).open(context) is None
    assert Observe().open(context) is not None


def test_the_realtime_profile_tightens_the_watchdog_and_attempts() -> None:
    """SonioxConfig.realtime(): health after 5 s, 8 reconnection attempts."""
    chain = build_chain(SonioxConfig.realtime())
    health = chain.find(Health)
    reconnect = chain.find(Reconnect)
    assert health is not None
    assert health.receive_timeout_sec == 5.0
    assert reconnect is not None
    assert reconnect.policy.max_attempts == 8
