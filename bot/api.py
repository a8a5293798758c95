"""The HTTP API (FastAPI): thin routes over the chat service and its companions.

Every refusal has one JSON shape, whatever caused it (schema, bad JSON, service rules, auth)::

    {"error": "invalid_request", "detail": "message: must not be empty ...",
     "fields": [{"field": "message", "problem": "must not be empty ..."}]}

Customer routes are here; agent and admin routes are in :mod:`bot.api_agents`.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime, and the
# body schemas are built per app (they carry the configured message limit).
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.answer import hit_json
from bot.api_agents import agent_router
from bot.auth import AuthError
from bot.guard import Guard, RateLimiter
from bot.hours import zone_names
from bot.metrics import Metrics
from bot.rebuild import IndexRebuilder, IndexWatcher, RebuildRunning
from bot.records import conversation_state
from bot.reports import Reports
from bot.schemas import (
    ChatResponse,
    Customer,
    ErrorResponse,
    FeedbackBody,
    FeedbackOut,
    MessagesResponse,
    SearchResponse,
    WidgetConfig,
    chat_body,
)
from bot.service import ChatInputError, ChatRequest, ChatService
from bot.settings import Settings
from bot.storage import NotFound, TicketConflict
from bot.suggest import ReplySuggester

logger = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def _field_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def error_response(status: int, code: str, fields: list[tuple[str, str]], detail: str | None = None) -> JSONResponse:
    """Return the API's one error shape."""
    detail = detail or "; ".join(f"{name}: {problem}" for name, problem in fields) or code
    body = {"error": code, "detail": detail, "fields": [{"field": f, "problem": p} for f, p in fields]}
    return JSONResponse(body, status_code=status)


def _validation_problem(err: dict[str, Any]) -> tuple[str, str]:
    kind = err.get("type", "")
    if kind == "json_invalid":
        return "body", f"is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return _field_name(err.get("loc", ())), "must be a JSON object"
    if kind == "missing" and err.get("loc") == ("body",):
        return "body", "is required (a JSON object)"
    if kind == "extra_forbidden":
        return _field_name(err["loc"]), "is not a known field"
    return _field_name(err.get("loc", ())), str(err.get("msg", "is invalid")).removeprefix("Value error, ")


def _companions(app: FastAPI, settings: Settings, service: ChatService) -> None:
    """Attach what the agent and admin routes use: suggester, reports, rebuilder, webhook."""
    app.state.suggester = ReplySuggester(service)
    app.state.reports = Reports(service)

    def passage_embedder():
        from indexer.embedding import make_embedder  # noqa: PLC0415 - heavy; only when a rebuild runs

        if service.embedder.name.startswith("fake"):
            return service.embedder
        embedder = make_embedder(settings)
        return embedder.load() if hasattr(embedder, "load") else embedder

    app.state.rebuilder = IndexRebuilder(settings, passage_embedder, lambda _report: service.reload_index())
    app.state.notifier = None
    if settings.handoff_webhook_url:
        from bot.webhook import WebhookNotifier  # noqa: PLC0415

        app.state.notifier = WebhookNotifier(
            settings.handoff_webhook_url,
            service.storage,
            attempts=settings.webhook_attempts,
            timeout=settings.webhook_timeout,
        ).start()
        service.notifier = app.state.notifier


def _widget_problem(settings: Settings, site_key: str | None, request: Request) -> str | None:
    """Why the widget may not run on the requesting page (None when it may): what the API would refuse."""
    origin = (request.headers.get("origin") or "").rstrip("/")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    keys = settings.site_key_origins()
    if keys and site_key is not None:
        allowed = keys.get(site_key)
        if allowed is None:
            return "unknown_site_key"
        if origin and origin not in allowed:
            return "origin_not_allowed"
    if origin and origin != own:
        cors = settings.cors_origin_list()
        if "*" not in cors and origin not in cors:
            return "origin_not_allowed"
    return None


def _session_budget(request: Request, session_id: str) -> None:
    """Refuse (429) a session that sends more than ``PASOKH_RATE_LIMIT_PER_SESSION`` requests a minute."""
    wait = request.app.state.session_limiter.retry_after(f"session:{session_id}")
    if wait is not None:
        request.app.state.metrics.rate_limited.inc("session")
        raise RateLimited(wait)


class RateLimited(Exception):
    """Too many requests for one session."""

    def __init__(self, wait: float) -> None:
        """Say how long to wait."""
        super().__init__(f"retry in {wait:.1f} s")
        self.wait = wait


