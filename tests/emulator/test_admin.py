"""The admin API under /_emulator/: health, fault plan round trip, journal, bad input."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from soniox.emulator import Emulator, Fault


@pytest.fixture
def admin(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url + "/_emulator", trust_env=False) as c:
        yield c


def test_health(admin: httpx.Client) -> None:
    """GET /_emulator/health answers {"status": "ok"}."""
    response = admin.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_fault_round_trip(emulator: Emulator, admin: httpx.Client) -> None:
    """A posted fault shows in the snapshot, fires on the REST route, and is cleared by DELETE."""
    fault = Fault(kind="status", route="/v1/models", status=503, retry_after="3")
    posted = admin.post("/faults", json=fault.to_json())
    assert posted.status_code == 201
    assert posted.json() == {"indexes": [0]}
    assert emulator.faults.faults() == [fault]

    with httpx.Client(trust_env=False) as c:
        response = c.get(
            emulator.rest_base_url + "/models",
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        )
    assert (response.status_code, response.headers["retry-after"]) == (503, "3")
    snapshot = admin.get("/faults").json()
    assert snapshot == [{"index": 0, "fault": fault.to_json(), "matched": 1, "fired": 1}]

    assert admin.delete("/faults").status_code == 204
    assert admin.get("/faults").json() == []


def test_post_a_list_of_faults(admin: httpx.Client) -> None:
    """POST accepts a list and returns one index per rule."""
    response = admin.post(
        "/faults",
        json=[{"kind": "latency", "delay_s": 0.1}, {"kind": "reset_before", "route": "/v1/files"}],
    )
    assert response.json() == {"indexes": [0, 1]}
    assert [item["fault"]["kind"] for item in admin.get("/faults").json()] == [
        "latency",
        "reset_before",
    ]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"kind": "explode"}', "unknown fault kind"),
        (b'{"kind": "status", "colour": "red"}', "unknown fault field(s): ['colour']"),
        (b'{"route": "/v1/files"}', "fault #0 is invalid"),
        (b"[1]", "fault #0 must be a JSON object, got a number"),
        (b'{"kind": "status", "nth": 0}', "nth must be >= 1"),
    ],
)
def test_bad_fault_input_is_400_with_a_clear_message(
    admin: httpx.Client, payload: bytes, message: str
) -> None:
    """Malformed or invalid fault JSON is refused with 400 saying what is wrong."""
    response = admin.post("/faults", content=payload)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert admin.get("/faults").json() == []


def test_journal_lists_filters_and_clears(emulator: Emulator, admin: httpx.Client) -> None:
    """GET /journal lists entries (filterable by path/method/protocol); DELETE empties it."""
    with httpx.Client(trust_env=False) as c:
        c.get(emulator.rest_base_url + "/models")
        c.get(emulator.rest_base_url + "/files")
    everything = admin.get("/journal").json()
    assert [e["path"] for e in everything] == ["/v1/models", "/v1/files"]
    assert everything[0]["status"] == 401
    only_files = admin.get("/journal", params={"path": "/v1/files", "method": "get"}).json()
    assert [e["path"] for e in only_files] == ["/v1/files"]
    assert admin.get("/journal", params={"protocol": "ws"}).json() == []
    assert admin.delete("/journal").status_code == 204
    assert admin.get("/journal").json() == []


def test_admin_requests_are_not_journaled(emulator: Emulator, admin: httpx.Client) -> None:
    """Talking to the admin API leaves no trace in the journal."""
    admin.get("/health")
    admin.get("/faults")
    assert emulator.journal.entries() == []


def test_unknown_admin_path_is_404(admin: httpx.Client) -> None:
    """An unknown admin endpoint answers 404 in JSON."""
    response = admin.get("/nope")
    assert response.status_code == 404
    assert "unknown admin endpoint" in response.json()["error"]


def test_wrong_method_is_405_with_allow(admin: httpx.Client) -> None:
    """A wrong method answers 405 and lists the allowed ones."""
    response = admin.put("/journal")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, DELETE"
