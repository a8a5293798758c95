"""The ``pasokh`` command line: index, search, ask, gaps, serve, setup.

Heavy libraries (torch, sentence-transformers, FAISS) are imported inside the
subcommand that needs them, so ``pasokh --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_INDEX = 3

logger = logging.getLogger("pasokh")


def _settings(args: argparse.Namespace):
    """Return settings from the environment, overridden by the flags given on the command line."""
    from bot.settings import Settings  # noqa: PLC0415

    overrides = {}
    for flag in ("kb", "index", "model"):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[flag] = value
    return Settings(**overrides)


def _cmd_index(args: argparse.Namespace) -> int:
    """Build or update the index of the KB folder."""
    from indexer.build import BuildError, build_from_kb  # noqa: PLC0415
    from indexer.embedding import make_embedder  # noqa: PLC0415

    settings = _settings(args)
    try:
        report = build_from_kb(
            settings.kb,
            make_embedder(settings),
            settings.index,
            skip_invalid=args.skip_invalid,
            section_max_chars=settings.section_max_chars,
            batch_size=settings.embed_batch_size,
        )
    except BuildError as exc:
        print(f"pasokh index: {len(exc.problems)} problem(s); the index was not changed:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        if any("no valid articles" not in p.reason for p in exc.problems):
            print("Fix the files above, or pass --skip-invalid to index the rest.", file=sys.stderr)
        return EXIT_BUILD_FAILED
    except FileNotFoundError as exc:
        print(f"pasokh index: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    except RuntimeError as exc:  # another build holds the lock
        print(f"pasokh index: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    for problem in report.skipped:
        print(f"skipped {problem}", file=sys.stderr)
    print(report.summary())
    return EXIT_OK


def _load_searcher(args: argparse.Namespace):
    """Load the index and the matching embedder, or explain why not."""
    from indexer.embedding import make_embedder  # noqa: PLC0415
    from indexer.retrieval import HybridSearcher  # noqa: PLC0415
    from indexer.store import load_index  # noqa: PLC0415

    settings = _settings(args)
    embedder = make_embedder(settings)
    index = load_index(settings.index, expect_model=embedder.name)
    return HybridSearcher(index, embedder, dense_weight=settings.dense_weight)


def _cmd_search(args: argparse.Namespace) -> int:
    """Print the best-matching articles and sections."""
    from indexer.textnorm import normalize  # noqa: PLC0415

    if not normalize(args.query):
        print("pasokh search: the query is empty", file=sys.stderr)
        return EXIT_USAGE
    searcher = _load_searcher(args)
    hits = searcher.search(args.query, k=args.k, mode=args.mode)
    if args.json:
        from bot.answer import hit_json  # noqa: PLC0415

        print(json.dumps({"query": args.query, "results": [hit_json(h) for h in hits]}, ensure_ascii=False, indent=1))
        return EXIT_OK
    if not hits:
        print("no matching article")
    for rank, hit in enumerate(hits, 1):
        heading = " > ".join(hit.section.heading_path)
        print(f"{rank}. [{hit.score:.3f}] {hit.article.title}  ({hit.article.id}, {hit.article.lang})")
        print(f"   {heading}")
        snippet = hit.section.text.replace("\n", " ")
        print(f"   {snippet[:200]}{'…' if len(snippet) > 200 else ''}")
    return EXIT_OK


def _cmd_ask(args: argparse.Namespace) -> int:
    """Answer one message through the chat service (the same code as ``POST /v1/chat``)."""
    from bot.runtime import build_service  # noqa: PLC0415
    from bot.service import ChatInputError, ChatRequest  # noqa: PLC0415

    if not args.question.strip():
        print("pasokh ask: message: must not be empty or only whitespace", file=sys.stderr)
        return EXIT_USAGE
    service = build_service(_settings(args))
    try:
        reply = service.chat(ChatRequest(message=args.question, session_id=args.session, lang=args.lang))
    except ChatInputError as exc:
        print(f"pasokh ask: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        service.storage.close()
    if args.json:
        print(json.dumps(reply.to_json(), ensure_ascii=False, indent=1))
    else:
        print(reply.reply)
        print(
            f"\n[session {reply.session_id} · confidence {reply.confidence:.2f}"
            f"{' · handoff: ' + str(reply.handoff_reason) if reply.handoff else ''}]",
            file=sys.stderr,
        )
    return EXIT_OK


def _cmd_gaps(args: argparse.Namespace) -> int:
    """Print the content-gap report: unanswered questions clustered by meaning (same as ``GET /v1/gaps``)."""
    from bot.api_agents import window  # noqa: PLC0415
    from bot.reports import Reports  # noqa: PLC0415
    from bot.runtime import build_service  # noqa: PLC0415
    from bot.service import ChatInputError  # noqa: PLC0415

    try:
        start, end = window(args.start, args.end)
    except ChatInputError as exc:
        print(f"pasokh gaps: --{exc.field}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    service = build_service(_settings(args))
    try:
        gaps = Reports(service).gaps(start, end, min_size=args.min_size)
    finally:
        service.storage.close()
    if args.json:
        body = {"from": start.isoformat(), "to": end.isoformat(), "gaps": [g.to_json() for g in gaps]}
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return EXIT_OK
    print(f"content gaps {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC: {len(gaps)} cluster(s)")
    for rank, gap in enumerate(gaps, 1):
        langs = ", ".join(f"{lang} {n}" for lang, n in sorted(gap.langs.items()))
        nearest = gap.nearest_article
        near = f"{nearest.title} ({nearest.article_id}, {nearest.score:.2f})" if nearest else "none"
        print(f"{rank}. {gap.size} question(s) [{langs}] in {gap.sessions} conversation(s); nearest article: {near}")
        for example in gap.examples:
            print(f"   - {example}")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    """Serve the HTTP API; with no index yet, build one from the KB folder first."""
    import uvicorn  # noqa: PLC0415

    from bot.api import create_app  # noqa: PLC0415
    from bot.heap import settle_heap  # noqa: PLC0415
    from bot.runtime import build_service  # noqa: PLC0415
    from indexer.store import current_generation  # noqa: PLC0415

    settings = _settings(args)
    if settings.log_format == "json":
        from bot.logs import configure  # noqa: PLC0415

        configure(logging.INFO if args.verbose else logging.WARNING, "json")
    if current_generation(settings.index) is None:
        print(f"pasokh serve: no index in {settings.index}; building it from {settings.kb} first", file=sys.stderr)
        status = _cmd_index(argparse.Namespace(**{**vars(args), "skip_invalid": True}))
        if status != EXIT_OK:
            return status
    service = build_service(settings)  # load before listening, so a bad setting fails here, clearly
    settle_heap()
    app = create_app(settings, service_factory=lambda _settings: service)
    print(f"pasokh serve: http://{args.host}:{args.port} (index {settings.index})", file=sys.stderr)
    # On SIGTERM uvicorn stops accepting connections and lets requests in flight finish (up to 30 s);
    # the app's shutdown then stops the webhook and index threads and closes the database pool.
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", access_log=False, timeout_graceful_shutdown=30
    )
    return EXIT_OK


def _cmd_setup(args: argparse.Namespace) -> int:
    """Convert the bundled model once (so the first index build does not pay for it)."""
    from indexer.embedding import make_embedder  # noqa: PLC0415

    settings = _settings(args)
    if settings.embed_backend == "auto":
        # Setup creates the ONNX export: ask for that engine, so "auto" does not first warn that it is missing.
        settings = settings.model_copy(update={"embed_backend": "onnx"})
    embedder = make_embedder(settings)
    path = embedder.model_path() if hasattr(embedder, "model_path") else embedder.name
    print(f"embedding model ready: {path}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="pasokh", description="Bilingual (fa/en) support bot and KB search.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, kb: bool = False) -> None:
        p.add_argument("--index", type=Path, help="index folder (default: $PASOKH_INDEX or var/index)")
        p.add_argument("--model", help="embedding model (default: $PASOKH_MODEL or the bundled e5)")
        if kb:
            p.add_argument("--kb", type=Path, help="KB folder (default: $PASOKH_KB or kb/articles)")

    p = sub.add_parser("index", help="build or update the index of a KB folder")
    common(p, kb=True)
    p.add_argument("--skip-invalid", action="store_true", help="index the valid articles and list the invalid ones")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("search", help="print the best-matching articles and sections")
    common(p)
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, choices=range(1, 51), metavar="K", help="results (1-50, default 5)")
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    p.add_argument("--json", action="store_true", help="print JSON like GET /v1/search")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("ask", help="answer one message in the terminal")
    common(p)
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the same object as POST /v1/chat")
    p.add_argument("--session", help="continue this conversation (the session_id of an earlier reply)")
    p.add_argument("--lang", choices=("fa", "en"), help="reply language (default: detected)")
    p.set_defaults(func=_cmd_ask)

    p = sub.add_parser("gaps", help="print the questions the KB could not answer, clustered by meaning")
    common(p)
    p.add_argument("--from", dest="start", help="ISO date or datetime, UTC (default: 30 days before --to)")
    p.add_argument("--to", dest="end", help="ISO date or datetime, exclusive (default: now)")
    p.add_argument("--min-size", type=int, default=1, help="hide clusters with fewer questions (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON like GET /v1/gaps")
    p.set_defaults(func=_cmd_gaps)

    p = sub.add_parser("serve", help="serve the HTTP API (and the web widget)")
    common(p, kb=True)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("setup", help="prepare the bundled embedding model (one-time conversion)")
    common(p)
    p.set_defaults(func=_cmd_setup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pasokh`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # bm25s sets its own logger to DEBUG when imported; keep it at our level instead.
    logging.getLogger("bm25s").addFilter(lambda record: record.levelno >= logging.WARNING)
    from pydantic import ValidationError  # noqa: PLC0415

    from indexer.store import IndexMismatchError, IndexNotFoundError  # noqa: PLC0415

    try:
        return args.func(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"PASOKH_{'_'.join(map(str, e['loc'])).upper()} ({'.'.join(map(str, e['loc']))}): {e['msg']}"
            for e in exc.errors()
        )
        print(f"pasokh {args.command}: invalid setting: {problems}", file=sys.stderr)
        return EXIT_USAGE
    except (IndexNotFoundError, IndexMismatchError, FileNotFoundError) as exc:
        print(f"pasokh {args.command}: {exc}", file=sys.stderr)
        return EXIT_NO_INDEX
    except ValueError as exc:  # a setting or file the services refuse (business hours, database URL, model files)
        print(f"pasokh {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
