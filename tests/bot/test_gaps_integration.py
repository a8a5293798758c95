"""Content gaps end to end with the real model: chats about a topic the demo KB lacks, then the report and CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.cli import main
from bot.records import utcnow
from bot.reports import Reports
from bot.runtime import build_service
from bot.service import ChatRequest
from bot.settings import Settings

pytestmark = pytest.mark.integration

# A wedding gift registry: nothing in the demo KB is about it. Two Persian and two English wordings, plus an
# unrelated missing topic (renting a delivery van) that must stay apart.
REGISTRY = [
    ("امکان ساخت لیست هدایای عروسی دارید؟", "fa"),
    ("می‌تونم یه لیست کادو برای جشن عروسیم درست کنم که مهمونا ازش خرید کنن؟", "fa"),
    ("Can I create a wedding gift registry for my guests?", "en"),
    ("Do you offer a bridal registry where friends buy gifts from my list?", "en"),
]
VAN = [
    ("میشه وانت باربری برای جابه‌جایی اثاثیه خونه کرایه کرد؟", "fa"),
    ("Can I rent one of your vans to move my furniture?", "en"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory, real_embedder, real_demo_index):
    folder = tmp_path_factory.mktemp("gaps")
    settings = Settings(index=real_demo_index, database_url=f"sqlite:///{folder}/pasokh.db")
    service = build_service(settings, embedder=real_embedder)
    replies = [service.chat(ChatRequest(message=text, lang=lang)) for text, lang in REGISTRY + VAN]
    yield service, settings, replies
    service.storage.close()


def test_unanswered_topic_in_both_languages_is_one_cluster(served):
    service, _settings, replies = served
    assert not any(r.answered for r in replies), [r.reply for r in replies]
    gaps = Reports(service).gaps(utcnow() - timedelta(hours=1), utcnow() + timedelta(minutes=1))
    registry = {text for text, _ in REGISTRY}
    holding = [g for g in gaps if registry & set(g.examples)]
    assert len(holding) == 1, [g.examples for g in gaps]
    cluster = holding[0]
    assert cluster.size == 4 and cluster.langs == {"fa": 2, "en": 2} and cluster.sessions == 4
    assert cluster.nearest_article is not None
    assert not {text for text, _ in VAN} & set(cluster.examples)


def test_pasokh_gaps_prints_the_same_report(served, monkeypatch, capsys):
    _service, settings, _replies = served
    monkeypatch.setenv("PASOKH_DATABASE_URL", settings.database_url)
    assert main(["gaps", "--index", str(settings.index), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    sizes = sorted(g["size"] for g in body["gaps"])
    assert sum(sizes) == len(REGISTRY) + len(VAN) and max(sizes) == 4
    assert main(["gaps", "--index", str(settings.index)]) == 0
    text = capsys.readouterr().out
    assert "4 question(s) [en 2, fa 2]" in text and "nearest article:" in text
    assert main(["gaps", "--index", str(settings.index), "--from", "yesterday"]) == 2
