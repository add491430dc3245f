"""Soniox's published usage patterns: building a config step by step, context, tokens, rendering."""

from __future__ import annotations

import asyncio
import json

from compat_support import CompatEmulator

from soniox import AsyncSonioxClient, SonioxClient
from soniox.types import (
    CreateTranscriptionConfig,
    File,
    StructuredContext,
    StructuredContextGeneralItem,
    StructuredContextTranslationTerm,
    Transcription,
    TranscriptionTranscript,
    TranslationConfig,
)
from soniox.utils import render_tokens

FAST = {"interval_sec": 0.02, "timeout_sec": 10}


def test_config_built_after_construction(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """translation, context and language_hints assigned to a config after construction all reach the API."""
    file = client.files.upload(wav, filename="consult.wav")
    config = CreateTranscriptionConfig(enable_speaker_diarization=True)
    config.translation = TranslationConfig(type="one_way", target_language="es")
    config.context = StructuredContext(
        general=[StructuredContextGeneralItem(key="domain", value="Healthcare")],
        text="A follow-up consultation.",
        terms=["Celebrex", "Zyrtec"],
        translation_terms=[
            StructuredContextTranslationTerm(source="Mr. Smith", target="Sr. Smith")
        ],
    )
    config.language_hints = ["en", "es"]
    job = client.stt.create(config=config, file_id=file.id)
    assert job.language_hints == ["en", "es"]
    assert job.enable_speaker_diarization is True
    stored = emu.transcription(job.id)
    assert stored is not None
    assert stored["context"] == {
        "general": [{"key": "domain", "value": "Healthcare"}],
        "text": "A follow-up consultation.",
        "terms": ["Celebrex", "Zyrtec"],
        "translation_terms": [{"source": "Mr. Smith", "target": "Sr. Smith"}],
    }
    client.stt.wait(job.id, **FAST)
    tokens = client.stt.get_transcript(job.id).tokens
    assert {t.language for t in tokens if t.translation_status == "translation"} == {"es"}
    assert all(t.speaker for t in tokens)


def test_context_dict_shorthands(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``general={...}`` and ``translation_terms={...}`` dicts are sent as the API's lists."""
    config = CreateTranscriptionConfig(
        context=StructuredContext(
            general={"domain": "Finance", "topic": "Earnings call"},
            translation_terms={"EBITDA": "EBITDA", "guidance": "previsiones"},
        )
    )
    job = client.stt.create(config=config, file_id=emu.upload(wav)["id"])
    stored = emu.transcription(job.id)
    assert stored is not None
    assert stored["context"] == {
        "general": [
            {"key": "domain", "value": "Finance"},
            {"key": "topic", "value": "Earnings call"},
        ],
        "translation_terms": [
            {"source": "EBITDA", "target": "EBITDA"},
            {"source": "guidance", "target": "previsiones"},
        ],
    }


def test_context_and_translation_as_plain_dicts(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """A plain-dict ``context`` and ``translation`` on the config are accepted as they are."""
    config = CreateTranscriptionConfig(
        context={"text": "Weekly sync.", "terms": ["Soniox"]},
        translation={"type": "two_way", "language_a": "en", "language_b": "fr"},
    )
    job = client.stt.create(config=config, file_id=emu.upload(wav)["id"])
    stored = emu.transcription(job.id)
    assert stored is not None
    assert stored["context"] == {"text": "Weekly sync.", "terms": ["Soniox"]}
    client.stt.wait(job.id, **FAST)
    languages = {t.language for t in client.stt.get_transcript(job.id).tokens}
    assert {"en", "fr"} <= languages


def test_config_is_reusable(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """One config object serves several create calls unchanged."""
    config = CreateTranscriptionConfig(language_hints=["en"])
    file_id = emu.upload(wav)["id"]
    first = client.stt.create(config=config, file_id=file_id, client_reference_id="one")
    second = client.stt.create(config=config, file_id=file_id, client_reference_id="two")
    assert first.language_hints == second.language_hints == ["en"]
    assert config.language_hints == ["en"]
    assert (config.translation, config.context, config.enable_speaker_diarization) == (
        None,
        None,
        None,
    )


def test_reading_tokens_the_published_way(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """Iterate ``transcript.tokens`` reading text, start_ms, end_ms, confidence, speaker, language."""
    config = CreateTranscriptionConfig(
        enable_speaker_diarization=True, enable_language_identification=True
    )
    transcript = client.stt.transcribe_and_wait_with_tokens(
        file=wav, config=config, wait_interval_sec=0.02, wait_timeout_sec=10
    )
    lines = [
        f"{t.start_ms:>5}-{t.end_ms:<5} speaker {t.speaker} [{t.language}] {t.confidence:.2f}{t.text}"
        for t in transcript.tokens
    ]
    assert len(lines) == 8
    assert lines[0].startswith("    0-240   speaker ")
    first = transcript.tokens[0]
    assert (first.start_ms, first.end_ms, first.language) == (0, 240, "en")
    assert first.speaker is not None
    assert first.confidence is not None


def test_render_tokens_of_handmade_tokens() -> None:
    """``render_tokens(final, non_final)`` labels speakers, languages and translations."""
    from soniox.types import Token  # imported here so a missing name fails only this test

    final = [
        Token(text="Hello", speaker="1", language="en", is_final=True),
        Token(text=" there", speaker="1", language="en", is_final=True),
        Token(text=" Hola", speaker="1", language="es", translation_status="translation"),
        Token(text="Hi", speaker="2", language="en", is_final=True),
    ]
    non_final = [Token(text=" again", speaker="2", language="en", is_final=False)]
    assert render_tokens(final, non_final) == (
        "Speaker 1:\n[en] Hello there\n[Translation] [es] Hola\n\nSpeaker 2:\n[en] Hi again"
    )
    assert render_tokens([Token(text="plain"), Token(text=" text")], []) == "plain text"


def test_render_tokens_of_a_transcript(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """A transcript's tokens render with ``render_tokens(tokens, [])``."""
    config = CreateTranscriptionConfig(
        enable_speaker_diarization=True, enable_language_identification=True
    )
    job = client.stt.create(config=config, file_id=emu.upload(wav)["id"])
    client.stt.wait(job.id, **FAST)
    transcript = client.stt.get_transcript(job.id)
    [speaker] = {t.speaker for t in transcript.tokens}
    assert render_tokens(transcript.tokens, []) == (
        f"Speaker {speaker}:\n[en] {transcript.text.lstrip()}"
    )


def test_results_are_pydantic_models(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """Results dump and re-validate like the official pydantic types (model_dump, model_validate)."""
    uploaded = client.files.upload(wav, filename="m.wav")
    assert uploaded.model_dump()["filename"] == "m.wav"
    assert File.model_validate(uploaded.model_dump()) == uploaded
    job = client.stt.create(file_id=uploaded.id)
    assert json.loads(job.model_dump_json())["id"] == job.id
    assert Transcription.model_validate_json(job.model_dump_json()).id == job.id
    client.stt.wait(job.id, **FAST)
    transcript = client.stt.get_transcript(job.id)
    dumped = transcript.model_dump()
    assert [t["text"] for t in dumped["tokens"]] == [t.text for t in transcript.tokens]
    assert TranscriptionTranscript.model_validate(dumped) == transcript


def test_async_config_built_after_construction(
    conn: dict[str, str], emu: CompatEmulator, wav: bytes
) -> None:
    """The same step-by-step config works with the async client."""
    file_id = emu.upload(wav)["id"]

    async def main() -> Transcription:
        async with AsyncSonioxClient(**conn) as client:
            config = CreateTranscriptionConfig()
            config.translation = TranslationConfig(type="one_way", target_language="de")
            config.context = StructuredContext(general={"domain": "Legal"}, terms=["tort"])
            config.language_hints = ["en"]
            job = await client.stt.create(config=config, file_id=file_id)
            await client.stt.wait(job.id, interval_sec=0.02, timeout_sec=10)
            transcript = await client.stt.get_transcript(job.id)
            assert "de" in {t.language for t in transcript.tokens}
            return job

    job = asyncio.run(main())
    assert job.language_hints == ["en"]
    stored = emu.transcription(job.id)
    assert stored is not None
    assert stored["context"] == {
        "general": [{"key": "domain", "value": "Legal"}],
        "terms": ["tort"],
    }
