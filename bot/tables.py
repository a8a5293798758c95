"""The database tables (SQLAlchemy ORM) and opening the engine, with additive schema upgrades.

Only ``bot.storage`` uses these rows; everything else sees the frozen values of ``bot.records``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.records import STATE_BOT, TICKET_OPEN, utcnow

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Declarative base of the Pasokh tables."""


class ConversationRow(Base):
    """One customer conversation (the API's ``session_id``)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
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
    status: Mapped[str] = mapped_column(String(16), default=TICKET_OPEN, index=True)
    question: Mapped[str] = mapped_column(Text)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    customer: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    expected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sentiment: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    agent: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    webhook_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    webhook_attempts: Mapped[int | None] = mapped_column(Integer, nullable=True)


class FeedbackRow(Base):
    """A thumbs up/down and/or CSAT score from the customer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rating: Mapped[str | None] = mapped_column(String(8), nullable=True)
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class SavedReplyRow(Base):
    """An agent's reusable reply."""

    __tablename__ = "saved_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Make SQLite durable and friendly to concurrent readers: WAL, fsync on commit, wait on locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _add_missing_columns(engine: Engine, conn) -> None:
    """Add nullable columns that newer versions introduced to tables an older version created.

    Upgrades are additive only (new tables are made by ``create_all``; new columns here), so a
    database written by an older Pasokh keeps every row.
    """
    inspector = inspect(conn)
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
            logger.info("database upgraded: added %s.%s", table.name, column.name)


def open_engine(url_text: str) -> Engine:
    """Connect to ``url_text``, create missing tables and columns; ValueError naming DATABASE_URL if impossible."""
    try:
        url = make_url(url_text)
    except ArgumentError as exc:
        raise ValueError(f"DATABASE_URL {url_text!r} is not an SQLAlchemy URL (e.g. sqlite:///var/pasokh.db)") from exc
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    try:
        # A server database may drop connections (restart, failover): test each one before use. A local
        # SQLite file cannot, and the check would cost a query per request.
        engine = create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite", **kwargs)
        if url.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Replicas starting together on an empty database: one creates the tables, the others wait.
                conn.execute(text("SELECT pg_advisory_xact_lock(7261730)"))
            Base.metadata.create_all(conn)
            _add_missing_columns(engine, conn)
    except (ArgumentError, NoSuchModuleError, ImportError, OperationalError) as exc:
        shown = url.render_as_string(hide_password=True)
        raise ValueError(f"DATABASE_URL {shown}: cannot open the database ({exc.__class__.__name__}: {exc})") from exc
    logger.info("conversation store ready (%s)", url.render_as_string(hide_password=True))
    return engine
