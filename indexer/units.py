"""The quotable units of a section: sentences of paragraphs, list items and table rows.

A section's plain text (as :mod:`indexer.chunking` renders it: one paragraph, list item or table
row per line, table cells joined by `` | ``) is split into units in reading order. The indexer
embeds each paragraph, list item and table row as a *unit key* of its article (retrieval then
finds the one sentence group that answers, not only the section that holds it), and the reply
quotes units (``bot/extract.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.textnorm import split_sentences


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a section, in reading order."""

    text: str
    kind: str  # "sentence" | "item" | "row"
    block: int  # units of one paragraph, list or table share a block number


def _table_row(header: list[str], cells: list[str]) -> str:
    """Render a row as 'header: cell' pairs; cells without a header stay bare."""
    parts = []
    for i, cell in enumerate(cells):
        if not cell:
            continue
        name = header[i] if i < len(header) else ""
        parts.append(f"{name}: {cell}" if name and name != cell else cell)
    return "؛ ".join(parts) if any(_is_persian(c) for c in cells) else "; ".join(parts)


def _is_persian(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def section_units(text: str) -> list[Unit]:
    """Split a section's plain text (as the chunker renders it) into quotable units."""
    units: list[Unit] = []
    header: list[str] | None = None
    block = 0
    last_kind = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if " | " in line:
            cells = [cell.strip() for cell in line.split(" | ")]
            if last_kind != "row":
                block += 1
                header = cells  # the chunker renders the header row first
            else:
                units.append(Unit(_table_row(header or [], cells), "row", block))
            last_kind = "row"
            continue
        if line.startswith("- "):
            if last_kind != "item":
                block += 1
            units.append(Unit(line, "item", block))
            last_kind = "item"
            continue
        block += 1
        for sentence in split_sentences(line):
            units.append(Unit(sentence, "sentence", block))
        last_kind = "sentence"
    if header is not None and not any(u.kind == "row" for u in units):
        units.append(Unit(" | ".join(header), "row", block))
    return units


# A paragraph longer than this is embedded in pieces of whole sentences.
_UNIT_MAX_CHARS = 500


def passage_units(text: str) -> list[str]:
    """Return the texts embedded as unit keys for one section: paragraphs, list items, table rows.

    A paragraph's sentences stay together (up to about ``_UNIT_MAX_CHARS`` characters); a list
    item or a table row (with its column headers) is a unit of its own.
    """
    out: list[str] = []
    current: list[Unit] = []

    def flush() -> None:
        if current:
            out.append(" ".join(u.text for u in current))
            current.clear()

    for unit in section_units(text):
        if unit.kind != "sentence":
            flush()
            out.append(unit.text[2:] if unit.kind == "item" and unit.text.startswith("- ") else unit.text)
            continue
        if current and (
            current[-1].block != unit.block or sum(len(u.text) + 1 for u in current) + len(unit.text) > _UNIT_MAX_CHARS
        ):
            flush()
        current.append(unit)
    flush()
    return [t for t in out if t.strip()]


def quote_texts(title: str, text: str) -> list[str]:
    """Return the text embedded for each of a section's quotable units: the article title, a colon, the unit.

    The same form as a unit key (a list item without its dash), so a unit that is also a unit key
    shares its vector.
    """
    out = []
    for unit in section_units(text):
        body = unit.text[2:] if unit.kind == "item" and unit.text.startswith("- ") else unit.text
        out.append(f"{title}: {body}" if title else body)
    return out
