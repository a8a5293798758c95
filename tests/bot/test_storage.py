import threading
from datetime import datetime, timezone

import pytest

from bot.storage import ConversationUpdate, NewTicket, Storage, Turn

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def storage(tmp_path):
    store = Storage(f"sqlite:///{tmp_path}/sub/pasokh.db").open()
    yield store
    store.close()


def update(text: str, ticket: NewTicket | None = None, state: str = "bot") -> ConversationUpdate:
    return ConversationUpdate(
        lang="fa",
        state=state,
        failures=0,
        topic_article_id="a",
        topic_question=text,
        turns=(Turn("customer", text, NOW, lang="fa"), Turn("bot", f"re: {text}", NOW, lang="fa", answered=True)),
        ticket=ticket,
    )


def test_storage_creates_the_sqlite_folder_and_round_trips_a_conversation(storage, tmp_path):
    conv = storage.create_conversation(channel="web", lang="fa", customer_id="c1", customer_name="سارا")
    assert (tmp_path / "sub" / "pasokh.db").is_file()
    assert storage.record_turn(conv.id, update("سلام"), None) is None
    loaded = storage.get_conversation(conv.id)
    assert loaded.customer_name == "سارا" and loaded.topic_question == "سلام"
    assert [t.role for t in loaded.turns] == ["customer", "bot"]
    assert loaded.turns[0].created_at == NOW


def test_storage_unknown_conversation_is_none(storage):
    assert storage.get_conversation("nope") is None
    assert storage.release("nope") is False
    with pytest.raises(KeyError):
        storage.record_turn("nope", update("x"), None)


def test_storage_ticket_holds_full_transcript_and_survives_reopen(storage, tmp_path):
    conv = storage.create_conversation(channel="web", lang="fa", customer_id=None, customer_name=None)
    storage.record_turn(conv.id, update("one"), None)
    ticket_id = storage.record_turn(
        conv.id, update("two", NewTicket("angry", "high", "fa", "two", NOW), state="human"), None
    )
    storage.close()
    again = Storage(f"sqlite:///{tmp_path}/sub/pasokh.db").open()
    ticket = again.get_ticket(ticket_id)
    assert [t["text"] for t in ticket.transcript] == ["one", "re: one", "two", "re: two"]
    assert (ticket.reason, ticket.priority, ticket.status) == ("angry", "high", "open")
    assert ticket.expected_at == NOW
    assert again.get_conversation(conv.id).state == "human"
    assert again.latest_ticket(conv.id).id == ticket_id
    ref = again.latest_ticket_ref(conv.id)
    assert (ref.id, ref.reason, ref.status, ref.priority, ref.agent) == (ticket_id, "angry", "open", "high", None)
    assert again.latest_ticket_ref("no-such-conversation") is None
    again.close()


def test_storage_lists_high_priority_first(storage):
    ids = []
    for reason, priority in (("low_confidence", "normal"), ("angry", "high")):
        conv = storage.create_conversation(channel="web", lang="en", customer_id=None, customer_name=None)
        ids.append(storage.record_turn(conv.id, update("x", NewTicket(reason, priority, "en", "x")), None))
    assert [t.id for t in storage.list_tickets()] == [ids[1], ids[0]]


def test_storage_release_returns_conversation_to_bot(storage):
    conv = storage.create_conversation(channel="web", lang="en", customer_id=None, customer_name=None)
    storage.record_turn(conv.id, update("x", NewTicket("requested", "normal", "en", "x"), state="human"), None)
    assert storage.release(conv.id)
    assert storage.get_conversation(conv.id).state == "bot"


def test_storage_concurrent_turns_lose_nothing(storage):
    conv = storage.create_conversation(channel="web", lang="en", customer_id=None, customer_name=None)

    def worker(i: int) -> None:
        with storage.conversation_lock(conv.id):
            storage.record_turn(conv.id, update(f"m{i}"), None)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    turns = storage.get_conversation(conv.id, last_turns=100).turns
    assert sorted(t.text for t in turns if t.role == "customer") == sorted(f"m{i}" for i in range(16))


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y"])
def test_storage_bad_url_names_database_url(url):
    with pytest.raises(ValueError, match="DATABASE_URL"):
        Storage(url).open()


def test_storage_new_conversation_is_stored_with_its_first_turn_only(storage):
    conv = storage.new_conversation(channel="web", lang="fa", customer_id=None, customer_name="Ali")
    assert storage.get_conversation(conv.id) is None
    storage.record_turn(conv.id, update("سلام"), conv)
    loaded = storage.get_conversation(conv.id)
    assert loaded.customer_name == "Ali" and len(loaded.turns) == 2


def test_storage_new_conversation_takes_the_first_turns_state(storage):
    conv = storage.new_conversation(channel="widget", lang="fa", customer_id="c9", customer_name=None)
    first = ConversationUpdate(
        lang="en",
        state="human",
        failures=1,
        topic_article_id="returns",
        topic_question="how do I return it?",
        customer_name="Sara",
        turns=(Turn("customer", "how do I return it?", NOW, lang="en"), Turn("bot", "a person", NOW, lang="en")),
        ticket=NewTicket("requested", "normal", "en", "how do I return it?", NOW),
    )
    ticket_id = storage.record_turn(conv.id, first, conv)
    loaded = storage.get_conversation(conv.id)
    assert (loaded.lang, loaded.state, loaded.failures) == ("en", "human", 1)
    assert (loaded.topic_article_id, loaded.topic_question) == ("returns", "how do I return it?")
    assert (loaded.channel, loaded.customer_id, loaded.customer_name) == ("widget", "c9", "Sara")
    ticket = storage.get_ticket(ticket_id)
    assert [t["text"] for t in ticket.transcript] == ["how do I return it?", "a person"]
    assert ticket.customer == {"id": "c9", "name": "Sara", "channel": "widget"}
