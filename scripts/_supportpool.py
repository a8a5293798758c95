"""A seeded pool of support-QA sets built from the public datasets, for fitting the calibrator across KBs.

The answer-confidence calibrator must work on help centres it has never seen, so it is fitted and
checked leave-one-KB-out over many KBs. Each set written here is a folder in the support-QA format of
``../shared/data/supportqa_dev`` (``kb/<id>.md`` + ``questions.jsonl``), so ``bench_support.py --set``
runs it unchanged. Rows are ``paraphrase_fa``/``paraphrase_en`` (in scope, by the message's script),
``near_miss`` (the answering article or intent was left out of the KB) and ``oos`` (a message for
another business or for nobody).

Why it is shaped this way:

* **Roles.** ``fit`` sets come only from train/dev splits of datasets whose licence allows fitting
  the weights the project ships, and may be fitted on; ``validate`` sets come from test splits, or
  from non-commercial data (ParsiNLU, CC BY-NC-SA), and may only be reported. Nothing of a test
  split reaches a fit set (ParsiNLU passages that a test question points at are excluded too).
* **Disjoint draws.** Passages, intents and far messages are drawn without replacement from one
  seeded shuffle per source, in a fixed order, so no passage or intent is in two fit KBs and the
  folds of a leave-one-KB-out fit do not share material. Every run draws the same, so the bytes
  written are the same.
* **Facts are verbatim.** Answer spans are copied as facts only from passages written unchanged into
  the article body; :func:`check_set` proves every fact occurs (normalised as the set README says)
  in one of its expected articles, and that the indexer's own parser accepts every article.

The data is read from ``ROOT.parent / "shared" / "data"`` and never copied into the repository;
output goes under ``var/`` (git-ignored).

    python scripts/_supportpool.py --out var/bench/pool --list
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SEED = "pasokh-supportpool-1"

# Sets drawn from ParsiNLU (CC BY-NC-SA) are built from train/dev material but may only be used to
# evaluate: no weight the project ships is fitted on them.
NON_COMMERCIAL = "validate"
IN_SCOPE = ("paraphrase_fa", "paraphrase_en")
UNANSWERABLE = ("near_miss", "oos")

logger = logging.getLogger(__name__)

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩يك", "01234567890123456789یک")
_THOUSANDS = re.compile(r"(?<=\d)[,٬](?=\d)")
_PERSIAN = re.compile("[\u0600-\u06ff]")
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
# Generic support intents that every shop has (agent, orders, refunds, greetings...): another bot's
# utterances with these labels could be answered by this bot's KB, so they never become its oos rows.
_GENERIC_LABEL = re.compile(
    r"AGENT|CONTACT|CALL_CENTER|ORDER|REFUND|RETURN|PAYMENT|DELAY|CANCEL|PINCODE|OFFER|COD|EMI|STORE|"
    r"DISTRIBUTOR|FRANCHISE|SIGN_?UP|FEEDBACK|GREETING|THANKS|APPRECIATION|CRITICISM|CAPABILITIES|PRESENCE"
)


def normalise(text: str) -> str:
    """Normalise as the support-QA README says: Latin digits, ی/ک, no ZWNJ, no thousands separators, lower case."""
    text = text.translate(_DIGITS).replace("\u200c", "")
    return _THOUSANDS.sub("", text).lower()


@dataclass(frozen=True)
class PoolSet:
    """One written support-QA set: where it is, what it may be used for and what it holds."""

    name: str
    path: Path
    role: str  # "fit": train/dev material whose licence allows fitting shipped weights; "validate": report only
    langs: tuple[str, ...]  # languages of the KB articles
    description: str
    articles: int = 0
    in_scope: int = 0
    near_miss: int = 0
    oos: int = 0


@dataclass(frozen=True)
class Doc:
    """One KB article to write."""

    id: str
    title: str
    lang: str
    body: str  # Markdown after the front matter, without the "# title" line
    questions: tuple[str, ...] = ()
    url: str | None = None

    def markdown(self) -> str:
        """The article file: YAML front matter, a ``# `` title heading, the body."""
        meta: dict = {"id": self.id, "title": self.title, "lang": self.lang}
        if self.questions:
            meta["questions"] = list(self.questions)
        if self.url:
            meta["url"] = self.url
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
        return f"---\n{front}---\n# {self.title}\n\n{self.body.strip()}\n"


