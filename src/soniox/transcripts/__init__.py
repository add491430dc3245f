"""Transcripts: render tokens as text, paragraphs by speaker or subtitles; stream long ones.

::

    from soniox.transcripts import iter_transcript_tokens, render_by_speaker, to_srt

    transcript = client.stt.get_transcript(job_id)
    print(render_by_speaker(transcript.tokens))
    Path("talk.srt").write_text(to_srt(transcript.tokens))

    for token in iter_transcript_tokens(client, job_id):   # flat memory, any length
        ...

See docs/transcripts.md.
"""

from __future__ import annotations

from ._parser import TranscriptParser
from .render import (
    Cue,
    CueRules,
    Only,
    TokenLike,
    build_cues,
    format_srt,
    format_vtt,
    iter_cues,
    render_by_speaker,
    render_text,
    render_tokens,
    srt_timestamp,
    to_srt,
    to_vtt,
    vtt_timestamp,
)
from .stream import (
    AsyncTranscriptTokenStream,
    TranscriptTokenStream,
    aiter_transcript_tokens,
    iter_transcript_tokens,
)

__all__ = [
    # rendering
    "render_text",
    "render_tokens",
    "render_by_speaker",
    "to_srt",
    "to_vtt",
    "iter_cues",
    "build_cues",
    "format_srt",
    "format_vtt",
    "srt_timestamp",
    "vtt_timestamp",
    "Cue",
    "CueRules",
    "Only",
    "TokenLike",
    # streaming
    "iter_transcript_tokens",
    "aiter_transcript_tokens",
    "TranscriptTokenStream",
    "AsyncTranscriptTokenStream",
    "TranscriptParser",
]
