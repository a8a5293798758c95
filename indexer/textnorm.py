"""Text normalisation, lexical tokens, language detection and sentence splitting for Persian and English.

Everything the lexical index and the query side must agree on lives here, so a document and a
query written with different keyboards (Arabic ``ي``/``ك``, Persian or ASCII digits, ZWNJ, space
or nothing between a word and its affix, presentation forms, full-width Latin) reach the same
tokens. hazm is imported lazily: importing this module is cheap, and the first call to
:func:`normalize` or :func:`lexical_tokens` loads hazm's normaliser and lexicon once (about 2 s).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

logger = logging.getLogger(__name__)

ZWNJ = "\u200c"
"""Zero-width non-joiner: the Persian half-space that joins affixes and compound parts."""

# Control characters and lone surrogates become spaces (they separate words, and a lone
# surrogate cannot be encoded to UTF-8 downstream). Bidi marks and other invisible format
# characters are dropped. Zero-width joiners/spaces are handled by _ZERO_WIDTH_RE.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FORMAT_RE = re.compile(
    "[\u0600-\u0605\u061c\u06dd\u070f\u180e\u200e\u200f\u202a-\u202e\u2061-\u2064\u2066-\u206f"
    "\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f]"
)
_ZWNJ_RUN_RE = re.compile(ZWNJ + "+")
_ZERO_WIDTH_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]+")
# Harakat, tanwin, superscript alef and Quranic marks: the set hazm strips, removed before hazm
# runs because hazm strips most of them only after fixing spacing, which leaves stray spaces
# that a second pass would move (normalize would not be idempotent).
_ARABIC_MARKS_RE = re.compile("[\u0610-\u061a\u061e\u064b-\u065f\u0670\u06d6-\u06ed\u06fd\u06fe\u08d3-\u08ff]")

# Applied before hazm, after the digits are ASCII: hazm's tokenizer would otherwise split
# "۱۰۰٬۰۰۰" into "100 ٬ 000" and "۳٫۵" into "3 ٫ 5", so "100000" and "3.5" would never match.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٪\u06d4", "01234567890123456789%.")
_DECIMAL_SEP_RE = re.compile("(?<=[0-9])\u066b(?=[0-9])")
# "," only counts as a thousands separator before exactly three digits, so "1,2" stays a list.
_THOUSANDS_SEP_RE = re.compile("(?<=[0-9])(?:\u066c|,(?=[0-9]{3}(?![0-9])))")

# Hamza carriers, teh marbuta and heh-with-yeh are folded because Persian users type them
# inconsistently: «تأیید»/«تایید», «مؤسسه»/«موسسه», «خانۀ»/«خانه», «مدرسة»/«مدرسه». hazm 0.9.3
# maps ي/ى/ك but leaves ة and ۀ alone. Folded before hazm: folding after it would make letters
# its affix rules then see only on a second pass, so normalize() would not be idempotent.
_FOLD = str.maketrans("أإٱؤئةۀيىك", "اااویههییک")
# «آ» is folded only in lexical tokens (after the stopword check): in normalize() it would turn
# «آش» into the suffix «اش» and «آید» into «اید», which hazm's affix rules then glue on.
_MADDA_FOLD = str.maketrans("آ", "ا")


@lru_cache(maxsize=1)
def _hazm_normalizer():
    """Return hazm's normaliser, built once on first use (it loads hazm's lexicons)."""
    from hazm import Normalizer  # noqa: PLC0415 - keep `import indexer.textnorm` cheap

    # persian_numbers=False keeps ASCII digits (the default turns "24" into "۲۴").
    # persian_style=False keeps "3.5" (the default rewrites it to "3٫5") and ASCII quotes.
    return Normalizer(persian_numbers=False, persian_style=False)


def _scrub(text: str) -> str:
    """Remove control, format and unpaired surrogate characters; keep ZWNJ where it means something."""
    text = _CONTROL_RE.sub(" ", text)
    text = _FORMAT_RE.sub("", text)
    return _ZERO_WIDTH_RE.sub(_zero_width_replacement, text)


def _zero_width_replacement(match: re.Match[str]) -> str:
    """Turn a run of zero-width characters into a ZWNJ between Arabic-script letters, else a break or nothing."""
    text, start, end = match.string, match.start(), match.end()
    # Some keyboards and editors put ZWJ, ZWSP or a soft hyphen where a ZWNJ belongs.
    between_letters = (
        start > 0 and end < len(text) and _is_arabic_letter(text[start - 1]) and _is_arabic_letter(text[end])
    )
    if between_letters or ZWNJ in match.group():
        return ZWNJ  # _tidy_zwnj() later drops it where it joins nothing
    # A zero-width space marks a word break; the joiners, BOM and soft hyphen mark none.
    return " " if "\u200b" in match.group() else ""


def _tidy_zwnj(text: str) -> str:
    """Keep one ZWNJ where it joins two letters; elsewhere it is noise (a space between a letter and a digit)."""
    if ZWNJ not in text:
        return text
    return _ZWNJ_RUN_RE.sub(_zwnj_replacement, text)


def _zwnj_replacement(match: re.Match[str]) -> str:
    """Return the replacement for one run of ZWNJs (see :func:`_tidy_zwnj`)."""
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isalpha() and after.isalpha():
        return ZWNJ
    # hazm would put a space between a digit and a Persian letter anyway («۲۴‌ساعته» → «24 ساعته»).
    return " " if before.isalnum() and after.isalnum() else ""


def _is_arabic_letter(char: str) -> bool:
    """Return whether ``char`` is a letter of the Arabic script (Persian letters included)."""
    code = ord(char)
    in_block = (
        0x0600 <= code <= 0x06FF
        or 0x0750 <= code <= 0x077F
        or 0x08A0 <= code <= 0x08FF
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
    )
    # Tatweel is "alphabetic" to Unicode but is only a stretching stroke.
    return in_block and code != 0x0640 and char.isalpha()


def _is_latin_letter(char: str) -> bool:
    """Return whether ``char`` is a letter of the Latin script (full-width forms included)."""
    code = ord(char)
    in_block = (
        code < 0x0250
        or 0x1E00 <= code <= 0x1EFF
        or 0x2C60 <= code <= 0x2C7F
        or 0xA720 <= code <= 0xA7FF
        or 0xFF21 <= code <= 0xFF5A
    )
    return in_block and char.isalpha()


def _hazm_normalize(text: str) -> str:
    """Run hazm's normaliser, falling back to the input if hazm fails on it."""
    try:
        normalizer = _hazm_normalizer()
        # hazm shortens letter runs («سلاممم») only after fixing spacing, so its affix rules would
        # see the shortened word only on a second pass; shortening first keeps normalize idempotent.
        return normalizer.normalize(normalizer.decrease_repeated_chars(text))
    except Exception as exc:  # noqa: BLE001 - normalize() must never raise on customer text
        # The message itself is customer text: log only its size and the error type.
        logger.warning(
            "hazm could not normalise a %d-character text (%s); using it as is", len(text), type(exc).__name__
        )
        return text


