"""Suggested replies for human agents: drafts grounded in the KB (with citations) and in saved replies.

When a conversation is with a person, the agent gets 1-3 drafts in the customer's language. The
first is complete: a greeting by name, an apology only when the customer is upset (and only for
what we control: the trouble with their order or refund, and the wait), the KB passages that
answer every question the customer asked since an agent last wrote, each article's passages
followed by its source (title, then the URL on a line of its own), an honest holding line for a
question the KB cannot answer confidently, and a short closing. A passage is quoted once: quotes of
one section are merged and a quote already contained in another is left out (``bot/citing.py``),
so two questions answered by the same list do not get the list twice. A second, concise draft
keeps the first sentence of each passage. Saved replies close to the customer's questions fill the
remaining places. Every fact in a draft is quoted from the KB or the saved reply; the only words
of our own are the greeting, apology, holding line and closing below.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import takewhile

import numpy as np

from bot import replies
from bot.answer import section_label
from bot.citing import Passage, merge_by_section, read_passage, source_lines, unrepeated
from bot.cues import small_talk
from bot.questions import split_questions
from bot.sentiment import chat_signals
from bot.service import LANGS, ChatService
from bot.storage import Conversation, SavedReply, Turn
from indexer.retrieval import Hit
from indexer.textnorm import detect_lang, lexical_tokens, normalize, split_sentences

logger = logging.getLogger(__name__)

MAX_DRAFTS = 3
MAX_QUESTIONS = 8
"""Questions considered per suggestion: the most recent ones when a customer wrote many messages."""
# A saved reply is offered when it is about as close to a question as the KB's best section is: its
# cosine must reach FLOOR_SHARE of the way from the question's 90th-percentile section to its best
# section. Measured against the loaded index, the floor works for any model, whereas raw cosines
# of e5 (all above 0.7) and of the test embedder (around 0) have nothing in common. Chosen on
# hand-labelled question/saved-reply pairs in both languages with multilingual-e5-small: it keeps
# paraphrases ("money back" for a refund reply) and drops replies on nearby topics.
FLOOR_QUANTILE = 0.9
FLOOR_SHARE = 0.6
# Lexical overlap only breaks near-ties between saved replies; the same language wins over it.
LEXICAL_WEIGHT = 0.02
SAME_LANGUAGE_BONUS = 0.03
# Short messages lean on the previous question ("and to Shiraz?"), as in the chat service.
_FOLLOW_UP_MAX_TERMS = 4
_QUOTE_MAX_CHARS = 80
_CACHE_SIZE = 4096
# The concise draft is offered only when it saves at least this share of the answers' length.
_CONCISE_MIN_SAVING = 0.2

_SENTENCES: dict[str, dict[str, str]] = {
    "greeting_named": {"en": "Hi {name},", "fa": "{name} عزیز، سلام."},
    "greeting": {"en": "Hello,", "fa": "سلام، وقتتان بخیر."},
    "apology_refund": {
        "en": "I'm sorry for the trouble with your refund and for keeping you waiting.",
        "fa": "بابت مشکلی که در بازگشت وجه پیش آمده و اینکه مجبور شدید منتظر بمانید، عذرخواهی می‌کنم.",
    },
    "apology_order": {
        "en": "I'm sorry for the trouble with your order and for keeping you waiting.",
        "fa": "بابت مشکلی که در سفارشتان پیش آمده و اینکه مجبور شدید منتظر بمانید، عذرخواهی می‌کنم.",
    },
    "apology": {
        "en": "I'm sorry for the trouble this has caused and for keeping you waiting.",
        "fa": "بابت این مشکل و اینکه مجبور شدید منتظر بمانید، عذرخواهی می‌کنم.",
    },
    "holding": {
        "en": "I'm checking on “{question}” and will get back to you as soon as I have the answer.",
        "fa": "موضوع «{question}» را بررسی می‌کنم و به‌محض اینکه پاسخ دقیق را پیدا کنم، به شما خبر می‌دهم.",
    },
    "closing": {"en": "Is there anything else I can help with?", "fa": "اگر سؤال دیگری دارید، در خدمتم."},
    "open": {"en": "How can I help you today?", "fa": "چطور می‌توانم کمکتان کنم؟"},
}

_CLAUSE_END = re.compile(r"[.,!?;:\n،؛؟]")
_GREETING_WORDS = frozenset({"hi", "hello", "hey", "dear", "greetings", "سلام", "درود"})
_REFUND = re.compile(
    r"\b(?:refund\w*|money back|reimburs\w*|repay\w*)\b|بازگشت وجه|برگشت وجه|استرداد|پولم|پول من|"
    r"پول برگشتی|برگشت پول|بازگشت پول|عودت"
)
_ORDER = re.compile(
    r"\b(?:orders?|deliver\w*|parcel|package|shipping|shipment|courier|item|purchase)\b|"
    r"سفارش|ارسال|بسته|مرسوله|پیک|تحویل|خرید|کالا"
)


def _say(key: str, lang: str, **values: str) -> str:
    """Return one of the drafts' own sentences in ``lang`` (Persian for anything but English)."""
    return _SENTENCES[key]["en" if lang == "en" else "fa"].format(**values)