@dataclass(frozen=True)
class Row:
    """One customer message of ``questions.jsonl``."""

    q: str
    kind: str
    expect: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()


@dataclass
class Draft:
    """A set being assembled in memory."""

    name: str
    role: str
    description: str
    docs: list[Doc] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)  # the KB's out-of-scope.txt, if any

    def ask(self, q: str, expect: list[str] | tuple[str, ...], facts: list[str] | tuple[str, ...] = ()) -> None:
        """Add an in-scope row, its kind taken from the message's script."""
        kind = "paraphrase_fa" if _PERSIAN.search(q) else "paraphrase_en"
        self.rows.append(Row(q.strip(), kind, tuple(expect), tuple(dict.fromkeys(facts))))

    def refuse(self, messages: list[str], kind: str) -> None:
        """Add unanswerable rows of ``kind``."""
        self.rows.extend(Row(m.strip(), kind) for m in messages)

    def finish(self) -> Draft:
        """Drop empty and repeated messages and any that copy an article's ``questions:`` line."""
        seen = {_key(q) for doc in self.docs for q in doc.questions}
        rows = []
        for row in self.rows:
            key = _key(row.q)
            if key and key not in seen:
                seen.add(key)
                rows.append(row)
        self.rows = rows
        return self


def _key(text: str) -> str:
    return " ".join(normalise(text).split())


class Sources:
    """The public datasets, read once, and seeded draws without replacement from them."""

    def __init__(self, data: Path = DATA) -> None:
        """Point at the data folder; nothing is read until asked for."""
        if not data.is_dir():
            raise FileNotFoundError(f"no data folder at {data}: the pool needs ../shared/data beside the repository")
        self.data = data
        self._files: dict[str, list[dict]] = {}
        self._draws: dict[str, list] = {}
        self._rc: dict[str, list[dict]] | None = None
        self._rc_text: dict[str, dict] = {}

    def rows(self, name: str) -> list[dict]:
        """The rows of ``<data>/<name>`` (a JSON-lines file)."""
        if name not in self._files:
            with (self.data / name).open(encoding="utf-8") as handle:
                self._files[name] = [json.loads(line) for line in handle if line.strip()]
        return self._files[name]

    def take(self, pool: str, count: int, items=None) -> list:
        """Draw ``count`` items from ``pool``, shuffled once with a seed of its own on first use."""
        if pool not in self._draws:
            if items is None:
                raise KeyError(f"draw pool {pool!r} used before it was given items")
            shuffled = list(items)
            random.Random(f"{SEED}:{pool}").shuffle(shuffled)
            self._draws[pool] = shuffled
        left = self._draws[pool]
        if count > len(left):
            raise ValueError(f"draw pool {pool!r} has {len(left)} items left, {count} asked: shrink a set")
        taken, self._draws[pool] = left[:count], left[count:]
        return taken

    # Named draw pools, so every builder shares the same shuffles.
    def rc_passages(self, count: int) -> list[str]:
        """ParsiNLU-RC passage ids with train/dev questions and no test question."""
        test = {r["passage_id"] for r in self.rows("parsinlu_rc/qa_test.jsonl")}
        ids = sorted(self.rc_questions().keys() - test)
        return self.take("rc", count, ids)

    def rc_questions(self) -> dict[str, list[dict]]:
        """ParsiNLU-RC train and dev questions by passage id."""
        if self._rc is None:
            self._rc = defaultdict(list)
            for row in self.rows("parsinlu_rc/qa_train.jsonl") + self.rows("parsinlu_rc/qa_dev.jsonl"):
                self._rc[row["passage_id"]].append(row)
        return self._rc

    def rc_passage(self, pid: str) -> dict:
        """One ParsiNLU-RC passage."""
        if not self._rc_text:
            self._rc_text = {p["id"]: p for p in self.rows("parsinlu_rc/passages.jsonl")}
        return self._rc_text[pid]

    def intents(self, source: str, count: int) -> list[str]:
        """Intent labels of ``<source>/train.jsonl`` (CLINC's ``oos`` excluded)."""
        labels = sorted({r["label"] for r in self.rows(f"{source}/train.jsonl")} - {"oos"})
        return self.take(f"intents:{source}", count, labels)

    def utterances(self, source: str, label: str, split: str = "train") -> list[str]:
        """The messages of one label, in file order."""
        return [r["text"] for r in self.rows(f"{source}/{split}.jsonl") if r["label"] == label]

    def clinc_oos(self, count: int, *, test: bool = False) -> list[str]:
        """CLINC150 out-of-scope messages: train+dev for fit sets, test for validate sets."""
        splits = ("test",) if test else ("train", "dev")
        texts = [r["text"] for s in splits for r in self.rows(f"clinc150/{s}.jsonl") if r["label"] == "oos"]
        return self.take("clinc-oos-test" if test else "clinc-oos", count, texts)

    def persian_far(self, count: int, *, test: bool = False) -> list[str]:
        """Persian messages for nobody's help centre: Quora questions (ParsiNLU QQP) and, for fit sets, shop reviews."""
        split = "test" if test else "train"
        questions = [
            q
            for r in self.rows(f"parsinlu_qqp/{split}.jsonl")
            if r["source"] == "qqp"
            for q in (r["question1"], r["question2"])
        ]
        reviews = 0 if test else count // 3
        picked = self.take(f"qqp-{split}", count - reviews, sorted(set(questions)))
        if reviews:
            texts = [r["text"] for r in self.rows("parsinlu_sentiment/train.jsonl") if 20 <= len(r["text"]) <= 200]
            picked += self.take("reviews", reviews, texts)
        return picked