# One chat turn normalises the same message in several places (cues, person requests, sentiment
# signals, lexical tokens, classifier n-grams); the function is pure, so repeats are cached.
@lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Return the canonical form of ``text`` for lexical indexing and query matching.

    Steps, in order: control/format characters and lone surrogates removed; Unicode NFKC
    (presentation forms such as «ﻻ» «ﯾ», full-width «ＡＢＣ», ligatures); Persian and
    Arabic-Indic digits to ASCII, with Arabic decimal and thousands separators resolved
    («۱۰۰٬۰۰۰» → ``100000``, «۳٫۵» → ``3.5``); hazm's normaliser (ي→ی, ك→ک, diacritics and
    tatweel removed, affixes joined with ZWNJ: «می خواهم» and «میخواهم» → «می‌خواهم»,
    «کتاب ها» → «کتاب‌ها»); hamza carriers, «ة» and «ۀ» folded; stray ZWNJs dropped;
    case folded; whitespace collapsed to single spaces and stripped.

    The output is for matching, not display. It never raises on a ``str``.
    """
    text = _scrub(text)
    # NFKC is safe for Persian: it only rewrites compatibility characters (presentation forms,
    # full-width and ligature forms, «﷼» → «ریال»); base Arabic letters, ZWNJ and the Arabic
    # digits are unchanged, and it composes a decomposed «آ» that hazm would otherwise strip.
    text = unicodedata.normalize("NFKC", text)
    text = _ARABIC_MARKS_RE.sub("", text)
    text = text.translate(_FOLD).translate(_DIGITS)
    text = _DECIMAL_SEP_RE.sub(".", text)
    text = _THOUSANDS_SEP_RE.sub("", text)
    # Tidy ZWNJs before hazm too: hazm's spacing rules treat a stray ZWNJ as a word character.
    text = " ".join(_tidy_zwnj(text).split())
    if not text:
        return ""
    text = _hazm_normalize(text)
    text = _tidy_zwnj(text)
    # casefold() folds Cherokee to its capitals; lower() after it keeps every term lower-case.
    return " ".join(text.casefold().lower().split())


# --- lexical tokens -----------------------------------------------------------------------

# A token is a run of letters/digits, ZWNJ-joined parts kept together, or a decimal number.
_TOKEN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)+|[^\W_]+(?:\u200c[^\W_]+)*")

# Affixes that appear as ZWNJ-separated parts («می‌خواهم», «کتاب‌ها», «خانه‌اش»); alone they carry
# no meaning for retrieval.
_PERSIAN_AFFIXES = "می نمی ها های هایی هایم هایت هایش هایمان هایتان هایشان ای ام ات اش ایم اید اند تر ترین گر"
_PERSIAN_STOPWORDS = (
    "و در به از که این آن را رو با برای است هست نیست بود شد شده شود می‌شود نمی‌شود باشد باشم بودم بوده "
    "هستم هستند هستید کرد کردم کرده کردن کند کنم کنید کنند کنیم کنه می‌کنم می‌کند می‌کنید دارم دارد دارید "
    "داره داشتم خواهم خواهد می‌خواهم می‌خوام باید نباید یک یه تا هم بر یا اما ولی اگر چه چی چرا چطور "
    "چطوری چگونه کجا کجاست کی من تو او ما شما آنها آن‌ها ایشان این‌ها اینها خود خودم خودش خودتان "
    "دیگر همه هر هیچ چند چون پس نه همین همان یعنی حتی فقط خیلی بسیار روی توی بین درباره مورد "
    "آیا"
)
_ENGLISH_STOPWORDS = (
    "i me my myself we our ours you your yours he him his she her it its they them their "
    "what which who whom this that these those am is are was were be been being have has had having "
    "do does did doing a an the and but if or because as until while of at by for with about into "
    "to from in on then once here there when where why how all any both each few more most other "
    "some such no nor not only own same so than too very can will just should now "
    "s t d ll m o re ve y don didn doesn isn aren wasn weren won wouldn couldn shouldn haven hasn hadn"
)
_STOPWORD_LIST = f"{_PERSIAN_AFFIXES} {_PERSIAN_STOPWORDS} {_ENGLISH_STOPWORDS}".split()
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_LIST) | {word.translate(_MADDA_FOLD) for word in _STOPWORD_LIST}
"""Words dropped by :func:`lexical_tokens`, in normalised spelling, with and without «آ»."""

# Possessive, plural and comparative endings, longest first. A stem is used only when it is a
# word in hazm's lexicon and the surface form is not, so «کارت» (card) never becomes «کار»
# (work) and «تومان» never becomes «توم»; hazm's own Stemmer strips blindly and does both.
_PERSIAN_SUFFIXES = tuple(
    sorted(
        "هایمان هایتان هایشان هایم هایت هایش هایی های ها ترین تر مان تان شان ام ات اش ان یی م ت ش ی".split(),
        key=len,
        reverse=True,
    )
)


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Return hazm's word list in normalised spelling (loaded once)."""
    from hazm import words_list  # noqa: PLC0415 - keep `import indexer.textnorm` cheap

    return frozenset(word.translate(_FOLD).translate(_MADDA_FOLD) for word, _count, _tags in words_list())


