"""The answer picker Pasokh used before answer selection (``bot/extract.py``), kept as a benchmark baseline.

``scripts/bench_extract.py`` compares the shipped selector against it.

Replies quote the knowledge base, never paraphrase it, so the answer is a selection of the
section's own units. Units are sentences of paragraphs, whole list items, and table rows; a row
is given with its column headers ("City: Shiraz; Delivery time: 3-4 working days") because a
bare row means nothing. Units are scored by the question's lexical terms, each weighted by how
rare it is in the section, so "Shiraz" picks the Shiraz row rather than every row mentioning
"delivery". When nothing matches (e.g. an English question about a Persian article) the
section's opening units are given: the section was already chosen as the best match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from indexer.textnorm import lexical_tokens
from indexer.units import Unit, section_units


@lru_cache(maxsize=4096)
def _units(text: str) -> tuple[tuple[Unit, frozenset[str]], ...]:
    """Units of a section with their lexical terms (cached: sections repeat across requests)."""
    return tuple((u, frozenset(lexical_tokens(u.text))) for u in section_units(text))


# Units of the section retrieval chose score this much higher: it was chosen with the dense
# evidence, which lexical overlap alone cannot see.
_PREFERRED_BONUS = 1.25


def best_passage(
    sections: Sequence[str] | str,
    query: str,
    *,
    focus: str | None = None,
    preferred: int = 0,
    max_chars: int = 420,
) -> str:
    """Return the part of the sections that best answers ``query``, at most about ``max_chars`` long.

    ``sections`` are the article's section texts (or one text); ``preferred`` is the index of the
    one retrieval chose, which wins ties and is quoted when no word of the query matches.
    ``focus`` is the customer's latest words when ``query`` also carries the previous question
    (a follow-up like "and for Shiraz?"): its terms count double, so the new city wins over the old.
    """
    texts = [sections] if isinstance(sections, str) else list(sections)
    preferred = preferred if 0 <= preferred < len(texts) else 0
    per_section = [_units(t) for t in texts]
    if not any(per_section):
        return texts[preferred].strip()[:max_chars] if texts else ""
    boost = set(lexical_tokens(focus)) if focus else set()
    terms = set(lexical_tokens(query)) | boost
    flat = [(si, ui) for si, units in enumerate(per_section) for ui in range(len(units))]
    df = {t: sum(t in per_section[si][ui][1] for si, ui in flat) for t in terms}
    n = len(flat)

    def score(si: int, ui: int) -> float:
        matched = terms & per_section[si][ui][1]
        value = sum(math.log(1 + n / max(df[t], 1)) * (2 if t in boost else 1) for t in matched)
        return value * (_PREFERRED_BONUS if si == preferred else 1.0)

    best_si, best_ui = max(flat, key=lambda pos: (score(*pos), pos[0] == preferred, -pos[1]))
    if score(best_si, best_ui) == 0:
        best_si, best_ui = (preferred, 0) if per_section[preferred] else (best_si, 0)
    units = [u for u, _ in per_section[best_si]]
    return _expand(units, best_ui, max_chars)


def _expand(units: list[Unit], best: int, max_chars: int) -> str:
    """Grow the chosen unit with what it needs: a list it introduces, a short paragraph's rest."""
    n = len(units)
    chosen = [best]
    total = len(units[best].text)
    i = best + 1
    list_block = None
    while i < n and total < max_chars:
        previous, unit = units[i - 1], units[i]
        introduces = previous.text.rstrip().endswith((":", "："))
        if introduces and unit.kind in ("item", "row"):
            list_block = unit.block  # take the whole list or table it introduces
        introduces = introduces or (list_block is not None and unit.block == list_block)
        same_block_short = unit.kind == "sentence" and unit.block == units[best].block and total < 160
        if not (introduces or same_block_short or (units[best].kind == "item" and unit.kind == "item" and total < 120)):
            break
        if total + len(unit.text) > max_chars and total > 0:
            break
        chosen.append(i)
        total += len(unit.text) + 1
        i += 1
    # A table row or list item alone may lack its subject: prefix the sentence that introduces it.
    first = units[chosen[0]]
    if first.kind in ("row", "item") and chosen[0] > 0:
        lead = next((u for u in reversed(units[: chosen[0]]) if u.kind == "sentence"), None)
        if lead is not None and lead.text.rstrip().endswith((":", "：")) and len(lead.text) + total <= max_chars + 200:
            return lead.text + "\n" + _join([units[j] for j in chosen])
    return _join([units[j] for j in chosen])


def _join(units: list[Unit]) -> str:
    """Join units: sentences of one paragraph with a space, everything else line by line."""
    out = units[0].text if units else ""
    for previous, unit in zip(units, units[1:], strict=False):
        same_paragraph = previous.kind == unit.kind == "sentence" and previous.block == unit.block
        out += (" " if same_paragraph else "\n") + unit.text
    return out
