"""Answer selection: pick the part of an article that answers the question — a sentence, a list, a table row.

Replies quote the knowledge base, never paraphrase it, so the answer is a selection of the
article's own units (``indexer.units.section_units``): sentences of paragraphs, whole list items,
and table rows given with their column headers ("City: Shiraz; Delivery time: 3-4 working days").

Every unit of the article is scored by a linear combination of evidence (:data:`FEATURES`):

* dense — the query vector against the unit's passage-side vector, stored with the index
  (``quotes.npy``), absolute and relative to the article's best unit;
* lexical — the share of the question's terms the unit holds, each weighted by how rare it is in
  the article, absolute and relative; and the same for the unit just before it, because the
  sentence that repeats the question's words is often followed by the one with the answer;
* the kind of answer asked for — a quantity («چقدر، چند، کی», "how much / how long") wants a unit
  with a number or an amount, "how do I" wants steps (a list item or the sentence introducing one);
* where the unit is — in the section retrieval chose, under a heading that holds the question's
  words, first in its section.

The weights are fitted (``scripts/bench_extract.py --fit``) on licence-clean data and shipped in
``bot/models/answer_selection.json``. The chosen unit then grows by what it needs to be understood:
the sentence a dangling reference («پس از آن»، "This") points back to, the list a sentence
introduces, the rest of a short paragraph. Everything quoted comes from one section, which is the
section the reply cites.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from indexer.textnorm import lexical_tokens, normalize
from indexer.units import Unit, section_units

# Quotes stay short: the reply is the answering unit plus what it needs, then the link.
MAX_QUOTE_CHARS = 300

FEATURES = (
    "dense_z",
    "dense_top",
    "lex",
    "lex_top",
    "prev_lex",
    "prev_dense_z",
    "kind_match",
    "preferred",
    "heading_lex",
    "first",
    "log_len",
)


# Score gap (in the weights' log-odds units) under which two rows or items are both quoted.
_CLOSE_CALL = 2.0


@dataclass(frozen=True)
class Quote:
    """The selected text, which section it was taken from, and the units it is made of."""

    text: str
    section: int
    units: tuple[int, ...]


# Numbers written as words match the digits the KB writes them in («کمتر از یک ساعت» ~ «۱ ساعت»).
_NUMBER_WORDS = {
    **dict.fromkeys(("یک", "یه"), "1"), "دو": "2", "سه": "3", "چهار": "4", "پنج": "5",
    **dict.fromkeys(("شش", "شیش"), "6"), "هفت": "7", "هشت": "8", "نه": "9", "ده": "10",
    "یازده": "11", "دوازده": "12", "پانزده": "15", "بیست": "20", "سی": "30", "چهل": "40",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15",
    "twenty": "20", "thirty": "30", "forty": "40",
}  # fmt: skip


def _terms(text: str) -> set[str]:
    """Lexical terms of ``text`` plus the digits of the numbers it writes as words."""
    words = (w.strip("؟?!.,،؛:()«»\"'") for w in normalize(text).lower().split())
    return set(lexical_tokens(text)) | {_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS}


@lru_cache(maxsize=4096)
def _units(text: str) -> tuple[tuple[Unit, frozenset[str]], ...]:
    """Units of a section with their lexical terms (cached: sections repeat across requests)."""
    return tuple((u, frozenset(_terms(u.text))) for u in section_units(text))


@lru_cache(maxsize=1)
def shipped_weights() -> dict[str, float]:
    """Return the fitted weights shipped with the package (``bot/models/answer_selection.json``)."""
    data = json.loads((resources.files("bot") / "models" / "answer_selection.json").read_text(encoding="utf-8"))
    return {name: float(data["weights"].get(name, 0.0)) for name in FEATURES}


# --- what kind of answer the question asks for ---------------------------------------------

_QUANTITY_Q = re.compile(
    r"(چقدر|چقد|چه\s*قدر|چه\s*مقدار|چند|چنده|چندتا|کی\b|کی\s|چه\s*(زمانی|وقت|ساعتی|موقع)|تا\s*کی|چه\s*مدت|"
    r"\bhow\s+(much|many|long|soon|late|early|old|far)\b|\bwhen\b|\bwhat\s+time\b|\bwhat\s+(is|are)\s+the\s+"
    r"(fee|fees|cost|price|charge|limit|deadline|penalty|hours)\b|\bhow\s+much\b)",
    re.IGNORECASE,
)
# «… چطور؟» at the end asks "what about …?", not how to do it: only a «چطور» followed by more words asks for steps.
_STEPS_Q = re.compile(
    r"((چطور|چطوری|چه\s*جوری|چجوری)(?!ه?\s*[؟?!.]*\s*$)|چگونه|چیکار|چی\s*کار|چه\s*کار|چکار|مراحل|روش|راهش|"
    r"\bhow\s+(do|can|should|to|would)\b|\bwhat\s+(do|should|can)\s+(i|we)\s+do\b|\bsteps?\b|\bprocess\b)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"[0-9۰-۹٠-٩]")
_QUANTITY_WORDS = re.compile(
    r"(\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|thousand|half|free|percent|toman|tomans|rial|rials|dollars?|minutes?|hours?|days?|weeks?|months?|"
    r"years?|immediately|instantly)\b|%|٪|"
    r"(یک|دو|سه|چهار|پنج|شش|هفت|هشت|نه|ده|دوازده|پانزده|بیست|سی|چهل|پنجاه|صد|هزار|نیم|رایگان|درصد|تومان|ریال|"
    r"دقیقه|ساعت|روز|هفته|ماه|سال|فوراً|فورا|بلافاصله)(\s|$|\u200c|[.,،؛:]))",
    re.IGNORECASE,
)


def answer_kind(question: str) -> str:
    """``"quantity"`` (how much / long / many, when), ``"steps"`` (how do I) or ``""``."""
    text = normalize(question)
    if _QUANTITY_Q.search(text):
        return "quantity"
    if _STEPS_Q.search(text):
        return "steps"
    return ""


def _has_quantity(text: str) -> bool:
    return bool(_DIGITS.search(text) or _QUANTITY_WORDS.search(normalize(text)))


def _introduces(unit: Unit) -> bool:
    return unit.kind == "sentence" and unit.text.rstrip().endswith((":", "："))


def _kind_match(kind: str, units: Sequence[Unit], i: int) -> float:
    unit = units[i]
    if kind == "quantity":
        return float(_has_quantity(unit.text))
    if kind == "steps":
        return float(unit.kind == "item" or _introduces(unit))
    return 0.0


# --- evidence ------------------------------------------------------------------------------


def unit_features(
    sections: Sequence[str],
    query: str,
    *,
    query_vector: np.ndarray | None = None,
    vectors: Sequence[np.ndarray | None] | None = None,
    focus: str | None = None,
    preferred: int = 0,
    headings: Sequence[str] | None = None,
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Every unit's position (section, unit) and its evidence row (columns as :data:`FEATURES`).

    ``vectors[s]`` holds the passage-side vectors of section ``s``'s units in order (None when
    the index has none: the dense columns are then 0 for that section); ``headings[s]`` is the
    section's heading path below the article title (what the section is about).
    """
    per_section = [_units(t) for t in sections]
    flat = [(si, ui) for si, units in enumerate(per_section) for ui in range(len(units))]
    if not flat:
        return [], np.zeros((0, len(FEATURES)), dtype=np.float64)
    boost = _terms(focus) if focus else set()
    terms = _terms(query) | boost
    n = len(flat)
    df = {t: sum(t in per_section[si][ui][1] for si, ui in flat) for t in terms}
    weight = {t: math.log(1 + n / max(df[t], 1)) * (2 if t in boost else 1) for t in terms}
    total = sum(weight.values()) or 1.0

    def lex(si: int, ui: int) -> float:
        return sum(weight[t] for t in terms & per_section[si][ui][1]) / total

    def heading_share(si: int) -> float:
        if not headings or si >= len(headings) or not headings[si]:
            return 0.0
        words = set(lexical_tokens(headings[si]))
        return sum(weight[t] for t in terms & words) / total

    section_heading = [heading_share(si) for si in range(len(per_section))]
    dense = np.zeros(n)
    has_dense = False
    if query_vector is not None and vectors is not None:
        q = np.asarray(query_vector, dtype=np.float32)
        for row, (si, ui) in enumerate(flat):
            block = vectors[si] if si < len(vectors) else None
            if block is not None and ui < len(block):
                dense[row] = float(block[ui] @ q)
                has_dense = True
    # A follow-up that asks for no kind of its own («با هواپیما چطور؟») asks what the topic asked.
    kind = (answer_kind(focus) if focus else "") or answer_kind(query)
    lexical = np.array([lex(si, ui) for si, ui in flat])
    # Cosines of one model sit in a narrow band: the article's own spread is the scale.
    dense_z = (dense - dense.mean()) / max(float(dense.std()), 0.01) if has_dense else np.zeros(n)
    units_of = [[u for u, _ in units] for units in per_section]
    rows = np.zeros((n, len(FEATURES)))
    for row, (si, ui) in enumerate(flat):
        units = units_of[si]
        rows[row] = (
            dense_z[row],
            float(has_dense and dense[row] >= dense.max()),
            lexical[row],
            float(lexical[row] > 0 and lexical[row] >= lexical.max()),
            lexical[row - 1] if ui > 0 else 0.0,
            dense_z[row - 1] if ui > 0 else 0.0,
            _kind_match(kind, units, ui),
            float(si == preferred),
            section_heading[si],
            float(ui == 0),
            math.log(1 + len(units[ui].text)),
        )
    return flat, rows


