"""The chat service's values: a request, a reply and its sources, the input error, the notifier seam.

Kept apart from :mod:`bot.service` so the HTTP layer, the suggester and the tests can use them without
the service's machinery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from bot.related import RelatedArticle
from bot.sentiment import Sentiment

LANGS = ("fa", "en")
MAX_ID_CHARS = 200
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
# C0 controls other than tab and line breaks, DEL and C1 controls: never in a real message.
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Explicit bidi embeddings, overrides and isolates: in a name shown to agents they could reverse what
# follows it ("Sara\u202e..." makes the rest read backwards); names lose them.
BIDI_CONTROLS_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


class HandoffNotifier(Protocol):
    """Something to tell about each new ticket once it is stored (the handoff webhook)."""

    def notify(self, ticket_id: str) -> None:
        """Queue the ticket for delivery; must return at once."""


class ChatInputError(ValueError):
    """A request the service refuses; ``field`` names the offending input."""

    def __init__(self, field_name: str, message: str, *, status: int = 422) -> None:
        """Describe what is wrong with ``field_name``."""
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ChatRequest:
    """One customer message as received."""

    message: str
    session_id: str | None = None
    lang: str | None = None
    channel: str = "web"
    customer_id: str | None = None
    customer_name: str | None = None


@dataclass(frozen=True)
class Source:
    """An article a reply quotes."""

    article_id: str
    title: str
    section: str
    url: str | None
    score: float
    version: str | None = None

    def to_json(self) -> dict:
        """Return the source as in ``POST /v1/chat`` (``version``: the article version the reply quoted)."""
        return {
            "article_id": self.article_id,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "score": round(self.score, 4),
            "version": self.version,
        }


@dataclass(frozen=True)
class ChatReply:
    """Everything ``POST /v1/chat`` returns."""

    session_id: str
    reply: str
    lang: str
    answered: bool
    confidence: float
    handoff: bool
    handoff_reason: str | None
    ticket_id: str | None
    sentiment: Sentiment
    sources: tuple[Source, ...] = ()
    related: tuple[RelatedArticle, ...] = ()
    kind: str = "answer"
    """What the reply was: answer, small_talk, request, complaint, or with_agent (the bot stayed silent)."""
    ticket_created: bool = False
    """Whether this turn queued a new ticket (rather than repeating an open one); not part of the HTTP body."""
    message_ids: tuple[int, ...] = ()
    """The stored ids of the customer's message and of this reply (empty while the database is down)."""
    state: str = "bot"
    """Where the conversation is after this turn: bot, waiting (for a person), agent or closed."""
    feedback: bool = False
    """Whether the customer may rate this reply (it quotes the KB; a handoff notice does not)."""

    def to_json(self) -> dict:
        """Return the reply object of the HTTP contract."""
        return {
            "session_id": self.session_id,
            "reply": self.reply,
            "lang": self.lang,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "handoff": self.handoff,
            "handoff_reason": self.handoff_reason,
            "ticket_id": self.ticket_id,
            "sentiment": self.sentiment.to_json(),
            "sources": [s.to_json() for s in self.sources],
            "related": [r.to_json() for r in self.related],
            "customer_message_id": self.message_ids[0] if self.message_ids else None,
            "message_id": self.message_ids[1] if len(self.message_ids) == 2 else None,
            "state": self.state,
            "kind": self.kind,
            "feedback": self.feedback,
        }


def clean_name(name: str | None) -> str | None:
    """Return a customer or agent name without control or bidi-override characters (None when nothing is left)."""
    if name is None:
        return None
    cleaned = " ".join(BIDI_CONTROLS_RE.sub("", CONTROL_CHARS_RE.sub(" ", name)).split())
    return cleaned or None
