"""Request and response schemas of the HTTP API (pydantic, used only at the HTTP edge).

No ``from __future__ import annotations``: FastAPI and pydantic read these annotations at runtime.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator, model_validator

from bot.chat_types import BIDI_CONTROLS_RE, CONTROL_CHARS_RE

Lang = Literal["fa", "en"]
Reason = Literal["low_confidence", "requested", "angry", "repeated_failure"]
State = Literal["bot", "waiting", "agent", "closed"]
Kind = Literal["answer", "small_talk", "request", "complaint", "with_agent"]
MAX_AGENT_NAME = 100
MAX_COMMENT = 2000


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be empty or only whitespace")
    if value is not None and (bad := CONTROL_CHARS_RE.search(value)):
        raise ValueError(f"contains the control character U+{ord(bad.group()):04X}")
    return value


def _plain_name(value: str) -> str:
    """Drop bidi overrides from a name shown to others (they could make the following text read backwards)."""
    return " ".join(BIDI_CONTROLS_RE.sub("", _not_blank(value)).split())


class Strict(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Customer(Strict):
    """Who is writing, as the website knows them."""

    id: StrictStr | None = Field(None, max_length=200, description="The website's id for the customer.")
    name: StrictStr | None = Field(None, max_length=200, description="Used to address the customer in replies.")

    @field_validator("id", "name")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and (bad := CONTROL_CHARS_RE.search(value)):
            raise ValueError(f"contains the control character U+{ord(bad.group()):04X}")
        return value


def chat_body(max_chars: int) -> type[BaseModel]:
    """Return the ``POST /v1/chat`` body schema, with the configured message limit in it."""

    class ChatBody(Strict):
        """A customer message."""

        message: StrictStr = Field(..., min_length=1, max_length=max_chars, description="The customer's message.")
        session_id: StrictStr | None = Field(
            None, max_length=64, description="Continue this conversation (from an earlier reply); omit to start one."
        )
        lang: Lang | None = Field(None, description="Reply language; detected from the text if omitted.")
        channel: StrictStr = Field(
            "web",
            min_length=1,
            max_length=32,
            pattern=r"^[A-Za-z0-9_.\-]+$",
            description="Where the message came from.",
        )
        customer: Customer | None = None

        @field_validator("message")
        @classmethod
        def _message(cls, value: str) -> str:
            return _not_blank(value)

    return ChatBody


class SentimentOut(BaseModel):
    """The message's sentiment."""

    label: Literal["angry", "negative", "neutral", "positive"]
    angry: bool
    score: float = Field(description="Anger score in [0, 1]; `angry` when it reaches PASOKH_ANGER_THRESHOLD.")


class SourceOut(BaseModel):
    """An article the reply quotes; `sources[0]` is the one the reply is drawn from."""

    article_id: str
    title: str
    section: str
    url: str | None
    score: float = Field(description="Calibrated confidence of this answer.")
    version: str | None = Field(None, description="Version (content hash prefix) of the article quoted.")


class RelatedOut(BaseModel):
    """An article the customer is likely to need next."""

    article_id: str
    title: str


class ChatResponse(BaseModel):
    """The bot's reply (every field always present)."""

    session_id: str
    reply: str
    lang: Lang
    answered: bool
    confidence: float
    handoff: bool
    handoff_reason: Reason | None
    ticket_id: str | None
    sentiment: SentimentOut
    sources: list[SourceOut]
    related: list[RelatedOut]
    message_id: int | None = Field(
        None, description="Id of this reply in the conversation (for feedback); null while the database is down."
    )
    customer_message_id: int | None = Field(None, description="Id of the customer's message.")
    state: State = Field(
        "bot",
        description="Where the conversation is after this turn: with the bot, waiting for a person (a ticket is "
        "open), with an agent (the bot stays silent: reply is empty) or closed by an agent.",
    )
    kind: Kind = Field("answer", description="What the reply was; with_agent: the bot said nothing.")
    feedback: bool = Field(False, description="Whether the reply quotes the KB and may be rated (thumbs).")


class SearchResult(BaseModel):
    """One article found."""

    article_id: str
    title: str
    section: str
    snippet: str
    url: str | None
    lang: str
    score: float


class SearchResponse(BaseModel):
    """Search results, best first."""

    query: str
    results: list[SearchResult]


class ErrorField(BaseModel):
    """One bad input."""

    field: str
    problem: str


