"""Building the real FastAPI app over the demo KB with the fake embedder, fake sentiment and a fixed calibrator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from bot.api import create_app
from bot.confidence import Calibrator
from bot.hours import BusinessHours
from bot.matching import Matcher
from bot.related import RelatedArticles
from bot.sentiment import FakeSentimentScorer
from bot.service import ChatService
from bot.settings import Settings
from bot.storage import Storage
from indexer.embedding import FakeEmbedder
from indexer.retrieval import HybridSearcher
from indexer.store import load_index

# Confidence rises with the classifier's relative log-probability only: p = sigmoid(3 x - 1.5), so
# an article at least e^0.5 times likelier than the KB's typical right answer is answered at 0.5.
CALIBRATOR = Calibrator("fake-bow-64", (3.0, 0.0, 0.0, 0.0, 0.0), -1.5, 0.5)
# A Wednesday 10:00 in Tehran (open) and a Friday (closed) for the handoff ETA.
OPEN = datetime(2026, 11, 25, 6, 30, tzinfo=timezone.utc)
FRIDAY = datetime(2026, 11, 27, 6, 30, tzinfo=timezone.utc)
AGENT_KEY = "agent-key-0123456789abcdef"
ADMIN_KEY = "admin-key-0123456789abcdef"


def fake_service_factory(clock: Callable[[], datetime]) -> Callable[[Settings], ChatService]:
    """Return a service factory with the fake embedder and sentiment, whose storage and turns use ``clock``."""

    def factory(s: Settings) -> ChatService:
        embedder = FakeEmbedder()
        index = load_index(s.index)
        return ChatService(
            settings=s,
            matcher=Matcher(HybridSearcher(index, embedder, dense_weight=s.dense_weight), CALIBRATOR),
            embedder=embedder,
            storage=Storage(s.database_url, clock=clock).open(),
            sentiment=FakeSentimentScorer(threshold=s.anger_threshold),
            hours=BusinessHours.from_settings(s),
            related=RelatedArticles(index),
            clock=clock,
        )

    return factory


def make_client(
    demo_index: Path,
    tmp_path: Path,
    *,
    now: datetime = OPEN,
    clock: Callable[[], datetime] | None = None,
    **overrides,
) -> TestClient:
    """Return a TestClient over a fresh SQLite database in ``tmp_path`` (use it as a context manager)."""
    settings = Settings(index=demo_index, database_url=f"sqlite:///{tmp_path}/pasokh.db", **overrides)
    return TestClient(create_app(settings, service_factory=fake_service_factory(clock or (lambda: now))))


def bearer(key: str) -> dict[str, str]:
    """Return the Authorization header for ``key``."""
    return {"Authorization": f"Bearer {key}"}


def sign_in(page, name: str, key: str, *, accepted: bool = True) -> None:
    """Open the agent console in a Playwright page and sign in as ``name`` with ``key``.

    With ``accepted`` (the default) it waits for the queue; pass False for a key the console should refuse.
    """
    from playwright.sync_api import expect  # noqa: PLC0415 - only the browser tests need it

    page.goto("/console")
    page.locator("#agent-name").fill(name)
    page.locator("#agent-key").fill(key)
    page.locator("#login-form button[type=submit]").click()
    if accepted:
        expect(page.locator("#app")).to_be_visible()
