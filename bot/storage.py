"""Durable conversations, turns, the handoff queue, feedback and saved replies (SQLAlchemy; SQLite by default).

Every chat turn is committed before its reply is returned, in one transaction with the session's new state and,
when the turn hands off, the ticket. A crash after the commit loses nothing; a crash before it loses the whole
turn, never half of it. Agent actions on a ticket (claim, reply, resolve, release) are single transactions too.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.orm import Session, sessionmaker

from bot.records import (
    ACTIVE_STATUSES,
    STATE_BOT,
    STATE_HUMAN,
    TICKET_CLAIMED,
    TICKET_OPEN,
    TICKET_RELEASED,
    TICKET_RESOLVED,
    Conversation,
    ConversationRecord,
    ConversationUpdate,
    Feedback,
    NewTicket,
    SavedReply,
    Ticket,
    TicketRef,
    Turn,
    utcnow,
)
from bot.tables import ConversationRow, FeedbackRow, SavedReplyRow, TicketRow, TurnRow, open_engine

__all__ = [
    "STATE_BOT",
    "STATE_HUMAN",
    "Conversation",
    "ConversationRecord",
    "ConversationUpdate",
    "Feedback",
    "NewTicket",
    "NotFound",
    "SavedReply",
    "Storage",
    "Ticket",
    "TicketConflict",
    "TicketRef",
    "Turn",
    "utcnow",
]

logger = logging.getLogger(__name__)

_LOCK_STRIPES = 64
MAX_MESSAGES = 200


@dataclass(frozen=True)
class Recorded:
    """What storing a turn produced: the messages' ids (in order) and the ticket id, if any."""

    ticket_id: str | None
    turn_ids: tuple[int, ...] = ()


class NotFound(LookupError):
    """A conversation, ticket, message or saved reply that does not exist; ``what`` names it."""

    def __init__(self, what: str, key: object) -> None:
        """Name the missing thing."""
        super().__init__(f"unknown {what} {key!r}")
        self.what = what
        self.key = key


class TicketConflict(RuntimeError):
    """An agent action that the ticket's current state does not allow (e.g. replying to a resolved ticket)."""


