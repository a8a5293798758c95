"""Split an article into sections at its ``##``/``###`` headings, keeping the heading path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from indexer.articles import Article
from indexer.textnorm import split_sentences


@dataclass(frozen=True)
class Section:
    """A retrievable piece of an article: plain text under one heading path."""

    id: str
    article_id: str
    position: int
    heading_path: tuple[str, ...]
    text: str

    @property
    def heading(self) -> str:
        """The innermost heading (the article title for the introduction)."""
        return self.heading_path[-1] if self.heading_path else ""


@dataclass(frozen=True)
class _Block:
    """One paragraph, list item or table row, rendered as plain text."""

    path: tuple[str, ...]
    text: str
    group: int = 0  # bumped at every heading, so two sections with one title stay apart


@lru_cache(maxsize=1)
def _parser():
    """Return a CommonMark parser with tables (built once)."""
    from markdown_it import MarkdownIt  # noqa: PLC0415

    return MarkdownIt("commonmark").enable("table")


def _inline_text(token) -> str:
    """Plain text of an inline token: text, code and image alt text, no markup."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def markdown_blocks(article: Article) -> list[_Block]:
    """Render the body to plain-text blocks, each tagged with its heading path."""
    tokens = _parser().parse(article.body)
    blocks: list[_Block] = []
    path: list[str] = []
    heading_level = 0
    row: list[str] = []
    in_item = 0
    seen_title = False
    group = 0
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            heading_level = int(tok.tag[1])
        elif tok.type == "inline" and heading_level:
            text = _inline_text(tok)
            if heading_level == 1 and not seen_title and text == article.title:
                seen_title = True  # the article's own title heading starts the introduction
            elif heading_level <= 2:
                path = [text]
            else:
                path = path[:1] + [text] if path else [text]
            heading_level = 0
            group += 1
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            in_item += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            in_item -= 1
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(_inline_text(tok))
        elif tok.type == "tr_close":
            if any(row):
                blocks.append(_Block(tuple(path), " | ".join(row), group))
        elif tok.type == "inline":
            text = _inline_text(tok)
            if text:
                blocks.append(_Block(tuple(path), f"- {text}" if in_item else text, group))
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            blocks.append(_Block(tuple(path), tok.content.strip(), group))
    return blocks


def split_article(article: Article, *, max_chars: int = 1200) -> tuple[Section, ...]:
    """Cut an article into sections no longer than ``max_chars`` (except one unsplittable word)."""
    groups: list[tuple[tuple[str, ...], list[str]]] = []
    last_group = None
    for block in markdown_blocks(article):
        if block.group != last_group:
            groups.append((block.path, []))
            last_group = block.group
        groups[-1][1].append(block.text)
    sections: list[Section] = []
    used_ids: set[str] = set()
    for path, texts in groups:
        heading_path = (article.title, *path)
        for part in _pack(texts, max_chars):
            base = f"{article.id}#{_slug(path[-1]) if path else 'intro'}"
            section_id, n = base, 2
            while section_id in used_ids:
                section_id, n = f"{base}-{n}", n + 1
            used_ids.add(section_id)
            sections.append(Section(section_id, article.id, len(sections), heading_path, part))
    if not sections:  # a body made only of headings still answers with its headings
        sections.append(Section(f"{article.id}#intro", article.id, 0, (article.title,), article.title))
    return tuple(sections)


def _pack(texts: list[str], max_chars: int) -> list[str]:
    """Join blocks into chunks of at most ``max_chars``, splitting oversized blocks first."""
    pieces: list[str] = []
    for text in texts:
        pieces.extend([text] if len(text) <= max_chars else _split_long(text, max_chars))
    return _greedy_join(pieces, max_chars, "\n")


def _split_long(text: str, max_chars: int) -> list[str]:
    """Split one oversized block at sentence ends, then (for a huge sentence) at spaces."""
    pieces: list[str] = []
    for sentence in split_sentences(text):
        pieces.extend([sentence] if len(sentence) <= max_chars else _greedy_join(sentence.split(), max_chars, " "))
    return _greedy_join(pieces, max_chars, " ")


def _greedy_join(pieces: list[str], max_chars: int, sep: str) -> list[str]:
    """Append pieces to the current chunk while it fits; a piece too long alone stays whole."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{sep}{piece}" if current else piece
        if len(candidate) <= max_chars or not current:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _slug(heading: str) -> str:
    """Return a stable, readable id part from a heading (keeps Persian letters)."""
    slug = re.sub(r"[^\w\u200c]+", "-", heading.lower()).strip("-")
    return slug[:60] or "section"
