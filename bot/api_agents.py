"""Agent and admin routes: handoff queue, suggested replies, saved replies, index rebuild, analytics, gaps.

Every route here needs ``Authorization: Bearer <key>`` (see :mod:`bot.auth`); the services they use are
attached to ``app.state`` by :func:`bot.api.create_app`.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime.
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, Security
from fastapi.security import HTTPBearer

from bot.auth import ADMIN, AGENT, authorize
from bot.schemas import (
    AnalyticsResponse,
    ClaimBody,
    ErrorResponse,
    GapsResponse,
    IndexOut,
    RebuildOut,
    SavedRepliesResponse,
    SavedReplyOut,
    SuggestBody,
    SuggestResponse,
    TicketOut,
    TicketsResponse,
    reply_body,
    saved_reply_body,
)
from bot.service import ChatInputError, ChatService
from bot.settings import Settings
from bot.storage import NotFound, Ticket

_bearer = HTTPBearer(auto_error=False, description="PASOKH_AGENT_KEY or PASOKH_ADMIN_KEY")
STATUSES = ("open", "claimed", "resolved", "released")
TICKET_ID_RE = re.compile(r"^T-[A-Za-z0-9_\-]{1,62}$")
MAX_DB_INT = 2**31 - 1  # ids are 32-bit integers in PostgreSQL
DEFAULT_WINDOW = timedelta(days=30)

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No key, or a key that is not valid."},
    403: {"model": ErrorResponse, "description": "The key's role may not call this, or no key is configured."},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def _role(need: str):
    # A coroutine, so the check runs on the event loop rather than costing a worker-thread hand-off.
    async def check(request: Request, _credentials: Annotated[Any, Security(_bearer)] = None) -> str:
        return authorize(request.app.state.settings, request.headers.get("authorization"), need)

    return check


def parse_when(value: str | None, field: str, default: datetime) -> datetime:
    """Parse an ISO date or datetime from a query string (naive means UTC); 422 naming ``field`` otherwise."""
    if value is None or not value.strip():
        return default
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=timezone.utc)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ChatInputError(field, f"{value!r} is not an ISO date (2026-11-01) or datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """Return the ``[from, to)`` window of an analytics request (default: the last 30 days)."""
    now = datetime.now(timezone.utc)
    stop = parse_when(end, "to", now)
    begin = parse_when(start, "from", stop - DEFAULT_WINDOW)
    if begin >= stop:
        raise ChatInputError("from", "must be before `to`")
    return begin, stop


def agent_router(settings: Settings) -> APIRouter:
    """Return the agent and admin routes (body limits come from ``settings``)."""
    router = APIRouter()
    Agent = Annotated[str, Depends(_role(AGENT))]
    Admin = Annotated[str, Depends(_role(ADMIN))]
    ReplyBody = reply_body(settings.max_message_chars)
    SavedReplyBody = saved_reply_body(settings.max_message_chars)

    async def svc(request: Request) -> ChatService:
        return request.app.state.service

    Service = Annotated[ChatService, Depends(svc)]

    def ticket_json(service: ChatService, ticket: Ticket) -> dict:
        return ticket.to_json(service.storage.list_messages(ticket.conversation_id, after=0, limit=1000))

    def get_ticket(service: ChatService, ticket_id: str) -> Ticket:
        if not TICKET_ID_RE.match(ticket_id):
            raise NotFound("ticket", ticket_id)
        ticket = service.storage.get_ticket(ticket_id)
        if ticket is None:
            raise NotFound("ticket", ticket_id)
        return ticket

    # --- handoff queue ------------------------------------------------------------------------

    @router.get("/v1/handoffs", response_model=TicketsResponse, responses=AUTH_ERRORS, tags=["agents"])
    def list_handoffs(
        _role: Agent,
        service: Service,
        status: Annotated[str, Query(description="open, claimed, resolved, released, comma-separated, or all")] = (
            "open,claimed"
        ),
        priority: Annotated[str | None, Query(pattern="^(high|normal)$")] = None,
        lang: Annotated[str | None, Query(pattern="^(fa|en)$")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict:
        """List handoff tickets, high priority first, then oldest first."""
        wanted = STATUSES if status.strip() == "all" else tuple(s.strip() for s in status.split(",") if s.strip())
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown or not wanted:
            raise ChatInputError("status", f"must be 'all' or a comma-separated list of {', '.join(STATUSES)}")
        tickets = service.storage.list_tickets(status=wanted, priority=priority, lang=lang, limit=limit)
        return {"tickets": [ticket_json(service, t) for t in tickets]}

    @router.get("/v1/handoffs/{ticket_id}", response_model=TicketOut, responses=AUTH_ERRORS, tags=["agents"])
    def show_handoff(_role: Agent, service: Service, ticket_id: str) -> dict:
        """Return one ticket with the conversation so far."""
        return ticket_json(service, get_ticket(service, ticket_id))

    @router.post("/v1/handoffs/{ticket_id}/claim", response_model=TicketOut, responses=AUTH_ERRORS, tags=["agents"])
    def claim(_role: Agent, service: Service, ticket_id: str, body: ClaimBody) -> dict:
        """Take a ticket (409 if another agent holds it or it is closed)."""
        get_ticket(service, ticket_id)
        return ticket_json(service, service.storage.claim_ticket(ticket_id, body.agent))

    @router.post("/v1/handoffs/{ticket_id}/reply", response_model=TicketOut, responses=AUTH_ERRORS, tags=["agents"])
    def reply(_role: Agent, service: Service, ticket_id: str, body: ReplyBody) -> dict:  # type: ignore[valid-type]
        """Send a message to the customer (the widget shows it); claims an open ticket."""
        with service.storage.conversation_lock(get_ticket(service, ticket_id).conversation_id):
            service.storage.agent_reply(ticket_id, body.text.strip(), body.agent)
        return ticket_json(service, get_ticket(service, ticket_id))

    @router.post("/v1/handoffs/{ticket_id}/resolve", response_model=TicketOut, responses=AUTH_ERRORS, tags=["agents"])
    def resolve(_role: Agent, service: Service, ticket_id: str) -> dict:
        """Close the ticket; the conversation stays with people."""
        get_ticket(service, ticket_id)
        return ticket_json(service, service.storage.resolve_ticket(ticket_id))

    @router.post("/v1/handoffs/{ticket_id}/release", response_model=TicketOut, responses=AUTH_ERRORS, tags=["agents"])
    def release(_role: Agent, service: Service, ticket_id: str) -> dict:
        """Close the ticket and give the conversation back to the bot."""
        with service.storage.conversation_lock(get_ticket(service, ticket_id).conversation_id):
            ticket = service.storage.release_ticket(ticket_id)
        return ticket_json(service, ticket)

    # --- suggested and saved replies -----------------------------------------------------------

    @router.post("/v1/suggest", response_model=SuggestResponse, responses=AUTH_ERRORS, tags=["agents"])
    def suggest(_role: Agent, service: Service, request: Request, body: SuggestBody) -> dict:
        """Draft 1-3 replies for a conversation (or a ticket's conversation) in the customer's language."""
        session_id = body.session_id
        if body.ticket_id is not None:
            session_id = get_ticket(service, body.ticket_id).conversation_id
        service.validate_session_id(session_id)
        conversation = service.storage.get_conversation(session_id, last_turns=200)
        if conversation is None:
            raise NotFound("session", session_id)
        saved = service.storage.list_saved_replies()
        drafts = request.app.state.suggester.suggest(conversation, customer_name=body.customer_name, saved=saved)
        return drafts.to_json()

    @router.get("/v1/saved-replies", response_model=SavedRepliesResponse, responses=AUTH_ERRORS, tags=["agents"])
    def list_saved(
        _role: Agent,
        service: Service,
        request: Request,
        q: Annotated[str | None, Query(max_length=settings.max_message_chars, description="Search text.")] = None,
        lang: Annotated[str | None, Query(pattern="^(fa|en)$")] = None,
    ) -> dict:
        """List saved replies; with ``q``, the best matches first."""
        saved = service.storage.list_saved_replies(lang=lang)
        if q is not None and q.strip():
            saved = request.app.state.suggester.search_saved(q, saved, lang=lang)
        return {"saved_replies": [s.to_json() for s in saved]}

    @router.post(
        "/v1/saved-replies", status_code=201, response_model=SavedReplyOut, responses=AUTH_ERRORS, tags=["agents"]
    )
    def create_saved(_role: Agent, service: Service, body: SavedReplyBody) -> dict:  # type: ignore[valid-type]
        """Store a reusable reply."""
        return service.storage.save_reply(title=body.title, text=body.text, lang=body.lang, tags=body.tags).to_json()

    @router.get("/v1/saved-replies/{reply_id}", response_model=SavedReplyOut, responses=AUTH_ERRORS, tags=["agents"])
    def show_saved(_role: Agent, service: Service, reply_id: Annotated[int, Depends(_reply_id)]) -> dict:
        """Return one saved reply."""
        return service.storage.get_saved_reply(reply_id).to_json()

    @router.put("/v1/saved-replies/{reply_id}", response_model=SavedReplyOut, responses=AUTH_ERRORS, tags=["agents"])
    def update_saved(
        _role: Agent,
        service: Service,
        reply_id: Annotated[int, Depends(_reply_id)],
        body: SavedReplyBody,  # type: ignore[valid-type]
    ) -> dict:
        """Replace a saved reply."""
        return service.storage.save_reply(
            title=body.title, text=body.text, lang=body.lang, tags=body.tags, reply_id=reply_id
        ).to_json()

    @router.delete("/v1/saved-replies/{reply_id}", status_code=204, responses=AUTH_ERRORS, tags=["agents"])
    def delete_saved(_role: Agent, service: Service, reply_id: Annotated[int, Depends(_reply_id)]) -> Response:
        """Delete a saved reply."""
        service.storage.delete_saved_reply(reply_id)
        return Response(status_code=204)

    # --- content writers and managers ------------------------------------------------------------

    @router.get("/v1/index", response_model=IndexOut, responses=AUTH_ERRORS, tags=["admin"])
    def show_index(_role: Admin, service: Service, request: Request) -> dict:
        """Describe the index being served, article by article."""
        index = service.matcher.searcher.index
        manifest = index.manifest
        job = request.app.state.rebuilder.job
        return {
            "generation": index.generation,
            "model": manifest.model,
            "built_at": manifest.built_at,
            "build_seconds": manifest.build_seconds,
            "kb_digest": manifest.kb_digest,
            "articles": len(index.articles),
            "sections": len(index.sections),
            "out_of_scope": manifest.out_of_scope,
            "rebuild": job.to_json() if job else None,
            "per_article": [
                {
                    "id": aid,
                    "title": info.get("title", index.articles[aid].title if aid in index.articles else aid),
                    "lang": info.get("lang", ""),
                    "sections": int(info.get("sections", 0)),
                    "version": info.get("version"),
                    "path": info.get("path"),
                }
                for aid, info in sorted(manifest.articles.items())
            ],
        }

    @router.post("/v1/index/rebuild", status_code=202, response_model=RebuildOut, responses=AUTH_ERRORS, tags=["admin"])
    def start_rebuild(_role: Admin, request: Request) -> dict:
        """Rebuild the index from the KB folder in the background (incremental; swapped in when complete)."""
        return request.app.state.rebuilder.start().to_json()

    @router.get("/v1/index/rebuild", response_model=RebuildOut, responses=AUTH_ERRORS, tags=["admin"])
    def rebuild_status(_role: Admin, request: Request) -> dict:
        """Return the latest rebuild job (404 before the first)."""
        job = request.app.state.rebuilder.job
        if job is None:
            raise NotFound("rebuild job", "latest")
        return job.to_json()

    @router.get("/v1/analytics", response_model=AnalyticsResponse, responses=AUTH_ERRORS, tags=["admin"])
    def analytics(
        _role: Admin,
        request: Request,
        start: Annotated[
            str | None, Query(alias="from", max_length=40, description="ISO date or datetime (UTC).")
        ] = None,
        end: Annotated[
            str | None, Query(alias="to", max_length=40, description="ISO date or datetime, exclusive.")
        ] = None,
    ) -> dict:
        """Deflection, handoffs, first-reply time, CSAT, anger, top articles and content gaps for a window."""
        begin, stop = window(start, end)
        return request.app.state.reports.analytics(begin, stop)

    @router.get("/v1/gaps", response_model=GapsResponse, responses=AUTH_ERRORS, tags=["admin"])
    def gaps(
        _role: Admin,
        request: Request,
        start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
        end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
        min_size: Annotated[int, Query(ge=1, le=1000)] = 1,
    ) -> dict:
        """Questions the KB could not answer, clustered by meaning across languages."""
        begin, stop = window(start, end)
        found = request.app.state.reports.gaps(begin, stop, min_size=min_size)
        return {"from": begin, "to": stop, "gaps": [g.to_json() for g in found]}

    return router


async def _reply_id(reply_id: str) -> int:
    """Parse a saved-reply id from the path (a 404 rather than a 422 for anything that is not one)."""
    if not (reply_id.isascii() and reply_id.isdigit()) or len(reply_id) > 10 or int(reply_id) > MAX_DB_INT:
        raise NotFound("saved reply", reply_id)
    return int(reply_id)
