"""The server's shell: body limits, hostile bytes, rate limits, site keys, CORS, security headers, metrics."""

from __future__ import annotations

import pytest
from apphelpers import FRIDAY, make_client
from conftest import DEMO_KB

from bot.guard import RateLimiter
from indexer.build import build_from_kb
from indexer.embedding import FakeEmbedder

EN_Q = "How much is shipping in Tehran?"


@pytest.fixture
def client(demo_index, tmp_path):
    with make_client(demo_index, tmp_path) as c:
        yield c


def test_rate_limiter_refills_evenly():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.retry_after("a") is None for _ in range(60))
    assert limiter.retry_after("a") == pytest.approx(1.0)
    assert limiter.retry_after("b") is None  # buckets are per key
    now[0] += 1.0
    assert limiter.retry_after("a") is None
    assert RateLimiter(0).retry_after("a") is None  # 0 disables


def test_body_over_the_limit_is_413_before_parsing(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, max_body_bytes=2048) as c:
        big = c.post(
            "/v1/chat", content=b'{"message": "' + b"a" * 5000 + b'"}', headers={"content-type": "application/json"}
        )

        def chunks():
            for _ in range(10):
                yield b"a" * 1000

        chunked = c.post("/v1/chat", content=chunks(), headers={"content-type": "application/json"})
        assert c.get("/healthz").status_code == 200
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"
    assert chunked.status_code == 413


