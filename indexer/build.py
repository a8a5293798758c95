"""Incremental, atomic index builds: only new or changed articles are embedded."""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from indexer.articles import Article, ArticleProblem, load_kb
from indexer.chunking import Section, split_article
from indexer.classifier import _FORMAT as CLASSIFIER_FORMAT
from indexer.classifier import OUT_OF_SCOPE, ArticleClassifier
from indexer.embedding import Embedder
from indexer.store import (
    FORMAT,
    IndexMismatchError,
    Key,
    Manifest,
    QuoteUnit,
    build_lock,
    current_generation,
    load_index,
    new_build_folder,
    publish,
    read_manifest,
    write_generation,
)
from indexer.textnorm import detect_lang
from indexer.units import passage_units, quote_texts

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]


class BuildError(Exception):
    """The KB has problems; nothing was swapped in."""

    def __init__(self, problems: Sequence[ArticleProblem]) -> None:
        """Keep every problem so the caller can list them all."""
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the one-line summary and the API."""

    articles: int
    sections: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    embedded_keys: int
    seconds: float
    generation: str
    skipped: tuple[ArticleProblem, ...] = field(default=())

    def summary(self) -> str:
        """One line: articles, sections, added, changed, removed, re-embedded, seconds."""
        reembedded = len(self.added) + len(self.changed)
        line = (
            f"indexed {self.articles} articles, {self.sections} sections: "
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.articles - reembedded} unchanged; re-embedded {reembedded} "
            f"article{'s' if reembedded != 1 else ''} ({self.embedded_keys} vectors) in {self.seconds:.1f}s"
        )
        if self.skipped:
            line += f"; skipped {len(self.skipped)} invalid file{'s' if len(self.skipped) != 1 else ''}"
        return line


def _section_text(section: Section) -> str:
    """Text embedded and BM25-indexed for a section: its heading path, then its body."""
    path = " > ".join(h for h in section.heading_path if h)
    return f"{path}\n{section.text}" if path else section.text


UNIT_KEYS = True
"""Whether sections of more than one paragraph, list item or table row also get one key per unit."""


def _keys_for(article: Article, sections: Sequence[Section]) -> list[Key]:
    """One key per section, one per unit of a section that has several, and one per example question.

    A unit key's text is the article title, a colon and the unit (``indexer.units.passage_units``):
    the title gives a short paragraph or a table row the subject it lacks on its own.
    """
    keys = [Key(article.id, s.id, "section", _section_text(s)) for s in sections]
    if UNIT_KEYS:
        for section in sections:
            units = passage_units(section.text)
            if len(units) > 1:
                keys += [Key(article.id, section.id, "unit", f"{article.title}: {u}") for u in units]
    keys += [Key(article.id, None, "question", q) for q in article.questions]
    return keys


def _embed_keys(embedder: Embedder, keys: Sequence[Key], batch: int, progress: ProgressFn | None) -> np.ndarray:
    """Embed keys in batches: sections and units as passages, example questions as queries."""
    out = np.zeros((len(keys), embedder.dim), dtype=np.float32)
    done = 0
    for kind, embed in (
        ("section", embedder.embed_passages),
        ("unit", embedder.embed_passages),
        ("question", embedder.embed_queries),
    ):
        rows = [i for i, k in enumerate(keys) if k.kind == kind]
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            out[chunk] = embed([keys[i].text for i in chunk])
            done += len(chunk)
            if progress:
                progress(done, len(keys))
    return out


def _tqdm_progress() -> tuple[ProgressFn, Callable[[], None]]:
    """Return a progress bar on stderr (shown only on a terminal) and its closer."""
    from tqdm import tqdm  # noqa: PLC0415

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="embedding", unit="vec", file=sys.stderr, disable=None, leave=False)
        bar.update(done - bar.n)

    def close() -> None:
        if bar is not None:
            bar.close()

    return update, close


def build_index(
    articles: Sequence[Article],
    embedder: Embedder,
    index_dir: Path,
    *,
    section_max_chars: int = 1200,
    batch_size: int = 32,
    progress: ProgressFn | None = None,
    skipped: Sequence[ArticleProblem] = (),
    out_of_scope: Sequence[str] = (),
) -> BuildReport:
    """Build ``articles`` into ``index_dir``, reusing vectors of unchanged articles, then swap."""
    started = time.perf_counter()
    index_dir = Path(index_dir)
    with build_lock(index_dir):
        previous = _reusable(index_dir, embedder, section_max_chars)
        previous_articles = previous.manifest.articles if previous else {}
        prev_hashes = {aid: meta["content_hash"] for aid, meta in previous_articles.items()}
        all_sections: list[Section] = []
        all_keys: list[Key] = []
        vectors: list[np.ndarray | None] = []
        fresh: list[int] = []
        added, changed = [], []
        per_article: dict[str, dict] = {}
        for article in articles:
            sections = split_article(article, max_chars=section_max_chars)
            keys = _keys_for(article, sections)
            old = prev_hashes.get(article.id)
            reuse = previous is not None and old == article.content_hash
            if old is None:
                added.append(article.id)
            elif not reuse:
                changed.append(article.id)
            if reuse:
                rows = [i for i, k in enumerate(previous.keys) if k.article_id == article.id]
                if [previous.keys[i] for i in rows] != keys:  # chunking changed under the same text
                    reuse = False
            for j in range(len(keys)):
                if reuse:
                    vectors.append(previous.vectors[rows[j]])
                else:
                    vectors.append(None)
                    fresh.append(len(all_keys) + j)
            all_sections.extend(sections)
            all_keys.extend(keys)
            per_article[article.id] = {
                "content_hash": article.content_hash,
                "version": article.content_hash[:12],
                "path": article.path,
                "title": article.title,
                "lang": article.lang,
                "sections": len(sections),
            }
        removed = sorted(set(prev_hashes) - set(per_article))
        close = None
        if progress is None and fresh:
            progress, close = _tqdm_progress()
        try:
            new_vectors = _embed_keys(embedder, [all_keys[i] for i in fresh], batch_size, progress)
        finally:
            if close:
                close()
        titles = {a.id: a.title for a in articles}
        quotes = [
            QuoteUnit(section.id, i, text)
            for section in all_sections
            for i, text in enumerate(quote_texts(titles[section.article_id], section.text))
        ]
        quote_vectors = _quote_vectors(previous, embedder, quotes, all_keys, vectors, new_vectors, fresh, batch_size)
        oos_texts = list(dict.fromkeys(t.strip() for t in out_of_scope if t.strip()))
        oos_vectors = _out_of_scope_vectors(previous, embedder, oos_texts, batch_size)
        matrix = np.zeros((len(all_keys), embedder.dim), dtype=np.float32)
        for i, vec in enumerate(vectors):
            if vec is not None:
                matrix[i] = vec
        if fresh:
            matrix[fresh] = new_vectors
        classifier_digest = hashlib.sha256(
            (f"classifier-{CLASSIFIER_FORMAT}\x1d" + _kb_digest(per_article) + "\x1d" + "\x1e".join(oos_texts)).encode()
        ).hexdigest()
        classifier = _classifier(previous, classifier_digest, matrix, all_keys, oos_texts, oos_vectors, articles)
        query_prefix, passage_prefix = getattr(embedder, "prefixes", ("", ""))
        manifest = Manifest(
            format=FORMAT,
            model=embedder.name,
            dim=embedder.dim,
            query_prefix=query_prefix,
            passage_prefix=passage_prefix,
            section_max_chars=section_max_chars,
            kb_digest=_kb_digest(per_article),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            build_seconds=0.0,
            articles=per_article,
            out_of_scope=len(oos_texts),
            classifier_digest=classifier_digest,
        )
        folder = new_build_folder(index_dir)
        try:
            seconds = time.perf_counter() - started
            manifest = Manifest(**{**manifest.__dict__, "build_seconds": round(seconds, 3)})
            write_generation(
                folder,
                manifest,
                list(articles),
                all_sections,
                all_keys,
                matrix,
                classifier=classifier,
                out_of_scope=oos_texts,
                out_of_scope_vectors=oos_vectors,
                quotes=quotes,
                quote_vectors=quote_vectors,
            )
            final = publish(index_dir, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    report = BuildReport(
        articles=len(articles),
        sections=len(all_sections),
        added=tuple(added),
        changed=tuple(changed),
        removed=tuple(removed),
        embedded_keys=len(fresh),
        seconds=time.perf_counter() - started,
        generation=final.name,
        skipped=tuple(skipped),
    )
    logger.info("%s", report.summary())
    return report


def _quote_vectors(
    previous,
    embedder: Embedder,
    quotes: Sequence[QuoteUnit],
    keys: Sequence[Key],
    reused: Sequence[np.ndarray | None],
    fresh_vectors: np.ndarray,
    fresh: Sequence[int],
    batch: int,
) -> np.ndarray:
    """Passage-side vectors of the quotable units, reusing every vector already computed for the same text.

    A list item, a table row or a one-sentence paragraph is usually a unit key already; the
    previous build's quotes cover unchanged articles. Only the rest is embedded.
    """
    known: dict[str, np.ndarray] = {}
    if previous is not None and previous.quote_vectors is not None:
        known.update(zip((q.text for q in previous.quotes), previous.quote_vectors, strict=True))
    fresh_at = {row: j for j, row in enumerate(fresh)}
    for row, key in enumerate(keys):
        if key.kind == "unit":
            vector = reused[row] if reused[row] is not None else fresh_vectors[fresh_at[row]]
            known.setdefault(key.text, vector)
    missing = list(dict.fromkeys(q.text for q in quotes if q.text not in known))
    for start in range(0, len(missing), batch):
        chunk = missing[start : start + batch]
        known.update(zip(chunk, embedder.embed_passages(chunk), strict=True))
    if not quotes:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([known[q.text] for q in quotes]).astype(np.float32)


def _out_of_scope_vectors(previous, embedder: Embedder, texts: list[str], batch: int) -> np.ndarray:
    """Embed the out-of-scope examples as queries, reusing the previous build's vectors for known texts."""
    known: dict[str, np.ndarray] = {}
    if previous is not None and previous.out_of_scope_vectors is not None:
        known = dict(zip(previous.out_of_scope, previous.out_of_scope_vectors, strict=False))
    missing = [t for t in texts if t not in known]
    for start in range(0, len(missing), batch):
        chunk = missing[start : start + batch]
        known.update(zip(chunk, embedder.embed_queries(chunk), strict=True))
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([known[t] for t in texts]).astype(np.float32)


