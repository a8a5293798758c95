"""The self-describing index folder: generations, the ``CURRENT`` pointer, atomic swap, loading.

Layout of ``--index DIR``::

    DIR/CURRENT            name of the generation being served (replaced atomically)
    DIR/gen-<stamp>/       one complete build:
        manifest.json      model, dimension, prefixes, KB digest, build time, per-article hash
        articles.jsonl     article metadata, in manifest order
        sections.jsonl     sections in id order
        keys.jsonl         what each vector row stands for (a section or an example question)
        vectors.faiss      FAISS inner-product index over the L2-normalised key vectors
        lexical/           bm25s index over the same keys
        quotes.jsonl       the quotable units of every section (indexer.units), in order
        quotes.npy         their passage-side vectors: answer selection's dense evidence
    DIR/.build-*/          a build in progress (removed when it fails, or by the next build)

A build writes a whole generation into a ``.build-*`` folder, renames it to ``gen-*``
and only then replaces ``CURRENT``: a crash at any point leaves the old generation
served and loadable.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from indexer.articles import Article
from indexer.chunking import Section
from indexer.classifier import ArticleClassifier
from indexer.lexical import LexicalIndex

FORMAT = 2  # 2: article classifier and out-of-scope examples
CURRENT = "CURRENT"


class IndexNotFoundError(FileNotFoundError):
    """There is no built index in the folder."""


class IndexMismatchError(ValueError):
    """The index was built with another model than the one configured."""


@dataclass(frozen=True)
class Key:
    """What one vector row stands for: a section, or an example question of an article."""

    article_id: str
    section_id: str | None
    kind: str  # "section" | "question"
    text: str


@dataclass(frozen=True)
class QuoteUnit:
    """One quotable unit of a section (``indexer.units.section_units``) and the text its vector embeds."""

    section_id: str
    unit: int  # position among the section's units
    text: str  # "<article title>: <unit>"


@dataclass(frozen=True)
class Manifest:
    """Describes a generation; loading refuses an index whose model differs from the settings."""

    format: int
    model: str
    dim: int
    query_prefix: str
    passage_prefix: str
    section_max_chars: int
    kb_digest: str
    built_at: str
    build_seconds: float
    articles: dict[str, dict]
    out_of_scope: int = 0
    classifier_digest: str = ""

    def embedding_key(self) -> tuple:
        """Everything that changes a stored vector; when it differs, nothing can be reused."""
        return (self.model, self.dim, self.query_prefix, self.passage_prefix, self.section_max_chars)


@dataclass(frozen=True)
class IndexData:
    """A loaded generation, held in memory for search."""

    folder: Path
    manifest: Manifest
    articles: dict[str, Article]
    sections: tuple[Section, ...]
    keys: tuple[Key, ...]
    vectors: np.ndarray
    faiss_index: object
    lexical: LexicalIndex
    classifier: ArticleClassifier | None = None
    out_of_scope: tuple[str, ...] = ()
    out_of_scope_vectors: np.ndarray | None = None
    quotes: tuple[QuoteUnit, ...] = ()
    quote_vectors: np.ndarray | None = None

    def section_quote_vectors(self, section_id: str) -> np.ndarray | None:
        """Return the vectors of one section's quotable units in reading order (None when not stored)."""
        rows = self._quote_rows.get(section_id)
        if rows is None or self.quote_vectors is None:
            return None
        return self.quote_vectors[rows[0] : rows[1]]

    @property
    def _quote_rows(self) -> dict[str, tuple[int, int]]:
        cached = self.__dict__.get("_quote_rows_cache")
        if cached is None:
            cached = {}
            for row, quote in enumerate(self.quotes):
                start, _ = cached.get(quote.section_id, (row, row))
                cached[quote.section_id] = (start, row + 1)
            object.__setattr__(self, "_quote_rows_cache", cached)
        return cached

    @property
    def generation(self) -> str:
        """Name of the generation folder."""
        return self.folder.name


