"""The chat service: one customer message in, one grounded reply (or a handoff) out.

The HTTP API, ``pasokh ask`` and the benchmarks all call :meth:`ChatService.chat`; nothing here
imports FastAPI. A turn is stored (with the ticket, when it hands off) before the reply returns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.exc import InterfaceError, OperationalError

from bot import replies
from bot.answer import section_label
from bot.chat_types import (
    CONTROL_CHARS_RE,
    LANGS,
    MAX_ID_CHARS,
    SESSION_ID_RE,
    ChatInputError,
    ChatReply,
    ChatRequest,
    HandoffNotifier,
    Source,
    clean_name,
)
from bot.citing import source_lines
from bot.cues import dissatisfied, small_talk
from bot.extract import select_quote
from bot.handoff import HandoffDecision, TurnFacts, decide
from bot.heap import resettle_heap
from bot.hours import BusinessHours, handoff_eta
from bot.human_request import detect_human_request
from bot.matching import Match, Matcher
from bot.questions import split_questions
from bot.records import (
    CLOSED,
    STATE_BOT,
    STATE_HUMAN,
    WAITING,
    WITH_AGENT,
    WITH_BOT,
    Conversation,
    ConversationUpdate,
    NewTicket,
    TicketRef,
    Turn,
    conversation_state,
    utcnow,
)
from bot.related import RelatedArticles
from bot.sentiment import Sentiment, SentimentScorer
from bot.settings import Settings
from bot.storage import Recorded, Storage, new_ticket_id
from indexer.chunking import Section
from indexer.embedding import Embedder
from indexer.readings import is_finglish, readings
from indexer.retrieval import Hit, HybridSearcher
from indexer.store import load_index
from indexer.textnorm import detect_lang, lexical_tokens

if TYPE_CHECKING:
    from bot.outbox import Outbox

logger = logging.getLogger(__name__)

# The database is unreachable (down, restarting, network): the turn goes to the outbox. Any other
# database error is a bug or a bad value and must not be retried forever.
_UNAVAILABLE = (OperationalError, InterfaceError)

# Follow-ups are short and lean on the previous question: "and for Shiraz?", «برای مشهد چطور؟».
_FOLLOW_UP_MAX_TERMS = 4
# A message that opens or ends like a continuation («و …»، «با هواپیما چطور؟»، "and the baby?",
# "what if …") may be a little longer and still lean on the previous question.
_CONTINUATION_MAX_TERMS = 8
_CONTINUATION = re.compile(
    r"^\s*(و|اگه|اگر|پس|حالا|and|or|also|what\s+about|how\s+about|what\s+if|and\s+if|va|age|agar)\s"
    r"|(\s|^)(چی|چطور|چطوری|چه\s*طور|چه\s*جوری|چجوری|چطوره|chi|chetor|chetori|chejuri)\s*[?؟!.]*\s*$",
    re.IGNORECASE,
)
# A calibrated probability at or above this reads a continuation on its own as a new question.
_NEW_TOPIC_CONFIDENCE = 0.5


@dataclass(frozen=True)
class _Answer:
    """One question of the message with its match, the text the match was made on and its vector."""

    question: str
    query: str
    match: Match
    vector: np.ndarray | None = None

    @property
    def follow_up(self) -> bool:
        """Read together with the conversation's previous question."""
        return self.query != self.question