@dataclass(frozen=True)
class Citation:
    """The KB article (and version) a draft quotes."""

    article_id: str
    title: str
    section: str
    url: str | None
    version: str | None

    def to_json(self) -> dict:
        """Return the citation as in ``POST /v1/suggest``."""
        return {
            "article_id": self.article_id,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "version": self.version,
        }


@dataclass(frozen=True)
class Draft:
    """One reply an agent can send as is or edit; ``kind`` is ``"kb"`` or ``"saved"``."""

    text: str
    kind: str
    citations: tuple[Citation, ...] = ()
    saved_reply_id: int | None = None

    def to_json(self) -> dict:
        """Return the draft as in ``POST /v1/suggest``."""
        return {
            "text": self.text,
            "kind": self.kind,
            "citations": [c.to_json() for c in self.citations],
            "saved_reply_id": self.saved_reply_id,
        }


@dataclass(frozen=True)
class QuestionCoverage:
    """One question the customer asked and whether the KB drafts answer it (and from which article)."""

    text: str
    answered: bool
    article_id: str | None

    def to_json(self) -> dict:
        """Return the question as in ``POST /v1/suggest``."""
        return {"text": self.text, "answered": self.answered, "article_id": self.article_id}


@dataclass(frozen=True)
class Suggestions:
    """Everything ``POST /v1/suggest`` returns."""

    session_id: str
    lang: str
    questions: tuple[QuestionCoverage, ...]
    drafts: tuple[Draft, ...]

    def to_json(self) -> dict:
        """Return the suggestions object of the HTTP contract."""
        return {
            "session_id": self.session_id,
            "lang": self.lang,
            "questions": [q.to_json() for q in self.questions],
            "drafts": [d.to_json() for d in self.drafts],
        }


@dataclass(frozen=True)
class _Block:
    """One paragraph of the KB drafts: an article's quoted passages with their source, or a holding line."""

    note: str  # the holding line when ``hit`` is None; else the other-language note, or ''
    passages: tuple[str, ...] = ()
    hit: Hit | None = None
    citation: Citation | None = None


