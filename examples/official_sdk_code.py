"""Code written for the official ``soniox`` SDK, run unchanged on this one.

    python examples/official_sdk_code.py                      # against a local emulator
    SONIOX_API_KEY=... python examples/official_sdk_code.py --translation one_way

``transcribe_file`` below is written the way Soniox's own examples use the official SDK: a
``CreateTranscriptionConfig`` whose fields are set after construction, ``stt.create`` /
``stt.wait`` / ``stt.get_transcript``, ``render_tokens``, the official exception names. Only
``main`` knows it may be talking to a local emulator.
"""

from __future__ import annotations

import argparse

from _connect import soniox_environment

from soniox import SonioxClient
from soniox.data import sample_path
from soniox.errors import SonioxAPIError, SonioxNotFoundError
from soniox.types import (
    CreateTranscriptionConfig,
    StructuredContext,
    StructuredContextGeneralItem,
    StructuredContextTranslationTerm,
    TranslationConfig,
)
from soniox.utils import render_tokens


def get_config(translation: str) -> CreateTranscriptionConfig:
    config = CreateTranscriptionConfig(
        language_hints=["en", "es"],
        enable_language_identification=True,
        enable_speaker_diarization=True,
        context=StructuredContext(
            general=[StructuredContextGeneralItem(key="domain", value="Healthcare")],
            terms=["Celebrex", "Zyrtec"],
            translation_terms=[
                StructuredContextTranslationTerm(source="Mr. Smith", target="Sr. Smith")
            ],
        ),
    )
    if translation == "one_way":
        config.translation = TranslationConfig(type="one_way", target_language="es")
    elif translation == "two_way":
        config.translation = TranslationConfig(type="two_way", language_a="en", language_b="es")
    return config


def transcribe_file(client: SonioxClient, audio_path: str, translation: str) -> None:
    file = client.files.upload(audio_path)
    transcription = client.stt.create(config=get_config(translation), file_id=file.id)
    print(f"created {transcription.id} ({transcription.status})")
    transcription = client.stt.wait(transcription.id, interval_sec=0.2)
    if transcription.status == "error":
        print(f"failed: {transcription.error_message}")
    else:
        result = client.stt.get_transcript(transcription.id)
        print(render_tokens(result.tokens, []))
    client.stt.delete(transcription.id)
    client.files.delete(file.id)
    try:
        client.files.get(file.id)
    except SonioxNotFoundError as e:
        print(f"file gone: HTTP {e.status_code}, request {e.request_id}")
    except SonioxAPIError as e:
        print(f"unexpected API error: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--audio-path", default=str(sample_path()))
    parser.add_argument("--translation", choices=("none", "one_way", "two_way"), default="none")
    args = parser.parse_args()
    with soniox_environment(), SonioxClient() as client:  # SONIOX_API_KEY, as officially
        transcribe_file(client, args.audio_path, args.translation)


if __name__ == "__main__":
    main()
