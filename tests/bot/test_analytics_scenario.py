"""A scripted day of support: 50 fa/en conversations through /v1/chat, feedback, agents at work, then analytics.

Every expected figure below is counted from the script by hand (see the table of patterns), not computed by
the code under test.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apphelpers import ADMIN_KEY, AGENT_KEY, bearer, make_client

AGENT = bearer(AGENT_KEY)
ADMIN = bearer(ADMIN_KEY)
START = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)  # conversation i starts at START + 10 min * i

EN_Q = "How much is shipping in Tehran?"
FA_Q = "هزینه‌ی ارسال به تهران چقدر است؟"

# 10 patterns, each used 5 times (i % 10):
#   0 en answered, then "thanks"                      -> confirmed deflection (said it helped)
#   1 fa answered, then silent                        -> assumed deflection
#   2 en answered + thumbs up                         -> confirmed
#   3 fa answered + CSAT 5                            -> confirmed
#   4 en answered + thumbs down                       -> not deflected (negative feedback)
#   5 en asks for a person; agent replies after (j+1) minutes and resolves      -> handoff requested
#   6 fa angry message                                -> handoff angry (high priority), never picked up
#   7 en gibberish (low confidence)                   -> handoff low_confidence; agent replies after 10 min
#   8 fa greeting only                                -> no question, not deflected
#   9 fa answered + CSAT 2, then asks an unanswerable question -> not deflected (negative)
ANGRY_FA = "سفارشم هنوز نرسیده!!! خجالت بکشید، افتضاحه!!!"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def say(client, message, sid=None) -> dict:
    body = {"message": message}
    if sid:
        body["session_id"] = sid
    response = client.post("/v1/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def feedback(client, sid, **fields) -> None:
    assert client.post("/v1/feedback", json={"session_id": sid, **fields}).status_code == 201


def test_analytics_match_the_scripted_day(demo_index, tmp_path):
    clock = Clock(START)
    with make_client(demo_index, tmp_path, clock=clock, agent_key=AGENT_KEY, admin_key=ADMIN_KEY) as client:
        # One conversation before the window and one after it must not be counted.
        clock.now = START - timedelta(days=1)
        say(client, EN_Q)
        clock.now = START + timedelta(days=2)
        say(client, EN_Q)
        tickets_to_answer: list[tuple[str, timedelta]] = []
        for i in range(50):
            pattern, j = i % 10, i // 10
            clock.now = START + timedelta(minutes=10 * i)
            if pattern == 0:
                sid = say(client, EN_Q)["session_id"]
                assert say(client, "thanks a lot!", sid)["handoff"] is False
            elif pattern == 1:
                assert say(client, FA_Q)["answered"] is True
            elif pattern == 2:
                sid = say(client, EN_Q)["session_id"]
                feedback(client, sid, rating="up")
            elif pattern == 3:
                sid = say(client, FA_Q)["session_id"]
                feedback(client, sid, csat=5)
            elif pattern == 4:
                sid = say(client, EN_Q)["session_id"]
                feedback(client, sid, rating="down")
            elif pattern == 5:
                body = say(client, "I want to talk to a human")
                assert body["handoff_reason"] == "requested"
                tickets_to_answer.append((body["ticket_id"], timedelta(minutes=j + 1)))
            elif pattern == 6:
                assert say(client, ANGRY_FA)["handoff_reason"] == "angry"
            elif pattern == 7:
                body = say(client, "zxqv blorp quux")
                assert body["handoff_reason"] == "low_confidence"
                tickets_to_answer.append((body["ticket_id"], timedelta(minutes=10)))
            elif pattern == 8:
                assert say(client, "سلام")["answered"] is False
            else:
                sid = say(client, FA_Q)["session_id"]
                feedback(client, sid, csat=2)
                assert say(client, "ققق ثثث ژژژ ططط ظظظ غغغ", sid)["handoff_reason"] == "low_confidence"

        for tid, delay in tickets_to_answer:
            created = client.get(f"/v1/handoffs/{tid}", headers=AGENT).json()["created_at"]
            clock.now = datetime.fromisoformat(created) + delay
            reply = client.post(f"/v1/handoffs/{tid}/reply", json={"agent": "maryam", "text": "Hi!"}, headers=AGENT)
            assert reply.status_code == 200
            if delay < timedelta(minutes=10):  # the requested ones are resolved
                assert client.post(f"/v1/handoffs/{tid}/resolve", headers=AGENT).status_code == 200

        clock.now = START + timedelta(days=1)
        response = client.get("/v1/analytics", params={"from": "2026-11-21", "to": "2026-11-22"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    report = response.json()

    assert report["conversations"] == 50
    # customer messages: 5 per pattern, patterns 0 and 9 have two messages each -> 50 + 5 + 5
    assert report["customer_messages"] == 60
    # questions (answer attempts): patterns 0-4 one each (25), 6 angry (5), 7 gibberish (5), 9 two each (10)
    assert report["questions"] == 45
    # answered: patterns 0-4 (25) and the first question of pattern 9 (5); angry and gibberish are not
    assert report["answered"] == 30
    assert report["answered_rate"] == round(30 / 45, 4)
    assert report["deflection"] == {
        "confirmed": 15, "assumed": 5, "confirmed_rate": 0.3, "assumed_rate": 0.1,
    }  # fmt: skip
    assert report["handoffs"]["total"] == 20
    assert report["handoffs"]["rate"] == 0.4
    assert report["handoffs"]["by_reason"] == {
        "low_confidence": 10, "requested": 5, "angry": 5, "repeated_failure": 0,
    }  # fmt: skip
    # first human replies: requested after 1, 2, 3, 4, 5 min; gibberish after 10 min (x5) -> median of
    # [60, 120, 180, 240, 300, 600 x 5] = (300 + 600) / 2
    assert report["median_first_reply_seconds"] == 450.0
    assert report["resolved_tickets"] == 5
    assert report["csat"]["responses"] == 10
    assert report["csat"]["average"] == 3.5
    assert report["csat"]["satisfied_rate"] == 0.5
    assert report["csat"]["by_day"] == [{"date": "2026-11-21", "responses": 10, "average": 3.5}]
    assert report["feedback"] == {"up": 5, "down": 5}
    assert report["anger_rate"] == round(5 / 60, 4)
    # The English question (patterns 0, 2, 4) and the Persian one (1, 3, 9) are answered by one article each.
    assert [a["answers"] for a in report["top_articles"]] == [15, 15]
    assert {a["article_id"].split("-")[0] for a in report["top_articles"]} == {"en", "fa"}
    assert report["by_day"] == [{"date": "2026-11-21", "conversations": 50, "handoffs": 20, "deflected": 20}]
    # The unanswered questions: gibberish in en (5) and in fa (5).
    assert sum(g["size"] for g in report["gaps"]) == 10
