"""The API reference pages: Swagger UI at /docs and ReDoc at /redoc, served offline under the server's CSP.

The first tests build a small app with ``mount_api_docs`` and check what is served (fast, no browser). The
browser tests open the pages of a real ``pasokh serve`` in Chromium with every request to another origin
refused, and fail on any CSP violation (the ``new_page`` fixture).
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from bot.web import mount_web
from bot.web.apidocs import ASSET_PREFIX, REDOC_BUNDLE, mount_api_docs, vendor_dir


class _Message(BaseModel):
    message: str


def _app() -> FastAPI:
    app = FastAPI(title="Pasokh", docs_url=None, redoc_url=None)

    @app.post("/v1/chat", tags=["customer"])
    def chat(body: _Message) -> _Message:
        """Answer a customer message."""
        return body

    mount_web(app)  # its /static mount comes first: the docs files must still be reached
    mount_api_docs(app)
    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app())


def _assets(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_page_runs_only_scripts_from_this_server(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script_src == "'self'"
    page = response.text
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []  # no inline script
    assert "http://" not in page and "https://" not in page  # nothing from a CDN
    assert all(url.startswith(ASSET_PREFIX + "/") for url in _assets(page))


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_page_files_are_served(client, path):
    for url in _assets(client.get(path).text):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["x-content-type-options"] == "nosniff"
        kind = response.headers["content-type"]
        expected = {"js": "javascript", "css": "text/css", "png": "image/png"}[url.rsplit(".", 1)[1]]
        assert expected in kind, (url, kind)


def test_api_docs_swagger_page_names_the_schema_and_its_start_script(client):
    page = client.get("/docs").text
    assert 'data-openapi-url="/openapi.json"' in page
    assert f'<script src="{ASSET_PREFIX}/swagger-init.js"></script>' in page
    script = client.get(f"{ASSET_PREFIX}/swagger-init.js").text
    assert "SwaggerUIBundle(" in script
    assert "validatorUrl: null" in script  # the default loads a badge from an online validator


def test_api_docs_swagger_bundle_is_the_package_file(client):
    served = client.get(f"{ASSET_PREFIX}/swagger-ui-bundle.js").content
    assert served == (vendor_dir() / "swagger-ui-bundle.js").read_bytes()


def test_api_docs_redoc_bundle_names_no_other_origin(client):
    original = (vendor_dir() / REDOC_BUNDLE).read_bytes()
    served = client.get(f"{ASSET_PREFIX}/{REDOC_BUNDLE}").content
    assert b"cdn.redoc.ly" in original
    assert b"cdn.redoc.ly" not in served
    # Only the logo's address was emptied.
    assert len(original) - len(served) == len(b"https://cdn.redoc.ly/redoc/logo-mini.svg")


def test_api_docs_redoc_search_is_off(client):
    # ReDoc's search runs in a worker made from a blob: address, which script-src 'self' refuses.
    assert re.search(r'<redoc spec-url="/openapi.json" disable-search></redoc>', client.get("/redoc").text)


def test_api_docs_pages_stay_out_of_the_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert list(paths) == ["/v1/chat"]


def test_mount_api_docs_refuses_an_app_with_fastapi_docs_pages():
    with pytest.raises(ValueError, match="docs_url=None"):
        mount_api_docs(FastAPI())


def test_mount_api_docs_refuses_an_app_without_a_schema():
    with pytest.raises(ValueError, match="openapi_url"):
        mount_api_docs(FastAPI(openapi_url=None, docs_url=None, redoc_url=None))


# --- in Chromium, against a real `pasokh serve` -------------------------------------------------------------


def _refuse_other_origins(page, server) -> list[str]:
    """Abort every request that leaves the server (offline) and return the list they are recorded in."""
    elsewhere: list[str] = []

    def refuse(route) -> None:
        elsewhere.append(route.request.url)
        route.abort()

    page.context.route(lambda url: not url.startswith(server.url), refuse)
    return elsewhere


@pytest.mark.integration
def test_api_docs_swagger_ui_shows_the_operations_offline(new_page, server, screenshots):
    from playwright.sync_api import expect  # noqa: PLC0415 - only the browser tests need it

    page = new_page()
    elsewhere = _refuse_other_origins(page, server)
    page.goto("/docs")
    chat = page.locator('.opblock-summary-path[data-path="/v1/chat"]')
    expect(chat).to_be_visible()
    expect(page.locator('.opblock-summary-path[data-path="/v1/search"]')).to_be_visible()
    chat.click()  # the operation opens with its request body schema
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.screenshot(path=str(screenshots / "api-docs-swagger.png"))
    assert elsewhere == []


@pytest.mark.integration
def test_api_docs_redoc_shows_the_operations_offline(new_page, server, screenshots):
    from playwright.sync_api import expect  # noqa: PLC0415 - only the browser tests need it

    page = new_page()
    elsewhere = _refuse_other_origins(page, server)
    page.goto("/redoc")
    expect(page.get_by_text("/v1/chat", exact=True).first).to_be_visible()
    expect(page.get_by_text("/v1/search", exact=True).first).to_be_attached()
    expect(page.locator("redoc img[alt='redocly logo']")).to_have_count(0)
    page.screenshot(path=str(screenshots / "api-docs-redoc.png"))
    assert elsewhere == []
