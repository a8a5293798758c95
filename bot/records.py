"""The stored things, as the rest of the package sees them: frozen values, never ORM rows.

``bot.storage`` reads and writes them; the service, the agent API and the analytics only ever get these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

STATE_BOT = "bot"
STATE_HUMAN = "human"

TICKET_OPEN = "open"
TICKET_CLAIMED = "claimed"
TICKET_RESOLVED = "resolved"
TICKET_RELEASED = "released"
TICKET_STATUSES = (TICKET_OPEN, TICKET_CLAIMED, TICKET_RESOLVED, TICKET_RELEASED)
ACTIVE_STATUSES = (TICKET_OPEN, TICKET_CLAIMED)

# Where a conversation is, as the customer and the agents see it (docs/chat.md, "Conversation states").
WITH_BOT = "bot"
WAITING = "waiting"
WITH_AGENT = "agent"
CLOSED = "closed"
CONVERSATION_STATES = (WITH_BOT, WAITING, WITH_AGENT, CLOSED)


@dataclass(frozen=True)
class TicketRef:
    """What a chat turn needs to know about a conversation's latest ticket (not its transcript)."""

    id: str
    reason: str
    status: str
    priority: str
    agent: str | None = None


def conversation_state(state: str, ticket: TicketRef | None) -> str:
    """Return ``bot``, ``waiting``, ``agent`` or ``closed`` from the stored state and the latest ticket.

    A handed-off conversation waits for a person until an agent claims its ticket (or replies, which claims
    it); it is closed once the ticket is resolved, until the customer writes again. A released ticket gives
    the conversation back to the bot.
    """
    if state != STATE_HUMAN:
        return WITH_BOT
    status = ticket.status if ticket is not None else TICKET_OPEN
    if status == TICKET_CLAIMED:
        return WITH_AGENT
    if status == TICKET_RESOLVED:
        return CLOSED
    if status == TICKET_RELEASED:
        return WITH_BOT
    return WAITING


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """Format a datetime for JSON (ISO 8601), keeping None."""
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Turn:
    """A stored message, from the customer, the bot or an agent."""

    role: str
    text: str
    created_at: datetime
    lang: str | None = None
    answered: bool | None = None
    confidence: float | None = None
    handoff_reason: str | None = None
    details: dict[str, Any] | None = None
    id: int | None = None

    @property
    def sentiment(self) -> dict[str, Any] | None:
        """The customer message's sentiment as scored when it arrived (None for bot and agent turns)."""
        return (self.details or {}).get("sentiment")

    def to_json(self) -> dict[str, Any]:
        """Return the message as in tickets and ``GET /v1/conversations/{id}/messages``."""
        details = self.details or {}
        return {
            "id": self.id,
            "role": self.role,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "lang": self.lang,
            "answered": self.answered,
            "confidence": self.confidence,
            "handoff_reason": self.handoff_reason,
            "sources": details.get("sources", []),
            "related": details.get("related", []),
            "sentiment": details.get("sentiment"),
            "agent": details.get("agent"),
            "kind": details.get("kind") if self.role == "bot" else None,
            "feedback": self.invites_feedback,
        }

    @property
    def invites_feedback(self) -> bool:
        """Whether the customer may rate this message: a bot reply that quotes the KB, not a handoff notice."""
        if self.role != "bot":
            return False
        details = self.details or {}
        if "feedback" in details:
            return bool(details["feedback"])
        # Replies stored before this was recorded: an answer with sources that did not hand off.
        return bool(details.get("sources")) and details.get("kind", "answer") == "answer" and not self.handoff_reason


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
    created_at: datetime | None = None


@dataclass(frozen=True)
class NewTicket:
    """A handoff to put in the queue."""

    reason: str
    priority: str
    lang: str
    question: str
    expected_at: datetime | None = None
    sentiment: dict[str, Any] | None = None
    id: str | None = None


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
class Ticket:
    """A queued handoff as stored; ``transcript`` is the conversation as it was at handoff time."""

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
    sentiment: dict[str, Any] | None = None
    agent: str | None = None
    claimed_at: datetime | None = None
    first_reply_at: datetime | None = None
    resolved_at: datetime | None = None
    released_at: datetime | None = None

    def ref(self) -> TicketRef:
        """Return the ticket's id, reason, status, priority and agent (what a chat turn needs)."""
        return TicketRef(self.id, self.reason, self.status, self.priority, self.agent)

    def to_json(self, messages: list[Turn] | None = None) -> dict[str, Any]:
        """Return the ticket as the agent API shows it; ``messages`` replaces the handoff-time transcript."""
        return {
            "id": self.id,
            "session_id": self.conversation_id,
            "status": self.status,
            "reason": self.reason,
            "priority": self.priority,
            "lang": self.lang,
            "question": self.question,
            "customer": self.customer or {},
            "sentiment": self.sentiment,
            "agent": self.agent,
            "created_at": iso(self.created_at),
            "expected_at": iso(self.expected_at),
            "claimed_at": iso(self.claimed_at),
            "first_reply_at": iso(self.first_reply_at),
            "resolved_at": iso(self.resolved_at),
            "released_at": iso(self.released_at),
            "transcript": [t.to_json() for t in messages] if messages is not None else list(self.transcript),
        }


@dataclass(frozen=True)
class Feedback:
    """A customer's thumbs up/down and/or satisfaction score (1-5) for a conversation or one reply."""

    id: int
    conversation_id: str
    created_at: datetime
    rating: str | None = None
    csat: int | None = None
    turn_id: int | None = None
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the feedback as ``POST /v1/feedback`` answers it."""
        return {
            "id": self.id,
            "session_id": self.conversation_id,
            "rating": self.rating,
            "csat": self.csat,
            "message_id": self.turn_id,
            "comment": self.comment,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class SavedReply:
    """An agent's reusable answer (searchable; suggested beside the KB drafts)."""

    id: int
    title: str
    text: str
    lang: str
    tags: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the saved reply as in the HTTP API."""
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "lang": self.lang,
            "tags": list(self.tags),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True)
class ConversationRecord:
    """One conversation with everything that happened in it, for analytics."""

    id: str
    created_at: datetime
    lang: str
    turns: tuple[Turn, ...]
    tickets: tuple[Ticket, ...]
    feedback: tuple[Feedback, ...]
