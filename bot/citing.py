"""Quoting the KB once and citing it legibly: the passages and source lines of a reply built from several quotes.

A reply that answers several questions quotes the KB once per question, and questions about one
topic often get overlapping quotes: the whole list of cities for "do you have cash on delivery?",
and the list's introduction with two of its items for "and in Mashhad and Tabriz?". Sent as they
are, the customer reads the list twice. So:

* quotes of one section are merged into one passage, the union of their units (sentences, list
  items, table rows) in reading order — the section is re-read with :func:`indexer.units.section_units`,
  the same units answer selection quoted;
* across the reply, a passage whose every sentence, item and row is already quoted by a longer one
  is left out (whichever article it came from).

The source line is written for a person reading it in a chat bubble of either direction: the
article's title after the label, and the URL alone on the next line, with no brackets around it.
Inside right-to-left text, brackets around a left-to-right URL are mirrored and the URL breaks into
runs that read in the wrong order; alone on its line the URL is one left-to-right run, which the
widget makes a link. A title written mostly in the other direction's letters is wrapped in a
Unicode isolate (LRI or RLI … PDI) so that its own punctuation stays with it; the URL is not,
because invisible characters copied or linked with it would break the address.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.chunking import Section
from indexer.textnorm import split_sentences
from indexer.units import Unit, section_units

LRI = "\u2066"  # LEFT-TO-RIGHT ISOLATE
RLI = "\u2067"  # RIGHT-TO-LEFT ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE: ends either
# How answer selection joins the units it quotes (bot.extract): sentences of one paragraph with a
# space (an ellipsis when some are left out between them), anything else line by line.
_GAP = " … "


@dataclass(frozen=True)
class Passage:
    """A quote from one section, and which of the section's units it is (empty when not read back)."""

    text: str
    section: Section
    units: tuple[int, ...] = ()


def read_passage(text: str, section: Section) -> Passage:
    """Return the quote with the positions of the section's units it is made of.

    The quote is read back unit by unit in reading order; when it cannot be (a quote that is not a
    join of whole units, such as a cut introduction), the passage keeps no units and is compared
    by its text alone.
    """
    units = section_units(section.text)
    chosen: list[int] = []
    at = 0
    for i, unit in enumerate(units):
        for sep in ("",) if at == 0 else ("\n", " ", _GAP):
            end = at + len(sep) + len(unit.text)
            if unit.text and text.startswith(sep + unit.text, at) and (end == len(text) or text[end] in " \n"):
                chosen.append(i)
                at = end
                break
    if not chosen or at != len(text):
        return Passage(text, section)
    return Passage(text, section, tuple(chosen))


def merge_by_section(passages: Sequence[Passage]) -> list[Passage]:
    """Return one passage per section, the union of the units quoted from it, where the first quote of it was."""
    out: list[Passage] = []
    for passage in passages:
        same = next(
            (i for i, p in enumerate(out) if p.section.id == passage.section.id and p.units and passage.units), None
        )
        if same is None:
            if not any(p.text == passage.text for p in out):
                out.append(passage)
            continue
        units = tuple(sorted(set(out[same].units) | set(passage.units)))
        if units != out[same].units:
            out[same] = Passage(join_units(section_units(passage.section.text), units), passage.section, units)
    return out


def join_units(units: Sequence[Unit], chosen: Sequence[int]) -> str:
    """Join the chosen units as answer selection does (one paragraph's sentences on one line)."""
    out = ""
    for n, i in enumerate(chosen):
        if n == 0:
            out = units[i].text
            continue
        before, unit = units[chosen[n - 1]], units[i]
        if before.kind == unit.kind == "sentence" and before.block == unit.block:
            out += (" " if i == chosen[n - 1] + 1 else _GAP) + unit.text
        else:
            out += "\n" + unit.text
    return out


def pieces(text: str) -> tuple[str, ...]:
    """Return the sentences, list items and table rows of a quote, whitespace collapsed."""
    out = []
    for line in text.splitlines():
        for part in line.split(_GAP):
            out.extend(" ".join(s.split()) for s in split_sentences(part) if s.strip())
    return tuple(out)


def unrepeated(groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """Leave out every passage whose pieces are all quoted by another passage of any group.

    ``groups`` are the passages of a reply grouped by the article they cite, in reply order. The
    longest passages are kept first, so of a list quoted whole and its first items quoted again,
    the whole list stays, wherever it is; of two equal passages, the first.
    """
    flat = [(g, p, pieces(text)) for g, group in enumerate(groups) for p, text in enumerate(group)]
    order = sorted(range(len(flat)), key=lambda n: (-len(flat[n][2]), -len(groups[flat[n][0]][flat[n][1]]), n))
    seen: set[str] = set()
    kept: set[tuple[int, int]] = set()
    for n in order:
        g, p, parts = flat[n]
        if parts and set(parts) <= seen:
            continue
        kept.add((g, p))
        seen.update(parts)
    return [[text for p, text in enumerate(group) if (g, p) in kept] for g, group in enumerate(groups)]


def source_lines(label: str, title: str, url: str | None, lang: str) -> list[str]:
    """Return the lines that cite an article: «label: title», then the URL alone on its own line (when known)."""
    lines = [f"{label}: {isolate(title, lang)}"]
    if url:
        lines.append(url)
    return lines


def isolate(text: str, lang: str) -> str:
    """Isolate text written mostly against the reply's direction (Persian: right to left) in its own direction.

    An English title in a Persian line becomes LRI title PDI, a Persian one in an English line RLI
    title PDI; a title with as many letters of each (a product name and a Persian word) is left to
    the reply's direction, as is text without letters.
    """
    kinds = [unicodedata.bidirectional(ch) for ch in text]
    ltr = kinds.count("L")
    rtl = kinds.count("R") + kinds.count("AL")
    if lang == "en" and rtl > ltr:
        return f"{RLI}{text}{PDI}"
    if lang != "en" and ltr > rtl:
        return f"{LRI}{text}{PDI}"
    return text
