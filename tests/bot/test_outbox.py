"""With the database down, chat still answers (and hands off) and the turns reach the database later."""

from __future__ import annotations

import pytest
from apphelpers import OPEN, fake_service_factory
from sqlalchemy.exc import OperationalError

from bot.outbox import Outbox
from bot.service import ChatRequest
from bot.settings import Settings


@pytest.fixture
def service(demo_index, tmp_path):
    settings = Settings(index=demo_index, database_url=f"sqlite:///{tmp_path}/pasokh.db")
    svc = fake_service_factory(lambda: OPEN)(settings)
    svc.outbox = Outbox(tmp_path / "outbox", svc.storage)
    yield svc
    svc.storage.close()


class Outage:
    """Make every storage call fail like a lost database connection, until ended."""

    def __init__(self, monkeypatch, storage) -> None:
        self.monkeypatch = monkeypatch
        for name in ("record", "record_turn", "get_conversation"):
            monkeypatch.setattr(storage, name, self._fail)

    @staticmethod
    def _fail(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    def end(self) -> None:
        self.monkeypatch.undo()


def test_outage_answers_queues_handoff_and_replays(service, monkeypatch):
    first = service.chat(ChatRequest("How much is shipping in Tehran?"))
    outage = Outage(monkeypatch, service.storage)
    answered = service.chat(ChatRequest("How much is shipping in Tehran?"))
    handed = service.chat(ChatRequest("I want to talk to a human", session_id=first.session_id))
    assert answered.answered is True
    assert handed.handoff is True and handed.ticket_id and handed.ticket_id in handed.reply
    assert service.outbox.pending() == 2
    assert service.outbox.flush() == 0  # still down: nothing written, nothing dropped
    assert service.outbox.pending() == 2
    outage.end()
    assert service.outbox.flush() == 2 and service.outbox.pending() == 0
    ticket = service.storage.get_ticket(handed.ticket_id)
    assert ticket is not None and ticket.reason == "requested" and ticket.conversation_id == first.session_id
    assert [t.role for t in service.storage.get_conversation(first.session_id).turns] == ["customer", "bot"] * 2
    assert service.storage.get_conversation(answered.session_id) is not None
    assert service.outbox.flush() == 0  # replay is not repeated


def test_outbox_survives_a_restart(service, monkeypatch, tmp_path):
    outage = Outage(monkeypatch, service.storage)
    handed = service.chat(ChatRequest("می‌خوام با اپراتور صحبت کنم"))
    outage.end()
    again = Outbox(tmp_path / "outbox", service.storage)  # a new process reading the same folder
    assert again.pending() == 1 and again.flush() == 1
    assert service.storage.get_ticket(handed.ticket_id).lang == "fa"


def test_a_turn_already_stored_is_not_written_twice(service):
    reply = service.chat(ChatRequest("I want to talk to a human"))
    conversation = service.storage.get_conversation(reply.session_id)
    ticket = service.storage.get_ticket(reply.ticket_id)
    from bot.records import ConversationUpdate, NewTicket

    update = ConversationUpdate(
        "en", "human", 0, None, None, conversation.turns, NewTicket("requested", "normal", "en", "x", id=ticket.id)
    )
    service.outbox.add(reply.session_id, update, None)
    assert service.outbox.flush() == 1 and service.outbox.pending() == 0
    assert len(service.storage.list_tickets()) == 1


def test_without_outbox_a_database_error_is_a_clean_503(demo_index, tmp_path, monkeypatch):
    from apphelpers import make_client

    with make_client(demo_index, tmp_path) as client:
        storage = client.app.state.service.storage
        Outage(monkeypatch, storage)
        response = client.post("/v1/chat", json={"message": "How much is shipping in Tehran?"})
        assert response.status_code == 503 and response.json()["error"] == "database_unavailable"
        assert response.headers["retry-after"] == "5"


def test_a_turn_the_database_refuses_is_set_aside_not_retried_forever(service, monkeypatch, tmp_path):
    outage = Outage(monkeypatch, service.storage)
    service.chat(ChatRequest("How much is shipping in Tehran?"))
    good = service.chat(ChatRequest("I want to talk to a human"))
    outage.end()
    pending = service.outbox.path
    lines = pending.read_text(encoding="utf-8").splitlines()
    pending.write_text("\n".join(["{not json", *lines]) + "\n", encoding="utf-8")
    assert service.outbox.flush() == 3 and service.outbox.pending() == 0
    assert (tmp_path / "outbox" / "rejected.jsonl").read_text(encoding="utf-8") == "{not json\n"
    assert service.storage.get_ticket(good.ticket_id) is not None
