"""The server's outer shell (pure ASGI): body-size limit, rate limits, site keys, security headers, metrics.

It runs before FastAPI parses anything, so an oversized or abusive request costs almost nothing, and it
answers refusals in the API's one error shape.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.metrics import Metrics, timer

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PUBLIC_PREFIXES = ("/v1/chat", "/v1/search", "/v1/feedback", "/v1/conversations/")
# Pages get a strict policy: scripts and styles only from this server (styles may be inline: the
# widget's shadow DOM carries its own <style>), no framing by other sites, no referrer leaks.
HTML_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        b"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
ALL_HEADERS = ((b"x-content-type-options", b"nosniff"),)
_MAX_BUCKETS = 100_000


class RateLimiter:
    """Token buckets keyed by client address or session: ``per_minute`` requests, refilled evenly."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        """``per_minute`` 0 disables the limit."""
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float | None:
        """Take one token for ``key``; return None when allowed, else the seconds until a token is free."""
        if self.per_minute <= 0:
            return None
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > _MAX_BUCKETS:
                    self._forget_idle(now, rate)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate

    def _forget_idle(self, now: float, rate: float) -> None:
        # A bucket that has refilled completely behaves exactly like a missing one.
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * rate >= self.per_minute]
        for key in full:
            del self._buckets[key]


def error_body(status: int, code: str, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> tuple:
    """Return (start message, body message) of a JSON error in the API's shape."""
    body = json.dumps({"error": code, "detail": detail, "fields": []}).encode("utf-8")
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    }
    return start, {"type": "http.response.body", "body": body}


class Guard:
    """Wraps the app: refuses oversized bodies (413), over-eager clients (429), foreign site keys (403)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        max_body: int,
        per_ip: RateLimiter,
        site_keys: dict[str, frozenset[str]],
        metrics: Metrics,
    ) -> None:
        """Configure the shell around ``app``."""
        self.app = app
        self.max_body = max_body
        self.per_ip = per_ip
        self.site_keys = site_keys
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        elapsed = timer()
        status_seen: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
                headers = list(message.get("headers", []))
                headers.extend(ALL_HEADERS)
                if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    headers.extend(HTML_HEADERS)
                message["headers"] = headers
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                for message in refusal:
                    await send_with_headers(message)
                return
            await self._bounded(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            status = str(status_seen[0]) if status_seen else "499"
            self.metrics.requests.inc(scope["method"], name, status)
            self.metrics.latency.observe(elapsed(), scope["method"], name)

    def _refusal(self, scope: Scope) -> tuple | None:
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return error_body(413, "payload_too_large", f"the request body is limited to {self.max_body} bytes")
        path = scope["path"]
        if not path.startswith(PUBLIC_PREFIXES):
            return None
        site_key = headers.get(b"x-pasokh-site-key")
        if self.site_keys and site_key is not None:
            allowed = self.site_keys.get(site_key.decode("latin-1"))
            origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/")
            if allowed is None:
                return error_body(403, "forbidden", "unknown site key (X-Pasokh-Site-Key)")
            if origin and origin not in allowed:
                return error_body(403, "forbidden", f"this site key may not be used from {origin}")
        client = scope.get("client")
        wait = self.per_ip.retry_after(f"ip:{client[0] if client else 'unknown'}")
        if wait is not None:
            self.metrics.rate_limited.inc("ip")
            retry = str(max(1, math.ceil(wait))).encode()
            return error_body(
                429, "rate_limited", "too many requests from this address; retry later", ((b"retry-after", retry),)
            )
        return None

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with a body reader that refuses more than ``max_body`` bytes (chunked uploads too)."""
        received = 0
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            if not exceeded:  # once the body is too large, the app's own answer is replaced by the 413
                await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            for message in error_body(
                413, "payload_too_large", f"the request body is limited to {self.max_body} bytes"
            ):
                await send(message)
