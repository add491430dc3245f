"""Translate a recording one way (into one language) and two ways (between two languages).

    python examples/translate.py [PATH]                             # against a local emulator
    SONIOX_API_KEY=... python examples/translate.py talk.wav --to fr --between en fr

``client.stt.translate_and_wait_with_tokens`` is ``transcribe_and_wait_with_tokens`` plus a
translation: ``to="de"`` (one-way; add ``source="en"`` to pin the spoken language) or
``between=("en", "es")`` (two-way: speech in either language is translated into the other).
Language identification is switched on, so every token says its language; translated tokens
have ``translation_status == "translation"``, and ``only=`` of the renderers picks them.

The local emulator has no translation model: it "translates" each word by spelling it backwards,
so you can see which tokens are which. Without ``SONIOX_API_KEY`` the script starts a local
emulator; ``--api-key`` / ``--base-url`` point it anywhere else. PATH defaults to the bundled
sample recording.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _connect import add_connection_args, soniox_client

from soniox.data import sample_path
from soniox.transcripts import render_text
from soniox.types import TranscriptionTranscript


def show(transcript: TranscriptionTranscript) -> None:
    """Print the spoken text and its translation, each with the languages its tokens carry."""
    for only in ("original", "translation"):
        wanted = only == "translation"
        found = {
            token.language or "?"
            for token in transcript.tokens
            if (token.translation_status == "translation") == wanted
        }
        label = f"{only} ({', '.join(sorted(found)) or '-'}):"
        print(f"  {label:<18} {render_text(transcript.tokens, only=only).strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=sample_path())
    parser.add_argument("--to", default="de", metavar="LANG", help="one-way target (default de)")
    parser.add_argument(
        "--between", nargs=2, default=["en", "es"], metavar="LANG", help="two-way pair (en es)"
    )
    add_connection_args(parser)
    args = parser.parse_args()
    first, second = args.between

    with soniox_client(args.api_key, args.base_url) as client:
        one_way = client.stt.translate_and_wait_with_tokens(
            file=args.path, to=args.to, delete_after=True
        )
        two_way = client.stt.translate_and_wait_with_tokens(
            file=args.path, between=(first, second), delete_after=True
        )

    print(f"one-way, into {args.to}:")
    show(one_way)
    print(f"two-way, between {first} and {second}:")
    show(two_way)


if __name__ == "__main__":
    main()