def create_app(settings: Settings, service_factory: Callable[[Settings], ChatService] | None = None) -> FastAPI:
    """Build the app; the service is created once at startup (tests pass a factory with fakes)."""
    if service_factory is None:
        from bot.runtime import build_service  # noqa: PLC0415 - loads models; only the real app needs it

        service_factory = build_service

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        service = service_factory(settings)
        app.state.service = service
        _companions(app, settings, service)
        app.state.ready_seconds = round(time.perf_counter() - started, 2)
        watcher = IndexWatcher(service, settings.index_poll_seconds).start()
        app.state.watcher = watcher
        if service.outbox is not None:
            service.outbox.start()
        yield
        watcher.stop()
        if service.outbox is not None:
            service.outbox.stop()
        if app.state.notifier is not None:
            app.state.notifier.stop()
        app.state.rebuilder.wait(timeout=60)
        service.storage.close()

    app = FastAPI(
        title="Pasokh",
        version="0.1.0",
        summary="Bilingual (Persian + English) customer-support bot over a Markdown knowledge base.",
        lifespan=lifespan,
        # Served by bot.web.apidocs from this server's own files (the default pages load a CDN's scripts).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics = Metrics()
    app.state.session_limiter = RateLimiter(settings.rate_limit_per_session)
    app.add_middleware(
        Guard,
        max_body=settings.max_body_bytes,
        per_ip=RateLimiter(settings.rate_limit_per_ip),
        site_keys=settings.site_key_origins(),
        metrics=metrics,
    )
    origins = settings.cors_origin_list()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Pasokh-Site-Key"],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    # Dependencies that only read app state are coroutines: FastAPI runs a plain ``def`` dependency in
    # its worker thread pool, one extra thread hand-off per request on the chat path.
    async def service(request: Request) -> ChatService:
        return request.app.state.service

    Service = Annotated[ChatService, Depends(service)]
    ChatBody = chat_body(settings.max_message_chars)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_validation_problem(e) for e in exc.errors()]
        return error_response(422, "invalid_request", list(dict.fromkeys(fields)))

    @app.exception_handler(ChatInputError)
    async def _refused(_request: Request, exc: ChatInputError) -> JSONResponse:
        code = "not_found" if exc.status == 404 else "invalid_request"
        return error_response(exc.status, code, [(exc.field, exc.message)])

    @app.exception_handler(NotFound)
    async def _missing(_request: Request, exc: NotFound) -> JSONResponse:
        field = {"session": "session_id", "message": "message_id", "ticket": "ticket_id"}.get(exc.what, "id")
        return error_response(404, "not_found", [(field, f"unknown {exc.what} {exc.key!r}")])

    @app.exception_handler(TicketConflict)
    async def _conflict(_request: Request, exc: TicketConflict) -> JSONResponse:
        return error_response(409, "conflict", [], detail=str(exc))

    @app.exception_handler(RebuildRunning)
    async def _busy(_request: Request, exc: RebuildRunning) -> JSONResponse:
        return error_response(409, "conflict", [], detail=str(exc))

    @app.exception_handler(RateLimited)
    async def _slow_down(_request: Request, exc: RateLimited) -> JSONResponse:
        response = error_response(429, "rate_limited", [], detail="too many messages in this conversation; retry later")
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        return response

    @app.exception_handler(DataError)
    async def _bad_value(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (out of range, an invalid byte): the input's fault, not the server's.
        return error_response(422, "invalid_request", [("body", "contains a value the database cannot store")])

    @app.exception_handler(SQLAlchemyError)
    async def _database_down(_request: Request, exc: SQLAlchemyError) -> JSONResponse:
        logger.error("database error: %s", exc.__class__.__name__)
        response = error_response(503, "database_unavailable", [], detail="the database is unavailable; retry shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(AuthError)
    async def _auth(_request: Request, exc: AuthError) -> JSONResponse:
        response = error_response(exc.status, exc.code, [], detail=exc.detail)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # Undecodable bytes (invalid UTF-8) or JSON nested too deeply to parse.
            return error_response(422, "invalid_request", [("body", "is not valid UTF-8 JSON that can be parsed")])
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = {"error": code, "detail": str(exc.detail), "fields": []}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.post("/v1/chat", response_model=ChatResponse, responses=ERRORS, tags=["customer"])
    def chat(body: ChatBody, svc: Service, request: Request) -> JSONResponse:  # type: ignore[valid-type]
        """Answer one customer message from the KB, or hand the conversation to a person."""
        if body.session_id:
            _session_budget(request, body.session_id)
        customer = body.customer or Customer()
        reply = svc.chat(
            ChatRequest(
                message=body.message,
                session_id=body.session_id,
                lang=body.lang,
                channel=body.channel,
                customer_id=customer.id,
                customer_name=customer.name,
            )
        )
        if reply.kind == "answer":
            metrics.questions.inc("true" if reply.answered else "false")
        if reply.ticket_created and reply.handoff_reason:
            metrics.handoffs.inc(reply.handoff_reason)
        # The body is built by the service in the documented shape; returning it directly skips a second
        # validation against the response model on every turn.
        return JSONResponse(reply.to_json())

    @app.get("/v1/search", response_model=SearchResponse, responses=ERRORS, tags=["customer"])
    def search(
        svc: Service,
        q: Annotated[str, Query(min_length=1, max_length=settings.max_message_chars, description="Search text.")],
        k: Annotated[int, Query(ge=1, le=50, description="How many articles.")] = 5,
    ) -> dict:
        """Search the knowledge base."""
        if not q.strip():
            raise ChatInputError("q", "must not be empty or only whitespace")
        return {"query": q, "results": [hit_json(h) for h in svc.search(q, k)]}

    @app.get(
        "/v1/conversations/{session_id}/messages",
        response_model=MessagesResponse,
        responses=ERRORS,
        tags=["customer"],
    )
    def messages(
        svc: Service,
        session_id: str,
        after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Only messages with a larger id.")] = 0,
    ) -> dict:
        """Return a conversation's messages (the widget's transcript after a reload, and agents' replies)."""
        svc.validate_session_id(session_id)
        conversation = svc.storage.get_conversation(session_id, last_turns=0)
        if conversation is None:
            raise NotFound("session", session_id)
        turns = svc.storage.list_messages(session_id, after=after)
        ticket = svc.storage.latest_ticket(session_id)
        return {
            "session_id": session_id,
            "state": conversation_state(conversation.state, None if ticket is None else ticket.ref()),
            "lang": conversation.lang,
            "ticket": None
            if ticket is None
            else {
                "id": ticket.id,
                "status": ticket.status,
                "reason": ticket.reason,
                "priority": ticket.priority,
                "expected_at": ticket.expected_at,
                "agent": ticket.agent,
            },
            "messages": [t.to_json() for t in turns],
        }

    @app.get("/v1/widget/config", response_model=WidgetConfig, responses=ERRORS, tags=["customer"])
    def widget_config(
        svc: Service,
        request: Request,
        x_pasokh_site_key: Annotated[str | None, Header(max_length=200)] = None,
        site_key: Annotated[
            str | None, Query(max_length=200, description="The widget's site key (or the X-Pasokh-Site-Key header).")
        ] = None,
    ) -> JSONResponse:
        """Tell the widget whether it may run on this page, and the team's time zone and hours.

        Any page may read the answer (so a widget on a site that is not allowed can say so instead of failing
        at every message); it holds nothing private. The key may come as a query parameter: a plain request
        needs no CORS preflight, which a server refuses for an origin it does not allow.
        """
        problem = _widget_problem(settings, x_pasokh_site_key or site_key, request)
        now = svc.clock()
        opening = svc.hours.next_opening(now)
        body = {
            "allowed": problem is None,
            "problem": problem,
            "timezone": svc.hours.timezone,
            "zone_name": zone_names(svc.hours.timezone),
            "open_now": svc.hours.is_open(now),
            "next_opening": None if opening is None else opening.astimezone(timezone.utc).isoformat(),
            "max_message_chars": settings.max_message_chars,
        }
        return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})

    @app.post("/v1/feedback", status_code=201, response_model=FeedbackOut, responses=ERRORS, tags=["customer"])
    def feedback(body: FeedbackBody, svc: Service, request: Request) -> dict:
        """Record a thumbs up/down on a reply and/or a satisfaction score (1-5) for the conversation."""
        svc.validate_session_id(body.session_id)
        _session_budget(request, body.session_id)
        stored = svc.storage.add_feedback(
            body.session_id, rating=body.rating, csat=body.csat, turn_id=body.message_id, comment=body.comment
        )
        return stored.to_json()

    @app.get("/healthz", tags=["operations"])
    def healthz(svc: Service, request: Request) -> dict:
        """Report readiness: the index generation and model being served."""
        index = svc.matcher.searcher.index
        return {
            "status": "ok",
            "index": index.generation,
            "articles": len(index.articles),
            "model": index.manifest.model,
            "confidence_threshold": svc.threshold,
            "startup_seconds": request.app.state.ready_seconds,
        }

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus(svc: Service) -> PlainTextResponse:
        """Prometheus metrics: requests and latency per route, handoffs by reason, answered rate, index age."""
        index = svc.matcher.searcher.index
        built = datetime.fromisoformat(index.manifest.built_at)
        gauges = {
            "pasokh_index_age_seconds": ("Seconds since the served index was built.", time.time() - built.timestamp()),
            "pasokh_index_articles": ("Articles in the served index.", float(len(index.articles))),
            "pasokh_uptime_seconds": ("Seconds since this server started.", time.time() - metrics.started),
        }
        return PlainTextResponse(metrics.render(gauges), media_type="text/plain; version=0.0.4; charset=utf-8")

    app.include_router(agent_router(settings))
    from bot.web import mount_web  # noqa: PLC0415 - keeps the API importable without the web package's files
    from bot.web.apidocs import mount_api_docs  # noqa: PLC0415

    mount_web(app, settings)
    mount_api_docs(app)
    return app
