"""The transcript assembler: finals once and in order, non-finals replaced, a resumed
connection's timestamps shifted onto the stream's clock."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from soniox.realtime import TranscriptAssembler, shift_event, shift_token, text_of
from soniox.types import RealtimeEvent, Token


def token(text: str, start: int, final: bool) -> Token:
    return Token(text=text, start_ms=start, end_ms=start + 100, is_final=final)


words = st.lists(st.sampled_from([" a", " b", " cd", " efg"]), max_size=30)


@given(words, st.data())
def test_finals_arrive_once_in_order_whatever_the_results(
    spoken: list[str], data: st.DataObject
) -> None:
    """However the finals are spread over results, with any non-finals in between, the
    assembled finals are exactly the spoken words in order, and the tail is the last result's."""
    finals = [token(word, i * 100, True) for i, word in enumerate(spoken)]
    cuts = data.draw(st.lists(st.integers(0, len(finals)), max_size=8))
    bounds = [0, *sorted(cuts), len(finals)]
    assembler = TranscriptAssembler()
    last_tail: list[Token] = []
    for low, high in itertools.pairwise(bounds):
        tail_words = data.draw(st.lists(st.sampled_from([" x", " y"]), max_size=3))
        last_tail = [token(w, 10_000 + i, False) for i, w in enumerate(tail_words)]
        update = assembler.feed(RealtimeEvent(tokens=[*finals[low:high], *last_tail]))
        assert list(update.new_finals) == finals[low:high]
    assert list(assembler.final_tokens) == finals
    assert list(assembler.non_final_tokens) == last_tail
    assert assembler.text == text_of([*finals, *last_tail])
    assert assembler.final_text == "".join(spoken)


def test_the_finished_result_leaves_nothing_pending() -> None:
    """finished=True: the transcript is its finals; watermarks are the last ones sent."""
    assembler = TranscriptAssembler()
    assembler.feed(RealtimeEvent(tokens=[token(" hi", 0, True), token(" th", 100, False)]))
    assembler.feed(
        RealtimeEvent(
            tokens=[token(" there", 100, True)],
            final_audio_proc_ms=200,
            total_audio_proc_ms=200,
            finished=True,
        )
    )
    assert assembler.finished
    assert assembler.text == " hi there"
    assert assembler.final_audio_proc_ms == 200


def test_special_markers_are_kept_as_tokens_but_not_as_text() -> None:
    """<fin> and <end> stay in the token list (they mean something) and out of the text."""
    assembler = TranscriptAssembler()
    assembler.feed(
        RealtimeEvent(tokens=[token(" ok", 0, True), Token(text="<fin>", is_final=True)])
    )
    assert [t.text for t in assembler.tokens] == [" ok", "<fin>"]
    assert assembler.text == " ok"


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_a_shifted_token_moves_by_the_offset_and_keeps_its_length(
    start: int, length: int, offset: int
) -> None:
    """shift_token adds the offset to both ends; an untimed (translation) token is untouched."""
    shifted = shift_token(Token(text="w", start_ms=start, end_ms=start + length), offset)
    assert (shifted.start_ms, shifted.end_ms) == (start + offset, start + length + offset)
    untimed = Token(text="w", is_final=True)
    assert shift_token(untimed, offset) is untimed


def test_a_resumed_connections_results_land_on_the_streams_clock() -> None:
    """A result counted from the replayed watermark (3,000 ms) reads as the original stream."""
    resumed = RealtimeEvent(
        tokens=[token(" again", 40, True)], final_audio_proc_ms=140, total_audio_proc_ms=180
    )
    event = shift_event(resumed, 3000)
    assert (event.tokens[0].start_ms, event.tokens[0].end_ms) == (3040, 3140)
    assert (event.final_audio_proc_ms, event.total_audio_proc_ms) == (3140, 3180)
    assert shift_event(resumed, 0) is resumed
