"""Transcribe a recording with speaker labels and write SRT and WebVTT subtitles next to it.

    python examples/subtitles.py [PATH] [--out-dir DIR]    # against a local emulator
    SONIOX_API_KEY=... python examples/subtitles.py talk.wav --translate-to de

``client.stt.transcribe_and_wait_with_tokens`` uploads, waits and fetches the typed transcript,
then deletes the upload and the job (``delete_after=True``). The ``soniox.transcripts`` helpers
cut the tokens into cues: never inside a word, at sentence ends, speaker changes and pauses,
within 2 lines of 42 characters and 7 seconds. With ``--translate-to`` the subtitles carry the
translation (the API's translated tokens, placed over the speech they translate).

Without ``SONIOX_API_KEY`` the script starts a local emulator; ``--api-key`` / ``--base-url``
point it anywhere else. PATH defaults to the bundled sample recording. The files go to DIR, or
to a new temporary directory (printed) — never into the current directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _connect import add_connection_args, output_dir, soniox_client

from soniox.data import sample_path
from soniox.transcripts import CueRules, render_by_speaker, to_srt, to_vtt


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=sample_path())
    parser.add_argument(
        "--out-dir", type=Path, help="where to write (default: a new temporary directory)"
    )
    parser.add_argument("--translate-to", metavar="LANG", help="subtitles in this language")
    add_connection_args(parser)
    args = parser.parse_args()

    with soniox_client(args.api_key, args.base_url) as client:
        if args.translate_to:
            transcript = client.stt.translate_and_wait_with_tokens(
                file=args.path, to=args.translate_to, delete_after=True
            )
        else:
            transcript = client.stt.transcribe_and_wait_with_tokens(
                file=args.path, enable_speaker_diarization=True, delete_after=True
            )

    tokens = transcript.tokens
    only = "translation" if args.translate_to else None
    print(render_by_speaker(tokens, only=only))

    out_dir = output_dir(args.out_dir, "subtitles")
    srt = out_dir / f"{args.path.stem}.srt"
    vtt = out_dir / f"{args.path.stem}.vtt"
    srt.write_text(to_srt(tokens, only=only, speakers=True), encoding="utf-8")
    # Tighter cues for small screens: one line of 32 characters, at most 4 seconds.
    mobile = CueRules(max_line_chars=32, max_lines=1, max_duration_ms=4_000)
    vtt.write_text(to_vtt(tokens, mobile, only=only, speakers=True), encoding="utf-8")
    print(f"wrote {srt} and {vtt} ({len(tokens)} tokens)")


if __name__ == "__main__":
    main()
