"""Managers' reports from stored conversations: the analytics body and the content-gap clusters.

Shared by ``GET /v1/analytics``, ``GET /v1/gaps`` and ``pasokh gaps``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.analytics import gap_questions, report
from bot.records import ConversationRecord
from bot.service import ChatService

if TYPE_CHECKING:
    from bot.gaps import GapCluster, NearestArticle

logger = logging.getLogger(__name__)

# The newest unanswered questions clustered per report; older ones are what managers have seen already,
# and the clustering is quadratic in their number.
MAX_GAP_QUESTIONS = 2000


class Reports:
    """Computes analytics and content gaps with the chat service's storage, embedder and index."""

    def __init__(self, service: ChatService) -> None:
        """Use the service's storage, embedder and current index."""
        self.service = service

    def analytics(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Return the ``GET /v1/analytics`` body for conversations started in ``[start, end)``."""
        records = self.service.storage.conversation_records(start, end)
        gaps = self._gaps(records, min_size=1)
        return report(records, start, end, gaps=[g.to_json() for g in gaps])

    def gaps(self, start: datetime, end: datetime, *, min_size: int = 1) -> list[GapCluster]:
        """Return the content-gap clusters of the questions asked in conversations started in ``[start, end)``."""
        return self._gaps(self.service.storage.conversation_records(start, end), min_size=min_size)

    def _gaps(self, records: Sequence[ConversationRecord], *, min_size: int) -> list[GapCluster]:
        from bot.gaps import find_gaps, language_centres  # noqa: PLC0415

        questions = sorted(gap_questions(records), key=lambda q: q.at)[-MAX_GAP_QUESTIONS:]
        if not questions:
            return []
        vectors = self.service.embedder.embed_queries([q.text for q in questions])
        # Centre each language on the KB's own example questions: e5 gives every language an offset
        # that would otherwise keep a Persian and an English question on one topic apart.
        index = self.service.matcher.searcher.index
        rows = [i for i, k in enumerate(index.keys) if k.kind == "question"]
        langs = [index.articles[index.keys[i].article_id].lang for i in rows]
        centres = language_centres(index.vectors[rows], langs) if rows else None
        return find_gaps(questions, vectors, nearest=self._nearest, center=centres, min_size=min_size)

    def _nearest(self, vector: np.ndarray) -> NearestArticle | None:
        searcher = self.service.matcher.searcher
        scores = searcher.dense_key_scores(np.asarray(vector, dtype=np.float32))
        if scores.size == 0:
            return None
        best = int(np.argmax(scores))
        article = searcher.index.articles[searcher.index.keys[best].article_id]
        from bot.gaps import NearestArticle  # noqa: PLC0415

        return NearestArticle(article.id, article.title, round(float(scores[best]), 4))
