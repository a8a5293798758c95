"""Managers' numbers over a time window: deflection, handoffs, first-reply time, CSAT, anger, top articles, gaps.

Pure functions over :class:`~bot.records.ConversationRecord` values (the storage reads them), so every
figure can be recomputed by hand from the rows. The definitions are in ``docs/agents.md``.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.records import ConversationRecord, Turn

if TYPE_CHECKING:
    from bot.gaps import GapQuestion

REASONS = ("low_confidence", "requested", "angry", "repeated_failure")
# Turn kinds the chat service records on its replies (``details["kind"]``).
KIND_ANSWER = "answer"
KIND_SMALL_TALK = "small_talk"
KIND_REQUEST = "request"
KIND_COMPLAINT = "complaint"
KIND_WITH_AGENT = "with_agent"
GAP_REASONS = (None, "low_confidence", "repeated_failure")


def turn_kind(turn: Turn) -> str | None:
    """Return what a bot reply was: an answer attempt, small talk, a handoff on request, ... (None otherwise)."""
    if turn.role != "bot":
        return None
    details = turn.details or {}
    if "kind" in details:
        return details["kind"]
    # Replies stored before kinds were recorded: small talk was marked, replies to a handed-off session had none.
    if not details:
        return KIND_WITH_AGENT
    return KIND_SMALL_TALK if details.get("small_talk") else KIND_ANSWER


@dataclass(frozen=True)
class Exchange:
    """A customer message and the bot reply stored with it."""

    question: Turn
    reply: Turn

    @property
    def kind(self) -> str | None:
        """The reply's kind."""
        return turn_kind(self.reply)


def exchanges(turns: Sequence[Turn]) -> list[Exchange]:
    """Pair each customer message with the bot reply that directly follows it."""
    pairs = []
    for before, after in zip(turns, turns[1:], strict=False):
        if before.role == "customer" and after.role == "bot":
            pairs.append(Exchange(before, after))
    return pairs


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _negative(record: ConversationRecord) -> bool:
    return any(f.rating == "down" or (f.csat is not None and f.csat <= 2) for f in record.feedback)


def _confirmed(record: ConversationRecord, pairs: list[Exchange]) -> bool:
    if any(f.rating == "up" or (f.csat is not None and f.csat >= 4) for f in record.feedback):
        return True
    answered_before = False
    for pair in pairs:
        if pair.kind == KIND_ANSWER and pair.reply.answered:
            answered_before = True
        elif (
            answered_before
            and pair.kind == KIND_SMALL_TALK
            and (pair.reply.details or {}).get("small_talk") == "thanks"
        ):
            return True
    return False


def deflection(record: ConversationRecord) -> str | None:
    """Return ``confirmed``, ``assumed`` or None for one conversation (definitions in docs/agents.md)."""
    pairs = exchanges(record.turns)
    answered = any(p.kind == KIND_ANSWER and p.reply.answered for p in pairs)
    if record.tickets or not answered or _negative(record):
        return None
    if _confirmed(record, pairs):
        return "confirmed"
    last = record.turns[-1] if record.turns else None
    if last is not None and turn_kind(last) == KIND_ANSWER and last.answered:
        return "assumed"
    return None


def gap_questions(records: Sequence[ConversationRecord]) -> list[GapQuestion]:
    """Return the customer questions the bot could not answer (the input of the content-gap report)."""
    from bot.gaps import GapQuestion  # noqa: PLC0415

    found = []
    for record in records:
        for pair in exchanges(record.turns):
            reply = pair.reply
            if pair.kind != KIND_ANSWER or reply.answered or reply.handoff_reason not in GAP_REASONS:
                continue
            found.append(
                GapQuestion(
                    text=pair.question.text,
                    lang=pair.question.lang or record.lang,
                    at=pair.question.created_at,
                    session_id=record.id,
                    confidence=reply.confidence or 0.0,
                    reason=reply.handoff_reason,
                )
            )
    return found


def report(
    records: Sequence[ConversationRecord],
    start: datetime,
    end: datetime,
    *,
    gaps: Sequence[dict[str, Any]] = (),
    top: int = 10,
) -> dict[str, Any]:
    """Compute the ``GET /v1/analytics`` body for the conversations started in ``[start, end)``."""
    customer_turns = [t for r in records for t in r.turns if t.role == "customer"]
    all_pairs = [p for r in records for p in exchanges(r.turns)]
    questions = [p for p in all_pairs if p.kind == KIND_ANSWER]
    answered = [p for p in questions if p.reply.answered]
    outcome = {r.id: deflection(r) for r in records}
    tickets = [t for r in records for t in r.tickets]
    handed_off = sum(1 for r in records if r.tickets)
    first_replies = [(t.first_reply_at - t.created_at).total_seconds() for t in tickets if t.first_reply_at is not None]
    feedback = [f for r in records for f in r.feedback]
    scores = [f.csat for f in feedback if f.csat is not None]
    angry = sum(1 for t in customer_turns if (t.sentiment or {}).get("angry"))

    articles: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for pair in answered:
        sources = (pair.reply.details or {}).get("sources") or []
        if sources:
            articles[sources[0]["article_id"]] += 1
            titles[sources[0]["article_id"]] = sources[0].get("title", "")

    csat_days: dict[str, list[int]] = defaultdict(list)
    for f in feedback:
        if f.csat is not None:
            csat_days[f.created_at.date().isoformat()].append(f.csat)
    days: dict[str, dict[str, int]] = defaultdict(lambda: {"conversations": 0, "handoffs": 0, "deflected": 0})
    for r in records:
        day = days[r.created_at.date().isoformat()]
        day["conversations"] += 1
        day["handoffs"] += 1 if r.tickets else 0
        day["deflected"] += 1 if outcome[r.id] else 0

    n = len(records)
    confirmed = sum(1 for v in outcome.values() if v == "confirmed")
    assumed = sum(1 for v in outcome.values() if v == "assumed")
    by_reason = Counter(t.reason for t in tickets)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "conversations": n,
        "customer_messages": len(customer_turns),
        "questions": len(questions),
        "answered": len(answered),
        "answered_rate": _rate(len(answered), len(questions)),
        "deflection": {
            "confirmed": confirmed,
            "assumed": assumed,
            "confirmed_rate": _rate(confirmed, n),
            "assumed_rate": _rate(assumed, n),
        },
        "handoffs": {
            "total": len(tickets),
            "rate": _rate(handed_off, n),
            "by_reason": {reason: by_reason.get(reason, 0) for reason in REASONS},
        },
        "median_first_reply_seconds": round(statistics.median(first_replies), 1) if first_replies else None,
        "resolved_tickets": sum(1 for t in tickets if t.status == "resolved"),
        "csat": {
            "responses": len(scores),
            "average": round(statistics.fmean(scores), 2) if scores else None,
            "satisfied_rate": _rate(sum(1 for s in scores if s >= 4), len(scores)),
            "by_day": [
                {"date": day, "responses": len(v), "average": round(statistics.fmean(v), 2)}
                for day, v in sorted(csat_days.items())
            ],
        },
        "feedback": {
            "up": sum(1 for f in feedback if f.rating == "up"),
            "down": sum(1 for f in feedback if f.rating == "down"),
        },
        "anger_rate": _rate(angry, len(customer_turns)),
        "top_articles": [
            {"article_id": aid, "title": titles[aid], "answers": count}
            for aid, count in sorted(articles.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        ],
        "gaps": list(gaps),
        "by_day": [{"date": day, **values} for day, values in sorted(days.items())],
    }
