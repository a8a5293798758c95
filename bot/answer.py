"""Search results as JSON and the section label shared by search results and chat sources."""

from __future__ import annotations

from indexer.retrieval import Hit


def section_label(hit: Hit) -> str:
    """Return the section's heading path below the article title (the title for the introduction)."""
    return " > ".join(hit.section.heading_path[1:]) or hit.article.title


def hit_json(hit: Hit) -> dict:
    """Return a search result as in ``GET /v1/search``."""
    return {
        "article_id": hit.article.id,
        "title": hit.article.title,
        "section": section_label(hit),
        "snippet": hit.section.text[:300],
        "url": hit.article.url,
        "lang": hit.article.lang,
        "score": round(hit.score, 4),
    }
