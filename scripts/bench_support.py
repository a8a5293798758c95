"""Support QA: run a help centre and its customer messages through the real indexer and chat service.

A *support-QA set* is a folder in the format of ``../shared/data/supportqa_dev`` (its README defines
it): ``kb/`` with Markdown articles and ``questions.jsonl`` with one customer message per line
(``q``, ``kind``, ``expect``, ``facts``, ``facts_each`` for ``multi`` rows, ``session``/``turn`` for
follow-ups). The set's KB is indexed by ``pasokh index`` (the same code, in process) into a scratch
folder, and every message goes through :meth:`bot.service.ChatService.chat`, exactly as
``POST /v1/chat`` would send it: each row in a new conversation, follow-up turns in their session.

Per kind and overall it prints:

* ``search@1`` — the first result of ``GET /v1/search`` for the message is an expected article
  (not for follow-up turns 2, which lean on the conversation);
* ``routing`` — the article the bot would cite (the reply's first source, or the matcher's choice
  when it declined) is an expected one;
* ``answered`` — the bot answered from the KB (``answered: true``);
* ``right`` — answered, and every source is an expected article (``multi``: every part's article
  is among the sources);
* ``fact`` — a fact of the row occurs in the reply (normalised as the set's README says: digits to
  Latin, ي/ك to ی/ک, no ZWNJ, no thousands separators, lower case; ``multi``: one of every part);
* ``wrong`` — answered an answerable row from a wrong article or without its fact (``multi``: or
  without one of its parts), or answered an ``oos``/``near_miss`` row at all; ``wrong_article``
  counts the answerable rows answered with a source that is not an expected article;
* ``declined`` — an ``oos``/``near_miss`` row was not answered;
* ``requested`` — a ``human`` row was handed off because the customer asked for a person;
* ``angry`` — the anger flag (for ``angry`` rows it should be set, for ``calm_complaint`` not);
* ``parts`` — a ``multi`` row's every question is answered with its fact, or named in the reply as
  not answered (the message's questions as ``bot/questions.py`` splits them, in ``facts_each`` order);
* a ``followup turn 2`` line: the follow-ups alone, read with their conversation;
* the median length of answered replies and the median and 95th-percentile time per turn.

Rates are over the rows where they apply (``answerable`` rows have a non-empty ``expect``).

    python scripts/bench_support.py --set ../shared/data/supportqa_dev
    python scripts/bench_support.py --set DIR --json out.json --failures
    python scripts/bench_support.py --set DIR --threshold 0.3     # another operating point

It needs nothing of the set but its folder, so it runs unchanged on any set in that format.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KIND_ORDER = (
    "paraphrase_fa",
    "paraphrase_en",
    "colloquial_fa",
    "finglish",
    "typo",
    "crosslingual",
    "multi",
    "followup",
    "oos",
    "near_miss",
    "human",
    "angry",
    "calm_complaint",
)
UNANSWERABLE = ("oos", "near_miss")

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩يك", "01234567890123456789یک")
_THOUSANDS = re.compile(r"(?<=\d)[,٬](?=\d)")


def normalise(text: str) -> str:
    """Normalise a reply or a fact as the support-QA README says, before a substring test."""
    text = text.translate(_DIGITS).replace("\u200c", "")
    return _THOUSANDS.sub("", text).lower()


def has_fact(reply: str, alternatives: list[str]) -> bool:
    """Whether one of ``alternatives`` occurs in ``reply`` (both normalised)."""
    body = normalise(reply)
    return any(normalise(fact) in body for fact in alternatives)


def read_set(folder: Path) -> list[dict]:
    """Read ``questions.jsonl`` of a support-QA set; refuse a malformed line with its number."""
    path = folder / "questions.jsonl"
    if not (folder / "kb").is_dir() or not path.is_file():
        raise SystemExit(f"bench_support: {folder} is not a support-QA set (needs kb/ and questions.jsonl)")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"bench_support: {path}:{number}: not JSON ({exc})") from exc
        if not isinstance(row, dict) or not isinstance(row.get("q"), str) or not isinstance(row.get("kind"), str):
            raise SystemExit(f"bench_support: {path}:{number}: needs a string 'q' and a string 'kind'")
        row.setdefault("expect", [])
        row.setdefault("facts", [])
        row["line"] = number
        rows.append(row)
    return rows


@dataclass
class Outcome:
    """What happened to one row."""

    row: dict
    reply: str = ""
    answered: bool = False
    sources: list[str] = field(default_factory=list)
    routed: str | None = None
    search_top: str | None = None
    confidence: float = 0.0
    handoff_reason: str | None = None
    angry: bool = False
    ms: float = 0.0

    @property
    def kind(self) -> str:
        return self.row["kind"]

    @property
    def answerable(self) -> bool:
        return bool(self.row["expect"])

    @property
    def second_turn(self) -> bool:
        return self.kind == "followup" and int(self.row.get("turn", 1)) > 1

    def right_source(self) -> bool:
        expect = set(self.row["expect"])
        if not self.sources:
            return False
        if self.kind == "multi":
            return expect <= set(self.sources) and set(self.sources) <= expect
        return all(s in expect for s in self.sources)

    def fact(self) -> bool:
        if not self.answerable:
            return False
        if self.kind == "multi" and self.row.get("facts_each"):
            return all(has_fact(self.reply, alts) for alts in self.row["facts_each"])
        return has_fact(self.reply, self.row["facts"])

    def parts_handled(self) -> bool | None:
        """A ``multi`` row: every question of the message answered with its fact, or named as not answered."""
        if self.kind != "multi" or not self.row.get("facts_each"):
            return None
        from bot.questions import split_questions  # noqa: PLC0415

        parts = split_questions(self.row["q"])
        named = normalise(self.reply)
        for i, alternatives in enumerate(self.row["facts_each"]):
            if has_fact(self.reply, alternatives):
                continue
            if len(parts) == len(self.row["facts_each"]) and normalise(parts[i]) in named:
                continue
            return False
        return True

    def metrics(self) -> dict[str, bool | None]:
        """Each measure for this row, or None where it does not apply."""
        answerable, unanswerable = self.answerable, self.kind in UNANSWERABLE
        return {
            "search@1": (self.search_top in self.row["expect"]) if answerable and not self.second_turn else None,
            "routing": (self.routed in self.row["expect"]) if answerable else None,
            "answered": self.answered,
            "right": (self.answered and self.right_source()) if answerable else None,
            "fact": (self.answered and self.fact()) if answerable and self.row["facts"] else None,
            "wrong": (self.answered and not (self.right_source() and (self.fact() or not self.row["facts"])))
            if answerable
            else (self.answered if unanswerable else None),
            "wrong_article": (self.answered and any(s not in self.row["expect"] for s in self.sources))
            if answerable
            else None,
            "declined": (not self.answered) if unanswerable else None,
            "requested": (self.handoff_reason == "requested") if self.kind == "human" else None,
            "angry": self.angry if self.kind in ("angry", "calm_complaint") else None,
            "parts": self.parts_handled(),
        }


MEASURES = (
    "search@1",
    "routing",
    "answered",
    "right",
    "fact",
    "wrong",
    "wrong_article",
    "declined",
    "requested",
    "angry",
    "parts",
)


def run_set(folder: Path, work: Path, *, threshold: float | None = None, quiet: bool = False) -> list[Outcome]:
    """Index the set's KB with ``pasokh index`` into ``work`` and answer every row through the chat service."""
    from bot.cli import main as pasokh
    from bot.runtime import build_service
    from bot.service import ChatRequest
    from bot.settings import Settings

    rows = read_set(folder)
    index_dir = work / "index"
    started = time.perf_counter()
    code = pasokh(["index", "--kb", str(folder / "kb"), "--index", str(index_dir)])
    if code != 0:
        raise SystemExit(f"bench_support: pasokh index failed on {folder / 'kb'} (exit {code})")
    if not quiet:
        print(f"indexed {folder / 'kb'} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    settings = Settings(
        kb=folder / "kb",
        index=index_dir,
        database_url=f"sqlite:///{work / 'bench.sqlite3'}",
        outbox_dir=work / "outbox",
        confidence_threshold=threshold,
    )
    service = build_service(settings)
    sessions: dict[str, str] = {}
    outcomes = []
    try:
        service.chat(ChatRequest(message="warm-up"))
        ordered = sorted(rows, key=lambda r: (r["kind"] == "followup", str(r.get("session", "")), r.get("turn", 0)))
        for row in ordered:
            session = sessions.get(str(row["session"])) if row["kind"] == "followup" and "session" in row else None
            t0 = time.perf_counter()
            reply = service.chat(ChatRequest(message=row["q"], session_id=session))
            ms = (time.perf_counter() - t0) * 1000
            if row["kind"] == "followup" and "session" in row:
                sessions[str(row["session"])] = reply.session_id
            outcome = Outcome(
                row,
                reply=reply.reply,
                answered=reply.answered,
                sources=[s.article_id for s in reply.sources],
                confidence=reply.confidence,
                handoff_reason=reply.handoff_reason,
                angry=reply.sentiment.angry,
                ms=ms,
            )
            hits = service.search(row["q"], k=1)
            outcome.search_top = hits[0].article.id if hits else None
            if outcome.sources:
                outcome.routed = outcome.sources[0]
            else:
                vector = service.embedder.embed_queries([row["q"]])[0]
                match = service.matcher.match(row["q"], vector)
                outcome.routed = match.hit.article.id if match.hit else None
            outcomes.append(outcome)
    finally:
        service.storage.close()
    return outcomes


