"""Agent and admin endpoints through the real app: auth, queue, suggestions, saved replies, feedback, index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apphelpers import ADMIN_KEY, AGENT_KEY, bearer, make_client
from conftest import DEMO_KB

from bot.settings import Settings
from indexer.build import build_from_kb
from indexer.embedding import FakeEmbedder

AGENT = bearer(AGENT_KEY)
ADMIN = bearer(ADMIN_KEY)

# Every protected endpoint: (method, path, json body, role needed).
PROTECTED = [
    ("get", "/v1/handoffs", None, "agent"),
    ("get", "/v1/handoffs/T-x", None, "agent"),
    ("post", "/v1/handoffs/T-x/claim", {"agent": "maryam"}, "agent"),
    ("post", "/v1/handoffs/T-x/reply", {"agent": "maryam", "text": "hi"}, "agent"),
    ("post", "/v1/handoffs/T-x/resolve", None, "agent"),
    ("post", "/v1/handoffs/T-x/release", None, "agent"),
    ("post", "/v1/suggest", {"ticket_id": "T-x"}, "agent"),
    ("get", "/v1/saved-replies", None, "agent"),
    ("post", "/v1/saved-replies", {"title": "t", "text": "x", "lang": "en"}, "agent"),
    ("get", "/v1/saved-replies/1", None, "agent"),
    ("put", "/v1/saved-replies/1", {"title": "t", "text": "x", "lang": "en"}, "agent"),
    ("delete", "/v1/saved-replies/1", None, "agent"),
    ("get", "/v1/index", None, "admin"),
    ("post", "/v1/index/rebuild", None, "admin"),
    ("get", "/v1/index/rebuild", None, "admin"),
    ("get", "/v1/analytics", None, "admin"),
    ("get", "/v1/gaps", None, "admin"),
]


@pytest.fixture
def client(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, agent_key=AGENT_KEY, admin_key=ADMIN_KEY) as c:
        yield c


@pytest.fixture(scope="module")
def shared(demo_index, tmp_path_factory):
    """One app for the auth tables (they only read, or write throwaway rows)."""
    with make_client(demo_index, tmp_path_factory.mktemp("db"), agent_key=AGENT_KEY, admin_key=ADMIN_KEY) as c:
        yield c


def call(client, method, path, body=None, headers=None):
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(path, **kwargs) if method != "delete" else client.delete(path, **kwargs)


def chat(client, message, **fields) -> dict:
    response = client.post("/v1/chat", json={"message": message, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def handoff(client, message="I want to talk to a human", **fields) -> dict:
    body = chat(client, message, **fields)
    assert body["ticket_id"], body
    return body


# --- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, body, role", PROTECTED)
def test_protected_endpoint_without_key_is_401(shared, method, path, body, role):
    response = call(shared, method, path, body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize("method, path, body, role", PROTECTED)
@pytest.mark.parametrize("header", ["Bearer not-the-key-0123456789", "Basic " + AGENT_KEY, AGENT_KEY, "Bearer "])
def test_protected_endpoint_with_wrong_key_is_401(shared, method, path, body, role, header):
    response = call(shared, method, path, body, {"Authorization": header})
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("method, path, body, role", [p for p in PROTECTED if p[3] == "admin"])
def test_admin_endpoint_refuses_agent_key_with_403(shared, method, path, body, role):
    response = call(shared, method, path, body, AGENT)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden" and "PASOKH_ADMIN_KEY" in response.json()["detail"]


@pytest.mark.parametrize("method, path, body, role", [p for p in PROTECTED if p[3] == "agent"])
def test_agent_endpoint_accepts_admin_key(shared, method, path, body, role):
    response = call(shared, method, path, body, ADMIN)
    assert response.status_code not in (401, 403), response.text


def test_endpoints_without_configured_keys_say_which_setting_to_set(demo_index, tmp_path):
    with make_client(demo_index, tmp_path) as c:
        agent = c.get("/v1/handoffs", headers=AGENT)
        admin = c.get("/v1/analytics", headers=ADMIN)
    assert agent.status_code == 403 and agent.json()["error"] == "not_configured"
    assert "PASOKH_AGENT_KEY" in agent.json()["detail"]
    assert admin.status_code == 403 and "PASOKH_ADMIN_KEY" in admin.json()["detail"]


def test_only_agent_key_configured_keeps_admin_endpoints_closed(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, agent_key=AGENT_KEY) as c:
        assert c.get("/v1/handoffs", headers=AGENT).status_code == 200
        closed = c.get("/v1/index", headers=AGENT)
    assert closed.status_code == 403 and closed.json()["error"] == "not_configured"


@pytest.mark.parametrize(
    "fields, problem",
    [({"agent_key": "short"}, "at least 16"), ({"agent_key": AGENT_KEY, "admin_key": AGENT_KEY}, "must differ")],
)
def test_settings_refuse_unsafe_keys(fields, problem):
    with pytest.raises(ValueError, match=problem):
        Settings(**fields)


def test_openapi_documents_bearer_auth(client):
    schema = client.get("/openapi.json").json()
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())
    assert "/v1/suggest" in schema["paths"] and "/v1/analytics" in schema["paths"]


# --- transcript and feedback (customer side) --------------------------------------------------------


def test_messages_returns_transcript_after_a_given_id(client):
    first = chat(client, "How much is shipping in Tehran?")
    sid = first["session_id"]
    chat(client, "thanks", session_id=sid)
    everything = client.get(f"/v1/conversations/{sid}/messages").json()
    assert everything["state"] == "bot" and everything["ticket"] is None
    assert [m["id"] for m in everything["messages"][:2]] == [first["customer_message_id"], first["message_id"]]
    roles = [m["role"] for m in everything["messages"]]
    assert roles == ["customer", "bot", "customer", "bot"]
    assert everything["messages"][1]["sources"][0]["article_id"] == first["sources"][0]["article_id"]
    last_seen = everything["messages"][1]["id"]
    later = client.get(f"/v1/conversations/{sid}/messages", params={"after": last_seen}).json()
    assert [m["text"] for m in later["messages"]] == ["thanks", everything["messages"][3]["text"]]


@pytest.mark.parametrize("sid", ["unknown-session", "bad id!", "x" * 65])
def test_messages_of_unknown_session_is_404(client, sid):
    response = client.get(f"/v1/conversations/{sid}/messages")
    assert response.status_code == 404 and response.json()["fields"][0]["field"] == "session_id"


def test_feedback_is_stored_and_tied_to_a_bot_message(client):
    sid = chat(client, "How much is shipping in Tehran?")["session_id"]
    bot_id = client.get(f"/v1/conversations/{sid}/messages").json()["messages"][1]["id"]
    response = client.post("/v1/feedback", json={"session_id": sid, "rating": "up", "message_id": bot_id})
    assert response.status_code == 201
    stored = response.json()
    assert stored["id"] > 0 and stored["created_at"]
    assert (stored["session_id"], stored["rating"], stored["csat"], stored["message_id"], stored["comment"]) == (
        sid, "up", None, bot_id, None,
    )  # fmt: skip
    csat = client.post("/v1/feedback", json={"session_id": sid, "csat": 5, "comment": "great"})
    assert csat.status_code == 201 and csat.json()["csat"] == 5


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"session_id": "SID"}, 422, "body"),
        ({"session_id": "SID", "csat": 6}, 422, "csat"),
        ({"session_id": "SID", "csat": 0}, 422, "csat"),
        ({"session_id": "SID", "rating": "meh"}, 422, "rating"),
        ({"session_id": "SID", "csat": "5"}, 422, "csat"),
        ({"session_id": "SID", "rating": "up", "extra": 1}, 422, "extra"),
        ({"session_id": "nope", "rating": "up"}, 404, "session_id"),
        ({"session_id": "SID", "rating": "up", "message_id": "CUSTOMER"}, 404, "message_id"),
        ({"session_id": "SID", "rating": "up", "message_id": 99999}, 404, "message_id"),
    ],
)
def test_feedback_bad_input_names_the_field(client, body, status, field):
    sid = chat(client, "How much is shipping in Tehran?")["session_id"]
    customer_turn = client.get(f"/v1/conversations/{sid}/messages").json()["messages"][0]["id"]
    body = {k: (sid if v == "SID" else customer_turn if v == "CUSTOMER" else v) for k, v in body.items()}
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == status, response.text
    assert field in {f["field"] for f in response.json()["fields"]} or field == "body"


# --- the handoff queue ---------------------------------------------------------------------------------


def test_queue_lists_high_priority_first_and_filters(client):
    calm = handoff(client, "I want to talk to a human")
    angry = handoff(client, "WHERE IS MY ORDER?!!! This is the third time I ask, useless!!!")
    persian = handoff(client, "می‌خوام با اپراتور صحبت کنم")
    listed = client.get("/v1/handoffs", headers=AGENT).json()["tickets"]
    assert [t["id"] for t in listed] == [angry["ticket_id"], calm["ticket_id"], persian["ticket_id"]]
    assert listed[0]["priority"] == "high" and listed[0]["sentiment"]["angry"] is True
    assert listed[0]["reason"] == "angry" and listed[0]["transcript"][0]["role"] == "customer"
    only_fa = client.get("/v1/handoffs", params={"lang": "fa"}, headers=AGENT).json()["tickets"]
    assert [t["id"] for t in only_fa] == [persian["ticket_id"]]
    high = client.get("/v1/handoffs", params={"priority": "high"}, headers=AGENT).json()["tickets"]
    assert [t["id"] for t in high] == [angry["ticket_id"]]
    bad = client.get("/v1/handoffs", params={"status": "lost"}, headers=AGENT)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "status"


def test_ticket_lifecycle_claim_reply_resolve(client):
    body = handoff(client, "I want to talk to a human", customer={"name": "Sara"})
    tid, sid = body["ticket_id"], body["session_id"]
    claimed = client.post(f"/v1/handoffs/{tid}/claim", json={"agent": "maryam"}, headers=AGENT).json()
    assert claimed["status"] == "claimed" and claimed["agent"] == "maryam" and claimed["claimed_at"]
    assert claimed["first_reply_at"] is None
    other = client.post(f"/v1/handoffs/{tid}/claim", json={"agent": "reza"}, headers=AGENT)
    assert other.status_code == 409 and "maryam" in other.json()["detail"]
    replied = client.post(
        f"/v1/handoffs/{tid}/reply", json={"agent": "maryam", "text": "Hi Sara, I'm here."}, headers=AGENT
    ).json()
    assert replied["first_reply_at"] and replied["transcript"][-1]["role"] == "agent"
    widget = client.get(f"/v1/conversations/{sid}/messages").json()
    assert widget["state"] == "agent" and widget["ticket"]["status"] == "claimed"
    assert widget["ticket"]["agent"] == "maryam"
    assert tid in widget["messages"][1]["text"]  # the stored reply keeps the reference number
    assert (widget["messages"][-1]["role"], widget["messages"][-1]["text"]) == ("agent", "Hi Sara, I'm here.")
    assert widget["messages"][-1]["agent"] == "maryam"
    resolved = client.post(f"/v1/handoffs/{tid}/resolve", headers=AGENT).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert client.get(f"/v1/conversations/{sid}/messages").json()["state"] == "closed"
    late = client.post(f"/v1/handoffs/{tid}/reply", json={"agent": "maryam", "text": "x"}, headers=AGENT)
    assert late.status_code == 409
    assert client.get("/v1/handoffs", headers=AGENT).json()["tickets"] == []
    assert [t["id"] for t in client.get("/v1/handoffs", params={"status": "all"}, headers=AGENT).json()["tickets"]] == [
        tid
    ]


def test_release_gives_the_conversation_back_to_the_bot(client):
    body = handoff(client)
    tid, sid = body["ticket_id"], body["session_id"]
    waiting = chat(client, "zxqv blorp quux", session_id=sid)
    assert waiting["answered"] is False and waiting["handoff"] is True and waiting["state"] == "waiting"
    released = client.post(f"/v1/handoffs/{tid}/release", headers=AGENT).json()
    assert released["status"] == "released" and released["released_at"]
    assert client.get(f"/v1/conversations/{sid}/messages").json()["state"] == "bot"
    back = chat(client, "How much is shipping in Tehran?", session_id=sid)
    assert back["answered"] is True and back["handoff"] is False and back["state"] == "bot"
    assert client.post(f"/v1/handoffs/{tid}/release", headers=AGENT).status_code == 409


def test_with_an_agent_the_bot_stays_silent_and_the_agent_sees_the_message(client):
    body = handoff(client)
    tid, sid = body["ticket_id"], body["session_id"]
    client.post(f"/v1/handoffs/{tid}/reply", json={"agent": "maryam", "text": "Hi, I'm here."}, headers=AGENT)
    quiet = chat(client, "How much is shipping in Tehran?", session_id=sid)
    assert quiet["reply"] == "" and quiet["message_id"] is None and quiet["customer_message_id"]
    assert (quiet["state"], quiet["kind"], quiet["ticket_id"]) == ("agent", "with_agent", tid)
    transcript = client.get(f"/v1/handoffs/{tid}", headers=AGENT).json()["transcript"]
    assert (transcript[-1]["role"], transcript[-1]["text"]) == ("customer", "How much is shipping in Tehran?")
    assert transcript[-2]["role"] == "agent"  # no bot message after the agent's


def test_after_the_agent_closes_the_ticket_the_next_message_is_the_bots(client):
    body = handoff(client)
    tid, sid = body["ticket_id"], body["session_id"]
    client.post(f"/v1/handoffs/{tid}/claim", json={"agent": "maryam"}, headers=AGENT)
    assert client.get(f"/v1/conversations/{sid}/messages").json()["state"] == "agent"
    client.post(f"/v1/handoffs/{tid}/resolve", headers=AGENT)
    assert client.get(f"/v1/conversations/{sid}/messages").json()["state"] == "closed"
    back = chat(client, "How much is shipping in Tehran?", session_id=sid)
    assert back["answered"] is True and back["state"] == "bot" and back["ticket_id"] is None
    assert client.get(f"/v1/conversations/{sid}/messages").json()["state"] == "bot"
    again = handoff(client, "I want to talk to a human", session_id=sid)
    assert again["ticket_id"] != tid and again["state"] == "waiting"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/handoffs/T-missing/claim", {"agent": "maryam"}),
        ("/v1/handoffs/T-missing/reply", {"agent": "maryam", "text": "hello"}),
        ("/v1/handoffs/T-missing/resolve", None),
        ("/v1/handoffs/T-missing/release", None),
    ],
)
def test_unknown_ticket_is_404(client, path, body):
    response = client.post(path, json=body, headers=AGENT) if body else client.post(path, headers=AGENT)
    assert response.status_code == 404 and response.json()["fields"][0]["field"] == "ticket_id"


@pytest.mark.parametrize(
    "body, field", [({"agent": ""}, "agent"), ({"agent": "   "}, "agent"), ({"agent": "m", "text": " "}, "text")]
)
def test_agent_bodies_are_validated(client, body, field):
    tid = handoff(client)["ticket_id"]
    action = "reply" if "text" in body else "claim"
    response = client.post(f"/v1/handoffs/{tid}/{action}", json=body, headers=AGENT)
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == field


# --- suggested and saved replies -------------------------------------------------------------------------


def test_suggest_by_ticket_uses_the_name_and_cites_both_questions(client):
    sid = chat(client, "I want to talk to a human", customer={"name": "Sara"})["session_id"]
    chat(client, "How much is shipping in Tehran? And can I pay cash on delivery?", session_id=sid)
    tid = client.get("/v1/handoffs", headers=AGENT).json()["tickets"][0]["id"]
    body = client.post("/v1/suggest", json={"ticket_id": tid}, headers=AGENT).json()
    assert body["session_id"] == sid and body["lang"] == "en"
    assert 1 <= len(body["drafts"]) <= 3
    first = body["drafts"][0]
    assert "Sara" in first["text"]
    assert len(body["questions"]) >= 2
    cited = {c["article_id"] for c in first["citations"]}
    answered = {q["article_id"] for q in body["questions"] if q["answered"]}
    assert answered and answered <= cited
    assert all(c["version"] for c in first["citations"])


def test_suggest_refuses_ambiguous_or_unknown_targets(client):
    both = client.post("/v1/suggest", json={"ticket_id": "T-1", "session_id": "abc"}, headers=AGENT)
    neither = client.post("/v1/suggest", json={}, headers=AGENT)
    unknown = client.post("/v1/suggest", json={"session_id": "no-such-session"}, headers=AGENT)
    assert both.status_code == 422 and neither.status_code == 422
    assert unknown.status_code == 404


def test_saved_replies_crud_and_search(client):
    created = client.post(
        "/v1/saved-replies",
        json={"title": "Refund delay", "text": "Refunds can take 3 working days.", "lang": "en", "tags": ["refund"]},
        headers=AGENT,
    )
    assert created.status_code == 201
    rid = created.json()["id"]
    client.post(
        "/v1/saved-replies",
        json={"title": "ساعات پشتیبانی", "text": "پشتیبانی از ۸ تا ۲۰ پاسخ می‌دهد.", "lang": "fa"},
        headers=AGENT,
    )
    assert client.get(f"/v1/saved-replies/{rid}", headers=AGENT).json()["tags"] == ["refund"]
    updated = client.put(
        f"/v1/saved-replies/{rid}",
        json={"title": "Refund timing", "text": "Refunds reach your card in 3 working days.", "lang": "en"},
        headers=AGENT,
    ).json()
    assert updated["title"] == "Refund timing" and updated["tags"] == []
    only_fa = client.get("/v1/saved-replies", params={"lang": "fa"}, headers=AGENT).json()["saved_replies"]
    assert [r["lang"] for r in only_fa] == ["fa"]
    found = client.get("/v1/saved-replies", params={"q": "refund card"}, headers=AGENT).json()["saved_replies"]
    assert found and found[0]["id"] == rid
    assert client.delete(f"/v1/saved-replies/{rid}", headers=AGENT).status_code == 204
    assert client.get(f"/v1/saved-replies/{rid}", headers=AGENT).status_code == 404
    assert client.delete(f"/v1/saved-replies/{rid}", headers=AGENT).status_code == 404
    assert client.get("/v1/saved-replies/abc", headers=AGENT).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "", "text": "x", "lang": "en"}, "title"),
        ({"title": "t", "text": " ", "lang": "en"}, "text"),
        ({"title": "t", "text": "x", "lang": "de"}, "lang"),
        ({"title": "t", "text": "x", "lang": "en", "tags": ["x" * 51]}, "tags"),
    ],
)
def test_saved_reply_bad_input_names_the_field(client, body, field):
    response = client.post("/v1/saved-replies", json=body, headers=AGENT)
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == field


# --- index and rebuild ------------------------------------------------------------------------------------


def test_index_shows_manifest_per_article_and_chat_records_versions(client):
    body = client.get("/v1/index", headers=ADMIN).json()
    assert body["articles"] == 35 and body["model"] == "fake-bow-64"
    versions = {a["id"]: a["version"] for a in body["per_article"]}
    assert len(versions) == 35 and all(versions.values())
    reply = chat(client, "How much is shipping in Tehran?")
    source = reply["sources"][0]
    assert source["version"] == versions[source["article_id"]]
    stored = client.get(f"/v1/conversations/{reply['session_id']}/messages").json()["messages"][1]
    assert stored["sources"][0]["version"] == source["version"]


@pytest.fixture
def writable_kb(tmp_path) -> tuple[Path, Path]:
    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    index = tmp_path / "index"
    build_from_kb(kb, FakeEmbedder(), index)
    return kb, index


def test_rebuild_swaps_in_the_new_generation_and_new_version(tmp_path, writable_kb):
    kb, index = writable_kb
    with make_client(index, tmp_path, kb=kb, admin_key=ADMIN_KEY) as c:
        before = c.get("/v1/index", headers=ADMIN).json()
        article = kb / "en" / "en-about-bazaarcheh.md"
        article.write_text(article.read_text(encoding="utf-8") + "\n\nWe also sell zeppelins.\n", encoding="utf-8")
        assert c.get("/v1/index/rebuild", headers=ADMIN).status_code == 404
        started = c.post("/v1/index/rebuild", headers=ADMIN)
        assert started.status_code == 202 and started.json()["status"] == "running"
        job = c.app.state.rebuilder.wait(60)
        assert job.status == "succeeded", job
        status = c.get("/v1/index/rebuild", headers=ADMIN).json()
        assert status["status"] == "succeeded" and "1 changed" in status["summary"]
        after = c.get("/v1/index", headers=ADMIN).json()
        assert after["generation"] == status["generation"] != before["generation"]
        old = {a["id"]: a["version"] for a in before["per_article"]}
        new = {a["id"]: a["version"] for a in after["per_article"]}
        assert [a for a in new if new[a] != old[a]] == ["en-about-bazaarcheh"]
        assert c.get("/healthz").json()["index"] == after["generation"]


def test_failed_rebuild_keeps_serving_the_old_index(tmp_path, writable_kb):
    kb, index = writable_kb
    with make_client(index, tmp_path, kb=kb, admin_key=ADMIN_KEY) as c:
        before = c.get("/healthz").json()["index"]
        (kb / "broken.md").write_text("---\nid: [unclosed\n---\n# Broken\n", encoding="utf-8")
        c.post("/v1/index/rebuild", headers=ADMIN)
        job = c.app.state.rebuilder.wait(60)
        status = c.get("/v1/index/rebuild", headers=ADMIN).json()
        assert job.status == "failed" and status["status"] == "failed"
        assert any("broken.md" in p for p in status["problems"])
        assert c.get("/healthz").json()["index"] == before
        assert chat(c, "How much is shipping in Tehran?")["answered"] is True


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "from"),
    ],
)
def test_analytics_window_is_validated(client, params, field):
    response = client.get("/v1/analytics", params=params, headers=ADMIN)
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == field


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("get", "/v1/saved-replies/%C2%B9", None, 404),
        ("get", "/v1/saved-replies/99999999999", None, 404),
        ("delete", "/v1/saved-replies/2147483648", None, 404),
        ("get", "/v1/handoffs/T-x%00y", None, 404),
        ("post", "/v1/handoffs/T-x%00y/claim", {"agent": "maryam"}, 404),
        ("post", "/v1/handoffs/T-x%00y/resolve", None, 404),
    ],
)
def test_ids_the_database_could_not_hold_are_404(shared, method, path, body, status):
    assert call(shared, method, path, body, ADMIN).status_code == status


def test_out_of_range_numbers_and_control_characters_are_422(client):
    sid = chat(client, "How much is shipping in Tehran?")["session_id"]
    after = client.get(f"/v1/conversations/{sid}/messages", params={"after": 2**31})
    rated = client.post("/v1/feedback", json={"session_id": sid, "rating": "up", "message_id": 3_000_000_000})
    customer = client.post("/v1/chat", json={"message": "hello", "customer": {"id": "a\u0000b"}})
    channel = client.post("/v1/chat", json={"message": "hello", "channel": "web\nx"})
    assert [r.status_code for r in (after, rated, customer, channel)] == [422, 422, 422, 422]
    assert customer.json()["fields"][0]["field"] == "customer.id"


def test_wrong_method_is_405_with_allow_header(client):
    response = client.get("/v1/chat")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