def _light_stem(token: str) -> str:
    """Strip one Persian suffix when that turns an unknown word into a known one, else return ``token``."""
    if len(token) < 3 or not _is_arabic_letter(token[0]):
        return token
    lexicon = _lexicon()
    if token in lexicon:
        return token
    for suffix in _PERSIAN_SUFFIXES:
        if token.endswith(suffix):
            stem = token[: -len(suffix)].rstrip(ZWNJ)
            if len(stem) >= 2 and stem in lexicon:
                return stem
    return token


def lexical_tokens(text: str) -> list[str]:
    """Return the BM25 terms of ``text``: normalised words, their ZWNJ parts and light stems, minus stopwords.

    For each word the surface form comes first; a ZWNJ compound is followed by its parts
    («کتاب‌ها» → «کتاب‌ها», «کتاب»), and an inflected Persian word by its stem when the stem is
    in hazm's lexicon («سفارشم» → «سفارشم», «سفارش»). «آ» is written «ا» in every term, since
    users often type it without the madda («اموزش»). Each term is emitted at most once per
    word, so term frequencies still count words. Decimal numbers stay whole (``3.5``).
    """
    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(normalize(text)):
        word = match.group()
        if word in STOPWORDS:
            continue
        # Parts as well as the compound: the same compound is written with ZWNJ, a space or
        # nothing, and the head noun alone («کتاب») should find «کتاب‌ها». The whole compound is
        # kept too, so an exact compound match still scores above a partial one.
        candidates = [word, *word.split(ZWNJ)] if ZWNJ in word else [word]
        seen: set[str] = set()
        for candidate in candidates:
            # Stopwords are checked before the madda fold, so «آش» (a dish) survives as «اش»
            # while the suffix «اش» is dropped.
            if candidate in STOPWORDS:
                continue
            term = candidate.translate(_MADDA_FOLD)
            stem = _light_stem(term)
            for new in (term, stem) if stem not in STOPWORDS else (term,):
                if new not in seen:
                    seen.add(new)
                    tokens.append(new)
    return tokens