def select_quote(
    sections: Sequence[str] | str,
    query: str,
    *,
    query_vector: np.ndarray | None = None,
    vectors: Sequence[np.ndarray | None] | None = None,
    focus: str | None = None,
    preferred: int = 0,
    headings: Sequence[str] | None = None,
    max_chars: int = MAX_QUOTE_CHARS,
    weights: dict[str, float] | None = None,
) -> Quote:
    """Return the part of the article that best answers ``query``, at most about ``max_chars`` long.

    ``sections`` are the article's section texts (or one text); ``preferred`` is the index of the
    one retrieval chose. ``focus`` is the customer's latest words when ``query`` also carries the
    previous question (a follow-up like "and for Shiraz?"): its terms count double, so the new
    city wins over the old.
    """
    texts = [sections] if isinstance(sections, str) else list(sections)
    preferred = preferred if 0 <= preferred < len(texts) else 0
    flat, rows = unit_features(
        texts, query, query_vector=query_vector, vectors=vectors, focus=focus, preferred=preferred, headings=headings
    )
    if not flat:
        return Quote(texts[preferred].strip()[:max_chars] if texts else "", preferred, ())
    w = weights or shipped_weights()
    scores = rows @ np.array([w.get(name, 0.0) for name in FEATURES])
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    si, best = flat[order[0]]
    units = [u for u, _ in _units(texts[si])]
    # The runner-up of the same section goes too when it fits: a single sentence misses the answer
    # about one time in three, the best two much less often, and they stay one section's words.
    runner_up = next((j for j in order[1:] if flat[j][0] == si), None)
    picked = [best]
    if runner_up is not None:
        second = flat[runner_up][1]
        # A table row or a list item stands alone: a second one only when the choice is close.
        close = scores[order[0]] - scores[runner_up] < _CLOSE_CALL
        alone = units[best].kind in ("row", "item") or units[second].kind in ("row", "item")
        if (close or not alone) and len(units[best].text) + len(units[second].text) + 1 <= max_chars:
            picked.append(second)
    picked.sort()
    between = list(range(picked[0], picked[-1] + 1))
    if len(between) > len(picked) and all(units[i].kind == units[best].kind for i in between):
        # What lies between the two is quoted too when short: one passage reads better than two pieces.
        if sum(len(units[i].text) + 1 for i in between) <= max_chars + 60:
            picked = between
    chosen = _expand(units, best, picked, max_chars)
    return Quote(_render(units, chosen), si, tuple(chosen))


