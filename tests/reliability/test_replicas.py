"""Two ``pasokh serve`` replicas on one PostgreSQL database share sessions, the handoff queue and analytics."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from reliability.replicas import ADMIN, AGENT, Replica, pasokh_env

pytestmark = pytest.mark.integration

HUMAN_EN = "I want to talk to a human agent please"
HUMAN_FA = "می‌خواهم با اپراتور صحبت کنم"


def chat(replica: Replica, message: str, session_id: str | None = None) -> dict:
    body = {"message": message} if session_id is None else {"message": message, "session_id": session_id}
    response = replica.client.post("/v1/chat", json=body)
    assert response.status_code == 200, (replica.name, response.text)
    return response.json()


def queue(replica: Replica, status: str = "all") -> dict[str, dict]:
    response = replica.client.get("/v1/handoffs", params={"status": status, "limit": 500}, headers=AGENT)
    assert response.status_code == 200, response.text
    return {t["id"]: t for t in response.json()["tickets"]}


def test_replicas_session_started_on_a_continues_on_b(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    first = chat(a, "How long do I have to return an item?")
    follow = chat(b, "And how are refunds paid?", first["session_id"])

    assert follow["session_id"] == first["session_id"]
    for replica in (a, b):
        transcript = replica.client.get(f"/v1/conversations/{first['session_id']}/messages").json()
        texts = [m["text"] for m in transcript["messages"] if m["role"] == "customer"]
        assert texts == ["How long do I have to return an item?", "And how are refunds paid?"]


def test_replicas_unknown_session_is_404_on_both(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    for replica in (a, b):
        response = replica.client.post("/v1/chat", json={"message": "hello", "session_id": "no-such-session-000000"})
        assert response.status_code == 404
        assert response.json()["fields"][0]["field"] == "session_id"


def test_replicas_handoff_on_a_is_claimed_and_answered_on_b(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    turn = chat(a, HUMAN_FA)
    assert turn["handoff"] and turn["ticket_id"]
    ticket_id = turn["ticket_id"]

    assert queue(b, "open")[ticket_id]["session_id"] == turn["session_id"]
    claimed = b.client.post(f"/v1/handoffs/{ticket_id}/claim", json={"agent": "sara"}, headers=AGENT)
    assert claimed.status_code == 200, claimed.text
    assert queue(a, "claimed")[ticket_id]["agent"] == "sara"

    answer = b.client.post(
        f"/v1/handoffs/{ticket_id}/reply", json={"agent": "sara", "text": "سلام، در خدمتم"}, headers=AGENT
    )
    assert answer.status_code == 200, answer.text

    seen = a.client.get(f"/v1/conversations/{turn['session_id']}/messages").json()
    assert seen["ticket"]["id"] == ticket_id
    assert seen["ticket"]["status"] == "claimed"
    assert [m["text"] for m in seen["messages"] if m["role"] == "agent"] == ["سلام، در خدمتم"]


def test_replicas_concurrent_claims_of_one_ticket_give_it_to_one_agent(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    tickets = [chat(a, HUMAN_EN)["ticket_id"] for _ in range(5)]

    def claim(replica: Replica, ticket_id: str, agent: str) -> int:
        return replica.client.post(f"/v1/handoffs/{ticket_id}/claim", json={"agent": agent}, headers=AGENT).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        for ticket_id in tickets:
            on_a = pool.submit(claim, a, ticket_id, "ali")
            on_b = pool.submit(claim, b, ticket_id, "sara")
            assert sorted([on_a.result(), on_b.result()]) == [200, 409]
    holders = {queue(b, "claimed")[t]["agent"] for t in tickets}
    assert holders <= {"ali", "sara"}


def test_replicas_concurrent_turns_of_one_session_are_all_stored(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    session_id = chat(a, "hello")["session_id"]
    messages = [f"question number {i} about delivery" for i in range(12)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: chat((a, b)[i % 2], messages[i], session_id), range(len(messages))))

    transcript = b.client.get(f"/v1/conversations/{session_id}/messages").json()["messages"]
    customer = [m["text"] for m in transcript if m["role"] == "customer"]
    assert sorted(customer) == sorted(["hello", *messages])
    ids = [m["id"] for m in transcript]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_replicas_analytics_agree(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    chat(a, "How long do I have to return an item?")
    chat(b, HUMAN_EN)
    chat(a, "هزینه ارسال به شیراز چقدر است؟")
    session = chat(b, "Can I pay with bitcoin?")["session_id"]
    assert b.client.post("/v1/feedback", json={"session_id": session, "csat": 4}).status_code == 201

    window = {"from": "2020-01-01", "to": "2100-01-01"}
    on_a = a.client.get("/v1/analytics", params=window, headers=ADMIN)
    on_b = b.client.get("/v1/analytics", params=window, headers=ADMIN)
    assert on_a.status_code == on_b.status_code == 200, (on_a.text, on_b.text)
    assert on_a.json() == on_b.json()
    assert on_a.json()["conversations"] == 4
    assert on_a.json()["handoffs"]["by_reason"]["requested"] == 1
    assert on_a.json()["csat"]["responses"] == 1


def test_replicas_start_together_on_an_empty_database(start_replicas, database: str, shared_index) -> None:
    # Both create the tables at once: neither may fail on the other's CREATE TABLE.
    env = pasokh_env(index=shared_index, database_url=database)
    replicas = start_replicas(env, "C", "D", "E")
    for replica in replicas:
        assert replica.client.get("/healthz").json()["status"] == "ok"
    assert chat(replicas[2], "hello")["session_id"]