class ReplySuggester:
    """Drafts replies for agents from the chat service's index, embedder and threshold.

    Cheap to build; holds only a bounded cache of saved-reply vectors, so one instance can serve
    every request of a process.
    """

    def __init__(self, service: ChatService) -> None:
        """Answer through ``service`` (its matcher, embedder and confidence threshold)."""
        self.service = service
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._sections: tuple[object, np.ndarray] | None = None

    # --- suggestions ---------------------------------------------------------------------

    def suggest(
        self, conversation: Conversation, *, customer_name: str | None = None, saved: Sequence[SavedReply] = ()
    ) -> Suggestions:
        """Return 1-3 drafts answering the customer's messages since an agent last wrote."""
        lang = conversation.lang if conversation.lang in LANGS else "fa"
        name = _clean_name(customer_name) or _clean_name(conversation.customer_name)
        pending, earlier = _pending_turns(conversation.turns)
        upset = any(_upset(turn) for turn in pending)
        messages = [t.text for t in pending if not small_talk(t.text)]
        previous = next((t.text for t in reversed(earlier) if not small_talk(t.text)), None)
        questions = _questions(messages)
        vectors = self._embed_queries(questions)
        coverage, blocks, kept = self._cover(questions, vectors, previous, lang)
        questions, vectors = [questions[i] for i in kept], vectors[kept]

        opening = _say("greeting_named", lang, name=name) if name else _say("greeting", lang)
        apology = _say(_apology_key(messages), lang) if upset else ""
        closing = _say("closing", lang) if questions else _say("open", lang)
        citations = tuple(b.citation for b in blocks if b.citation is not None)
        full = _text(opening, apology, *(_block_text(b, lang, concise=False) for b in blocks), closing)
        drafts = [Draft(full, "kb", citations)]
        if any(b.hit is not None for b in blocks):
            long_body = sum(len(_block_text(b, lang, concise=False)) for b in blocks)
            short_body = sum(len(_block_text(b, lang, concise=True)) for b in blocks)
            if short_body <= (1 - _CONCISE_MIN_SAVING) * long_body:
                concise = _text(opening, apology, *(_block_text(b, lang, concise=True) for b in blocks), closing)
                drafts.append(Draft(concise, "kb", citations))
        if questions and saved:
            same = [r for r in saved if r.lang == lang]  # a draft is always in the customer's language
            for reply in self._rank(questions, vectors, same, lang)[: MAX_DRAFTS - len(drafts)]:
                body = reply.text.strip()
                greet = "" if _greets(body) else opening
                drafts.append(Draft(_text(greet, apology, body, closing), "saved", saved_reply_id=reply.id))
        logger.debug(
            "suggested %d drafts for %s: %d questions, %d answered",
            len(drafts),
            conversation.id,
            len(coverage),
            sum(q.answered for q in coverage),
        )
        return Suggestions(conversation.id, lang, tuple(coverage), tuple(drafts[:MAX_DRAFTS]))

    def _cover(
        self, questions: list[str], vectors: np.ndarray, previous: str | None, lang: str
    ) -> tuple[list[QuestionCoverage], list[_Block], list[int]]:
        """Match every question; group answered ones by article and give the rest a holding line.

        Also return the positions of the questions kept: an outburst the KB cannot answer ("This is
        the third time I'm writing!!!") is not a question, and the apology already answers it.
        """
        matcher = self.service.matcher
        threshold = self.service.threshold
        coverage: list[QuestionCoverage] = []
        # article id -> (question, text it was matched on, that text's vector)
        grouped: dict[str, list[tuple[str, str, np.ndarray]]] = {}
        hits: dict[str, Hit] = {}
        order: list[str | tuple[str]] = []  # article ids and, as 1-tuples, unanswered questions
        kept: list[int] = []
        for i, question in enumerate(questions):
            query, vector = question, vectors[i]
            match = matcher.match(query, vector)
            before = questions[i - 1] if i > 0 else previous
            # Only a short question the KB cannot answer alone borrows the previous one's topic:
            # "how do I reset my password?" is short too, but a new subject.
            short = len(lexical_tokens(question)) <= _FOLLOW_UP_MAX_TERMS
            if before and short and match.confidence < threshold:
                combined = f"{before} {question}"
                combined_vector = self._embed_queries([combined])[0]
                follow = matcher.match(combined, combined_vector)
                if follow.confidence > match.confidence:
                    query, vector, match = combined, combined_vector, follow
            if match.hit is None or match.confidence < threshold:
                if _outburst(question):
                    continue
                kept.append(i)
                coverage.append(QuestionCoverage(question, False, None))
                order.append((question,))
                continue
            article_id = match.hit.article.id
            kept.append(i)
            coverage.append(QuestionCoverage(question, True, article_id))
            if article_id not in grouped:
                grouped[article_id], hits[article_id] = [], match.hit
                order.append(article_id)
            grouped[article_id].append((question, query, vector))
        blocks = []
        for item in order:
            if isinstance(item, tuple):
                blocks.append(_Block(_say("holding", lang, question=_quote(item[0]))))
            else:
                blocks.append(self._answer(hits[item], grouped[item], lang))
        # A passage another article's block already quotes (KBs repeat themselves) is not quoted again.
        answered = [b for b in blocks if b.hit is not None]
        kept_passages = iter(unrepeated([b.passages for b in answered]))
        blocks = [replace(b, passages=tuple(next(kept_passages))) if b.hit is not None else b for b in blocks]
        blocks = [b for b in blocks if b.hit is None or b.passages]
        return coverage, blocks, kept

    def _answer(self, hit: Hit, asked: list[tuple[str, str, np.ndarray]], lang: str) -> _Block:
        """Quote the part of the article that answers each question, each part once, and cite it."""
        quoted: list[Passage] = []
        for question, query, vector in asked:
            focus = question if query != question else None
            text, section = self.service.quote(hit, query, focus=focus, vector=vector)
            if text:
                quoted.append(read_passage(text, section))
        # Two questions answered from one section share one passage: the union of what each needs.
        passages = merge_by_section(quoted)
        note = ""
        if hit.article.lang != lang and hit.article.lang in LANGS:
            note = replies.text(f"other_language_{hit.article.lang}", lang)
        meta = self.service.matcher.searcher.index.manifest.articles.get(hit.article.id, {})
        # The section cited is the one quoted (the first, when several questions share the article).
        cited = replace(hit, section=passages[0].section) if passages else hit
        citation = Citation(
            hit.article.id, hit.article.title, section_label(cited), hit.article.url, meta.get("version")
        )
        return _Block(note, tuple(p.text for p in passages), hit, citation)

    # --- saved replies -------------------------------------------------------------------

    def search_saved(
        self, query: str, saved: Sequence[SavedReply], *, lang: str | None = None, k: int = 10
    ) -> list[SavedReply]:
        """Return up to ``k`` saved replies relevant to an agent's ``query``, best first.

        With ``lang`` only replies in that language are returned; without it, replies in the
        query's language rank first among equals. An empty query lists the replies in the order given.
        """
        pool = [r for r in saved if lang is None or r.lang == lang]
        if k <= 0:
            return []
        if not query.strip():
            return pool[:k]
        vectors = self._embed_queries([query])
        prefer = lang or detect_lang(query)
        # An agent's one-word query ("refund") is met by any reply containing the word.
        return self._rank([query], vectors, pool, prefer, lexical_terms=1)[:k]

    def _rank(
        self,
        questions: list[str],
        vectors: np.ndarray,
        pool: Sequence[SavedReply],
        lang: str,
        *,
        lexical_terms: int = 2,
    ) -> list[SavedReply]:
        """Return the saved replies relevant to any of the questions, most relevant first.

        A reply is relevant to a question when its embedding similarity reaches the question's
        floor, or when it contains every term of a question of at least ``lexical_terms`` terms.
        """
        if not pool or not questions:
            return []
        reply_vectors = self._saved_vectors(pool)
        similarity = vectors @ reply_vectors.T  # (questions, replies) cosines: both sides are unit vectors
        floors = [self._floor(v) for v in vectors]
        terms = [set(lexical_tokens(q)) for q in questions]
        scored: list[tuple[float, int]] = []
        for j, reply in enumerate(pool):
            words = set(lexical_tokens(f"{reply.title}\n{reply.text}"))
            best = None
            for i in range(len(questions)):
                overlap = len(terms[i] & words) / len(terms[i]) if terms[i] else 0.0
                spelled_out = overlap == 1.0 and len(terms[i]) >= lexical_terms
                if similarity[i, j] < floors[i] and not spelled_out:
                    continue
                value = float(similarity[i, j]) + LEXICAL_WEIGHT * overlap
                best = value if best is None else max(best, value)
            if best is not None:
                scored.append((best + (SAME_LANGUAGE_BONUS if reply.lang == lang else 0.0), j))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [pool[j] for _, j in scored]

    def _floor(self, vector: np.ndarray) -> float:
        """Return the similarity a saved reply needs to count as relevant to the question embedded as ``vector``."""
        sections = self._section_vectors()
        if len(sections) == 0:
            return float("inf")  # nothing to compare with: only a full lexical match counts
        scores = sections @ vector
        typical = float(np.quantile(scores, FLOOR_QUANTILE))
        return typical + FLOOR_SHARE * (float(scores.max()) - typical)

    def _section_vectors(self) -> np.ndarray:
        """Return the index's section vectors (not its example questions), cached per loaded index."""
        index = self.service.matcher.searcher.index
        cached = self._sections
        if cached is None or cached[0] is not index:
            rows = [i for i, key in enumerate(index.keys) if key.kind == "section"]
            cached = (index, index.vectors[rows] if rows else np.zeros((0, index.vectors.shape[-1]), np.float32))
            self._sections = cached
        return cached[1]

    def _saved_vectors(self, pool: Sequence[SavedReply]) -> np.ndarray:
        """Embed saved replies (title and text) as passages, reusing vectors of unchanged ones."""
        model = self.service.embedder.name
        texts = [f"{r.title}\n{r.text}" for r in pool]
        keys = [(model, hashlib.sha256(t.encode("utf-8")).hexdigest()) for t in texts]
        found: dict[tuple[str, str], np.ndarray] = {}
        with self._lock:
            for key in keys:
                if key in self._vectors:
                    self._vectors.move_to_end(key)
                    found[key] = self._vectors[key]
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = self.service.embedder.embed_passages([texts[i] for i in missing])
            with self._lock:
                for i, vector in zip(missing, fresh, strict=True):
                    found[keys[i]] = self._vectors[keys[i]] = _unit(vector)
                while len(self._vectors) > _CACHE_SIZE:
                    self._vectors.popitem(last=False)
        return np.vstack([found[key] for key in keys])

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions as unit vectors (an empty list gives an empty matrix)."""
        if not texts:
            return np.zeros((0, self.service.embedder.dim), dtype=np.float32)
        return np.vstack([_unit(v) for v in self.service.embedder.embed_queries(texts)])


# --- helpers ----------------------------------------------------------------------------------


def _pending_turns(turns: Sequence[Turn]) -> tuple[list[Turn], list[Turn]]:
    """Split customer turns into those after the last agent turn and those before it."""
    last_agent = max((i for i, t in enumerate(turns) if t.role == "agent"), default=-1)
    pending = [t for t in turns[last_agent + 1 :] if t.role == "customer"]
    earlier = [t for t in turns[: last_agent + 1] if t.role == "customer"]
    return pending, earlier


def _upset(turn: Turn) -> bool:
    """Return whether the stored sentiment of a customer turn is angry or negative."""
    mood = (turn.details or {}).get("sentiment") or {}
    return bool(mood.get("angry")) or mood.get("label") in ("angry", "negative")


def _questions(messages: Sequence[str]) -> list[str]:
    """Return every question of the messages, once each, the most recent :data:`MAX_QUESTIONS` in order."""
    out: list[str] = []
    seen: set[str] = set()
    for message in messages:
        for question in split_questions(message, context=False):
            key = " ".join(normalize(question).lower().split()).rstrip("?؟.! ")
            if key and key not in seen:
                seen.add(key)
                out.append(question)
    return out[-MAX_QUESTIONS:]


def _greets(text: str) -> bool:
    """Return whether a saved reply already opens with a greeting ("Hello!", "Hi Sara,", «سلام،»)."""
    clause = _CLAUSE_END.split(text.strip(), maxsplit=1)[0].strip()
    words = clause.lower().split()
    return bool(words) and (small_talk(clause) == "greeting" or words[0] in _GREETING_WORDS)


def _outburst(text: str) -> bool:
    """Return whether a piece of a message only vents (harsh words, "third time", threats) and asks nothing."""
    if "?" in text or "\u061f" in text:
        return False
    signals = chat_signals(text)
    return max(signals.insult, signals.harsh, signals.repeat, signals.threat, signals.anger_word) > 0


def _apology_key(messages: Sequence[str]) -> str:
    """Apologise for what the customer is upset about when it is ours to fix: a refund, an order."""
    text = normalize(" ".join(messages)).lower()
    if _REFUND.search(text):
        return "apology_refund"
    if _ORDER.search(text):
        return "apology_order"
    return "apology"


def _block_text(block: _Block, lang: str, *, concise: bool) -> str:
    """Render a block: the passages (or their first sentences), then the source and its URL on lines of their own."""
    if block.citation is None:
        return block.note
    passages = [_first_sentence(p) for p in block.passages] if concise else list(block.passages)
    lines = [block.note] if block.note else []
    lines += list(dict.fromkeys(passages))  # two passages may open with the same sentence
    lines += source_lines(replies.text("source", lang), block.citation.title, block.citation.url, lang)
    return "\n".join(lines)


def _first_sentence(passage: str) -> str:
    """Return the passage's first sentence, with the list (or the row) after it when it introduces one."""
    lines = passage.splitlines()
    sentences = split_sentences(lines[0]) if lines else []
    if not sentences:
        return passage
    first = sentences[0]
    if first.rstrip().endswith((":", "：")) and len(lines) > 1:
        # A list is kept whole: its first item alone would read as the only one («فقط در: تهران»).
        items = list(takewhile(lambda line: line.startswith("- "), lines[1:]))
        return "\n".join([first, *(items or lines[1:2])])
    return first


def _text(*parts: str) -> str:
    """Join the non-empty parts of a draft with blank lines."""
    return "\n\n".join(part for part in parts if part)


def _clean_name(name: str | None) -> str:
    """Return the name fit for a greeting (whitespace collapsed, at most 60 characters), or ''."""
    return " ".join((name or "").split())[:60]


def _quote(question: str) -> str:
    """Return the question as quoted in a holding line: its first sentence, shortened, not shouted."""
    sentences = split_sentences(question)
    text = " ".join((sentences[0] if sentences else question).split()).rstrip("?؟.!")
    letters = [ch for ch in text if ch.isalpha() and ch.isascii()]
    if letters and sum(ch.isupper() for ch in letters) > 0.6 * len(letters):
        text = text.lower()  # quoting "WHERE IS MY ORDER" back would shout at the customer
    return text if len(text) <= _QUOTE_MAX_CHARS else text[: _QUOTE_MAX_CHARS - 1].rstrip() + "…"


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
