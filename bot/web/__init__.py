"""The web front end: the embeddable chat widget, the demo store page and the agent console.

Everything is static, hand-written HTML, CSS and JavaScript under ``bot/web/static`` (no build step, nothing
fetched from another origin). :func:`mount_web` adds the routes to an app built by ``bot.api.create_app``:

- ``/`` — the demo store page with the widget (``?lang=fa|en``);
- ``/widget.js`` — the one script a website includes to get the chat bubble;
- ``/console`` — the agents' console (handoff queue, suggested replies, analytics);
- ``/static/...`` — styles, scripts and the Vazirmatn font used by all three.

The widget and console only call the public HTTP API, so they work against any Pasokh server.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from bot.web.demo import render_demo

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# HTML and the widget loader are revalidated on every load (an upgrade shows up at once; the ETag keeps it
# cheap); styles and scripts may be reused for an hour; the fonts never change under the same name.
NO_CACHE = "no-cache"
STATIC_MAX_AGE = "public, max-age=3600"
FONT_MAX_AGE = "public, max-age=31536000, immutable"

# The demo page and console load nothing from elsewhere and run no inline script; saying so to the browser
# stops any injected markup from running even if a rendering bug ever let some through.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
PAGE_HEADERS = {
    "Cache-Control": NO_CACHE,
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class _CachedStaticFiles(StaticFiles):
    """Static files with a ``Cache-Control`` header chosen by file type, readable from any origin.

    The widget runs on other sites' pages, and browsers fetch web fonts in CORS mode: without
    ``Access-Control-Allow-Origin`` the Vazirmatn files would be blocked there. Everything under
    ``/static`` is public, so any origin may read it.
    """

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Serve ``path`` as Starlette does, adding the cache policy, ``nosniff`` and the CORS header."""
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = FONT_MAX_AGE if path.endswith(".woff2") else STATIC_MAX_AGE
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response


def mount_web(app: FastAPI, settings: Any = None) -> None:
    """Add the demo page (``/``), the widget (``/widget.js``), the console (``/console``) and ``/static`` to ``app``.

    ``settings`` is accepted for symmetry with the other factories; the pages need none today (the widget talks
    to the origin it was loaded from and the console asks the agent for a key).
    """
    del settings  # nothing configurable yet
    if not STATIC_DIR.is_dir():  # a broken install; fail loudly at start-up rather than 404 every page
        raise RuntimeError(f"web files missing: {STATIC_DIR} (reinstall the package)")

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def demo_page(lang: str = Query("fa", max_length=8)) -> HTMLResponse:
        """Serve the demo store page with the chat widget, in Persian (default) or English."""
        return HTMLResponse(render_demo(lang), headers=PAGE_HEADERS)

    @app.api_route("/console", methods=["GET", "HEAD"], include_in_schema=False)
    def console_page() -> FileResponse:
        """Serve the agents' console (the page asks for the key)."""
        return FileResponse(STATIC_DIR / "console.html", media_type="text/html", headers=PAGE_HEADERS)

    @app.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
    def widget_script() -> FileResponse:
        """Serve the chat widget that websites include with one ``<script>`` tag."""
        headers = {"Cache-Control": NO_CACHE, "X-Content-Type-Options": "nosniff"}
        return FileResponse(STATIC_DIR / "widget.js", media_type="text/javascript", headers=headers)

    app.mount("/static", _CachedStaticFiles(directory=STATIC_DIR), name="pasokh-static")
    logger.debug("web pages mounted from %s", STATIC_DIR)