def _aware(value: datetime | None) -> datetime | None:
    """Treat naive datetimes read back from SQLite as UTC (SQLite keeps no zone)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def new_id(prefix: str = "") -> str:
    """Return an unguessable id (128 random bits, URL-safe)."""
    return prefix + secrets.token_urlsafe(16)


def new_ticket_id() -> str:
    """Return a ticket id (``T-`` and 22 random URL-safe characters)."""
    return new_id("T-")[:24]


_conversations, _turns, _tickets = ConversationRow.__table__, TurnRow.__table__, TicketRow.__table__
# The chat path's statements, built once so each turn only binds values (no per-call statement
# construction or cache-key work). Parameter names differ from column names, as SQLAlchemy requires.
_SELECT_CONVERSATION = select(_conversations).where(_conversations.c.id == bindparam("cid"))
_SELECT_RECENT_TURNS = (
    select(_turns)
    .where(_turns.c.conversation_id == bindparam("cid"))
    .order_by(_turns.c.id.desc())
    .limit(bindparam("n"))
)
_SELECT_TRANSCRIPT = select(_turns).where(_turns.c.conversation_id == bindparam("cid")).order_by(_turns.c.id)
_INSERT_CONVERSATION = insert(_conversations)
_UPDATE_CONVERSATION = (
    sql_update(_conversations)
    .where(_conversations.c.id == bindparam("cid"))
    .values(
        updated_at=bindparam("now"),
        lang=bindparam("new_lang"),
        state=bindparam("new_state"),
        failures=bindparam("new_failures"),
        topic_article_id=bindparam("new_topic_article_id"),
        topic_question=bindparam("new_topic_question"),
        customer_name=func.coalesce(_conversations.c.customer_name, bindparam("new_customer_name")),
    )
)
_INSERT_TURN = insert(_turns).returning(_turns.c.id)
_INSERT_TICKET = insert(_tickets)
_SELECT_LATEST_TICKET_REF = (
    select(_tickets.c.id, _tickets.c.reason, _tickets.c.status, _tickets.c.priority, _tickets.c.agent)
    .where(_tickets.c.conversation_id == bindparam("cid"))
    .order_by(_tickets.c.created_at.desc())
    .limit(1)
)


class Storage:
    """The conversation store; one instance per process, safe to share between threads."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utcnow) -> None:
        """Describe the store; :meth:`open` connects."""
        self.url = url
        self.clock = clock
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        # A fixed set of striped locks: one lock per session would grow without bound in a server
        # that runs for months, and two sessions sharing a stripe only wait for each other briefly.
        self._locks = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    def open(self) -> Storage:
        """Connect and create missing tables, columns and the SQLite file's folder."""
        self._engine = open_engine(self.url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        return self

    def close(self) -> None:
        """Release the connection pool."""
        if self._engine is not None:
            self._engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        if self._sessions is None:
            raise RuntimeError("Storage.open() must be called before use")
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """One transaction on a pooled connection, for the Core statements of the chat path."""
        if self._engine is None:
            raise RuntimeError("Storage.open() must be called before use")
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def conversation_lock(self, conversation_id: str) -> Iterator[None]:
        """Serialise turns of one conversation inside this process (two tabs sending at once)."""
        with self._locks[hash(conversation_id) % _LOCK_STRIPES]:
            yield

    # --- conversations and turns ------------------------------------------------------------

    def new_conversation(
        self, *, channel: str, lang: str, customer_id: str | None, customer_name: str | None
    ) -> Conversation:
        """Return a conversation that is stored with its first turn (one commit instead of two)."""
        return Conversation(
            id=new_id(),
            channel=channel,
            lang=lang,
            customer_id=customer_id,
            customer_name=customer_name,
            state=STATE_BOT,
            failures=0,
            topic_article_id=None,
            topic_question=None,
            created_at=self.clock(),
        )

    def create_conversation(
        self, *, channel: str, lang: str, customer_id: str | None, customer_name: str | None
    ) -> Conversation:
        """Start a conversation, store it now and return it."""
        conversation = self.new_conversation(
            channel=channel, lang=lang, customer_id=customer_id, customer_name=customer_name
        )
        with self._session() as session:
            session.add(_row(conversation))
        return conversation

    def get_conversation(self, conversation_id: str, *, last_turns: int = 20) -> Conversation | None:
        """Return a conversation with its most recent turns, or None when the id is unknown."""
        # Core statements built once (see _CHAT_STATEMENTS): this runs at the start of every chat turn.
        with self._connect() as conn:
            row = conn.execute(_SELECT_CONVERSATION, {"cid": conversation_id}).first()
            if row is None:
                return None
            turns = conn.execute(_SELECT_RECENT_TURNS, {"cid": conversation_id, "n": last_turns}).all()
            return _conversation(row, list(reversed(turns)))

    def record_turn(
        self, conversation_id: str, update: ConversationUpdate, new: Conversation | None = None
    ) -> str | None:
        """Store a turn atomically (see :meth:`record`); return the ticket id, if the turn queued one."""
        return self.record(conversation_id, update, new).ticket_id

    def record(self, conversation_id: str, update: ConversationUpdate, new: Conversation | None = None) -> Recorded:
        """Store a turn's messages, the new session state and the ticket (if any) atomically.

        ``new`` is a conversation from :meth:`new_conversation`, stored in the same transaction.
        Returns the ids the database gave the messages, and the ticket id.
        """
        # Core statements built once, rather than the ORM unit of work or statements built per call:
        # this runs on every chat turn, and that bookkeeping cost more than the database work itself.
        with self._connect() as conn:
            now = self.clock()
            if new is not None:
                # A new conversation is inserted with the turn's state already applied (one statement, not two).
                conn.execute(
                    _INSERT_CONVERSATION,
                    _row_values(new)
                    | {
                        "id": conversation_id,
                        "updated_at": now,
                        "lang": update.lang,
                        "state": update.state,
                        "failures": update.failures,
                        "topic_article_id": update.topic_article_id,
                        "topic_question": update.topic_question,
                        "customer_name": new.customer_name if new.customer_name is not None else update.customer_name,
                    },
                )
            else:
                changed = conn.execute(
                    _UPDATE_CONVERSATION,
                    {
                        "cid": conversation_id,
                        "now": now,
                        "new_lang": update.lang,
                        "new_state": update.state,
                        "new_failures": update.failures,
                        "new_topic_article_id": update.topic_article_id,
                        "new_topic_question": update.topic_question,
                        "new_customer_name": update.customer_name,
                    },
                )
                if changed.rowcount == 0:
                    raise KeyError(conversation_id)
            turn_ids = tuple(
                conn.execute(_INSERT_TURN, _turn_values(conversation_id, turn)).scalar_one() for turn in update.turns
            )
            if update.ticket is None:
                return Recorded(None, turn_ids)
            row = conn.execute(_SELECT_CONVERSATION, {"cid": conversation_id}).one()
            transcript = conn.execute(_SELECT_TRANSCRIPT, {"cid": conversation_id}).all()
            ticket_id = update.ticket.id or new_ticket_id()
            conn.execute(
                _INSERT_TICKET,
                {
                    "id": ticket_id,
                    "conversation_id": conversation_id,
                    "created_at": now,
                    "reason": update.ticket.reason,
                    "priority": update.ticket.priority,
                    "lang": update.ticket.lang,
                    "question": update.ticket.question,
                    "transcript": [_turn(t).to_json() for t in transcript],
                    "customer": {"id": row.customer_id, "name": row.customer_name, "channel": row.channel},
                    "expected_at": update.ticket.expected_at,
                    "sentiment": update.ticket.sentiment,
                },
            )
            return Recorded(ticket_id, turn_ids)

    def list_messages(self, conversation_id: str, *, after: int = 0, limit: int = MAX_MESSAGES) -> list[Turn]:
        """Return the conversation's messages with an id above ``after``, oldest first; NotFound if unknown."""
        with self._session() as session:
            if session.get(ConversationRow, conversation_id) is None:
                raise NotFound("session", conversation_id)
            rows = session.scalars(
                select(TurnRow)
                .where(TurnRow.conversation_id == conversation_id, TurnRow.id > after)
                .order_by(TurnRow.id)
                .limit(limit)
            ).all()
            return [_turn(r) for r in rows]

    # --- the handoff queue ------------------------------------------------------------------

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        """Return a ticket by id, or None."""
        with self._session() as session:
            row = session.get(TicketRow, ticket_id)
            return None if row is None else _ticket(row)

    def latest_ticket(self, conversation_id: str) -> Ticket | None:
        """Return the conversation's most recent ticket, or None."""
        with self._session() as session:
            row = session.scalars(
                select(TicketRow)
                .where(TicketRow.conversation_id == conversation_id)
                .order_by(TicketRow.created_at.desc())
                .limit(1)
            ).first()
            return None if row is None else _ticket(row)

    def latest_ticket_ref(self, conversation_id: str) -> TicketRef | None:
        """Return the conversation's most recent ticket (id, reason, status, priority, agent), or None.

        What a turn in a handed-off conversation needs, without reading the ticket's transcript.
        """
        with self._connect() as conn:
            row = conn.execute(_SELECT_LATEST_TICKET_REF, {"cid": conversation_id}).first()
            return None if row is None else TicketRef(row.id, row.reason, row.status, row.priority, row.agent)

    def escalate_ticket(self, ticket_id: str) -> bool:
        """Raise an active ticket to high priority (the customer got angry while waiting); False if it was not."""
        with self._session() as session:
            row = session.get(TicketRow, ticket_id, with_for_update=True)
            if row is None or row.status not in ACTIVE_STATUSES or row.priority == "high":
                return False
            row.priority = "high"
            return True

    def list_tickets(
        self,
        *,
        status: str | Sequence[str] | None = ACTIVE_STATUSES,
        priority: str | None = None,
        lang: str | None = None,
        limit: int = 100,
    ) -> list[Ticket]:
        """Return tickets matching the filters, high priority first, then oldest first."""
        with self._session() as session:
            query = select(TicketRow)
            if isinstance(status, str):
                status = (status,)
            if status is not None:
                query = query.where(TicketRow.status.in_(tuple(status)))
            if priority is not None:
                query = query.where(TicketRow.priority == priority)
            if lang is not None:
                query = query.where(TicketRow.lang == lang)
            # "high" sorts before "normal"; the database does the ordering so the limit is exact.
            rows = session.scalars(query.order_by(TicketRow.priority, TicketRow.created_at).limit(limit)).all()
            return [_ticket(r) for r in rows]

    def _active_ticket(self, session: Session, ticket_id: str, action: str) -> TicketRow:
        row = session.get(TicketRow, ticket_id, with_for_update=True)
        if row is None:
            raise NotFound("ticket", ticket_id)
        if row.status not in ACTIVE_STATUSES:
            raise TicketConflict(f"ticket {ticket_id} is {row.status}; it cannot be {action}")
        return row

    def claim_ticket(self, ticket_id: str, agent: str) -> Ticket:
        """Give the ticket to ``agent``; TicketConflict when another agent holds it or it is closed."""
        with self._session() as session:
            row = self._active_ticket(session, ticket_id, "claimed")
            if row.agent and row.agent != agent and row.status == TICKET_CLAIMED:
                raise TicketConflict(f"ticket {ticket_id} is already claimed by {row.agent}")
            if row.status != TICKET_CLAIMED or row.agent != agent:
                row.status = TICKET_CLAIMED
                row.agent = agent
                row.claimed_at = self.clock()
            return _ticket(row)

    def agent_reply(self, ticket_id: str, text: str, agent: str) -> Turn:
        """Add an agent's message to the ticket's conversation (claiming an open ticket) and return it."""
        with self._session() as session:
            row = self._active_ticket(session, ticket_id, "replied to")
            if row.status == TICKET_CLAIMED and row.agent and row.agent != agent:
                raise TicketConflict(f"ticket {ticket_id} is claimed by {row.agent}")
            now = self.clock()
            if row.status == TICKET_OPEN:
                row.status = TICKET_CLAIMED
                row.agent = agent
                row.claimed_at = now
            if row.first_reply_at is None:
                row.first_reply_at = now
            conversation = session.get(ConversationRow, row.conversation_id, with_for_update=True)
            conversation.updated_at = now
            turn = _turn_row(
                row.conversation_id,
                Turn("agent", text, now, lang=row.lang, details={"agent": agent, "ticket_id": ticket_id}),
            )
            session.add(turn)
            session.flush()
            return _turn(turn)

    def resolve_ticket(self, ticket_id: str) -> Ticket:
        """Close the ticket; the conversation stays with people."""
        with self._session() as session:
            row = self._active_ticket(session, ticket_id, "resolved")
            row.status = TICKET_RESOLVED
            row.resolved_at = self.clock()
            return _ticket(row)

    def release_ticket(self, ticket_id: str) -> Ticket:
        """Close the ticket and give its conversation back to the bot."""
        with self._session() as session:
            row = self._active_ticket(session, ticket_id, "released")
            now = self.clock()
            row.status = TICKET_RELEASED
            row.released_at = now
            conversation = session.get(ConversationRow, row.conversation_id, with_for_update=True)
            conversation.state = STATE_BOT
            conversation.failures = 0
            conversation.updated_at = now
            return _ticket(row)

    def release(self, conversation_id: str) -> bool:
        """Give a handed-off conversation back to the bot, releasing its open tickets; False if unknown."""
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id, with_for_update=True)
            if row is None:
                return False
            now = self.clock()
            row.state = STATE_BOT
            row.failures = 0
            row.updated_at = now
            for ticket in session.scalars(
                select(TicketRow).where(
                    TicketRow.conversation_id == conversation_id, TicketRow.status.in_(ACTIVE_STATUSES)
                )
            ):
                ticket.status = TICKET_RELEASED
                ticket.released_at = now
            return True

    def mark_webhook(self, ticket_id: str, status: str, attempts: int) -> None:
        """Record how delivering the ticket to the handoff webhook went (``pending``, ``sent``, ``failed``)."""
        with self._session() as session:
            row = session.get(TicketRow, ticket_id)
            if row is not None:
                row.webhook_status = status
                row.webhook_attempts = attempts

    def undelivered_webhooks(self, limit: int = 100) -> list[Ticket]:
        """Return tickets whose webhook delivery is still pending (e.g. the process stopped while retrying)."""
        with self._session() as session:
            rows = session.scalars(
                select(TicketRow)
                .where(TicketRow.webhook_status == "pending")
                .order_by(TicketRow.created_at)
                .limit(limit)
            ).all()
            return [_ticket(r) for r in rows]

    # --- feedback -----------------------------------------------------------------------------

    def add_feedback(
        self,
        conversation_id: str,
        *,
        rating: str | None = None,
        csat: int | None = None,
        turn_id: int | None = None,
        comment: str | None = None,
    ) -> Feedback:
        """Store a customer's feedback; NotFound for an unknown session or a message not of that session."""
        with self._session() as session:
            if session.get(ConversationRow, conversation_id) is None:
                raise NotFound("session", conversation_id)
            if turn_id is not None:
                turn = session.get(TurnRow, turn_id)
                if turn is None or turn.conversation_id != conversation_id or turn.role == "customer":
                    raise NotFound("message", turn_id)
            row = FeedbackRow(
                conversation_id=conversation_id,
                turn_id=turn_id,
                created_at=self.clock(),
                rating=rating,
                csat=csat,
                comment=comment,
            )
            session.add(row)
            session.flush()
            return _feedback(row)

    # --- saved replies ------------------------------------------------------------------------

    def list_saved_replies(self, *, lang: str | None = None) -> list[SavedReply]:
        """Return every saved reply (optionally of one language), oldest first."""
        with self._session() as session:
            query = select(SavedReplyRow)
            if lang is not None:
                query = query.where(SavedReplyRow.lang == lang)
            return [_saved(r) for r in session.scalars(query.order_by(SavedReplyRow.id))]

    def get_saved_reply(self, reply_id: int) -> SavedReply:
        """Return one saved reply; NotFound if there is none with that id."""
        with self._session() as session:
            row = session.get(SavedReplyRow, reply_id)
            if row is None:
                raise NotFound("saved reply", reply_id)
            return _saved(row)

    def save_reply(
        self, *, title: str, text: str, lang: str, tags: Sequence[str] = (), reply_id: int | None = None
    ) -> SavedReply:
        """Create a saved reply, or replace the one with ``reply_id``."""
        with self._session() as session:
            now = self.clock()
            if reply_id is None:
                row = SavedReplyRow(created_at=now)
                session.add(row)
            else:
                row = session.get(SavedReplyRow, reply_id, with_for_update=True)
                if row is None:
                    raise NotFound("saved reply", reply_id)
            row.title, row.text, row.lang, row.tags, row.updated_at = title, text, lang, list(tags), now
            session.flush()
            return _saved(row)

    def delete_saved_reply(self, reply_id: int) -> None:
        """Delete a saved reply; NotFound if there is none with that id."""
        with self._session() as session:
            row = session.get(SavedReplyRow, reply_id)
            if row is None:
                raise NotFound("saved reply", reply_id)
            session.delete(row)

    # --- analytics ----------------------------------------------------------------------------

    def conversation_records(self, start: datetime, end: datetime) -> list[ConversationRecord]:
        """Return every conversation started in ``[start, end)`` with all its turns, tickets and feedback."""
        with self._session() as session:
            rows = session.scalars(
                select(ConversationRow)
                .where(ConversationRow.created_at >= start, ConversationRow.created_at < end)
                .order_by(ConversationRow.created_at)
            ).all()
            ids = [r.id for r in rows]
            turns: dict[str, list[Turn]] = {i: [] for i in ids}
            tickets: dict[str, list[Ticket]] = {i: [] for i in ids}
            feedback: dict[str, list[Feedback]] = {i: [] for i in ids}
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                for t in session.scalars(
                    select(TurnRow).where(TurnRow.conversation_id.in_(chunk)).order_by(TurnRow.id)
                ):
                    turns[t.conversation_id].append(_turn(t))
                for k in session.scalars(select(TicketRow).where(TicketRow.conversation_id.in_(chunk))):
                    tickets[k.conversation_id].append(_ticket(k))
                for f in session.scalars(
                    select(FeedbackRow).where(FeedbackRow.conversation_id.in_(chunk)).order_by(FeedbackRow.id)
                ):
                    feedback[f.conversation_id].append(_feedback(f))
            return [
                ConversationRecord(
                    id=r.id,
                    created_at=_aware(r.created_at) or self.clock(),
                    lang=r.lang,
                    turns=tuple(turns[r.id]),
                    tickets=tuple(sorted(tickets[r.id], key=lambda k: k.created_at)),
                    feedback=tuple(feedback[r.id]),
                )
                for r in rows
            ]


