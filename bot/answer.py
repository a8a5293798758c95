"""Plain best-section answers (the grounded, calibrated chat service builds on this)."""

from __future__ import annotations

from indexer.retrieval import Hit, HybridSearcher
from indexer.textnorm import detect_lang


def section_label(hit: Hit) -> str:
    """The section's heading path below the article title (the title for the introduction)."""
    return " > ".join(hit.section.heading_path[1:]) or hit.article.title


def hit_json(hit: Hit) -> dict:
    """A search result as in ``GET /v1/search``."""
    return {
        "article_id": hit.article.id,
        "title": hit.article.title,
        "section": section_label(hit),
        "snippet": hit.section.text[:300],
        "url": hit.article.url,
        "lang": hit.article.lang,
        "score": round(hit.score, 4),
    }


def answer(searcher: HybridSearcher, question: str) -> dict:
    """Reply with the best section and its source, shaped like the ``POST /v1/chat`` object."""
    lang = detect_lang(question)
    lang = lang if lang in ("fa", "en") else "fa"
    hits = searcher.search(question, k=3)
    if not hits:
        reply = "پاسخی در راهنما پیدا نشد." if lang == "fa" else "I could not find an answer in the help centre."
    else:
        best = hits[0]
        source = best.article.url or best.article.id
        label = "منبع" if lang == "fa" else "Source"
        reply = f"{best.section.text}\n\n{label}: {best.article.title} ({source})"
    return {
        "session_id": None,
        "reply": reply,
        "lang": lang,
        "answered": bool(hits),
        "confidence": round(max(0.0, min(1.0, hits[0].score)), 4) if hits else 0.0,
        "handoff": False,
        "handoff_reason": None,
        "ticket_id": None,
        "sentiment": {"label": "neutral", "angry": False, "score": 0.0},
        "sources": [
            {
                "article_id": h.article.id,
                "title": h.article.title,
                "section": section_label(h),
                "url": h.article.url,
                "score": round(h.score, 4),
            }
            for h in hits[:1]
        ],
        "related": [{"article_id": h.article.id, "title": h.article.title} for h in hits[1:3]],
    }