def _classifier(
    previous,
    digest: str,
    matrix: np.ndarray,
    keys: list[Key],
    oos: list[str],
    oos_vectors: np.ndarray,
    articles: Sequence[Article],
):
    """Train the article classifier, or reuse the previous one when neither the KB nor the examples changed."""
    if previous is not None and previous.classifier is not None and previous.manifest.classifier_digest == digest:
        return previous.classifier
    if not keys:
        return None
    started = time.perf_counter()
    # Unit keys repeat their sections' text: the classifier learns from sections and questions.
    rows = [i for i, k in enumerate(keys) if k.kind != "unit"]
    matrix, keys = matrix[rows], [keys[i] for i in rows]
    vectors = np.vstack([matrix, oos_vectors]) if len(oos) else matrix
    texts = [k.text for k in keys] + oos
    labels = [k.article_id for k in keys] + [OUT_OF_SCOPE] * len(oos)
    article_lang = {a.id: a.lang for a in articles}
    langs = [article_lang.get(k.article_id, "und") for k in keys] + [detect_lang(t) for t in oos]
    classifier = ArticleClassifier.train(vectors, texts, labels, langs=langs)
    logger.info("trained the article classifier on %d examples in %.1f s", len(labels), time.perf_counter() - started)
    return classifier


def _reusable(index_dir: Path, embedder: Embedder, section_max_chars: int):
    """Load the served generation when its vectors can be reused by this build, else None."""
    folder = current_generation(index_dir)
    if folder is None:
        return None
    try:
        manifest = read_manifest(folder)
        if (manifest.model, manifest.section_max_chars) != (embedder.name, section_max_chars):
            logger.info("Model or chunking changed since the last build: embedding everything again")
            return None
        prefixes = getattr(embedder, "prefixes", ("", ""))
        if (manifest.query_prefix, manifest.passage_prefix) != tuple(prefixes) or manifest.dim != embedder.dim:
            return None
        return load_index(index_dir, strict=False)
    except (OSError, ValueError, KeyError, IndexMismatchError) as exc:
        logger.warning("Previous index in %s is unreadable (%s): building from scratch", index_dir, exc)
        return None