class ErrorResponse(BaseModel):
    """Why a request was refused."""

    error: str
    detail: str
    fields: list[ErrorField] = []


# --- conversations and feedback (customer side) --------------------------------------------


class MessageOut(BaseModel):
    """One message of a conversation."""

    id: int
    role: Literal["customer", "bot", "agent"]
    text: str
    created_at: datetime
    lang: str | None
    answered: bool | None
    confidence: float | None
    handoff_reason: str | None
    sources: list[dict[str, Any]]
    related: list[dict[str, Any]]
    sentiment: dict[str, Any] | None
    agent: str | None
    kind: str | None = Field(None, description="A bot reply's kind (as in POST /v1/chat).")
    feedback: bool = Field(False, description="Whether the customer may rate this message (a bot answer).")


class TicketBrief(BaseModel):
    """The conversation's current handoff, as the customer may see it."""

    id: str
    status: Literal["open", "claimed", "resolved", "released"]
    reason: str
    priority: str
    expected_at: datetime | None
    agent: str | None = Field(None, description="The agent who took the conversation, once one has.")


class MessagesResponse(BaseModel):
    """A conversation's messages after a given id."""

    session_id: str
    state: State
    lang: str
    ticket: TicketBrief | None
    messages: list[MessageOut]


class WidgetConfig(BaseModel):
    """What the chat widget needs before its first message (``GET /v1/widget/config``)."""

    allowed: bool = Field(description="Whether the widget may be used here (site key known, page origin allowed).")
    problem: Literal["unknown_site_key", "origin_not_allowed"] | None = Field(
        None, description="Why it may not; null when allowed."
    )
    timezone: str = Field(description="The support team's IANA time zone: every time shown is in it.")
    zone_name: dict[str, str] = Field(description='The zone as a reader says it, per language ("Tehran time").')
    open_now: bool = Field(description="Whether the team is working now.")
    next_opening: datetime | None = Field(None, description="When the team next starts work (now, when open).")
    max_message_chars: int = Field(description="The longest message POST /v1/chat accepts.")


class FeedbackBody(Strict):
    """A thumbs up/down and/or satisfaction score (1-5) from the customer."""

    session_id: StrictStr = Field(..., min_length=1, max_length=64)
    rating: Literal["up", "down"] | None = None
    csat: StrictInt | None = Field(None, ge=1, le=5, description="Customer satisfaction, 1 (bad) to 5 (great).")
    message_id: StrictInt | None = Field(
        None, ge=1, le=2**31 - 1, description="The bot message rated (from the messages list)."
    )
    comment: StrictStr | None = Field(None, max_length=MAX_COMMENT)

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str | None) -> str | None:
        return _not_blank(value) if value else value

    @model_validator(mode="after")
    def _something(self):
        if self.rating is None and self.csat is None:
            raise ValueError("give `rating` (up or down), `csat` (1-5) or both")
        return self


class FeedbackOut(BaseModel):
    """Stored feedback."""

    id: int
    session_id: str
    rating: str | None
    csat: int | None
    message_id: int | None
    comment: str | None
    created_at: datetime


# --- agents ----------------------------------------------------------------------------------


class TicketOut(BaseModel):
    """A handoff ticket with the live transcript."""

    id: str
    session_id: str
    status: Literal["open", "claimed", "resolved", "released"]
    reason: Reason
    priority: Literal["high", "normal"]
    lang: str
    question: str
    customer: dict[str, Any]
    sentiment: dict[str, Any] | None
    agent: str | None
    created_at: datetime
    expected_at: datetime | None
    claimed_at: datetime | None
    first_reply_at: datetime | None
    resolved_at: datetime | None
    released_at: datetime | None
    transcript: list[MessageOut]


class TicketsResponse(BaseModel):
    """Tickets, high priority first, then oldest."""

    tickets: list[TicketOut]


class ClaimBody(Strict):
    """Who takes the ticket."""

    agent: StrictStr = Field(..., min_length=1, max_length=MAX_AGENT_NAME, description="The agent's name.")

    @field_validator("agent")
    @classmethod
    def _agent(cls, value: str) -> str:
        name = _plain_name(value)
        if not name:
            raise ValueError("must not be empty")
        return name


def reply_body(max_chars: int) -> type[BaseModel]:
    """Return the agent reply schema with the configured message limit."""

    class ReplyBody(ClaimBody):
        """An agent's message to the customer."""

        text: StrictStr = Field(..., min_length=1, max_length=max_chars)

        @field_validator("text")
        @classmethod
        def _text(cls, value: str) -> str:
            return _not_blank(value)

    return ReplyBody


