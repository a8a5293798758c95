"""Durable conversations, turns and the handoff queue, through SQLAlchemy (SQLite by default).

Every chat turn is committed before its reply is returned, in one transaction with the session's new state and,
when the turn hands off, the ticket. A crash after the commit loses nothing; a crash before it loses the whole
turn, never half of it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

logger = logging.getLogger(__name__)

_LOCK_STRIPES = 64
STATE_BOT = "bot"
STATE_HUMAN = "human"


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    """Treat naive datetimes read back from SQLite as UTC (SQLite keeps no zone)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class Base(DeclarativeBase):
    """Declarative base of the Pasokh tables."""


class ConversationRow(Base):
    """One customer conversation (the API's ``session_id``)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    lang: Mapped[str] = mapped_column(String(8), default="fa")
    customer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    customer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=STATE_BOT)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    topic_article_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    topic_question: Mapped[str | None] = mapped_column(Text, nullable=True)
    turns: Mapped[list[TurnRow]] = relationship(back_populates="conversation", order_by="TurnRow.id")


class TurnRow(Base):
    """One message in a conversation, from the customer, the bot or an agent."""

    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    answered: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    handoff_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    conversation: Mapped[ConversationRow] = relationship(back_populates="turns")


class TicketRow(Base):
    """A handoff waiting for (or taken by) a person, with the transcript as it was at handoff time."""

    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    question: Mapped[str] = mapped_column(Text)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    customer: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    expected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class Turn:
    """A stored message, as given to agents and in tickets."""

    role: str
    text: str
    created_at: datetime
    lang: str | None = None
    answered: bool | None = None
    confidence: float | None = None
    handoff_reason: str | None = None
    details: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the turn as JSON-ready data."""
        return {
            "role": self.role,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "lang": self.lang,
            "answered": self.answered,
            "confidence": self.confidence,
            "handoff_reason": self.handoff_reason,
        }