@pytest.mark.parametrize(
    "body",
    [b'{"message": "\xff\xfe"}', b"[" * 20_000 + b"]" * 20_000, b'{"message": "\xed\xa0\x80"}', b"\x00\x01"],
)
def test_undecodable_or_absurd_json_is_422(client, body):
    response = client.post("/v1/chat", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085"])
def test_control_characters_in_a_message_are_refused(client, char):
    response = client.post("/v1/chat", json={"message": f"hello{char}world"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "message" and "U+" in response.json()["detail"]


def test_tabs_newlines_and_bidi_marks_are_normal_text(client):
    response = client.post("/v1/chat", json={"message": "سلام\u200f\n\tHow much is shipping in Tehran?"})
    assert response.status_code == 200


def test_bidi_overrides_are_removed_from_names(client):
    body = client.post(
        "/v1/chat", json={"message": "I want to talk to a human", "customer": {"name": "Sara\u202egnp.exe"}}
    ).json()
    ticket = client.app.state.service.storage.get_ticket(body["ticket_id"])
    assert ticket.customer["name"] == "Saragnp.exe"


def test_per_ip_rate_limit_answers_429_with_retry_after(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, rate_limit_per_ip=3) as c:
        statuses = [c.get("/v1/search", params={"q": "shipping"}).status_code for _ in range(4)]
        limited = c.get("/v1/search", params={"q": "shipping"})
        assert c.get("/healthz").status_code == 200  # operations endpoints are not limited
        metrics = c.get("/metrics").text
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"] == "rate_limited"
    assert 'pasokh_rate_limited_total{scope="ip"} 2' in metrics


def test_per_session_rate_limit(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, rate_limit_per_session=2) as c:
        sid = c.post("/v1/chat", json={"message": EN_Q}).json()["session_id"]
        codes = [c.post("/v1/chat", json={"message": EN_Q, "session_id": sid}).status_code for _ in range(3)]
        other = c.post("/v1/chat", json={"message": EN_Q})
    assert codes == [200, 200, 429]
    assert other.status_code == 200  # a new session is not affected


def test_site_keys_are_scoped_to_their_origins(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, site_keys="shop-key=https://shop.example") as c:
        ok = c.post(
            "/v1/chat",
            json={"message": EN_Q},
            headers={"X-Pasokh-Site-Key": "shop-key", "Origin": "https://shop.example"},
        )
        foreign = c.post(
            "/v1/chat",
            json={"message": EN_Q},
            headers={"X-Pasokh-Site-Key": "shop-key", "Origin": "https://evil.example"},
        )
        unknown = c.post("/v1/chat", json={"message": EN_Q}, headers={"X-Pasokh-Site-Key": "nope"})
    assert ok.status_code == 200
    assert foreign.status_code == 403 and "evil.example" in foreign.json()["detail"]
    assert unknown.status_code == 403


def test_site_keys_setting_is_validated():
    from bot.settings import Settings

    with pytest.raises(ValueError, match="key=https"):
        Settings(site_keys="just-a-key")
    with pytest.raises(ValueError, match="http"):
        Settings(site_keys="k=shop.example")


def test_cors_allows_only_listed_origins(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, cors_origins="https://shop.example") as c:
        allowed = c.options(
            "/v1/chat", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
        )
        denied = c.options(
            "/v1/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
    assert allowed.headers.get("access-control-allow-origin") == "https://shop.example"
    assert "access-control-allow-origin" not in denied.headers


def test_security_headers(client):
    api = client.get("/healthz")
    assert api.headers["x-content-type-options"] == "nosniff"
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_metrics_count_requests_handoffs_and_answers(client):
    client.post("/v1/chat", json={"message": EN_Q})
    client.post("/v1/chat", json={"message": "I want to talk to a human"})
    client.post("/v1/chat", json={"message": "zxqv blorp quux"})
    text = client.get("/metrics").text
    assert 'pasokh_http_requests_total{method="POST",route="/v1/chat",status="200"} 3' in text
    assert 'pasokh_handoffs_total{reason="requested"} 1' in text
    assert 'pasokh_handoffs_total{reason="low_confidence"} 1' in text
    assert 'pasokh_questions_total{answered="true"} 1' in text
    assert 'pasokh_questions_total{answered="false"} 1' in text
    assert 'pasokh_http_request_duration_seconds_bucket{method="POST",route="/v1/chat",le="+Inf"} 3' in text
    assert "pasokh_index_age_seconds " in text


def test_index_watcher_switches_to_a_generation_built_elsewhere(tmp_path):
    import shutil

    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    index = tmp_path / "index"
    build_from_kb(kb, FakeEmbedder(), index)
    with make_client(index, tmp_path, index_poll_seconds=0) as c:
        before = c.get("/healthz").json()["index"]
        assert c.app.state.watcher.check() is False
        extra = kb / "en" / "en-zeppelins.md"
        extra.write_text(
            "---\nid: en-zeppelins\ntitle: Zeppelin rides\nlang: en\n---\n"
            "# Zeppelin rides\nWe sell zeppelin rides over Tehran.\n"
        )
        build_from_kb(kb, FakeEmbedder(), index)  # another process (or replica) rebuilt the shared folder
        assert c.app.state.watcher.check() is True
        after = c.get("/healthz").json()
    assert after["index"] != before and after["articles"] == 36


def test_keys_and_customer_text_never_reach_the_logs(demo_index, tmp_path, caplog):
    import logging

    from apphelpers import ADMIN_KEY, AGENT_KEY

    secret_message = "my card number is 6037-9911-2222-3333"
    with caplog.at_level(logging.DEBUG):
        with make_client(demo_index, tmp_path, agent_key=AGENT_KEY, admin_key=ADMIN_KEY) as c:
            c.post("/v1/chat", json={"message": secret_message})
            c.post("/v1/chat", json={"message": "I want to talk to a human"})
            c.get("/v1/handoffs", headers={"Authorization": f"Bearer {AGENT_KEY}x"})
            c.get("/v1/analytics", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            settings_text = repr(c.app.state.settings)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert AGENT_KEY not in logged and ADMIN_KEY not in logged
    assert secret_message not in logged
    assert AGENT_KEY not in settings_text and ADMIN_KEY not in settings_text


def test_json_log_lines_are_objects():
    import io
    import json
    import logging

    from bot.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("pasokh.test.json")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("ticket %s queued", "T-1", extra={"session": "abc"})
    finally:
        log.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert (entry["level"], entry["logger"], entry["message"], entry["session"]) == (
        "WARNING", "pasokh.test.json", "ticket T-1 queued", "abc",
    )  # fmt: skip


def test_widget_config_says_where_the_widget_may_run_and_any_page_may_read_it(demo_index, tmp_path):
    overrides = {"site_keys": "shop-key=https://shop.example", "cors_origins": "https://shop.example"}
    with make_client(demo_index, tmp_path, **overrides) as c:

        def config(key: str | None, origin: str | None) -> dict:
            headers = {k: v for k, v in (("X-Pasokh-Site-Key", key), ("Origin", origin)) if v}
            response = c.get("/v1/widget/config", headers=headers)
            assert response.status_code == 200, response.text
            # Readable by the asking page: "*", or its own origin where CORS already allows it.
            assert response.headers["access-control-allow-origin"] in ("*", origin)
            return response.json()

        good = config("shop-key", "https://shop.example")
        assert good["allowed"] is True and good["problem"] is None
        assert good["timezone"] == "Asia/Tehran" and good["zone_name"] == {"fa": "به وقت تهران", "en": "Tehran time"}
        assert good["max_message_chars"] == 4000 and isinstance(good["open_now"], bool)
        assert config("shop-key", "https://evil.example")["problem"] == "origin_not_allowed"
        assert config("wrong-key", "https://shop.example")["problem"] == "unknown_site_key"
        # No key, but a page on an origin the API does not serve (CORS): sending would fail, so it says so.
        assert config(None, "https://other.example")["problem"] == "origin_not_allowed"
        assert config(None, None)["allowed"] is True  # the server's own pages
        # The key in the query: a plain request, which needs no CORS preflight on any page.
        by_query = c.get("/v1/widget/config", params={"site_key": "wrong-key"}, headers={"Origin": "https://a.example"})
        assert by_query.json()["problem"] == "unknown_site_key"


def test_widget_config_next_opening_is_the_teams_next_start(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, now=FRIDAY) as c:
        body = c.get("/v1/widget/config").json()
    # Closed on Friday; Saturday 08:00 in Tehran (UTC+3:30) is 04:30 UTC.
    assert body["open_now"] is False and body["next_opening"] == "2026-11-28T04:30:00+00:00"