def _title_from(text: str, words: int = 6) -> str:
    """A short title: the first words of the first sentence, cut before any bracket."""
    first = re.split(r"[.!?؟:؛(\[«\"]", text, maxsplit=1)[0]
    title = " ".join(first.split()[:words]).strip(" ،,-–")
    return title or " ".join(text.split()[:words])


def _slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "article"


def _phrase(label: str) -> str:
    """``card_arrival`` / ``CHECK_PINCODE`` -> ``Card arrival`` / ``Check pincode``."""
    words = label.replace("_", " ").strip().lower()
    return words[:1].upper() + words[1:]


def _rc_doc(src: Sources, pid: str) -> Doc:
    passage = src.rc_passage(pid)
    url = passage.get("url") if isinstance(passage.get("url"), str) else None  # one url is NaN in the data
    return Doc(pid, _title_from(passage["text"]), "fa", passage["text"], url=url)


def _intent_doc(label: str, questions: list[str], prefix: str = "") -> Doc:
    """A help-centre article for one intent: its name as a sentence and a few example questions."""
    ident = prefix + label.lower().replace("_", "-")
    return Doc(ident, _phrase(label), "en", f"{_phrase(label)}.", questions=tuple(questions))


def _add_rc(draft: Draft, src: Sources, pids: list[str], near: list[str]) -> None:
    """Articles of the passages ``pids`` with their questions in scope; one question of each of ``near``."""
    questions = src.rc_questions()
    for pid in pids:
        draft.docs.append(_rc_doc(src, pid))
        for row in questions[pid]:
            draft.ask(row["question"], [pid], row["answers"])
    draft.refuse([questions[pid][0]["question"] for pid in near], "near_miss")


def _add_intents(
    draft: Draft, src: Sources, source: str, labels: list[str], messages: int, rng: random.Random, prefix: str = ""
) -> None:
    """One article per intent with 3-5 train utterances as questions; ``messages`` others of each in scope."""
    for label in labels:
        texts = src.utterances(source, label)
        rng.shuffle(texts)
        shown = rng.randint(3, 5)
        doc = _intent_doc(label, texts[:shown], prefix)
        draft.docs.append(doc)
        for text in texts[shown : shown + messages]:
            draft.ask(text, [doc.id])


def _near_intents(src: Sources, source: str, labels: list[str], each: int, rng: random.Random) -> list[str]:
    out = []
    for label in labels:
        texts = src.utterances(source, label)
        out += rng.sample(texts, min(each, len(texts)))
    return out


