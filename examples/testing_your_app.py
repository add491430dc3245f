"""Testing your own application against the emulator, with pytest.

    python examples/testing_your_app.py        # runs these tests (pytest is all it needs)

``transcribe_meeting`` stands for your application's code. A fixture starts an emulator per test
module, another gives each test a client on it; the tests drive the function through the happy
path, a rate-limited create and a create whose answer is lost, and check what reached the server
in the emulator's journal. The same code is shown in docs/emulator.md ("Testing your own
application").
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from soniox import SonioxClient, SonioxConfig
from soniox.data import sample_path
from soniox.emulator import Emulator


def transcribe_meeting(client: SonioxClient, path: str) -> str:
    """Your application's code: the text of a recording."""
    return client.stt.transcribe_and_wait_with_tokens(file=path, delete_after=True).text


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(processing_speed=1000.0) as running:  # jobs finish in milliseconds
        yield running


@pytest.fixture
def client(emulator: Emulator) -> Iterator[SonioxClient]:
    emulator.faults.clear()
    emulator.journal.clear()
    config = SonioxConfig.testing(api_key=emulator.api_key, base_url=emulator.rest_base_url)
    with SonioxClient(config=config) as made:
        yield made


def test_a_meeting_is_transcribed(client: SonioxClient) -> None:
    assert transcribe_meeting(client, str(sample_path()))


def test_a_rate_limited_create_is_retried(emulator: Emulator, client: SonioxClient) -> None:
    emulator.faults.fail("/v1/transcriptions", method="POST", status=429, retry_after=0)
    assert transcribe_meeting(client, str(sample_path()))
    creates = emulator.journal.entries(path="/v1/transcriptions", method="POST")
    assert [entry.status for entry in creates] == [429, 201]


def test_a_lost_answer_does_not_create_twice(emulator: Emulator, client: SonioxClient) -> None:
    emulator.faults.inject("reset_after", "/v1/transcriptions", method="POST")
    assert transcribe_meeting(client, str(sample_path()))
    creates = emulator.journal.entries(path="/v1/transcriptions", method="POST")
    assert len(creates) == 1  # the lost answer was looked up by client_reference_id


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