def summarise(outcomes: list[Outcome]) -> dict:
    """Per kind and overall: each measure's rate and count, reply length and latency."""

    def block(items: list[Outcome]) -> dict:
        out: dict = {"rows": len(items)}
        for measure in MEASURES:
            values = [o.metrics()[measure] for o in items]
            values = [v for v in values if v is not None]
            out[measure] = {"rate": sum(values) / len(values), "n": len(values), "yes": sum(values)} if values else None
        lengths = [len(o.reply) for o in items if o.answered]
        out["median_reply_chars"] = statistics.median(lengths) if lengths else None
        times = sorted(o.ms for o in items)
        out["median_ms"] = statistics.median(times) if times else None
        out["p95_ms"] = times[min(len(times) - 1, int(0.95 * len(times)))] if times else None
        return out

    kinds = [k for k in KIND_ORDER if any(o.kind == k for o in outcomes)]
    kinds += sorted({o.kind for o in outcomes} - set(kinds))
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if o.kind in UNANSWERABLE]
    groups = {k: block([o for o in outcomes if o.kind == k]) for k in kinds}
    if any(o.second_turn for o in outcomes):
        groups["followup turn 2"] = block([o for o in outcomes if o.second_turn])
    return {
        "kinds": groups,
        "answerable": block(answerable),
        "oos_and_near_miss": block(unanswerable),
        "all": block(outcomes),
    }


