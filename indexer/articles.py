"""Read help articles: Markdown files with optional YAML front matter (see CONTRACT.md)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer.textnorm import detect_lang

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE)
_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}$")
_KNOWN_KEYS = {"id", "title", "lang", "tags", "questions", "url"}


@dataclass(frozen=True)
class Article:
    """One help article as the writer wrote it."""

    id: str
    title: str
    lang: str
    body: str
    path: str = ""
    url: str | None = None
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    content_hash: str = ""

    def with_hash(self) -> Article:
        """Return a copy whose ``content_hash`` covers every field that affects indexing."""
        digest = hashlib.sha256()
        head = (self.id, self.title, self.lang, self.url or "")
        for part in (*head, *self.tags, "\x1e", *self.questions, "\x1e", self.body):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x1f")
        return Article(**{**self.__dict__, "content_hash": digest.hexdigest()})


@dataclass(frozen=True)
class ArticleProblem:
    """Why one file could not be used, reported as ``path: reason``."""

    path: str
    reason: str

    def __str__(self) -> str:
        """Format as ``path: reason``."""
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class KbLoad:
    """The articles read from a KB folder and the problems met on the way."""

    articles: tuple[Article, ...]
    problems: tuple[ArticleProblem, ...] = field(default=())


class ArticleError(ValueError):
    """An article file that cannot be indexed."""


def parse_article(text: str, *, path: str, default_id: str) -> Article:
    """Parse one article's text; raise :class:`ArticleError` naming the problem."""
    meta: dict = {}
    body = text
    match = _FRONT_MATTER.match(text)
    if match is None and text.startswith("---"):
        raise ArticleError("front matter starts with '---' but has no closing '---' line")
    if match is not None:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            raise ArticleError(f"invalid YAML front matter{where}: {getattr(exc, 'problem', exc)}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ArticleError("front matter must be a YAML mapping (key: value lines)")
        meta = loaded
        body = text[match.end() :]
    unknown = sorted(str(k) for k in meta if k not in _KNOWN_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_KNOWN_KEYS))
        raise ArticleError(f"unknown front matter key(s) {', '.join(unknown)}; allowed: {allowed}")
    article_id = _string(meta, "id", default_id)
    if not _ID_OK.match(article_id):
        raise ArticleError(f"id {article_id!r} must be 1-200 letters, digits, '.', '_', '-' or '/'")
    body = body.strip()
    if not body:
        raise ArticleError("article body is empty")
    title = _string(meta, "title", None) or _first_heading(body)
    if not title:
        raise ArticleError("no title: add 'title:' to the front matter or a '# ' heading")
    lang = _string(meta, "lang", None) or detect_lang(f"{title}\n{body}")
    url = _string(meta, "url", None) or None
    tags = _string_list(meta, "tags")
    questions = tuple(q for q in _string_list(meta, "questions") if q)
    return Article(
        id=article_id, title=title, lang=lang, body=body, path=path, url=url, tags=tags, questions=questions
    ).with_hash()


def _string(meta: dict, key: str, default: str | None) -> str | None:
    """Return ``meta[key]`` as a stripped string, refusing lists, mappings and the like."""
    if key not in meta or meta[key] is None:
        return default
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ArticleError(f"'{key}' must be a single text value, not {type(value).__name__}")
    return str(value).strip()


def _string_list(meta: dict, key: str) -> tuple[str, ...]:
    """Return ``meta[key]`` as a tuple of strings (a single string counts as a list of one)."""
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    items_ok = isinstance(value, list) and all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
    )
    if not items_ok:
        raise ArticleError(f"'{key}' must be a list of text items")
    return tuple(str(v).strip() for v in value)


def _first_heading(body: str) -> str:
    """Return the text of the first ``# `` heading, or ''."""
    for line in body.splitlines():
        if line.startswith("# "):
            return line[2:].strip().strip("#").strip()
    return ""


def load_kb(folder: Path) -> KbLoad:
    """Read every ``*.md`` file under ``folder``; collect articles and per-file problems."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"KB folder {folder} does not exist or is not a folder")
    articles: list[Article] = []
    problems: list[ArticleProblem] = []
    seen: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*.md") if p.is_file()):
        shown = str(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(ArticleProblem(shown, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8"))
            continue
        except OSError as exc:
            problems.append(ArticleProblem(shown, f"cannot read: {exc.strerror}"))
            continue
        text = text.removeprefix("\ufeff")
        try:
            article = parse_article(text, path=shown, default_id=path.stem)
        except ArticleError as exc:
            problems.append(ArticleProblem(shown, str(exc)))
            continue
        if article.id in seen:
            problems.append(ArticleProblem(shown, f"duplicate id {article.id!r} (also used by {seen[article.id]})"))
            continue
        seen[article.id] = shown
        articles.append(article)
    return KbLoad(tuple(articles), tuple(problems))
