"""Query readings: the other ways to read a customer message that retrieval should search as well.

Customers type Persian in Latin letters ("Finglish": "hazine ersal chande?") and spoken Persian
(«پولم کی برمیگرده؟»), while help-centre articles are written in formal Persian. :func:`readings`
returns the message first, then a Persian-script reading of Finglish (:mod:`indexer.transliteration`)
and a formal reading of spoken Persian; :class:`indexer.retrieval.HybridSearcher` searches each.

Spoken Persian is rewritten by rules over hazm's data (its word list, verb stems, spoken words and
spoken stems, loaded once on first use), not by hazm's ``InformalNormalizer``: that takes 2 s to
load, returns candidate lists, and leaves «برمی‌گرده» and «نیومده» spoken.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indexer.textnorm import ZWNJ, normalize
from indexer.transliteration import finglish_to_persian, is_finglish

__all__ = ["colloquial_to_formal", "finglish_to_persian", "is_finglish", "readings"]

# --- spoken Persian to formal -------------------------------------------------------------------

# Spoken words hazm's list lacks or renders less usefully for search.
_SPOKEN_WORDS = {
    "میشه": "می‌شود", "نمیشه": "نمی‌شود", "چنده": "چند است", "چقد": "چقدر", "چقدره": "چقدر است",
    "چیکار": "چه کار", "چکار": "چه کار", "چجوری": "چگونه", "چطوری": "چطور", "کجاس": "کجاست",
    "چیه": "چیست", "چیا": "چه چیزهایی", "رو": "را", "تو": "در", "کی": "کی", "الان": "الان",
}  # fmt: skip
# Spoken past stems and the formal ones; spoken present stems come from hazm's list.
_SPOKEN_PAST = {"اومد": "آمد", "یومد": "آمد", "تونست": "توانست", "خوند": "خواند", "موند": "ماند",
                "رسوند": "رساند", "دونست": "دانست", "گذاش": "گذاشت"}  # fmt: skip
_SPOKEN_ENDINGS = {"م": "م", "ی": "ی", "ه": "د", "یم": "یم", "ین": "ید", "ید": "ید", "ن": "ند", "ند": "ند", "د": "د"}
_PAST_ENDINGS = {"م": "م", "ی": "ی", "ه": "ه", "یم": "یم", "ین": "ید", "ید": "ید", "ن": "ند", "ند": "ند", "": ""}
_POSSESSIVES = {
    "م": "م",
    "ت": "ت",
    "ش": "ش",
    "مون": "مان",
    "تون": "تان",
    "شون": "شان",
    "مان": "مان",
    "تان": "تان",
    "شان": "شان",
}
_SUPPORT_WORDS = frozenset("بلیط کنسل کنسلی پشتیبانی پیامک ایمیل اپلیکیشن آنلاین رزرو تکمیلی".split())
# One spelling for the same word in an article and the other in a message: search both.
_SPELLING_VARIANTS = {"بلیت": "بلیط", "بلیط": "بلیت"}
_VERB_RE = re.compile("^(بر|در|ور)?(نمی|می|ن|ب)?\u200c?(.+?)(یم|ین|ید|ند|م|ی|ه|ن|د)?$")
_PERSIAN_WORD_RE = re.compile("[\u0621-\u064a\u067e-\u06cc]+(?:\u200c[\u0621-\u064a\u067e-\u06cc]+)*")


@lru_cache(maxsize=1)
def _spoken_tables() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    """Return the word list, hazm's spoken words and spoken present stems (to formal), loaded once."""
    from hazm.utils import informal_verbs, informal_words, verbs_list, words_list  # noqa: PLC0415

    lexicon = frozenset(w for w, _c, _t in words_list()) | _SUPPORT_WORDS
    with open(informal_words, encoding="utf-8") as fh:
        words = {p[0]: p[1] for p in (line.split() for line in fh) if len(p) == 2}
    stems = {}
    for line in verbs_list():
        past, _, present = line.partition("#")
        stems.update({s: s for s in (past, present) if s})
    with open(informal_verbs, encoding="utf-8") as fh:
        for formal, spoken, *_ in (line.split() for line in fh):
            stems.setdefault(spoken, formal.partition("#")[2])
    return lexicon, {**words, **_SPOKEN_WORDS}, stems


def _known(word: str, lexicon: frozenset[str]) -> bool:
    """Return whether ``word`` is a word, or a word with a possessive or comparative ending."""
    if word in lexicon:
        return True
    for ending in ("ترین", "تر", *_POSSESSIVES, "ی"):
        base = word[: -len(ending)].rstrip(ZWNJ)
        if word.endswith(ending) and len(base) >= 2 and base in lexicon:
            return True
    return False