@dataclass(frozen=True)
class Conversation:
    """A conversation's state as the chat service needs it."""

    id: str
    channel: str
    lang: str
    customer_id: str | None
    customer_name: str | None
    state: str
    failures: int
    topic_article_id: str | None
    topic_question: str | None
    turns: tuple[Turn, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ConversationUpdate:
    """What one chat turn changes: the session state, the new turns and, on handoff, the ticket."""

    lang: str
    state: str
    failures: int
    topic_article_id: str | None
    topic_question: str | None
    turns: tuple[Turn, ...]
    ticket: NewTicket | None = None
    customer_name: str | None = None


@dataclass(frozen=True)
class NewTicket:
    """A handoff to put in the queue."""

    reason: str
    priority: str
    lang: str
    question: str
    expected_at: datetime | None = None


@dataclass(frozen=True)
class Ticket:
    """A queued handoff as stored."""

    id: str
    conversation_id: str
    created_at: datetime
    reason: str
    priority: str
    lang: str
    status: str
    question: str
    transcript: tuple[dict[str, Any], ...]
    customer: dict[str, Any] | None
    expected_at: datetime | None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Make SQLite durable and friendly to concurrent readers: WAL, fsync on commit, wait on locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def new_id(prefix: str = "") -> str:
    """Return an unguessable id (128 random bits, URL-safe)."""
    return prefix + secrets.token_urlsafe(16)


class Storage:
    """The conversation store; one instance per process, safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        # A fixed set of striped locks: one lock per session would grow without bound in a server
        # that runs for months, and two sessions sharing a stripe only wait for each other briefly.
        self._locks = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    def open(self) -> Storage:
        """Connect and create missing tables (and the SQLite file's folder)."""
        try:
            url = make_url(self.url)
        except ArgumentError as exc:
            raise ValueError(
                f"DATABASE_URL {self.url!r} is not an SQLAlchemy URL (e.g. sqlite:///var/pasokh.db)"
            ) from exc
        kwargs: dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        try:
            self._engine = create_engine(url, pool_pre_ping=True, **kwargs)
            if url.get_backend_name() == "sqlite":
                event.listen(self._engine, "connect", _sqlite_pragmas)
            Base.metadata.create_all(self._engine)
        except (ArgumentError, NoSuchModuleError, ImportError, OperationalError) as exc:
            shown = url.render_as_string(hide_password=True)
            raise ValueError(
                f"DATABASE_URL {shown}: cannot open the database ({exc.__class__.__name__}: {exc})"
            ) from exc
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        logger.info("conversation store ready (%s)", url.render_as_string(hide_password=True))
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
    def conversation_lock(self, conversation_id: str) -> Iterator[None]:
        """Serialise turns of one conversation inside this process (two tabs sending at once)."""
        with self._locks[hash(conversation_id) % _LOCK_STRIPES]:
            yield

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
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                return None
            turns = session.scalars(
                select(TurnRow)
                .where(TurnRow.conversation_id == conversation_id)
                .order_by(TurnRow.id.desc())
                .limit(last_turns)
            ).all()
            return _conversation(row, list(reversed(turns)))

    def record_turn(
        self, conversation_id: str, update: ConversationUpdate, new: Conversation | None = None
    ) -> str | None:
        """Store a turn's messages, the new session state and the ticket (if any) atomically; return the ticket id.

        ``new`` is a conversation from :meth:`new_conversation`, stored in the same transaction.
        """
        with self._session() as session:
            if new is not None:
                session.add(_row(new))
                session.flush()
            row = session.get(ConversationRow, conversation_id, with_for_update=True)
            if row is None:
                raise KeyError(conversation_id)
            now = utcnow()
            row.updated_at = now
            row.lang = update.lang
            row.state = update.state
            row.failures = update.failures
            row.topic_article_id = update.topic_article_id
            row.topic_question = update.topic_question
            if update.customer_name and not row.customer_name:
                row.customer_name = update.customer_name
            for turn in update.turns:
                session.add(
                    TurnRow(
                        conversation_id=conversation_id,
                        role=turn.role,
                        text=turn.text,
                        created_at=turn.created_at,
                        lang=turn.lang,
                        answered=turn.answered,
                        confidence=turn.confidence,
                        handoff_reason=turn.handoff_reason,
                        details=turn.details,
                    )
                )
            if update.ticket is None:
                return None
            session.flush()
            transcript = session.scalars(
                select(TurnRow).where(TurnRow.conversation_id == conversation_id).order_by(TurnRow.id)
            ).all()
            ticket = TicketRow(
                id=new_id("T-")[:24],
                conversation_id=conversation_id,
                created_at=now,
                reason=update.ticket.reason,
                priority=update.ticket.priority,
                lang=update.ticket.lang,
                question=update.ticket.question,
                transcript=[_turn(t).to_json() for t in transcript],
                customer={"id": row.customer_id, "name": row.customer_name, "channel": row.channel},
                expected_at=update.ticket.expected_at,
            )
            session.add(ticket)
            return ticket.id

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

    def list_tickets(self, *, status: str | None = "open", limit: int = 100) -> list[Ticket]:
        """Return tickets, high priority first, then oldest first."""
        with self._session() as session:
            query = select(TicketRow)
            if status is not None:
                query = query.where(TicketRow.status == status)
            rows = session.scalars(query.order_by(TicketRow.created_at).limit(limit * 4)).all()
            tickets = sorted((_ticket(r) for r in rows), key=lambda t: (t.priority != "high", t.created_at))
            return tickets[:limit]

    def release(self, conversation_id: str) -> bool:
        """Give a handed-off conversation back to the bot (an agent's decision); False if unknown."""
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id, with_for_update=True)
            if row is None:
                return False
            row.state = STATE_BOT
            row.failures = 0
            row.updated_at = utcnow()
            return True


def _row(conversation: Conversation) -> ConversationRow:
    return ConversationRow(
        id=conversation.id,
        channel=conversation.channel,
        lang=conversation.lang,
        customer_id=conversation.customer_id,
        customer_name=conversation.customer_name,
        state=conversation.state,
        failures=conversation.failures,
    )


def _turn(row: TurnRow) -> Turn:
    return Turn(
        role=row.role,
        text=row.text,
        created_at=_aware(row.created_at) or utcnow(),
        lang=row.lang,
        answered=row.answered,
        confidence=row.confidence,
        handoff_reason=row.handoff_reason,
        details=row.details,
    )


def _conversation(row: ConversationRow, turns: list[TurnRow]) -> Conversation:
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
    )