def best_passage(sections: Sequence[str] | str, query: str, **kwargs) -> str:
    """Return the text of :func:`select_quote`."""
    return select_quote(sections, query, **kwargs).text


# --- growing the chosen unit -----------------------------------------------------------------

# A sentence that starts like this leans on the one before it («پس از آن، …», "This fee …").
_DANGLING = re.compile(
    r"^(پس\s*از\s*آن|بعد\s*از\s*آن|پس\s*از\s*این|بعد\s*از\s*این|این|آن|اینها|آنها|همچنین|در\s*این|در\s*آن|"
    r"در\s*غیر\s*این\s*صورت|اما|ولی|سپس|بنابراین|به\s*همین|همین|او|ایشان|"
    r"this|that|these|those|it|its|they|them|their|then|after\s+that|however|otherwise|also|but|so|"
    r"therefore|in\s+that\s+case|in\s+this\s+case|he|she|such|there)(\s|[,،]|$|\u200c)",
    re.IGNORECASE,
)


def dangling(text: str) -> bool:
    """Whether a sentence opens with a reference to what came before it."""
    return bool(_DANGLING.match(normalize(text).lstrip("-•* ")))


def _expand(units: list[Unit], best: int, picked: list[int], max_chars: int) -> list[int]:
    """Grow the picked units by what they need to be understood.

    That is the sentence a reference points back to, the list a sentence introduces, and the
    sentence that introduces a list item.
    """
    chosen = set(picked)
    # A dangling reference takes the sentence it refers to (two at most), whatever the length.
    for i in picked:
        j = i
        while (
            j > 0
            and i - j < 2
            and units[j].kind == "sentence"
            and units[j - 1].kind == "sentence"
            and units[j - 1].block == units[j].block
            and dangling(units[j].text)
        ):
            j -= 1
            chosen.add(j)
    total = sum(len(units[j].text) + 1 for j in chosen)
    # A sentence that introduces a list or a table brings it (as far as the length allows).
    if _introduces(units[best]):
        for i in range(best + 1, len(units)):
            if units[i].kind not in ("item", "row") or units[i].block != units[best + 1].block:
                break
            if i not in chosen and total + len(units[i].text) > max_chars + 200:
                break
            if i not in chosen:
                chosen.add(i)
                total += len(units[i].text) + 1
    # A list item alone may lack its subject: the sentence introducing its list goes first.
    first = min(chosen)
    if units[first].kind == "item" and first > 0:
        lead = next((j for j in range(first - 1, -1, -1) if units[j].kind == "sentence"), None)
        if lead is not None and _introduces(units[lead]) and len(units[lead].text) + total <= max_chars + 200:
            chosen.add(lead)
            # «برای این کالاها:» — an introduction that itself points back brings its referent.
            if (
                lead > 0
                and dangling(units[lead].text)
                and units[lead - 1].kind == "sentence"
                and units[lead - 1].block == units[lead].block
            ):
                chosen.add(lead - 1)
    return sorted(chosen)


def _render(units: list[Unit], chosen: list[int]) -> str:
    """Join units: sentences of one paragraph with a space, everything else line by line.

    Sentences of one paragraph with some left out between them are joined by an ellipsis.
    """
    out = units[chosen[0]].text if chosen else ""
    for a, b in zip(chosen, chosen[1:], strict=False):
        previous, unit = units[a], units[b]
        if previous.kind == unit.kind == "sentence" and previous.block == unit.block:
            out += (" " if b == a + 1 else " … ") + unit.text
        else:
            out += "\n" + unit.text
    return out
