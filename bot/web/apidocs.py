"""The API reference, served by this server: Swagger UI at ``/docs`` and ReDoc at ``/redoc``, offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and start Swagger UI with an inline script.
The server's Content-Security-Policy (``script-src 'self'``, :mod:`bot.guard`) blocks both, and an
offline install cannot reach a CDN anyway, so the pages came up blank. Here:

- the JavaScript, CSS and icon come from the ``fastapi-offline`` package, which ships the Swagger UI and
  ReDoc bundles (only its files are used, not its app class), served under :data:`ASSET_PREFIX`;
- the two HTML pages are written here and carry no inline script;
- Swagger UI is started by a file of ours, ``static/apidocs/swagger-init.js``, which reads its settings
  from ``data-`` attributes; ReDoc needs no start script (its bundle renders a ``<redoc spec-url>``).

Both libraries set inline *styles*, which the policy allows (``style-src 'unsafe-inline'``: the chat
widget needs it too). ReDoc does two more things the policy forbids: it runs its search in a worker
made from a ``blob:`` address (so the page turns search off with ``disable-search``; Swagger UI
can still filter by tag), and its sidebar footer shows the Redocly logo from Redocly's CDN. That
address is the bundle's only one elsewhere: the bundle is served with it emptied, and ReDoc hides
the image when it does not load. Nothing else in the files is changed.

The app must be built with ``docs_url=None, redoc_url=None`` so that FastAPI does not add its CDN
pages at the same paths.
"""

from __future__ import annotations

import html
import importlib.util
import logging
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

logger = logging.getLogger(__name__)

ASSET_PREFIX = "/static/apidocs"
"""URL prefix of the Swagger UI and ReDoc files and of our start script."""

OWN_ASSETS = Path(__file__).resolve().parent / "static" / "apidocs"
VENDOR_PACKAGE = ("fastapi_offline", "static")
"""The package (and its folder) that ships ``swagger-ui-bundle.js``, ``swagger-ui.css``, ``redoc.standalone.js``."""

REDOC_BUNDLE = "redoc.standalone.js"
_REDOC_LOGO_URL = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'

# The bundles change only with the package version; the pages are revalidated on every load.
ASSET_MAX_AGE = "public, max-age=86400"
# The pages state the policy of bot.guard themselves, so they hold to it whatever wraps the app.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_CSP}


class _AssetFiles(StaticFiles):
    """Static files with a day's caching and ``nosniff``."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Serve ``path`` as Starlette does, adding the cache policy and ``nosniff``."""
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = ASSET_MAX_AGE
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def vendor_dir() -> Path:
    """Return the folder of the installed ``fastapi-offline`` package that holds the bundles."""
    spec = importlib.util.find_spec(VENDOR_PACKAGE[0])
    if spec is None or spec.origin is None:
        raise RuntimeError("the API docs need the fastapi-offline package: pip install 'fastapi-offline>=1.7.7,<2'")
    return Path(spec.origin).parent / VENDOR_PACKAGE[1]


@cache
def redoc_bundle() -> bytes:
    """Return ReDoc's bundle with its one outside address, the sidebar's logo, emptied (read once)."""
    bundle = (vendor_dir() / REDOC_BUNDLE).read_bytes()
    if _REDOC_LOGO_URL not in bundle:
        logger.warning("ReDoc's bundle no longer names its CDN logo; serving it unchanged")
    return bundle.replace(_REDOC_LOGO_URL, b'""')


async def _redoc_bundle_response(request: Request) -> Response:
    """Serve ReDoc's bundle (see :func:`redoc_bundle`)."""
    headers = {"Cache-Control": ASSET_MAX_AGE, "X-Content-Type-Options": "nosniff"}
    return Response(redoc_bundle(), media_type="text/javascript", headers=headers)


def swagger_page(title: str, openapi_url: str, prefix: str = ASSET_PREFIX) -> str:
    """Return the HTML of the Swagger UI page for the schema at ``openapi_url``."""
    title, openapi_url, prefix = (html.escape(value, quote=True) for value in (title, openapi_url, prefix))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – API reference (Swagger UI)</title>
<link rel="icon" href="{prefix}/favicon.png">
<link rel="stylesheet" href="{prefix}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{prefix}/swagger-ui-bundle.js"></script>
<script src="{prefix}/swagger-init.js"></script>
</body>
</html>
"""


def redoc_page(title: str, openapi_url: str, prefix: str = ASSET_PREFIX) -> str:
    """Return the HTML of the ReDoc page for the schema at ``openapi_url``."""
    title, openapi_url, prefix = (html.escape(value, quote=True) for value in (title, openapi_url, prefix))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – API reference (ReDoc)</title>
<link rel="icon" href="{prefix}/favicon.png">
</head>
<body>
<redoc spec-url="{openapi_url}" disable-search></redoc>
<script src="{prefix}/{REDOC_BUNDLE}"></script>
</body>
</html>
"""


def mount_api_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Add Swagger UI (``docs_url``), ReDoc (``redoc_url``) and their files (under ``/static/apidocs``) to ``app``.

    ``app`` must be built with ``docs_url=None, redoc_url=None`` and keep its ``openapi_url``. The
    files are routed ahead of the app's other routes, so a ``/static`` mount added earlier (the web
    pages') does not hide them.
    """
    if app.openapi_url is None:
        raise ValueError("the API docs need the schema: build the app with an openapi_url (the default is fine)")
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError(
            "FastAPI already serves its CDN-based docs pages; build the app with FastAPI(docs_url=None, "
            "redoc_url=None) before calling mount_api_docs"
        )
    vendor_dir()  # fail at start-up, not on the first page view, when the package is missing
    files = _AssetFiles(directory=OWN_ASSETS, packages=[VENDOR_PACKAGE])
    app.router.routes.insert(0, Mount(ASSET_PREFIX, app=files, name="pasokh-apidocs-static"))
    redoc_route = Route(f"{ASSET_PREFIX}/{REDOC_BUNDLE}", _redoc_bundle_response, methods=["GET", "HEAD"])
    app.router.routes.insert(0, redoc_route)  # ahead of the mount, which would serve the file unchanged
    swagger = swagger_page(app.title, app.openapi_url)
    redoc = redoc_page(app.title, app.openapi_url)

    @app.api_route(docs_url, methods=["GET", "HEAD"], include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        """Serve the Swagger UI page (interactive: "Try it out" calls this server)."""
        return HTMLResponse(swagger, headers=PAGE_HEADERS)

    @app.api_route(redoc_url, methods=["GET", "HEAD"], include_in_schema=False)
    def redoc_ui() -> HTMLResponse:
        """Serve the ReDoc page (read-only reference)."""
        return HTMLResponse(redoc, headers=PAGE_HEADERS)

    logger.debug("API docs at %s and %s, files under %s", docs_url, redoc_url, ASSET_PREFIX)
