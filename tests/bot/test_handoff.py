import pytest

from bot.handoff import TurnFacts, decide

T = 0.5


@pytest.mark.parametrize(
    "facts, handoff, reason, priority, answered, failures",
    [
        # confident answer, nothing else
        (TurnFacts(0.9, T), False, None, "normal", True, 0),
        # confident answer resets earlier failures
        (TurnFacts(0.9, T, failures_before=1), False, None, "normal", True, 0),
        # low confidence on a question
        (TurnFacts(0.2, T), True, "low_confidence", "normal", False, 0),
        # exactly at the threshold counts as confident
        (TurnFacts(0.5, T), False, None, "normal", True, 0),
        # asked for a person, even with a confident answer available
        (TurnFacts(0.9, T, requested=True), True, "requested", "normal", False, 0),
        # anger wins over everything, and the confident answer is still given
        (TurnFacts(0.9, T, angry=True), True, "angry", "high", True, 0),
        (TurnFacts(0.1, T, angry=True, requested=True), True, "angry", "high", False, 0),
        # small talk is never a handoff, whatever the confidence
        (TurnFacts(0.0, T, small_talk=True), False, None, "normal", False, 0),
        # first "that didn't help": no handoff, counted
        (TurnFacts(0.1, T, dissatisfied=True), False, None, "normal", False, 1),
        # second in a row: repeated failure
        (TurnFacts(0.1, T, dissatisfied=True, failures_before=1), True, "repeated_failure", "normal", False, 2),
        # a higher limit needs more
        (TurnFacts(0.1, T, dissatisfied=True, failures_before=1, failure_limit=3), False, None, "normal", False, 2),
        # complaint that also asks something answerable: answered, still counted
        (TurnFacts(0.8, T, dissatisfied=True), False, None, "normal", True, 1),
        # requested beats repeated failure
        (
            TurnFacts(0.1, T, dissatisfied=True, failures_before=1, requested=True),
            True,
            "requested",
            "normal",
            False,
            2,
        ),
    ],
)
def test_decide_policy_table(facts, handoff, reason, priority, answered, failures):
    decision = decide(facts)
    assert (decision.handoff, decision.reason, decision.priority, decision.answered, decision.failures) == (
        handoff,
        reason,
        priority,
        answered,
        failures,
    )