def _row_values(conversation: Conversation) -> dict:
    created = conversation.created_at or utcnow()
    return {
        "id": conversation.id,
        "created_at": created,
        "updated_at": created,
        "channel": conversation.channel,
        "lang": conversation.lang,
        "customer_id": conversation.customer_id,
        "customer_name": conversation.customer_name,
        "state": conversation.state,
        "failures": conversation.failures,
    }


def _row(conversation: Conversation) -> ConversationRow:
    return ConversationRow(**_row_values(conversation))


def _turn_values(conversation_id: str, turn: Turn) -> dict:
    return {
        "conversation_id": conversation_id,
        "role": turn.role,
        "text": turn.text,
        "created_at": turn.created_at,
        "lang": turn.lang,
        "answered": turn.answered,
        "confidence": turn.confidence,
        "handoff_reason": turn.handoff_reason,
        "details": turn.details,
    }


def _turn_row(conversation_id: str, turn: Turn) -> TurnRow:
    return TurnRow(**_turn_values(conversation_id, turn))


def _turn(row: TurnRow | Row) -> Turn:
    return Turn(
        role=row.role,
        text=row.text,
        created_at=_aware(row.created_at) or utcnow(),
        lang=row.lang,
        answered=row.answered,
        confidence=row.confidence,
        handoff_reason=row.handoff_reason,
        details=row.details,
        id=row.id,
    )