# --- language -----------------------------------------------------------------------------

# Tokens that are not words of a language: links, e-mail addresses, @handles and #tags, and codes that mix
# letters with digits (order and ticket ids such as ORD-12345, models such as S24 or A54, "5G").
# A Persian customer pastes a shop link or an order id as often as an English one does.
_NOT_LANGUAGE_RE = re.compile(
    r"(?:https?|ftp)://\S+|www\.\S+"
    r"|[^\s@]+@[^\s@]+\.[^\s@]+"
    r"|[@#]\w+"
    r"|\b(?:[A-Za-z\d-]+\.)+(?:com|org|net|ir|io|co|info|biz|app|dev|shop|example)\b(?:/\S*)?"
    r"|[A-Za-z\d_/#-]*\d[A-Za-z\d_/#-]*",
    re.IGNORECASE,
)
# A word: letters, with apostrophes ("can't") or ZWNJs («می‌خوام») inside it.
_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019\u200c][^\W\d_]+)*")
# English grammar words: a Latin word among these means the Latin words form an English sentence,
# not a brand or a term inside Persian text. One-letter words other than "i" are left out
# («سایز m»), and so are content words Persian speakers mix in ("order", "cancel", "refund").
_ENGLISH_GRAMMAR = frozenset(
    [w for w in _ENGLISH_STOPWORDS.split() if len(w) > 1]
    + "i please pls thanks thank hi hello hey dear could would may might must".split()
)


def detect_lang(text: str) -> str:
    """Return ``"fa"``, ``"en"`` or ``"und"``: the language of the words of ``text`` that are language.

    Links, e-mail addresses, @handles and codes mixing letters and digits (``ORD-12345``, ``S24``)
    are not words of a language and are skipped. Latin words that read as Finglish (Persian typed
    in Latin letters, :func:`indexer.transliteration.is_finglish`) count as Persian. When a
    message mixes Arabic-script and Latin words, the language whose grammar words it uses wins:
    Latin words inside a Persian sentence are product names or terms («گوشی Samsung Galaxy رو
    می‌خوام»), Persian words inside an English sentence are names or places ("my name is علی").
    With grammar words of both languages the larger count of letters wins, a tie going to
    ``"fa"`` (the product is Persian-first); with neither, the Latin words are names inside
    Persian text. Arabic-script letters count as Persian (Pasokh serves no Arabic). A text with
    no word of either script is ``"und"``. Works on one-word messages; no model.
    """
    # A chat turn asks about the same message in several places; texts up to a chat message's
    # length are remembered, longer ones (article bodies at index time) are not kept.
    return _detect_lang_cached(text) if len(text) <= _REMEMBERED_CHARS else _detect_lang(text)


_REMEMBERED_CHARS = 4000


def without_non_language(text: str) -> str:
    """Return ``text`` with links, e-mail addresses, @handles, #tags and letter-digit codes replaced by spaces."""
    return _NOT_LANGUAGE_RE.sub(" ", text)


def language_words(text: str) -> list[str]:
    """Return the words of ``text`` that belong to a language, in order (see :func:`detect_lang`)."""
    return _WORD_RE.findall(without_non_language(text))


