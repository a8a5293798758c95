"""Finglish (Persian typed in Latin letters): telling it from English, and writing it in Persian script.

Rules, not the ``finglish`` package: version 1.5.1 (MIT code, a CC BY-SA word list) tries every
spelling of every letter and keeps the most frequent Wikipedia word, so it writes «قطر» (Qatar) for
"ghatar" and «سات» for "saat", took up to 34 ms on one message and prints on import.

Words are matched to Persian words by *skeleton*, the consonants alone with the letters Persian
spells alike merged (s/ث/س/ص, z/ذ/ز/ض/ظ, t/ت/ط, h/ح/ه, gh/غ/ق); vowels, و, ی and ع are left out since
they are vowels or glides either way. Words with one skeleton are told apart by how well the typed
vowels fit the written ones (a short a/e/o is mostly unwritten, i/u/â are written) and by frequency
in hazm's word list; suffixes ("-am", "-esh", "-amo", "-ha") and verb prefixes and endings ("mi-",
"na-", "-am", "-e") are tried around hazm's verb stems. The tables are built on first use (about 2 s).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from indexer.textnorm import ZWNJ, without_non_language

# --- Finglish detection ----------------------------------------------------------------------

# Frequent Finglish words that are not English words. Words that are both ("to", "be", "in", "man",
# "age", "ya", "sal", "key", "bar", "dare", "pool", "ham", "ma", "ye") count for neither language.
_FINGLISH_FUNCTION = (
    "salam merci mamnoon mamnun lotfan chand chande chanda cheghad cheghadr cheghadre chera chetor chetore chetori "
    "chejuri chejoori chi chie chiye chia chikar chekar koja kojast kojas kodom kodum ki kei agar ke va "
    "az baraye barat barash vase vaseye ro ra hast hastam hastim nist nistam ast bood bud boodam shod "
    "shode shodam nashod nashode bayad nabayad mishe nemishe mikham mikhay mikhad mikhaam nemikham "
    "mitoonam mitunam nemitoonam nemitunam mitonam nemitonam mitoonid mitunid mikonam mikone mikonid "
    "konam kon konid kard kardam kardid karde nakardam bedid bedin midin mide midam begid begin migid "
    "migan darid darin daram nadaram dare nadare alan hanooz hanuz faghat kheili kheyli kheily yani "
    "dige digeh inja unja oonja chon choon ama vali hamin hamun hamoon hich inke unke inam unam shoma "
    "ama ghabl ghablan baad badan emrooz emruz farda dirooz diruz saat ruz rooz hafte tu too begu bego khubi khoobi"
).split()
_ENGLISH_FUNCTION = (
    "i me my we our you your he she it its they them their what which who whom this that these those am is "
    "are was were been being have has had do does did doing a an the and but if or because as until while "
    "of at by for with about into from on then once here there when where why how all any both each few "
    "more most other some such no nor not only own same so than too very can will just should now could "
    "would may might must please thanks thank hi hello get got want need there's it's i'm don't can't "
    "ticket tickets refund order cancel cancelled payment money card flight train bus hotel long"
).split()
_FINGLISH_WORDS = frozenset(_FINGLISH_FUNCTION) - frozenset(_ENGLISH_FUNCTION)
_ENGLISH_WORDS = frozenset(_ENGLISH_FUNCTION)
_LATIN_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?", re.IGNORECASE)
_SENTENCE_END = ".!?\u061f\n"
# Finglish verb forms: a present prefix with a personal ending ("mikhoram", "nemitoonim", "migarde").
_FINGLISH_VERB_RE = re.compile(r"(?:nemi|mi)[a-z]{2,9}(?:am|im|in|id|an|and|e|i)")
# Letter pairs common in Finglish and rare in English words: kh, zh, gh not in -ough/-igh, -esh, -am.
_FINGLISH_CUE_RE = re.compile(r"kh|zh|(?<![oi])(?<!ou)gh(?!t)|[^aeiou]esh$|[^aeiouy]amo?$|[^aeiou]ash$|oo[nm]e?$")


def is_finglish(text: str) -> bool:
    """Return whether ``text`` is Persian written in Latin letters rather than English.

    Counts frequent Finglish function words and verb forms against English function words, each
    distinct word once; a word with Finglish letter pairs (kh, zh, gh outside -ough/-igh) or endings
    (-esh, -am, -amo) counts half.
    Text with more Arabic-script than Latin letters is never Finglish. Links, e-mail addresses,
    @handles and order codes are not read (:func:`indexer.textnorm.without_non_language`): a path
    such as ``/khadamat`` says nothing about the customer's language. Nor are names and acronyms
    ("Michelle", "Dariush" inside a sentence; "SMS" in a text not in capitals): they belong to
    neither language.
    """
    text = without_non_language(text)
    # Capitals inside a text typed in lower case mark names and acronyms ("SMS", "NYC").
    shouting = not any(ch.islower() for ch in text)
    words = [
        m.group().casefold()
        for m in _LATIN_WORD_RE.finditer(text)
        if not _is_name(text, m.start(), m.group(), shouting=shouting)
    ]
    arabic = sum(1 for ch in text if "\u0600" <= ch <= "\u06ff")
    if not words or arabic > sum(map(len, words)):
        return False
    finglish = english = 0.0
    for word in set(words):  # a repeated word is one piece of evidence
        if word in _ENGLISH_WORDS or word.endswith(("ing", "tion", "ed", "ly")) and len(word) > 5:
            english += 1
        elif word in _FINGLISH_WORDS or _FINGLISH_VERB_RE.fullmatch(word):
            finglish += 1
        elif _FINGLISH_CUE_RE.search(word):
            finglish += 0.5
    return finglish >= 1 and finglish > english


def _is_name(text: str, start: int, word: str, *, shouting: bool) -> bool:
    """Return whether ``word`` (at ``start`` in ``text``) is written as a name or an acronym.

    An acronym is a word in capitals in a text that is not all capitals; a name is a capitalised
    word that does not open a sentence.
    """
    if len(word) < 2 or not word[0].isupper():
        return False
    if word.isupper():
        return not shouting
    if not word[1:].islower():
        return False
    before = text[:start].rstrip(" \t\"'\u201c\u00ab(")
    return bool(before) and before[-1] not in _SENTENCE_END


# --- Finglish to Persian -----------------------------------------------------------------------

# Consonant classes: letters Persian spells alike share one class.
_FA_CLASS = {
    "ب": "b", "پ": "p", "ت": "t", "ط": "t", "ث": "s", "س": "s", "ص": "s", "ج": "j", "چ": "c", "ح": "h",
    "ه": "h", "خ": "x", "د": "d", "ذ": "z", "ز": "z", "ض": "z", "ظ": "z", "ر": "r", "ژ": "Z", "ش": "S",
    "غ": "q", "ق": "q", "ف": "f", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n",
}  # fmt: skip
# Written vowels and glides: a (ا آ), u (و), i (ی), A (a word-initial ا: a, e or o), ' (ع, hamza).
_FA_VOWEL = {"ا": "a", "آ": "a", "و": "u", "ی": "i", "ع": "'", "ء": "'", "ئ": "'", "أ": "'", "ؤ": "'"}
_LATIN_DIGRAPHS = {"kh": "x", "gh": "q", "ch": "c", "sh": "S", "zh": "Z"}
_LATIN_CLASS = {
    "b": "b", "p": "p", "t": "t", "s": "s", "j": "j", "h": "h", "x": "x", "d": "d", "z": "z", "r": "r",
    "q": "q", "f": "f", "k": "k", "g": "g", "l": "l", "m": "m", "n": "n",
}  # fmt: skip
_LATIN_VOWEL = {"a": "a", "e": "e", "i": "i", "o": "o", "u": "u", "y": "i", "v": "u", "w": "u", "'": "'"}
_LATIN_VOWEL_PAIRS = {"aa": "a", "oo": "u", "ou": "u", "ee": "i"}

Shape = tuple[str, tuple[str, ...]]  # skeleton and the vowel gaps around its consonants


def _persian_shapes(word: str) -> list[Shape]:
    """Return the skeleton and vowel gaps of a Persian word; a final «ه» is read both as h and as the vowel e."""
    skeleton, gaps, gap = [], [], ""
    for i, ch in enumerate(word.replace(ZWNJ, "")):
        if ch in _FA_CLASS:
            skeleton.append(_FA_CLASS[ch])
            gaps.append(gap)
            gap = ""
        elif ch == "ا" and i == 0:
            gap += "A"
        elif ch in _FA_VOWEL:
            gap += _FA_VOWEL[ch]
        else:
            return []
    if gap.startswith("A") and gap[1:2] in ("i", "u"):
        gap = gap[1:]  # «ای», «او» at the start are the long vowels
    if gaps and gaps[0].startswith("A") and gaps[0][1:2] in ("i", "u"):
        gaps[0] = gaps[0][1:]
    shapes = [("".join(skeleton), (*gaps, gap))]
    if word.endswith("ه") and len(skeleton) > 1 and not gap:
        shapes.append(("".join(skeleton[:-1]), (*gaps[:-1], gaps[-1] + "E")))
    return shapes


def _latin_shape(word: str) -> Shape:
    """Return the skeleton and vowel gaps of a Finglish word (lower case, letters and apostrophes)."""
    word = re.sub(r"([bcdfgjklmnpqrstvxz])\1", r"\1", word)  # geminates are written once in Persian
    if word.endswith("eh") and len(word) > 3:
        word = word[:-1]
    skeleton, gaps, gap, i = [], [], "", 0
    while i < len(word):
        pair = word[i : i + 2]
        if pair in _LATIN_DIGRAPHS:
            cls, step = _LATIN_DIGRAPHS[pair], 2
        elif pair in _LATIN_VOWEL_PAIRS:
            gap += _LATIN_VOWEL_PAIRS[pair]
            i += 2
            continue
        elif word[i] == "c":
            cls, step = ("s" if word[i + 1 : i + 2] in ("e", "i", "y") else "k"), 1
        else:
            cls, step = _LATIN_CLASS.get(word[i]), 1
            if cls is None:
                gap += _LATIN_VOWEL.get(word[i], "")
                i += 1
                continue
        skeleton.append(cls)
        gaps.append(gap)
        gap, i = "", i + step
    return "".join(skeleton), (*gaps, gap)


# Cost of a typed vowel that is not written, by place in the word; of a written one not typed; and
# of a typed vowel read as another written one. Short a/e/o are mostly unwritten inside a word.
_DROP = {"mid": {"a": 0.15, "e": 0.2, "o": 0.3, "i": 1.0, "u": 1.0, "'": 0.0}, "edge": {"'": 0.0}}
_ADD = {"'": 0.0, "a": 0.6, "u": 0.6, "i": 0.7, "A": 1.0, "E": 1.0}
_SWAP = {
    ("a", "A"): 0.0, ("e", "A"): 0.0, ("o", "A"): 0.0, ("e", "E"): 0.0, ("a", "E"): 0.5, ("o", "u"): 0.2,
    ("e", "i"): 0.6, ("i", "A"): 0.6, ("u", "A"): 0.6, ("e", "a"): 0.8, ("o", "a"): 0.8, ("e", "'"): 0.2,
    ("a", "'"): 0.2, ("o", "'"): 0.3, ("i", "'"): 0.6, ("'", "a"): 0.3, ("'", "A"): 0.3, ("'", "E"): 0.3,
}  # fmt: skip


@lru_cache(maxsize=4096)
def _gap_cost(typed: str, written: str, edge: bool) -> float:
    """Return the weighted edit distance between the vowels typed and those written in one gap."""
    drop = _DROP["edge" if edge else "mid"]
    prev = [0.0]
    for w in written:
        prev.append(prev[-1] + _ADD.get(w, 1.0))
    for t in typed:
        row = [prev[0] + drop.get(t, 1.0)]
        for j, w in enumerate(written, 1):
            swap = 0.0 if t == w else _SWAP.get((t, w), 1.2)
            row.append(min(prev[j] + drop.get(t, 1.0), row[j - 1] + _ADD.get(w, 1.0), prev[j - 1] + swap))
        prev = row
    return prev[-1]


_FREQ_WEIGHT = 0.12  # cost units per factor of ten in frequency: breaks ties, never beats a vowel misfit
_MAX_CANDIDATES = 24  # most frequent words per skeleton that are compared
_VERB_BONUS = 0.9  # verb stems have no frequency; this is a frequent word's


@lru_cache(maxsize=1)
def _skeletons() -> tuple[dict[str, list], dict[str, list]]:
    """Return Persian words and verb stems by skeleton, most frequent first (built once from hazm's data)."""
    from hazm.utils import informal_verbs, verbs_list, words_list  # noqa: PLC0415 - loaded on first use

    words: dict[str, list] = {}
    for word, count, _tags in sorted(words_list(), key=lambda w: -w[1]):
        for skeleton, gaps in _persian_shapes(word):
            bucket = words.setdefault(skeleton, [])
            if len(bucket) < _MAX_CANDIDATES:
                bucket.append((word, gaps, _FREQ_WEIGHT * math.log10(count + 1)))
    stems: set[str] = set()
    for line in verbs_list():
        stems.update(s for s in line.split("#") if s)
    with open(informal_verbs, encoding="utf-8") as fh:
        stems.update(p for line in fh for p in line.split()[1:2])
    stems.update(_SPOKEN_PAST_STEMS)
    verbs: dict[str, list] = {}
    for stem in sorted(stems):
        for skeleton, gaps in _persian_shapes(stem):
            verbs.setdefault(skeleton, []).append((stem, gaps, _VERB_BONUS))
    return words, verbs


_SPOKEN_PAST_STEMS = ("اومد", "یومد", "تونست", "خوند", "موند", "رسوند", "دونست", "گذاش")


def _lookup(latin: str, table: dict[str, list]) -> tuple[float, str]:
    """Return the best Persian spelling of one Finglish word (or stem) in ``table``, with its cost."""
    skeleton, typed = _latin_shape(latin)
    best = (math.inf, "")
    last = len(typed) - 1
    for word, written, bonus in table.get(skeleton, ()):
        if len(written) != len(typed):
            continue
        cost = sum(_gap_cost(t, w, i in (0, last)) for i, (t, w) in enumerate(zip(typed, written, strict=True)))
        if cost - bonus < best[0]:
            best = (cost - bonus, word)
    return best


# Frequent Finglish words whose Persian spelling rules cannot find (spoken forms, unwritten vowels).
_LEXICON = dict(
    pair.split(":")
    for pair in (
        "ro:رو ra:را va:و ya:یا be:به az:از ba:با ta:تا dar:در tu:تو too:تو ke:که ki:کی key:کی kei:کی "
        "chi:چی chie:چیه chia:چیا chiye:چیه ham:هم ye:یه yek:یک in:این oon:اون un:اون man:من to:تو "
        "ma:ما shoma:شما age:اگه agar:اگر chand:چند chande:چنده chanda:چندا cheghad:چقد cheghadr:چقدر "
        "cheghadre:چقدره chera:چرا chetor:چطور chetori:چطوری chejuri:چجوری chejoori:چجوری chikar:چیکار "
        "chekar:چیکار koja:کجا kojast:کجاست kojas:کجاس kodom:کدوم kodum:کدوم vase:واسه vaseye:واسه "
        "baraye:برای barat:برات barash:براش baram:برام hast:هست nist:نیست ast:است dige:دیگه digeh:دیگه "
        "alan:الان hanooz:هنوز hanuz:هنوز faghat:فقط kheili:خیلی kheyli:خیلی khodam:خودم yani:یعنی "
        "mishe:میشه nemishe:نمیشه mikham:میخوام mikhay:میخوای mikhad:میخواد mikhaam:میخوام "
        "mitoonam:میتونم mitunam:میتونم mitonam:میتونم nemitoonam:نمیتونم nemitunam:نمیتونم "
        "mitoonid:میتونید mitunid:میتونید mitoonin:میتونین mitunin:میتونین "
        "bayad:باید nabayad:نباید vali:ولی ama:اما chon:چون inja:اینجا unja:اونجا salam:سلام "
        "merci:مرسی mamnoon:ممنون mamnun:ممنون lotfan:لطفا sms:پیامک email:ایمیل imeil:ایمیل "
        "app:اپلیکیشن online:آنلاین ok:باشه cancel:کنسل kansel:کنسل ticket:بلیت"
    ).split()
)
_NOUN_SUFFIXES = (  # Finglish ending, its Persian spelling; longest first
    ("hamo", ZWNJ + "هامو"), ("haye", ZWNJ + "های"), ("hash", ZWNJ + "هاش"), ("ha", ZWNJ + "ها"),
    ("eshoon", "شون"), ("eshun", "شون"), ("emoon", "مون"), ("emun", "مون"), ("etoon", "تون"),
    ("etun", "تون"), ("amo", "مو"), ("esho", "شو"), ("esh", "ش"), ("ash", "ش"), ("am", "م"),
    ("et", "ت"), ("aye", ZWNJ + "های"), ("ye", "ی"), ("e", ""), ("o", "و"), ("i", "ی"), ("a", ZWNJ + "ها"),
)  # fmt: skip
_VERB_PREFIXES = (("nemi", "نمی" + ZWNJ), ("mi", "می" + ZWNJ), ("be", "ب"), ("bo", "ب"), ("na", "ن"), ("ne", "ن"))
_VERB_ENDINGS = (
    ("and", "ند"), ("am", "م"), ("im", "یم"), ("in", "ین"), ("id", "ید"), ("an", "ن"), ("ad", "د"),
    ("e", "ه"), ("i", "ی"), ("", ""),
)  # fmt: skip
_AFFIX_COST = 0.35  # per suffix, prefix or ending: a whole-word reading of equal fit wins


@lru_cache(maxsize=4096)
def _word_to_persian(word: str) -> str:
    """Transliterate one lower-case Finglish word."""
    if word in _LEXICON:
        return _LEXICON[word]
    words, verbs = _skeletons()
    best = _lookup(word, words)
    for suffix, persian in _NOUN_SUFFIXES:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 2:
            cost, found = _lookup(stem, words)
            cost += _AFFIX_COST
            if found and cost < best[0]:
                # The ezafe "-ye" is written «ی» only after «ا» and «و» («جای», «موی»), else not at all.
                best = (cost, found + (persian if suffix != "ye" or found[-1] in "او" else ""))
    for prefix, fa_prefix in (*_VERB_PREFIXES, ("", "")):
        if not word.startswith(prefix):
            continue
        for ending, fa_ending in _VERB_ENDINGS:
            if not word.endswith(ending):
                continue
            stem = word[len(prefix) : len(word) - len(ending)]
            if prefix and stem.startswith("y") and len(stem) > 2:
                stem = stem[1:]  # the glide in "nayomad", "miyam"
            if len(stem) < 1:
                continue
            cost, found = _lookup(stem, verbs)
            cost += _AFFIX_COST * ((prefix != "") + (ending != ""))
            if found and cost < best[0]:
                best = (cost, fa_prefix + found + fa_ending)
    return best[1] or _spell_letters(word)


_LETTERS = {**{v: k for k, v in _FA_CLASS.items() if k not in "طثصحذضظغه"}, "h": "ه", "a": "ا", "u": "و", "i": "ی"}


def _spell_letters(word: str) -> str:
    """Return a letter-by-letter spelling of a word no Persian word fits (names, brands)."""
    skeleton, gaps = _latin_shape(word)
    out = []
    for i, gap in enumerate(gaps):
        out.extend(_LETTERS.get(v, "") for v in gap if v in "aiu" or (i == 0 and v in "eo"))
        if i < len(skeleton):
            out.append(_LETTERS.get(skeleton[i], ""))
    text = "".join(out)
    return "ا" + text if gaps[0] and not text.startswith("ا") else text


_FINGLISH_TOKEN_RE = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[^\sa-z0-9]+")


def finglish_to_persian(text: str) -> str:
    """Write a Finglish message in Persian script (spoken forms stay spoken: "mishe" → «میشه»)."""
    out = []
    for token in _FINGLISH_TOKEN_RE.findall(text.casefold()):
        out.append(_word_to_persian(token) if token[0].isalpha() and token.isascii() else token)
    return " ".join(out)