class SuggestBody(Strict):
    """Which conversation to draft replies for: a session id or a ticket id."""

    session_id: StrictStr | None = Field(None, min_length=1, max_length=64)
    ticket_id: StrictStr | None = Field(None, min_length=1, max_length=32)
    customer_name: StrictStr | None = Field(None, max_length=200, description="Overrides the name the session has.")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.session_id is None) == (self.ticket_id is None):
            raise ValueError("give exactly one of `session_id` and `ticket_id`")
        return self


class CitationOut(BaseModel):
    """A KB article a draft quotes."""

    article_id: str
    title: str
    section: str
    url: str | None
    version: str | None


class DraftOut(BaseModel):
    """A suggested reply."""

    text: str
    kind: Literal["kb", "saved"]
    citations: list[CitationOut]
    saved_reply_id: int | None


class QuestionOut(BaseModel):
    """A question of the customer and whether the drafts answer it."""

    text: str
    answered: bool
    article_id: str | None


class SuggestResponse(BaseModel):
    """Drafts for the agent, in the customer's language."""

    session_id: str
    lang: str
    questions: list[QuestionOut]
    drafts: list[DraftOut]


def saved_reply_body(max_chars: int) -> type[BaseModel]:
    """Return the saved-reply schema with the configured text limit."""

    class SavedReplyBody(Strict):
        """A reusable reply."""

        title: StrictStr = Field(..., min_length=1, max_length=200)
        text: StrictStr = Field(..., min_length=1, max_length=max_chars)
        lang: Lang
        tags: list[StrictStr] = Field(default_factory=list, max_length=20)

        @field_validator("title", "text")
        @classmethod
        def _filled(cls, value: str) -> str:
            return _not_blank(value)

        @field_validator("tags")
        @classmethod
        def _tags(cls, value: list[str]) -> list[str]:
            if any(len(t) > 50 or not t.strip() for t in value):
                raise ValueError("each tag must be 1-50 characters")
            return [t.strip() for t in value]

    return SavedReplyBody


class SavedReplyOut(BaseModel):
    """A stored saved reply."""

    id: int
    title: str
    text: str
    lang: str
    tags: list[str]
    created_at: datetime | None
    updated_at: datetime | None


class SavedRepliesResponse(BaseModel):
    """Saved replies, best match first when searched."""

    saved_replies: list[SavedReplyOut]


# --- admin -------------------------------------------------------------------------------------


class IndexArticleOut(BaseModel):
    """One indexed article."""

    id: str
    title: str
    lang: str
    sections: int
    version: str | None
    path: str | None


class IndexOut(BaseModel):
    """The index being served."""

    generation: str
    model: str
    built_at: str
    build_seconds: float
    kb_digest: str
    articles: int
    sections: int
    out_of_scope: int
    rebuild: dict[str, Any] | None
    per_article: list[IndexArticleOut]


class RebuildOut(BaseModel):
    """A background index rebuild."""

    id: int
    status: Literal["running", "succeeded", "failed"]
    started_at: datetime
    finished_at: datetime | None
    progress: dict[str, int]
    summary: str | None
    generation: str | None
    error: str | None
    problems: list[str]


class NearestOut(BaseModel):
    """The existing article closest to a gap."""

    article_id: str
    title: str
    score: float


class GapOut(BaseModel):
    """A cluster of questions the KB could not answer."""

    model_config = ConfigDict(extra="allow")

    size: int
    examples: list[str]
    langs: dict[str, int]
    nearest_article: NearestOut | None
    first_seen: datetime
    last_seen: datetime


class GapsResponse(BaseModel):
    """The content-gap report."""

    from_: datetime = Field(alias="from")
    to: datetime
    gaps: list[GapOut]


class AnalyticsResponse(BaseModel):
    """Managers' numbers for a time window (definitions in docs/agents.md)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    conversations: int
    customer_messages: int
    questions: int
    answered: int
    answered_rate: float
    deflection: dict[str, float]
    handoffs: dict[str, Any]
    median_first_reply_seconds: float | None
    resolved_tickets: int
    csat: dict[str, Any]
    feedback: dict[str, int]
    anger_rate: float
    top_articles: list[dict[str, Any]]
    gaps: list[GapOut]
    by_day: list[dict[str, Any]]