def build_parsinlu(src: Sources, size: int) -> Draft:
    """A Persian KB of ``size`` ParsiNLU-RC passages."""
    draft = Draft(
        f"parsinlu-fa-{size}",
        NON_COMMERCIAL,
        f"ParsiNLU-RC train/dev: {size} Persian web passages as articles, their questions with answer spans",
    )
    _add_rc(draft, src, src.rc_passages(size), src.rc_passages(max(6, size // 2)))
    draft.refuse(src.clinc_oos(size // 4 + 3) + src.persian_far(size // 6 + 3), "oos")
    return draft.finish()


def build_clinc(src: Sources, size: int) -> Draft:
    """An intent help centre of ``size`` CLINC150 intents."""
    rng = random.Random(f"{SEED}:clinc-{size}")
    draft = Draft(
        f"clinc-en-{size}", "fit", f"CLINC150 train: {size} intents as articles with 3-5 example questions each"
    )
    _add_intents(draft, src, "clinc150", src.intents("clinc150", size), 4 if size < 30 else 3, rng)
    near = src.intents("clinc150", max(5, size // 3))
    draft.refuse(_near_intents(src, "clinc150", near, 6 if size < 30 else 4, rng), "near_miss")
    draft.refuse(src.clinc_oos(max(20, size * 2 // 3)), "oos")
    return draft.finish()


def build_clinc_full(src: Sources, per_intent: int = 10) -> Draft:
    """CLINC150 as its authors meant it: every intent with all its train utterances, and an out-of-scope.txt.

    The KB is the whole train split (150 intents, 100 example questions each) with CLINC's 100
    out-of-scope train messages as the KB's ``out-of-scope.txt``; the messages are ``per_intent``
    dev utterances of each intent and CLINC's 100 out-of-scope dev messages. Unlike the other fit
    sets it shares intents with ``clinc-en-*`` (all of them), though not a message.
    """
    draft = Draft(
        "clinc150-full",
        "fit",
        "CLINC150 train as the KB (150 intents, all train utterances as questions, out-of-scope.txt from "
        "its out-of-scope train rows); dev messages",
    )
    for label in sorted({r["label"] for r in src.rows("clinc150/train.jsonl")} - {"oos"}):
        doc = _intent_doc(label, src.utterances("clinc150", label))
        draft.docs.append(doc)
        for text in src.utterances("clinc150", label, "dev")[:per_intent]:
            draft.ask(text, [doc.id])
    draft.out_of_scope = src.utterances("clinc150", "oos")
    draft.refuse(src.utterances("clinc150", "oos", "dev"), "oos")
    return draft.finish()


def build_hint3(src: Sources, bot: str, far_bots: tuple[str, ...]) -> Draft:
    """A real bot's KB with a quarter of its intents left out; every fourth utterance is held out."""
    rng = random.Random(f"{SEED}:hint3-{bot}")
    source = f"hint3_{bot}"
    labels = sorted({r["label"] for r in src.rows(f"{source}/train.jsonl")})
    rng.shuffle(labels)
    cut = round(len(labels) / 4)
    left_out, kept = sorted(labels[:cut]), sorted(labels[cut:])
    draft = Draft(
        f"hint3-{bot}",
        "fit",
        f"HINT3 {bot} train (real bot traffic): {len(kept)} intents, {len(left_out)} left out as near misses",
    )
    for label in kept:
        texts = src.utterances(source, label)
        held = [t for i, t in enumerate(texts) if i % 4 == 3]
        shown = [t for i, t in enumerate(texts) if i % 4 != 3][:10]
        doc = _intent_doc(label, shown)
        draft.docs.append(doc)
        for text in held:
            draft.ask(text, [doc.id])
    draft.refuse(_near_intents(src, source, left_out, 6, rng), "near_miss")
    far = [
        r["text"]
        for other in far_bots
        for r in src.rows(f"hint3_{other}/train.jsonl")
        if not _GENERIC_LABEL.search(r["label"])
    ]
    in_scope = sum(r.kind in IN_SCOPE for r in draft.rows)
    draft.refuse(src.take("hint3-far:" + "+".join(far_bots), max(15, in_scope // 3), far), "oos")
    return draft.finish()


def build_banking(src: Sources, size: int = 30) -> Draft:
    """One domain with many close intents: BANKING77."""
    rng = random.Random(f"{SEED}:banking")
    draft = Draft(
        f"banking77-en-{size}", "fit", f"BANKING77 train: {size} close banking intents with 3-5 example questions each"
    )
    _add_intents(draft, src, "banking77", src.intents("banking77", size), 3, rng)
    draft.refuse(_near_intents(src, "banking77", src.intents("banking77", 15), 3, rng), "near_miss")
    draft.refuse(src.clinc_oos(25), "oos")
    return draft.finish()


def build_bilingual(src: Sources) -> Draft:
    """Persian ParsiNLU-RC passages and English BANKING77 intent articles in one KB."""
    rng = random.Random(f"{SEED}:bilingual")
    draft = Draft(
        "bilingual-fa-en",
        NON_COMMERCIAL,
        "ParsiNLU-RC train/dev passages (fa) and BANKING77 train intents (en) in one KB, questions of both",
    )
    _add_rc(draft, src, src.rc_passages(25), src.rc_passages(12))
    _add_intents(draft, src, "banking77", src.intents("banking77", 20), 3, rng, prefix="bank-")
    draft.refuse(_near_intents(src, "banking77", src.intents("banking77", 6), 3, rng), "near_miss")
    draft.refuse(src.clinc_oos(12) + src.persian_far(9), "oos")
    return draft.finish()


def _answer_sentences(text: str, start: int, length: int) -> str:
    """The whole sentences of ``text`` that hold the characters ``[start, start + length)``."""
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    first = max(b for b in bounds if b <= start)
    last = min((b for b in bounds if b >= start + length), default=len(text))
    return text[first:last].strip()


def build_overlap(src: Sources, size: int = 36, groups: int = 8) -> Draft:
    """ParsiNLU-RC passages plus digest articles that repeat answer sentences of three passages each."""
    draft = Draft(
        f"parsinlu-overlap-fa-{size}",
        NON_COMMERCIAL,
        f"ParsiNLU-RC train/dev: {size} passages; {groups} digest articles repeat answer sentences of "
        "3 passages each inside unrelated text, and those questions expect both articles",
    )
    questions = src.rc_questions()
    pids = src.rc_passages(size)
    fillers = [_answer_sentences(src.rc_passage(p)["text"], 0, 1) for p in src.rc_passages(groups * 6)]
    fillers = [f if len(f) <= 300 else f[:300].rsplit(" ", 1)[0] + "." for f in fillers]
    repeated: dict[str, str] = {}
    for pid in pids:
        rows = questions[pid]
        answer_row = rows[0]
        best = min(range(len(answer_row["answers"])), key=lambda i: len(answer_row["answers"][i]))
        held = _answer_sentences(
            src.rc_passage(pid)["text"], answer_row["answer_starts"][best], len(answer_row["answers"][best])
        )
        if len(held) <= 400 and len(repeated) < groups * 3:
            repeated[pid] = held
    digests: dict[str, str] = {}
    order = list(repeated)
    for g in range(groups):
        members = order[g * 3 : g * 3 + 3]
        ident = f"parsinlu-rc-digest-{g + 1:02d}"
        paragraphs = [
            f"{fillers[6 * g + 2 * i]} {repeated[m]} {fillers[6 * g + 2 * i + 1]}" for i, m in enumerate(members)
        ]
        titles = [_title_from(src.rc_passage(m)["text"], 4) for m in members]
        draft.docs.append(Doc(ident, "گزیده: " + "، ".join(titles), "fa", "\n\n".join(paragraphs)))
        digests.update(dict.fromkeys(members, ident))
    for pid in pids:
        draft.docs.append(_rc_doc(src, pid))
        for row in questions[pid]:
            digest = digests.get(pid)
            # Only the question whose answer sentence was repeated is answered by the digest too.
            both = digest is not None and row is questions[pid][0]
            draft.ask(row["question"], [pid, digest] if both else [pid], row["answers"])
    draft.refuse([questions[p][0]["question"] for p in src.rc_passages(15)], "near_miss")
    draft.refuse(src.clinc_oos(8) + src.persian_far(6), "oos")
    return draft.finish()


def build_doc2dial(src: Sources, domain: str, leave_out: float = 0.2) -> Draft:
    """One KB per doc2dial domain: pages as articles, sections as ``##`` sections; a fifth of pages left out."""
    rng = random.Random(f"{SEED}:doc2dial-{domain}")
    passages = [p for p in src.rows("doc2dial/passages.jsonl") if p["domain"] == domain]
    pages: dict[str, list[dict]] = defaultdict(list)
    for p in passages:
        pages[p["title"].split(" > ")[0]].append(p)
    names = sorted(pages)
    dropped = set(rng.sample(names, round(len(names) * leave_out)))
    ids: dict[str, str] = {}
    docs = []
    for name in names:
        ident = f"{domain}-{_slug(name)}"
        while ident in ids.values():
            ident += "-x"
        ids[name] = ident
        parts = []
        for p in pages[name]:
            heading = p["title"].split(" > ", 1)[1] if " > " in p["title"] else ""
            parts.append(f"## {heading}\n\n{p['text']}" if heading else p["text"])
        if name not in dropped:
            docs.append(Doc(ident, name, "en", "\n\n".join(parts)))
    draft = Draft(
        f"doc2dial-{domain}",
        "validate",
        f"doc2dial test, {domain}: US public-service help pages with sections; first user turns with "
        f"grounding spans; {len(dropped)} pages left out as near misses",
        docs=docs,
    )
    page_of = {p["id"]: p["title"].split(" > ")[0] for p in passages}
    bodies = {d.id: normalise(d.body) for d in docs}
    for row in src.rows("doc2dial/qa_test.jsonl"):
        if row["passage_id"] not in page_of:
            continue
        gold = ids[page_of[row["passage_id"]]]
        answer = normalise(row["answers"][0])
        # Pages overlap: a long answer found verbatim in another kept page is answered there too.
        others = [i for i, b in bodies.items() if i != gold and len(answer) >= 40 and answer in b]
        expect = ([gold] if gold in bodies else []) + others
        if expect:
            draft.ask(row["question"], expect, row["answers"])
        else:
            draft.refuse([row["question"]], "near_miss")
    draft.refuse(src.clinc_oos(30, test=True), "oos")
    return draft.finish()


def build_persianqa(src: Sources) -> Draft:
    """PersianQA test: Wikipedia paragraphs; unanswerable questions become near misses."""
    draft = Draft(
        "persianqa-fa",
        "validate",
        "PersianQA test: 93 Persian Wikipedia paragraphs; answerable questions with spans, "
        "unanswerable ones as near misses",
    )
    for p in src.rows("persianqa/passages.jsonl"):
        draft.docs.append(Doc(p["id"], p["title"], "fa", p["text"]))
    for row in src.rows("persianqa/qa_test.jsonl"):
        if row["impossible"]:
            draft.refuse([row["question"]], "near_miss")
        else:
            draft.ask(row["question"], [row["passage_id"]], row["answers"])
    draft.refuse(src.persian_far(30, test=True) + src.clinc_oos(20, test=True), "oos")
    return draft.finish()


def build_stackfaq(src: Sources, leave_out: int = 25, per_thread: int = 5) -> Draft:
    """StackFAQ: web-app how-to threads as articles; a few threads left out as near misses."""
    rng = random.Random(f"{SEED}:stackfaq")
    threads = src.rows("stackfaq/passages.jsonl")
    dropped = {t["id"] for t in rng.sample(threads, leave_out)}
    draft = Draft(
        "stackfaq-en",
        "validate",
        f"StackFAQ: {len(threads) - leave_out} StackExchange web-app threads as FAQ articles, {per_thread} rephrasings "
        f"each; {leave_out} threads left out as near misses",
    )
    asked: dict[str, list[str]] = defaultdict(list)
    for row in src.rows("stackfaq/test.jsonl"):
        asked[row["passage_id"]].append(row["question"])
    for t in threads:
        picked = rng.sample(asked[t["id"]], min(per_thread if t["id"] not in dropped else 3, len(asked[t["id"]])))
        if t["id"] in dropped:
            draft.refuse(picked, "near_miss")
        else:
            draft.docs.append(Doc(t["id"], t["title"], "en", t["text"]))
            for q in picked:
                draft.ask(q, [t["id"]])
    draft.refuse(src.clinc_oos(40, test=True), "oos")
    return draft.finish()


def drafts(src: Sources) -> list[Draft]:
    """Every set of the pool, built in a fixed order (the draws depend on it)."""
    return [
        build_parsinlu(src, 12),
        build_parsinlu(src, 40),
        build_parsinlu(src, 150),
        build_clinc(src, 15),
        build_clinc(src, 60),
        build_hint3(src, "sofmattress", ("powerplay11",)),
        build_hint3(src, "curekart", ("powerplay11",)),
        build_hint3(src, "powerplay11", ("sofmattress", "curekart")),
        build_banking(src),
        build_bilingual(src),
        build_overlap(src),
        *(build_doc2dial(src, d) for d in ("dmv", "ssa", "studentaid", "va")),
        build_persianqa(src),
        build_stackfaq(src),
        build_clinc_full(src),  # last: it draws nothing, so the sets before it stay as they were
    ]


def write_set(draft: Draft, folder: Path) -> PoolSet:
    """Write one set, replacing whatever an earlier run left in ``folder``."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "kb").mkdir(parents=True)
    for doc in draft.docs:
        (folder / "kb" / f"{doc.id}.md").write_text(doc.markdown(), encoding="utf-8")
    lines = [
        json.dumps({"q": r.q, "kind": r.kind, "expect": list(r.expect), "facts": list(r.facts)}, ensure_ascii=False)
        for r in draft.rows
    ]
    (folder / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if draft.out_of_scope:
        text = "\n".join(" ".join(m.split()) for m in draft.out_of_scope)
        (folder / "kb" / "out-of-scope.txt").write_text(text + "\n", encoding="utf-8")
    count = {kind: sum(r.kind == kind for r in draft.rows) for kind in UNANSWERABLE}
    return PoolSet(
        name=draft.name,
        path=folder,
        role=draft.role,
        langs=tuple(sorted({d.lang for d in draft.docs})),
        description=draft.description,
        articles=len(draft.docs),
        in_scope=sum(r.kind in IN_SCOPE for r in draft.rows),
        near_miss=count["near_miss"],
        oos=count["oos"],
    )


def build_pool(out: Path, *, data: Path = DATA, only: set[str] | None = None) -> list[PoolSet]:
    """Write every set of the pool (or the ``only`` named ones) under ``out`` and a ``pool.json`` manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sets = [write_set(d, out / d.name) for d in drafts(Sources(data)) if only is None or d.name in only]
    manifest = [{**s.__dict__, "path": s.name, "langs": list(s.langs)} for s in sets]
    if only is None:
        (out / "pool.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return sets


def check_set(folder: Path) -> list[str]:
    """Problems of one written set: the indexer refuses an article, an id or fact is wrong, a kind is unknown."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from indexer.articles import load_kb

    loaded = load_kb(folder / "kb")
    problems = [str(p) for p in loaded.problems]
    articles = {a.id: a for a in loaded.articles}
    for a in articles.values():
        if Path(a.path).stem != a.id:
            problems.append(f"{a.path}: id {a.id!r} is not the file stem")
        persian = len(_PERSIAN.findall(a.body)) > len(re.findall("[A-Za-z]", a.body))
        if persian != (a.lang == "fa"):
            problems.append(f"{a.path}: lang {a.lang!r} but the text is {'Persian' if persian else 'not Persian'}")
    asked = {_key(q) for a in articles.values() for q in a.questions}
    seen: set[str] = set()
    lines = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        row, where = json.loads(line), f"{folder.name}/questions.jsonl:{number}"
        key = _key(row["q"])
        if key in seen or key in asked or not key:
            problems.append(f"{where}: empty, repeated or copied from questions: {row['q']!r}")
        seen.add(key)
        if row["kind"] in UNANSWERABLE:
            if row["expect"] or row["facts"]:
                problems.append(f"{where}: {row['kind']} row with expect or facts")
            continue
        if row["kind"] not in IN_SCOPE or not row["expect"]:
            problems.append(f"{where}: kind {row['kind']!r} with expect {row['expect']}")
        if (row["kind"] == "paraphrase_fa") != bool(_PERSIAN.search(row["q"])):
            problems.append(f"{where}: kind {row['kind']} does not fit the message's script")
        missing = [e for e in row["expect"] if e not in articles]
        if missing:
            problems.append(f"{where}: expected article(s) {missing} not in the KB")
        bodies = [normalise(articles[e].body) for e in row["expect"] if e in articles]
        for fact in row["facts"]:
            if not any(normalise(fact) in body for body in bodies):
                problems.append(f"{where}: fact {fact!r} is in none of {row['expect']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "pool", help="pool folder (rewritten)")
    parser.add_argument("--list", action="store_true", help="print each set's role, size and row counts")
    parser.add_argument("--no-check", action="store_true", help="skip parsing every written set back")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    sets = build_pool(args.out)
    built = time.perf_counter() - started
    problems = [] if args.no_check else [p for s in sets for p in check_set(s.path)]
    if args.list:
        print(f"{'set':28} {'role':8} {'langs':6} {'articles':>8} {'in':>5} {'near':>5} {'oos':>5}  description")
        for s in sets:
            counts = f"{s.articles:8} {s.in_scope:5} {s.near_miss:5} {s.oos:5}"
            print(f"{s.name:28} {s.role:8} {'+'.join(s.langs):6} {counts}  {s.description}")
    total_q = sum(s.in_scope + s.near_miss + s.oos for s in sets)
    print(
        f"{len(sets)} sets, {sum(s.articles for s in sets)} articles, {total_q} messages in {args.out} "
        f"(built in {built:.1f} s); {len(problems)} problems"
    )
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
