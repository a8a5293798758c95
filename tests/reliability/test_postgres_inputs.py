"""Inputs that SQLite stores but PostgreSQL refuses: ids past 32-bit integers, NUL characters.

Each was found by the Schemathesis run or alongside it. A request with such a value must be refused as
the client's mistake (4xx), never reported as "database unavailable" (503) or a crash (500), and a turn
that was answered must be stored, not left pending forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from reliability.pg_server import PostgresServer
from reliability.replicas import AGENT, Replica, pasokh_env, start_replica

pytestmark = pytest.mark.integration

TOO_BIG = 2**31  # one past PostgreSQL's INTEGER
SAVED_REPLY = {"title": "Greeting", "text": "Hello!", "lang": "en", "tags": []}


@pytest.fixture(scope="module")
def server(postgres: PostgresServer, demo_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    if not postgres.running:
        postgres.start()
    url = postgres.create_database("pasokh_inputs")
    replica = start_replica("P", pasokh_env(index=demo_index, database_url=url), tmp_path_factory.mktemp("inputs"))
    yield replica
    replica.stop()


@pytest.fixture(scope="module")
def session_id(server: Replica) -> str:
    return server.client.post("/v1/chat", json={"message": "hello"}).json()["session_id"]


def send(server: Replica, method: str, path: str, **kwargs) -> httpx.Response:
    # A fresh connection each time: a crashed request must not take the next one down with it.
    return httpx.request(method, server.url + path, timeout=30, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        ("GET", "/v1/saved-replies/99999999999", {"headers": AGENT}, 404),
        ("GET", "/v1/saved-replies/%C2%B9", {"headers": AGENT}, 404),  # U+00B9 is a digit to str.isdigit()
        ("PUT", "/v1/saved-replies/99999999999", {"headers": AGENT, "json": SAVED_REPLY}, 404),
        ("DELETE", "/v1/saved-replies/99999999999", {"headers": AGENT}, 404),
        ("GET", "/v1/handoffs/T-x%00y", {"headers": AGENT}, 404),
        ("POST", "/v1/handoffs/T-x%00y/claim", {"headers": AGENT, "json": {"agent": "sara"}}, 404),
        ("GET", "/v1/conversations/a%00b/messages", {}, 404),
    ],
    ids=[
        "saved-get-big",
        "saved-get-superscript",
        "saved-put-big",
        "saved-delete-big",
        "ticket-nul",
        "claim-nul",
        "conv-nul",
    ],
)
def test_postgres_inputs_bad_ids_are_not_found(
    server: Replica, method: str, path: str, kwargs: dict, expected: int
) -> None:
    response = send(server, method, path, **kwargs)
    assert response.status_code == expected, response.text


def test_postgres_inputs_messages_after_past_integer_range(server: Replica, session_id: str) -> None:
    response = send(server, "GET", f"/v1/conversations/{session_id}/messages", params={"after": TOO_BIG})
    # Either refused as out of range or simply nothing newer; never a database error.
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["messages"] == []


def test_postgres_inputs_feedback_on_message_id_past_integer_range(server: Replica, session_id: str) -> None:
    response = send(
        server, "POST", "/v1/feedback", json={"session_id": session_id, "message_id": TOO_BIG, "rating": "up"}
    )
    assert response.status_code in (404, 422), response.text


@pytest.mark.parametrize("field", ["id", "name"])
def test_postgres_inputs_customer_with_nul_is_refused_or_stored(server: Replica, field: str) -> None:
    customer = {"id": "c-1", "name": "Sara"} | {field: "a\x00b"}
    response = send(server, "POST", "/v1/chat", json={"message": "hello", "customer": customer})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        stored = send(server, "GET", f"/v1/conversations/{response.json()['session_id']}/messages")
        assert stored.status_code == 200, stored.text