def _kb_digest(per_article: dict[str, dict]) -> str:
    """Digest of the whole KB: every article id with its content hash."""
    digest = hashlib.sha256()
    for aid in sorted(per_article):
        digest.update(f"{aid}\x1f{per_article[aid]['content_hash']}\x1e".encode())
    return digest.hexdigest()


def build_from_kb(
    kb_dir: Path,
    embedder: Embedder,
    index_dir: Path,
    *,
    skip_invalid: bool = False,
    section_max_chars: int = 1200,
    batch_size: int = 32,
    progress: ProgressFn | None = None,
) -> BuildReport:
    """Read the KB folder and build it; raise :class:`BuildError` listing every bad file."""
    loaded = load_kb(Path(kb_dir))
    if loaded.problems and not skip_invalid:
        raise BuildError(loaded.problems)
    if not loaded.articles:
        raise BuildError([ArticleProblem(str(kb_dir), "no valid articles (*.md) found")])
    return build_index(
        loaded.articles,
        embedder,
        index_dir,
        section_max_chars=section_max_chars,
        batch_size=batch_size,
        progress=progress,
        skipped=loaded.problems,
        out_of_scope=read_out_of_scope(Path(kb_dir)),
    )


OUT_OF_SCOPE_FILE = "out-of-scope.txt"
"""Optional file in the KB folder: messages the bot must not answer, one per line (``#`` starts a comment)."""


def read_out_of_scope(kb_dir: Path) -> list[str]:
    """Return the KB's out-of-scope example messages (none when the file is absent)."""
    path = Path(kb_dir) / OUT_OF_SCOPE_FILE
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise BuildError([ArticleProblem(str(path), f"not UTF-8 text ({exc.reason})")]) from exc
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