def _formal_verb(word: str, stems: dict[str, str]) -> str | None:
    """Return the formal form of a verb («برمیگرده» → «برمی‌گردد», «نیومده» → «نیامده», «کنم» as is), or None."""
    for preverb in ("بر", "در", "ور", ""):
        for prefix in ("نمی", "می", "ن", "ب", ""):
            head = preverb + prefix
            if not word.startswith(head):
                continue
            for ending in ("یم", "ین", "ید", "ند", "م", "ی", "ه", "ن", "د", ""):
                stem = word[len(head) : len(word) - len(ending)].lstrip(ZWNJ)
                if len(stem) < 1 or not word.endswith(ending):
                    continue
                joined = prefix + ZWNJ if prefix in ("می", "نمی") else prefix
                if stem in _SPOKEN_PAST and ending in _PAST_ENDINGS:
                    past = _SPOKEN_PAST[stem]
                    if prefix in ("ن", "ب") and past.startswith("آ"):
                        past = "یا" + past[1:]  # «نیامد»
                    return preverb + joined + past + _PAST_ENDINGS[ending]
                formal = stems.get(stem) or stems.get("آ" + stem[1:] if stem.startswith("ا") else "")
                if formal is None or ending not in _SPOKEN_ENDINGS or not (prefix or ending):
                    continue
                if formal.endswith(("ا", "آ", "و")) and ending:
                    formal += "ی"  # «میاد» → «می‌آید», «بره» → «برود» is «رو» + «د»
                    formal = formal[:-1] if formal.endswith("وی") else formal
                return preverb + joined + formal + _SPOKEN_ENDINGS[ending]
    return None


def _formal_word(word: str, tables: tuple[frozenset[str], dict[str, str], dict[str, str]]) -> str:
    """Return the formal reading of one normalised Persian word (the word itself when no rule applies)."""
    lexicon, spoken, stems = tables
    if word in spoken:
        return spoken[word]
    if word in lexicon:
        return word
    verb = _formal_verb(word, stems)
    if verb:
        return verb
    # Object marker: «بلیطو» → «بلیط را», «کجارو» → «کجا را».
    for marker in ("رو", "و"):
        base = word[: -len(marker)]
        if word.endswith(marker) and len(base) >= 2 and (_known(base, lexicon) or _spoken_form(base, tables)):
            return _formal_word(base, tables) + " را"
    return _spoken_form(word, tables) or word


def _spoken_form(word: str, tables: tuple[frozenset[str], dict[str, str], dict[str, str]]) -> str | None:
    """Return the formal spelling of spoken endings and vowels («تماستون», «جمعس», «بچم», «چمدونم»), or None."""
    lexicon = tables[0]
    for spoken, formal in _POSSESSIVES.items():
        base = word[: -len(spoken)]
        if spoken != formal and word.endswith(spoken) and base in lexicon:
            return base + formal
    if _known(word, lexicon):
        return None
    if word.endswith("ه") and _known(word[:-1], lexicon):
        return word[:-1] + " است"  # «غلطه» → «غلط است», «سالشه» → «سالش است»
    if word.endswith("س") and word[:-1] + "ه" in lexicon:
        return word[:-1] + "ه است"  # «جمعس» → «جمعه است»
    if word[-1:] in "متش" and word[:-1] + "ه" in lexicon and word[:-1] not in tables[2]:
        return word[:-1] + "ه" + ZWNJ + "ا" + word[-1]  # «بچم» → «بچه‌ام»
    for ending in ("ای", "ام", "ات", "اش", "ا"):
        base = word[: -len(ending)]
        if word.endswith(ending) and base in lexicon:
            return base + ZWNJ + "ها" + ending[1:].replace("م", "یم").replace("ت", "یت").replace("ش", "یش")
    if "ون" in word:
        for i in (word.rfind("ون"), word.find("ون")):
            candidate = word[:i] + "ان" + word[i + 2 :]
            if _known(candidate, lexicon):
                return candidate  # «چمدونم» → «چمدانم», «گرونتر» → «گرانتر»
    return None


def colloquial_to_formal(text: str) -> str:
    """Rewrite spoken Persian as written Persian for search («پولم کی برمیگرده؟» → «پولم کی برمی‌گردد ؟»).

    Covers the frequent spoken forms: verb endings («میشه», «برمیگرده», «میخوام», «نمیتونم», «نیومده»),
    the object marker «ـو/ـرو», spoken possessives and copula («تماستون», «چنده», «جمعس»), «ـون» for
    «ـان» («چمدون»), the spoken plural «ـا» and hazm's list of spoken words. Both spellings of a word
    written two ways («بلیت», «بلیط») are kept. The result is normalised text for matching.
    """
    tables = _spoken_tables()

    def formal(match: re.Match[str]) -> str:
        word = match.group()
        variant = _SPELLING_VARIANTS.get(word[:4])
        return _formal_word(word, tables) + (" " + variant if variant else "")

    return _PERSIAN_WORD_RE.sub(formal, normalize(text))


def _is_persian(char: str) -> bool:
    """Return whether ``char`` is in the Arabic block (Persian letters, digits and marks)."""
    return "\u0600" <= char <= "\u06ff"


# --- readings -----------------------------------------------------------------------------------


def readings(text: str) -> list[str]:
    """Return ``text`` and the other readings of it worth searching, without duplicates.

    Finglish gets its Persian-script reading and that reading made formal; Persian with spoken forms
    (or a word spelt two ways) gets its formal reading. English and formal Persian get only ``text``.
    """
    found = [text]
    if is_finglish(text):
        persian = finglish_to_persian(text)
        found += [persian, colloquial_to_formal(persian)]
    elif any(_is_persian(ch) for ch in text):
        found.append(colloquial_to_formal(text))
    out, seen = [], set()
    for reading in found:
        key = normalize(reading)
        if key and key not in seen:
            seen.add(key)
            out.append(reading)
    return out
