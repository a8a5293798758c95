"""The HTTP API (FastAPI): thin routes over the chat service.

Every refusal has one JSON shape, whatever caused it (schema, bad JSON, service rules)::

    {"error": "invalid_request", "detail": "message: must not be empty ...",
     "fields": [{"field": "message", "problem": "must not be empty ..."}]}
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime, and the
# body schema is built per app (it carries the configured message limit).
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.answer import hit_json
from bot.service import ChatInputError, ChatRequest, ChatService
from bot.settings import Settings

logger = logging.getLogger(__name__)


class Customer(BaseModel):
    """Who is writing, as the website knows them."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | None = Field(None, max_length=200, description="The website's id for the customer.")
    name: StrictStr | None = Field(None, max_length=200, description="Used to address the customer in replies.")


def _chat_body(max_chars: int) -> type[BaseModel]:
    """Return the ``POST /v1/chat`` body schema, with the configured message limit in it."""

    class ChatBody(BaseModel):
        """A customer message."""

        model_config = ConfigDict(extra="forbid")

        message: StrictStr = Field(..., max_length=max_chars, description="The customer's message.")
        session_id: StrictStr | None = Field(
            None, max_length=64, description="Continue this conversation (from an earlier reply); omit to start one."
        )
        lang: Literal["fa", "en"] | None = Field(None, description="Reply language; detected from the text if omitted.")
        channel: StrictStr = Field("web", min_length=1, max_length=32, description="Where the message came from.")
        customer: Customer | None = None

        @field_validator("message")
        @classmethod
        def _not_blank(cls, value: str) -> str:
            if not value.strip():
                raise ValueError("must not be empty or only whitespace")
            return value

    return ChatBody


class SentimentOut(BaseModel):
    """The message's sentiment."""

    label: Literal["angry", "negative", "neutral", "positive"]
    angry: bool
    score: float = Field(description="Anger score in [0, 1]; `angry` when it reaches PASOKH_ANGER_THRESHOLD.")


class SourceOut(BaseModel):
    """An article the reply quotes; `sources[0]` is the one the reply is drawn from."""

    article_id: str
    title: str
    section: str
    url: str | None
    score: float = Field(description="Calibrated confidence of this answer.")


class RelatedOut(BaseModel):
    """An article the customer is likely to need next."""

    article_id: str
    title: str


class ChatResponse(BaseModel):
    """The bot's reply (every field always present)."""

    session_id: str
    reply: str
    lang: Literal["fa", "en"]
    answered: bool
    confidence: float
    handoff: bool
    handoff_reason: Literal["low_confidence", "requested", "angry", "repeated_failure"] | None
    ticket_id: str | None
    sentiment: SentimentOut
    sources: list[SourceOut]
    related: list[RelatedOut]


class SearchResult(BaseModel):
    """One article found."""

    article_id: str
    title: str
    section: str
    snippet: str
    url: str | None
    lang: str
    score: float


class SearchResponse(BaseModel):
    """Search results, best first."""

    query: str
    results: list[SearchResult]


class ErrorField(BaseModel):
    """One bad input."""

    field: str
    problem: str


class ErrorResponse(BaseModel):
    """Why a request was refused."""

    error: str
    detail: str
    fields: list[ErrorField] = []


def _field_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _error(status: int, code: str, fields: list[tuple[str, str]]) -> JSONResponse:
    detail = "; ".join(f"{name}: {problem}" for name, problem in fields) or code
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


def create_app(settings: Settings, service_factory: Callable[[Settings], ChatService] | None = None) -> FastAPI:
    """Build the app; the service is created once at startup (tests pass a factory with fakes)."""
    if service_factory is None:
        from bot.runtime import build_service  # noqa: PLC0415 - loads models; only the real app needs it

        service_factory = build_service

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        app.state.service = service_factory(settings)
        app.state.ready_seconds = round(time.perf_counter() - started, 2)
        yield
        app.state.service.storage.close()

    app = FastAPI(
        title="Pasokh",
        version="0.1.0",
        summary="Bilingual (Persian + English) customer-support bot over a Markdown knowledge base.",
        lifespan=lifespan,
    )

    def service(request: Request) -> ChatService:
        return request.app.state.service

    Service = Annotated[ChatService, Depends(service)]
    ChatBody = _chat_body(settings.max_message_chars)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_validation_problem(e) for e in exc.errors()]
        return _error(422, "invalid_request", list(dict.fromkeys(fields)))

    @app.exception_handler(ChatInputError)
    async def _refused(_request: Request, exc: ChatInputError) -> JSONResponse:
        code = "not_found" if exc.status == 404 else "invalid_request"
        return _error(exc.status, code, [(exc.field, exc.message)])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "detail": str(exc.detail), "fields": []}, status_code=exc.status_code)

    errors = {422: {"model": ErrorResponse}, 404: {"model": ErrorResponse}}

    @app.post("/v1/chat", response_model=ChatResponse, responses=errors, tags=["customer"])
    def chat(body: ChatBody, svc: Service) -> dict:  # type: ignore[valid-type]
        """Answer one customer message from the KB, or hand the conversation to a person."""
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
        return reply.to_json()

    @app.get("/v1/search", response_model=SearchResponse, responses=errors, tags=["customer"])
    def search(
        svc: Service,
        q: Annotated[str, Query(min_length=1, max_length=settings.max_message_chars, description="Search text.")],
        k: Annotated[int, Query(ge=1, le=50, description="How many articles.")] = 5,
    ) -> dict:
        """Search the knowledge base."""
        if not q.strip():
            raise ChatInputError("q", "must not be empty or only whitespace")
        return {"query": q, "results": [hit_json(h) for h in svc.search(q, k)]}

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

    return app
