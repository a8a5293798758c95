"""A message's language through the real app: the reply, the ticket the console filters on and the content gaps agree.

Issue 18: a Persian question with an English product name, a model code and a link was answered in
English, its ticket tagged EN and its gap counted as English. The language now comes from the words
that are language (indexer.textnorm.detect_lang), and every one of these reads the same turn language.
"""

from __future__ import annotations

import pytest
from apphelpers import ADMIN_KEY, AGENT_KEY, bearer, make_client

MIXED_FA = "آیا گوشی Samsung Galaxy S24 Ultra رو از https://example.com/shop می‌تونم قسطی بخرم؟"
PERSON_FA = "لطفا منو به یه اپراتور وصل کنید، Samsung Galaxy S24 Ultra Titanium Gray از https://example.com/shop خریدم"
ENGLISH_LINK = "Can I pay for a Samsung Galaxy S24 in instalments at https://example.com/shop?"


@pytest.fixture
def client(demo_index, tmp_path):
    with make_client(demo_index, tmp_path, agent_key=AGENT_KEY, admin_key=ADMIN_KEY) as c:
        yield c


def _chat(client, message: str) -> dict:
    response = client.post("/v1/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return response.json()


def _gap_languages(client) -> dict[str, int]:
    response = client.get("/v1/gaps", headers=bearer(ADMIN_KEY))
    assert response.status_code == 200, response.text
    langs: dict[str, int] = {}
    for gap in response.json()["gaps"]:
        for lang, count in gap["langs"].items():
            langs[lang] = langs.get(lang, 0) + count
    return langs


@pytest.mark.parametrize(("message", "lang"), [(MIXED_FA, "fa"), (ENGLISH_LINK, "en")])
def test_message_language_of_reply_and_content_gap(client, message, lang):
    body = _chat(client, message)
    assert body["lang"] == lang
    assert not body["answered"]  # the demo shop sells no phones on instalments: a content gap
    assert _gap_languages(client) == {lang: 1}


def test_message_language_of_the_ticket_the_console_filters_on(client):
    body = _chat(client, PERSON_FA)
    assert body["lang"] == "fa"
    assert body["ticket_id"]
    persian = client.get("/v1/handoffs", params={"status": "all", "lang": "fa"}, headers=bearer(AGENT_KEY)).json()
    english = client.get("/v1/handoffs", params={"status": "all", "lang": "en"}, headers=bearer(AGENT_KEY)).json()
    assert [t["id"] for t in persian["tickets"]] == [body["ticket_id"]]
    assert english["tickets"] == []
