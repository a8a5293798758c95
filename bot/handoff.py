"""The handoff policy: when a conversation goes to a person, why, and how urgently.

One pure function over the facts of a turn, so the policy is a table that tests check row by row.
Precedence, most urgent first:

1. ``angry`` — an angry customer gets a person with high priority, even if the bot could answer
   (the answer is still given; the person follows up).
2. ``requested`` — the customer asked for a person.
3. ``repeated_failure`` — the customer said, for the ``failures_before_handoff``-th turn in a row,
   that the bot's answer did not help (or asked the same question again right after it).
4. ``low_confidence`` — the calibrated confidence of the best answer is below the threshold.

Greetings, thanks and other small talk are never handed off: they are not questions.
"""

from __future__ import annotations

from dataclasses import dataclass

REASONS = ("low_confidence", "requested", "angry", "repeated_failure")
PRIORITY_HIGH = "high"
PRIORITY_NORMAL = "normal"


@dataclass(frozen=True)
class TurnFacts:
    """What the service knows about one customer message when it decides."""

    confidence: float
    threshold: float
    requested: bool = False
    angry: bool = False
    small_talk: bool = False
    dissatisfied: bool = False
    failures_before: int = 0
    failure_limit: int = 2


@dataclass(frozen=True)
class HandoffDecision:
    """The outcome: whether a person takes over, the reason, the queue priority and the new failure count."""

    handoff: bool
    reason: str | None
    priority: str
    answered: bool
    failures: int


def decide(facts: TurnFacts) -> HandoffDecision:
    """Apply the policy to one turn."""
    confident = facts.confidence >= facts.threshold and not facts.small_talk
    failures = facts.failures_before + 1 if facts.dissatisfied else (0 if confident else facts.failures_before)
    if facts.angry:
        return HandoffDecision(True, "angry", PRIORITY_HIGH, confident, failures)
    if facts.requested:
        return HandoffDecision(True, "requested", PRIORITY_NORMAL, False, failures)
    if facts.dissatisfied and failures >= facts.failure_limit:
        return HandoffDecision(True, "repeated_failure", PRIORITY_NORMAL, False, failures)
    if facts.small_talk:
        return HandoffDecision(False, None, PRIORITY_NORMAL, False, failures)
    if facts.dissatisfied:  # feedback on the last answer, maybe with a new question in it: answer if we can
        return HandoffDecision(False, None, PRIORITY_NORMAL, confident, failures)
    if not confident:
        return HandoffDecision(True, "low_confidence", PRIORITY_NORMAL, False, failures)
    return HandoffDecision(False, None, PRIORITY_NORMAL, True, failures)