def _fsync_dir(folder: Path) -> None:
    """Flush a directory entry so a rename survives power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write rows as UTF-8 JSON lines and fsync."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_jsonl(path: Path) -> list[dict]:
    """Read JSON lines."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``index_dir`` so two builds never interleave."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another build of {index_dir} is running; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_build_folder(index_dir: Path) -> Path:
    """Create a fresh ``.build-*`` folder, removing ones left by killed builds (lock held)."""
    for stale in index_dir.glob(".build-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = index_dir / f".build-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    folder.mkdir()
    return folder


def write_generation(
    folder: Path,
    manifest: Manifest,
    articles: list[Article],
    sections: list[Section],
    keys: list[Key],
    vectors: np.ndarray,
    *,
    classifier: ArticleClassifier | None = None,
    out_of_scope: Sequence[str] = (),
    out_of_scope_vectors: np.ndarray | None = None,
    quotes: Sequence[QuoteUnit] = (),
    quote_vectors: np.ndarray | None = None,
) -> None:
    """Write every file of a generation into ``folder`` (not yet visible to readers)."""
    import faiss  # noqa: PLC0415

    # Exact inner-product search: KBs hold thousands of keys, where a flat index is
    # both exact and sub-millisecond; approximate indexes only pay off far beyond that.
    flat = faiss.IndexFlatIP(manifest.dim)
    if len(vectors):
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(flat, str(folder / "vectors.faiss"))
    _write_jsonl(folder / "articles.jsonl", [asdict(a) for a in articles])
    _write_jsonl(folder / "sections.jsonl", [asdict(s) for s in sections])
    _write_jsonl(folder / "keys.jsonl", [asdict(k) for k in keys])
    LexicalIndex.build([k.text for k in keys]).save(folder / "lexical")
    if classifier is not None:
        classifier.save(folder / "classifier.npz")
    _write_jsonl(folder / "out_of_scope.jsonl", [{"text": t} for t in out_of_scope])
    oos_vectors = out_of_scope_vectors if out_of_scope_vectors is not None else np.zeros((0, manifest.dim))
    np.save(folder / "out_of_scope.npy", np.asarray(oos_vectors, dtype=np.float32))
    _write_jsonl(folder / "quotes.jsonl", [asdict(q) for q in quotes])
    qvectors = quote_vectors if quote_vectors is not None else np.zeros((0, manifest.dim))
    np.save(folder / "quotes.npy", np.asarray(qvectors, dtype=np.float32))
    # The manifest goes last: a folder without one is never a complete generation.
    with (folder / "manifest.json").open("w", encoding="utf-8") as fh:
        json.dump(asdict(manifest), fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_dir(folder)


def publish(index_dir: Path, build_folder: Path) -> Path:
    """Make a written generation the served one, atomically; prune all but the previous one."""
    previous = current_generation(index_dir)
    final = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
    os.replace(build_folder, final)
    tmp = index_dir / f".{CURRENT}.tmp"
    tmp.write_text(final.name + "\n", encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    keep = {final.name, previous.name if previous else None}
    for old in index_dir.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    return final


def current_generation(index_dir: Path) -> Path | None:
    """Return the served generation folder, or None when nothing was built yet."""
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = Path(index_dir) / name
    return folder if name and (folder / "manifest.json").is_file() else None


def read_manifest(folder: Path) -> Manifest:
    """Read a generation's manifest."""
    data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise IndexMismatchError(f"{folder}: index format {data.get('format')} is not {FORMAT}; rebuild it")
    return Manifest(**data)


def load_index(index_dir: Path, *, expect_model: str | None = None, strict: bool = True) -> IndexData:
    """Load the served generation; refuse one built with a model other than ``expect_model``.

    With ``strict=False`` (a build reusing vectors) a classifier written by an older version is
    skipped instead of refused: the build trains a new one.
    """
    import faiss  # noqa: PLC0415

    folder = current_generation(Path(index_dir))
    if folder is None:
        raise IndexNotFoundError(f"no index in {index_dir}: build one with `pasokh index --index {index_dir}`")
    manifest = read_manifest(folder)
    if expect_model is not None and manifest.model != expect_model:
        raise IndexMismatchError(
            f"index {index_dir} was built with model {manifest.model!r} but the settings use "
            f"{expect_model!r}; rebuild it with `pasokh index` or set PASOKH_MODEL={manifest.model}"
        )
    articles = {row["id"]: _article(row) for row in _read_jsonl(folder / "articles.jsonl")}
    sections = tuple(_section(row) for row in _read_jsonl(folder / "sections.jsonl"))
    keys = tuple(Key(**row) for row in _read_jsonl(folder / "keys.jsonl"))
    flat = faiss.read_index(str(folder / "vectors.faiss"))
    if flat.d != manifest.dim or flat.ntotal != len(keys):
        raise IndexMismatchError(f"{folder}: vectors ({flat.ntotal}x{flat.d}) do not match keys/manifest")
    vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, manifest.dim), np.float32)
    lexical = LexicalIndex.load(folder / "lexical", len(keys))
    classifier = None
    if (folder / "classifier.npz").is_file():
        try:
            classifier = ArticleClassifier.load(folder / "classifier.npz")
        except ValueError as exc:
            if strict:
                raise IndexMismatchError(str(exc)) from exc
    elif strict:
        raise IndexMismatchError(f"{folder}: no article classifier; rebuild the index with `pasokh index`")
    oos = tuple(row["text"] for row in _read_jsonl(folder / "out_of_scope.jsonl"))
    oos_vectors = np.load(folder / "out_of_scope.npy")
    quotes: tuple[QuoteUnit, ...] = ()
    quote_vectors = None
    if (folder / "quotes.jsonl").is_file() and (folder / "quotes.npy").is_file():
        # An index written before quotes were stored has none: answers are then chosen on words alone.
        quotes = tuple(QuoteUnit(**row) for row in _read_jsonl(folder / "quotes.jsonl"))
        quote_vectors = np.load(folder / "quotes.npy")
        if quote_vectors.shape != (len(quotes), manifest.dim):
            raise IndexMismatchError(f"{folder}: quote vectors {quote_vectors.shape} do not match quotes.jsonl")
    return IndexData(
        folder, manifest, articles, sections, keys, vectors, flat, lexical, classifier, oos, oos_vectors,
        quotes, quote_vectors,
    )  # fmt: skip


def _article(row: dict) -> Article:
    """Rebuild an Article from its JSON row."""
    return Article(**{**row, "tags": tuple(row["tags"]), "questions": tuple(row["questions"])})


def _section(row: dict) -> Section:
    """Rebuild a Section from its JSON row."""
    return Section(**{**row, "heading_path": tuple(row["heading_path"])})