def _cell(value: dict | None) -> str:
    return "-" if value is None else f"{value['rate']:.2f} ({value['yes']}/{value['n']})"


def print_table(summary: dict, out=sys.stdout) -> None:
    """Print the summary as a Markdown table."""
    header = ["", "rows", *MEASURES, "reply chars", "ms p50", "ms p95"]
    print("| " + " | ".join(header) + " |", file=out)
    print("| --- | " + " | ".join("---:" for _ in header[1:]) + " |", file=out)
    groups = list(summary["kinds"].items()) + [
        ("**answerable**", summary["answerable"]),
        ("**oos + near_miss**", summary["oos_and_near_miss"]),
        ("**all**", summary["all"]),
    ]
    for name, block in groups:
        cells = [name, str(block["rows"]), *(_cell(block[m]) for m in MEASURES)]
        cells += [
            "-" if block["median_reply_chars"] is None else f"{block['median_reply_chars']:.0f}",
            "-" if block["median_ms"] is None else f"{block['median_ms']:.0f}",
            "-" if block["p95_ms"] is None else f"{block['p95_ms']:.0f}",
        ]
        print("| " + " | ".join(cells) + " |", file=out)


def print_failures(outcomes: list[Outcome], out=sys.stdout) -> None:
    """One line per answerable row not answered right with its fact, and per answered unanswerable row."""
    for o in outcomes:
        m = o.metrics()
        bad = (o.answerable and not (m["right"] and m["fact"] is not False)) or (o.kind in UNANSWERABLE and o.answered)
        if not bad:
            continue
        reply = " ".join(o.reply.split())[:160]
        print(
            f"- [{o.kind}:{o.row['line']}] {o.row['q']!r} expect={o.row['expect']} search={o.search_top} "
            f"routed={o.routed} answered={o.answered} conf={o.confidence:.2f} -> {reply!r}",
            file=out,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True, type=Path, help="folder of a support-QA set (kb/ + questions.jsonl)")
    parser.add_argument("--json", type=Path, help="also write the summary and every row's outcome to this file")
    parser.add_argument("--threshold", type=float, help="confidence threshold (default: the shipped one)")
    parser.add_argument("--failures", action="store_true", help="list the rows answered wrongly or not at all")
    parser.add_argument("--work", type=Path, help="keep the index and database here (default: a temporary folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    if not args.set.is_dir():
        parser.error(f"--set {args.set}: no such folder")
    with tempfile.TemporaryDirectory(prefix="bench-support-") as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        outcomes = run_set(args.set, work, threshold=args.threshold)
    summary = summarise(outcomes)
    print(f"\nSupport QA on {args.set} ({len(outcomes)} messages)\n")
    print_table(summary)
    if args.failures:
        print("\nNot answered right with the fact, or answered though unanswerable:\n")
        print_failures(outcomes)
    if args.json:
        rows = [
            {
                "line": o.row["line"],
                "kind": o.kind,
                "q": o.row["q"],
                "expect": o.row["expect"],
                "reply": o.reply,
                "answered": o.answered,
                "sources": o.sources,
                "routed": o.routed,
                "search_top": o.search_top,
                "confidence": o.confidence,
                "handoff_reason": o.handoff_reason,
                "ms": o.ms,
                **{k: v for k, v in o.metrics().items()},
            }
            for o in outcomes
        ]
        args.json.write_text(
            json.dumps({"set": str(args.set), "summary": summary, "rows": rows}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    flags = f" --threshold {args.threshold}" if args.threshold is not None else ""
    print(f"\nCommand: python scripts/bench_support.py --set {args.set}{flags}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