def _conversation(row: ConversationRow | Row, turns: list[TurnRow] | list[Row]) -> Conversation:
    return Conversation(
        id=row.id,
        channel=row.channel,
        lang=row.lang,
        customer_id=row.customer_id,
        customer_name=row.customer_name,
        state=row.state,
        failures=row.failures,
        topic_article_id=row.topic_article_id,
        topic_question=row.topic_question,
        turns=tuple(_turn(t) for t in turns),
        created_at=_aware(row.created_at),
    )


def _ticket(row: TicketRow) -> Ticket:
    return Ticket(
        id=row.id,
        conversation_id=row.conversation_id,
        created_at=_aware(row.created_at) or utcnow(),
        reason=row.reason,
        priority=row.priority,
        lang=row.lang,
        status=row.status,
        question=row.question,
        transcript=tuple(row.transcript or ()),
        customer=row.customer,
        expected_at=_aware(row.expected_at),
        sentiment=row.sentiment,
        agent=row.agent,
        claimed_at=_aware(row.claimed_at),
        first_reply_at=_aware(row.first_reply_at),
        resolved_at=_aware(row.resolved_at),
        released_at=_aware(row.released_at),
    )


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(
        id=row.id,
        conversation_id=row.conversation_id,
        created_at=_aware(row.created_at) or utcnow(),
        rating=row.rating,
        csat=row.csat,
        turn_id=row.turn_id,
        comment=row.comment,
    )


def _saved(row: SavedReplyRow) -> SavedReply:
    return SavedReply(
        id=row.id,
        title=row.title,
        text=row.text,
        lang=row.lang,
        tags=tuple(row.tags or ()),
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
    )
