"""The official SDK's ``soniox.utils`` helpers, for code written against it.

``render_tokens(final_tokens, non_final_tokens)`` renders tokens exactly as the official function
does (see :func:`soniox.transcripts.render_tokens`; :mod:`soniox.transcripts` has the richer
renderers: plain text, paragraphs by speaker, SRT and WebVTT). The realtime helpers of the
official module (audio streaming and throttling, audio/text threads) arrive with realtime
sessions.
"""

from __future__ import annotations

from soniox.transcripts.render import render_tokens

__all__ = ["render_tokens"]
