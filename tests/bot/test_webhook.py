"""The handoff webhook against a real local HTTP server: retries, give-up, and tickets never lost."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.records import ConversationUpdate, NewTicket, Turn, utcnow
from bot.storage import Storage
from bot.webhook import WebhookNotifier


class Receiver:
    """A local webhook endpoint that fails the first ``failures`` deliveries with HTTP 503."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    receiver.bodies.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def storage(tmp_path):
    store = Storage(f"sqlite:///{tmp_path}/pasokh.db").open()
    yield store
    store.close()


def queue_ticket(storage: Storage, text: str = "I want a person") -> str:
    conv = storage.create_conversation(channel="web", lang="en", customer_id=None, customer_name="Sara")
    update = ConversationUpdate(
        lang="en",
        state="human",
        failures=0,
        topic_article_id=None,
        topic_question=None,
        turns=(Turn("customer", text, utcnow(), lang="en"), Turn("bot", "A colleague will reply.", utcnow())),
        ticket=NewTicket("requested", "normal", "en", text, sentiment={"label": "neutral", "angry": False}),
    )
    return storage.record_turn(conv.id, update)


def webhook_state(storage: Storage, ticket_id: str) -> tuple[str, int]:
    from bot.tables import TicketRow

    with storage._session() as session:
        row = session.get(TicketRow, ticket_id)
        return row.webhook_status, row.webhook_attempts


def test_webhook_retries_until_delivered(storage):
    receiver = Receiver(failures=2)
    waits: list[float] = []
    notifier = WebhookNotifier(receiver.url, storage, attempts=5, backoff=0.5, sleep=waits.append).start()
    try:
        ticket_id = queue_ticket(storage)
        notifier.notify(ticket_id)
        assert notifier.wait_idle()
    finally:
        notifier.stop()
        receiver.close()
    assert waits == [0.5, 1.0]
    assert webhook_state(storage, ticket_id) == ("sent", 3)
    (body,) = receiver.bodies
    assert body["event"] == "handoff.created"
    assert body["ticket"]["id"] == ticket_id and body["ticket"]["reason"] == "requested"
    assert body["ticket"]["customer"]["name"] == "Sara" and "transcript" not in body["ticket"]


def test_webhook_that_never_answers_leaves_the_ticket_in_the_queue(storage):
    receiver = Receiver(failures=0)
    dead_url = receiver.url
    receiver.close()  # nothing listens any more
    notifier = WebhookNotifier(dead_url, storage, attempts=3, timeout=1, sleep=lambda _s: None).start()
    try:
        ticket_id = queue_ticket(storage)
        notifier.notify(ticket_id)
        assert notifier.wait_idle()
    finally:
        notifier.stop()
    assert webhook_state(storage, ticket_id) == ("failed", 3)
    assert [t.id for t in storage.list_tickets()] == [ticket_id]


def test_pending_deliveries_are_resent_at_start(storage):
    ticket_id = queue_ticket(storage)
    storage.mark_webhook(ticket_id, "pending", 1)  # the process stopped between attempts
    receiver = Receiver(failures=0)
    notifier = WebhookNotifier(receiver.url, storage, sleep=lambda _s: None).start()
    try:
        assert notifier.wait_idle()
    finally:
        notifier.stop()
        receiver.close()
    assert [b["ticket"]["id"] for b in receiver.bodies] == [ticket_id]
    assert webhook_state(storage, ticket_id) == ("sent", 1)


def test_chat_handoff_notifies_the_webhook(tmp_path, monkeypatch):
    from apphelpers import make_client
    from conftest import DEMO_KB

    from indexer.build import build_from_kb
    from indexer.embedding import FakeEmbedder

    index = tmp_path / "index"
    build_from_kb(DEMO_KB, FakeEmbedder(), index)
    receiver = Receiver(failures=0)
    try:
        with make_client(index, tmp_path, handoff_webhook_url=receiver.url) as client:
            body = client.post("/v1/chat", json={"message": "I want to talk to a human"}).json()
            assert client.app.state.notifier.wait_idle()
    finally:
        receiver.close()
    assert [b["ticket"]["id"] for b in receiver.bodies] == [body["ticket_id"]]


def test_webhook_url_must_be_http():
    from bot.settings import Settings

    with pytest.raises(ValueError, match="http"):
        Settings(handoff_webhook_url="ftp://example.org/hook")