@dataclass
class ChatService:
    """Answers customer messages from one loaded index and records every turn."""

    settings: Settings
    matcher: Matcher
    embedder: Embedder
    storage: Storage
    sentiment: SentimentScorer
    hours: BusinessHours
    related: RelatedArticles
    clock: Callable[[], datetime] = field(default=utcnow)
    notifier: HandoffNotifier | None = None
    outbox: Outbox | None = None

    @property
    def threshold(self) -> float:
        """Confidence below which a question is not answered from the KB."""
        if self.settings.confidence_threshold is not None:
            return self.settings.confidence_threshold
        return self.matcher.calibrator.threshold

    # --- input ---------------------------------------------------------------------------

    def validate(self, request: ChatRequest) -> str:
        """Return the message stripped of outer whitespace, or raise :class:`ChatInputError`."""
        message = request.message.strip() if isinstance(request.message, str) else None
        if message is None:
            raise ChatInputError("message", "must be a string")
        if not message:
            raise ChatInputError("message", "must not be empty or only whitespace")
        bad = CONTROL_CHARS_RE.search(message)
        if bad:
            raise ChatInputError("message", f"contains the control character U+{ord(bad.group()):04X}")
        if len(message) > self.settings.max_message_chars:
            raise ChatInputError(
                "message", f"is {len(message)} characters long; the limit is {self.settings.max_message_chars}"
            )
        if request.lang is not None and request.lang not in LANGS:
            raise ChatInputError("lang", f"must be one of {', '.join(LANGS)} (or omitted to detect it)")
        if request.session_id is not None:
            self.validate_session_id(request.session_id)
        for name, value in (
            ("channel", request.channel),
            ("customer.id", request.customer_id),
            ("customer.name", request.customer_name),
        ):
            if value is not None and len(value) > MAX_ID_CHARS:
                raise ChatInputError(name, f"must be at most {MAX_ID_CHARS} characters")
        return message

    @staticmethod
    def validate_session_id(session_id: str) -> None:
        """Refuse (404) a session id that this service could never have issued."""
        if not SESSION_ID_RE.match(session_id):
            raise ChatInputError("session_id", "is not a session id this service issued", status=404)

    # --- the turn --------------------------------------------------------------------------

    def chat(self, request: ChatRequest) -> ChatReply:
        """Answer one message: validate, understand, decide, store, reply."""
        message = self.validate(request)
        request = replace(request, customer_name=clean_name(request.customer_name))
        if request.session_id is None:
            # The turn's language replaces this placeholder when the conversation is stored with it.
            conversation = self.storage.new_conversation(
                channel=request.channel or "web",
                lang=request.lang or "fa",
                customer_id=request.customer_id,
                customer_name=request.customer_name,
            )
            return self._turn(conversation, message, request, new=True)
        # Read under the lock, so a turn that is still being stored for this session is seen.
        with self.storage.conversation_lock(request.session_id):
            try:
                conversation = self.storage.get_conversation(request.session_id)
            except _UNAVAILABLE:
                if self.outbox is None:
                    raise
                # The database is down: answer without the session's history; the turn goes to the outbox.
                logger.exception(
                    "database unavailable reading session %s; answering without its history", request.session_id
                )
                conversation = Conversation(
                    request.session_id, request.channel or "web", request.lang or "fa", request.customer_id,
                    request.customer_name, "bot", 0, None, None,
                )  # fmt: skip
            if conversation is None:
                raise ChatInputError("session_id", f"unknown session {request.session_id!r}", status=404)
            return self._turn(conversation, message, request, new=False)

    def _language(self, message: str, request: ChatRequest, conversation: Conversation) -> str:
        if request.lang:
            return request.lang
        if is_finglish(message):
            return "fa"  # Persian typed in Latin letters: the customer reads Persian
        detected = detect_lang(message)
        return detected if detected in LANGS else conversation.lang

    def _turn(self, conversation: Conversation, message: str, request: ChatRequest, *, new: bool) -> ChatReply:
        lang = self._language(message, request, conversation)
        name = request.customer_name or conversation.customer_name
        vector = self.embedder.embed_queries([message])[0]
        mood = self.sentiment.score(message, vector)
        now = self.clock()
        ticket = self._latest_ticket(conversation)
        phase = conversation_state(conversation.state, ticket)
        if phase == WITH_AGENT:
            return self._for_agent(conversation, message, lang, mood, now, ticket)
        # Waiting for a person: the ticket stays as it is; the bot answers what it is sure of in the meantime.
        waiting = phase == WAITING
        if phase == CLOSED:  # the agent closed the ticket: a new message starts again with the bot
            conversation = replace(conversation, state=STATE_BOT, failures=0)

        talk = small_talk(message)
        facts_requested = detect_human_request(message).requested
        unhappy = dissatisfied(message) and any(t.role == "bot" for t in conversation.turns)
        answers = [] if talk else self._answers(message, vector, conversation)
        # Every question of the message is answered or said not to be: the least sure one decides.
        confidence = min((a.match.confidence for a in answers), default=0.0)
        unanswered = [a.question for a in answers if not self._sure(a)]
        decision = decide(
            TurnFacts(
                confidence=confidence,
                threshold=self.threshold,
                requested=facts_requested,
                angry=mood.angry,
                small_talk=talk is not None,
                dissatisfied=unhappy,
                failures_before=0 if waiting else conversation.failures,
                failure_limit=self.settings.failures_before_handoff,
            )
        )
        text, sources = self._compose(answers, decision, talk, mood, lang, name, waiting=waiting)
        asks_person = facts_requested and not decision.answered
        new_ticket = None
        if waiting:
            text = self._waiting_note(text, decision, talk, ticket, mood, lang)
        elif decision.handoff:
            # With some questions answered, the ticket's question is what is left for the person.
            partly = unanswered and len(unanswered) < len(answers)
            new_ticket = NewTicket(
                id=new_ticket_id(),
                reason=decision.reason or "low_confidence",
                priority=decision.priority,
                lang=lang,
                question=" / ".join(unanswered) if partly and decision.reason == "low_confidence" else message,
                expected_at=_utc(self.hours.next_opening(now)),
                sentiment=mood.to_json(),
            )
            text = "\n\n".join(
                part
                for part in (
                    text,
                    replies.text(f"handoff_{decision.reason}", lang),
                    handoff_eta(self.hours, now, lang, phone=self.settings.support_phone),
                )
                if part
            )
            text = f"{text}\n{replies.text('ticket', lang, ticket=new_ticket.id)}"
        top = next((a for a in answers if self._sure(a)), None)
        kind = _kind(talk, decision, unhappy)
        handed_off = decision.handoff and not waiting
        # Thumbs are for replies that quote the KB, not for a notice that a person takes over.
        feedback = bool(sources) and not handed_off
        related = (
            []
            if handed_off or talk
            else self.related.for_answer(
                sources,
                [h.article.id for a in answers for h in a.match.hits[1:4]],
                lang,
            )
        )
        update = ConversationUpdate(
            lang=lang,
            state=STATE_HUMAN if decision.handoff or waiting else conversation.state,
            failures=conversation.failures if waiting else decision.failures,
            topic_article_id=top.match.hit.article.id if top and top.match.hit else conversation.topic_article_id,
            # The last question asked, answered or not: a follow-up ("and for Mashhad?") leans on it.
            # A request for a person is not a topic to come back to.
            topic_question=answers[-1].query if answers and not asks_person else conversation.topic_question,
            customer_name=request.customer_name,
            turns=(
                Turn("customer", message, now, lang=lang, details={"sentiment": mood.to_json()}),
                Turn(
                    "bot",
                    text,
                    self.clock(),
                    lang=lang,
                    answered=decision.answered,
                    confidence=round(confidence, 4),
                    # While waiting no new handoff is made: the question stays unanswered (a content gap).
                    handoff_reason=None if waiting else decision.reason,
                    details={
                        "sources": [s.to_json() for s in sources],
                        "candidates": [
                            {"article_id": h.article.id, "confidence": round(a.match.confidence, 4)}
                            for a in answers
                            for h in a.match.hits[:3]
                        ],
                        "small_talk": talk,
                        "kind": kind,
                        "feedback": feedback,
                        "related": [r.to_json() for r in related],
                    },
                ),
            ),
            ticket=new_ticket,
        )
        stored = self._store(conversation.id, update, conversation if new else None)
        ticket_id = stored.ticket_id
        if ticket_id and self.notifier is not None:
            self.notifier.notify(ticket_id)
        if waiting and ticket is not None:
            ticket_id = ticket.id
        return ChatReply(
            session_id=conversation.id,
            reply=text,
            lang=lang,
            answered=decision.answered,
            confidence=confidence,
            handoff=decision.handoff or waiting,
            handoff_reason=ticket.reason if waiting and ticket is not None else decision.reason,
            ticket_id=ticket_id,
            sentiment=mood,
            sources=tuple(sources),
            related=tuple(related),
            kind=kind,
            ticket_created=stored.ticket_id is not None,
            message_ids=stored.turn_ids,
            state=WAITING if decision.handoff or waiting else WITH_BOT,
            feedback=feedback,
        )

    def _latest_ticket(self, conversation: Conversation) -> TicketRef | None:
        """Return a handed-off conversation's latest ticket (None with the bot, or with the database down)."""
        if conversation.state != STATE_HUMAN:
            return None
        try:
            return self.storage.latest_ticket_ref(conversation.id)
        except _UNAVAILABLE:
            logger.exception("database unavailable reading the ticket of session %s", conversation.id)
            return None

    def _waiting_note(
        self,
        text: str,
        decision: HandoffDecision,
        talk: str | None,
        ticket: TicketRef | None,
        mood: Sentiment,
        lang: str,
    ) -> str:
        """Say, once, where the customer's open request stands (never the "not available" notice again)."""
        if mood.angry and ticket is not None:
            self._escalate(ticket)
        if talk is not None and not decision.handoff:
            return text
        reference = f" ({ticket.id})" if ticket is not None else ""
        if decision.answered:
            key = "ticket_stays_open"
        elif decision.reason == "requested":
            key = "already_queued"
        else:
            key = "added_to_ticket"
        return "\n\n".join(part for part in (text, replies.text(key, lang, ticket=reference)) if part)

    def _escalate(self, ticket: TicketRef) -> None:
        """Move an open ticket up the queue: its customer is angry."""
        try:
            if self.storage.escalate_ticket(ticket.id):
                logger.info("ticket %s raised to high priority: the customer is upset", ticket.id)
        except _UNAVAILABLE:
            logger.exception("database unavailable raising ticket %s", ticket.id)

    def _answers(self, message: str, vector: np.ndarray, conversation: Conversation) -> list[_Answer]:
        """Match each question of the message; a short follow-up borrows the previous question's topic."""
        questions = split_questions(message)
        if len(questions) == 1:
            answer = _Answer(message, message, self.matcher.match(message, vector), vector)
            continues = bool(_CONTINUATION.search(message))
            standalone = max(self.threshold, _NEW_TOPIC_CONFIDENCE) if continues else self.threshold
            if answer.match.confidence >= standalone:
                # A question that stands on its own is a new topic, not a follow-up: read together
                # with the previous question, the longer previous one would pull it back there.
                return [answer]
            follow = self._follow_up(message, conversation, continues=continues)
            if follow is not None and follow.match.confidence > answer.match.confidence:
                return [follow]
            return [answer]
        vectors = self.embedder.embed_queries(questions)
        return [_Answer(q, q, self.matcher.match(q, v), v) for q, v in zip(questions, vectors, strict=True)]

    def _follow_up(self, message: str, conversation: Conversation, *, continues: bool = False) -> _Answer | None:
        limit = _CONTINUATION_MAX_TERMS if continues else _FOLLOW_UP_MAX_TERMS
        if not conversation.topic_question or len(lexical_tokens(message)) > limit:
            return None
        combined = f"{conversation.topic_question} {message}"
        vector = self.embedder.embed_queries([combined])[0]
        return _Answer(message, combined, self.matcher.match(combined, vector), vector)

    # --- the reply -------------------------------------------------------------------------

    def _sure(self, answer: _Answer) -> bool:
        """Whether a question of the message is answered from the KB: an article, confident enough."""
        return answer.match.hit is not None and answer.match.confidence >= self.threshold

    def _compose(
        self,
        answers: list[_Answer],
        decision: HandoffDecision,
        talk: str | None,
        mood: Sentiment,
        lang: str,
        name: str | None,
        *,
        waiting: bool = False,
    ) -> tuple[str, list[Source]]:
        parts: list[str] = []
        sources: list[Source] = []
        if mood.angry:
            parts.append(replies.text("apology", lang, name=replies.name_prefix(name, lang)))
        confident = [a for a in answers if self._sure(a)]
        # Some questions of the message answered, some not: give the answers, name the rest.
        partly = (
            bool(confident) and len(confident) < len(answers) and decision.reason in (None, "low_confidence", "angry")
        )
        if decision.answered or partly:
            quoted: set[str] = set()
            for answer in confident:
                text, source = self._grounded(answer, lang)
                if text in quoted:  # two questions answered by the same words: quoted once
                    continue
                quoted.add(text)
                parts.append(text)
                sources.append(source)
            if partly:
                parts += [replies.text("not_found_part", lang, part=a.question) for a in answers if not self._sure(a)]
        elif talk == "greeting":
            prefix = f" {name}" if name and lang == "en" else (f" {name} عزیز" if name else "")
            parts.append(replies.text("greeting", lang, name=prefix))
        elif talk in ("thanks", "goodbye"):
            parts.append(replies.text(talk, lang))
        elif not decision.handoff:
            parts.append(replies.text("not_found", lang))
            parts.append(replies.text("rephrase", lang))
        elif decision.reason in ("low_confidence", "repeated_failure") and not waiting:
            parts.append(replies.text("not_found", lang))
        return "\n\n".join(parts), sources

    def _grounded(self, answer: _Answer, lang: str) -> tuple[str, Source]:
        """Return the quote that answers, then the link, and the source: the section quoted."""
        hit = answer.match.hit
        assert hit is not None
        text, section = self.quote(hit, answer.query, focus=answer.question if answer.follow_up else None,
                                   vector=answer.vector)  # fmt: skip
        lines = []
        if hit.article.lang != lang and hit.article.lang in LANGS:
            lines.append(replies.text(f"other_language_{hit.article.lang}", lang))
        lines.append(text)
        # "Source: title", then the address alone on its line: in a Persian line, brackets around a Latin
        # address are reordered by the bidi algorithm.
        lines.extend(source_lines(replies.text("source", lang), hit.article.title, hit.article.url, lang))
        return "\n".join(line for line in lines if line), self._source(hit, section, answer.match.confidence)

    def quote(
        self,
        hit: Hit,
        query: str,
        *,
        focus: str | None = None,
        vector: np.ndarray | None = None,
    ) -> tuple[str, Section]:
        """Return the part of the hit's article that answers ``query`` and the section it is quoted from.

        ``vector`` is the query's vector when the caller has it (it is embedded otherwise);
        ``focus`` is the customer's own words of a follow-up that ``query`` joined to the topic.
        """
        searcher = self.matcher.searcher
        sections = searcher.article_sections(hit.article.id)
        if not sections:
            return "", hit.section
        if vector is None:
            vector = self.embedder.embed_queries([query])[0]
        preferred = next((i for i, s in enumerate(sections) if s.id == hit.section.id), 0)
        # Finglish or spoken Persian also speaks through its formal reading: its words are the KB's.
        picked = select_quote(
            [s.text for s in sections],
            " ".join(readings(query)),
            query_vector=vector,
            vectors=[searcher.index.section_quote_vectors(s.id) for s in sections],
            focus=" ".join(readings(focus)) if focus else None,
            preferred=preferred,
            headings=[" ".join(s.heading_path[1:]) for s in sections],
        )
        return picked.text, sections[picked.section]

    def _for_agent(
        self,
        conversation: Conversation,
        message: str,
        lang: str,
        mood: Sentiment,
        now: datetime,
        ticket: TicketRef | None,
    ) -> ChatReply:
        """Store the message for the agent who has the conversation, and stay silent (no bot reply)."""
        if mood.angry and ticket is not None:
            self._escalate(ticket)
        update = ConversationUpdate(
            lang=lang,
            state=conversation.state,
            failures=conversation.failures,
            topic_article_id=conversation.topic_article_id,
            topic_question=conversation.topic_question,
            turns=(Turn("customer", message, now, lang=lang, details={"sentiment": mood.to_json()}),),
        )
        stored = self._store(conversation.id, update, None)
        return ChatReply(
            session_id=conversation.id,
            reply="",
            lang=lang,
            answered=False,
            confidence=0.0,
            handoff=True,
            handoff_reason=ticket.reason if ticket else None,
            ticket_id=ticket.id if ticket else None,
            sentiment=mood,
            kind="with_agent",
            message_ids=stored.turn_ids,
            state=WITH_AGENT,
        )

    def _store(self, conversation_id: str, update: ConversationUpdate, new: Conversation | None) -> Recorded:
        """Commit the turn; with the database down, keep it in the outbox (no message ids yet, same ticket id)."""
        try:
            return self.storage.record(conversation_id, update, new)
        except _UNAVAILABLE:
            if self.outbox is None:
                raise
            self.outbox.add(conversation_id, update, new)
            return Recorded(update.ticket.id if update.ticket else None)

    def _source(self, hit: Hit, section: Section, confidence: float) -> Source:
        version = self.matcher.searcher.index.manifest.articles.get(hit.article.id, {}).get("version")
        label = section_label(replace(hit, section=section))
        return Source(hit.article.id, hit.article.title, label, hit.article.url, confidence, version)

    # --- index ---------------------------------------------------------------------------

    def reload_index(self) -> str:
        """Switch to the index folder's current generation (after a rebuild); return its name.

        The new matcher and related-articles table are built completely before they replace the old
        ones, so a turn in progress finishes on the generation it started with.
        """
        index = load_index(self.settings.index, expect_model=self.embedder.name)
        searcher = HybridSearcher(index, self.embedder, dense_weight=self.settings.dense_weight)
        matcher = Matcher(searcher, self.matcher.calibrator)
        matcher.null_reference()  # measured before the swap, not by the next customer
        related = RelatedArticles(index)
        self.matcher, self.related = matcher, related
        resettle_heap()
        logger.info("serving index %s (%d articles)", index.generation, len(index.articles))
        return index.generation

    # --- search ----------------------------------------------------------------------------

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Return the best articles for ``query`` (the ``GET /v1/search`` results)."""
        return self.matcher.searcher.search(query, k=k)


def _utc(when: datetime | None) -> datetime | None:
    """Return ``when`` in UTC (the database keeps no zone, so everything is stored in UTC)."""
    return when.astimezone(timezone.utc) if when is not None else None


def _kind(talk: str | None, decision: HandoffDecision, unhappy: bool) -> str:
    """Say what a reply was, for analytics: an answer attempt, small talk, a handoff on request, a complaint."""
    if talk is not None:
        return "small_talk"
    if decision.reason == "requested" and not decision.answered:
        return "request"
    if unhappy and not decision.answered:
        return "complaint"
    return "answer"