def _detect_lang(text: str) -> str:
    """Compute :func:`detect_lang` (uncached)."""
    # Deferred: indexer.transliteration imports this module (ZWNJ, without_non_language).
    from indexer.transliteration import is_finglish  # noqa: PLC0415

    arabic = latin = 0
    arabic_grammar = latin_grammar = False
    latin_words = []
    for word in language_words(text):
        arabic_letters = sum(1 for char in word if _is_arabic_letter(char))
        latin_letters = sum(1 for char in word if _is_latin_letter(char))
        arabic += arabic_letters
        latin += latin_letters
        if latin_letters and not arabic_letters:
            latin_words.append(word)
            latin_grammar = latin_grammar or _is_english_grammar(word)
        elif arabic_letters and not latin_letters:
            arabic_grammar = arabic_grammar or _is_persian_grammar(word)
    if latin and is_finglish(" ".join(latin_words)):
        # Persian in Latin letters: the customer reads Persian.
        arabic, latin, latin_grammar = arabic + latin, 0, False
    if arabic == 0 and latin == 0:
        return "und"
    if arabic and latin:
        if latin_grammar != arabic_grammar:
            return "en" if latin_grammar else "fa"
        if not latin_grammar:
            return "fa"  # Latin names or terms inside Persian text
    return "fa" if arabic >= latin else "en"


def _is_english_grammar(word: str) -> bool:
    """Return whether a Latin ``word`` is an English function word ("the", "can't", "please")."""
    return unicodedata.normalize("NFKC", word).casefold().replace("\u2019", "'").split("'")[0] in _ENGLISH_GRAMMAR


def _is_persian_grammar(word: str) -> bool:
    """Return whether an Arabic-script ``word`` is, or carries, a Persian function word or affix.

    «از», «رو», «آیا», «می‌خوام» (the verb prefix), «کتاب‌ها» (the plural suffix) count; «علی» does not.
    """
    word = unicodedata.normalize("NFKC", word).translate(_FOLD)
    # STOPWORDS holds the affixes as well («می», «ها», «ام»), so each ZWNJ part is looked up too.
    return word in STOPWORDS or any(part in STOPWORDS for part in word.split(ZWNJ))


_detect_lang_cached = lru_cache(maxsize=256)(_detect_lang)


# --- sentences ----------------------------------------------------------------------------

# A run of sentence-final marks plus any closing quotes or brackets that belong to it.
_SENTENCE_END_RE = re.compile("[.!?\u061f\u2026]+[\"'\u201d\u2019\u00bb)\\]}]*")
_CLOSERS = "\"'\u201d\u2019\u00bb)]}"
# A period after these does not end a sentence. "etc." and "No." are left out: they end
# sentences about as often as not.
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "cf", "approx", "fig"})
_WORD_BEFORE_RE = re.compile(r"[A-Za-z][A-Za-z.]*$")
_INITIALS_RE = re.compile(r"(?:[A-Za-z]\.)*[A-Za-z]")  # "e.g", "i.e", "U.S", "J"
_LIST_NUMBER_RE = re.compile(r"\s*\d{1,3}")  # "1." opening a numbered-list line


def _ends_sentence(line: str, match: re.Match[str]) -> bool:
    """Return whether the punctuation run ``match`` in ``line`` closes a sentence."""
    marks = match.group().rstrip(_CLOSERS)
    after = line[match.end()] if match.end() < len(line) else ""
    if after and not after.isspace():
        # Persian is often typed with no space after the mark («سلام.خوبی؟»); a Latin letter or
        # digit right after a period is a URL, decimal or abbreviation ("3.5", "site.com", "e.g").
        return _is_arabic_letter(after) or "\u061f" in marks
    if marks == ".":
        start = match.start()
        # Abbreviations are short: look only at the tail so long lines stay linear.
        word = _WORD_BEFORE_RE.search(line, max(0, start - 32), start)
        if word and (word.group().lower() in _ABBREVIATIONS or _INITIALS_RE.fullmatch(word.group())):
            return False
        if _LIST_NUMBER_RE.fullmatch(line, 0, start):
            return False
    return True


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences at ``.``, ``!``, ``?``, ``؟``, ``…`` and line breaks.

    Each sentence is a slice of the input with only its surrounding whitespace stripped, so
    no other character is lost or changed. A period does not split decimals ("3.5"), URLs,
    dotted abbreviations ("e.g.", "U.S."), titles ("Mr.", "Dr.") or list numbers ("1. ").
    «؛» does not split: it joins clauses of one sentence. Empty pieces are dropped.
    """
    sentences: list[str] = []
    for line in text.splitlines():
        start = 0
        for match in _SENTENCE_END_RE.finditer(line):
            if _ends_sentence(line, match):
                sentences.append(line[start : match.end()])
                start = match.end()
        sentences.append(line[start:])
    return [sentence.strip() for sentence in sentences if sentence.strip()]
