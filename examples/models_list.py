"""List the Soniox speech-to-text models, then the text-to-speech models and their voices.

    SONIOX_API_KEY=... python examples/models_list.py

Point it at the local emulator instead of the real API with
``SONIOX_API_BASE_URL=http://127.0.0.1:<port>/v1`` (the emulator prints its URL and key).
"""

from __future__ import annotations

from soniox.client import SonioxClient


def main() -> None:
    with SonioxClient() as client:  # reads SONIOX_API_KEY (and SONIOX_API_BASE_URL if set)
        for model in client.models.list().models:
            alias = f" -> {model.aliased_model_id}" if model.aliased_model_id else ""
            print(
                f"{model.id:<28} {model.transcription_mode:<10} "
                f"{len(model.languages):>3} languages{alias}"
            )
        print()
        for tts in client.tts_models.list().models:
            voices = ", ".join(voice.id for voice in tts.voices)
            print(f"tts {tts.id:<24} voices: {voices}")


if __name__ == "__main__":
    main()
