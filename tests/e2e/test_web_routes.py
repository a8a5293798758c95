"""The web routes without a browser or model: what is served, with which headers (fast; not integration)."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.web import FONT_MAX_AGE, NO_CACHE, STATIC_DIR, mount_web
from bot.web.demo import render_demo, widget_snippet


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    mount_web(app, None)
    return TestClient(app)


@pytest.mark.parametrize("lang, direction", [("fa", "rtl"), ("en", "ltr")])
def test_demo_page_sets_language_direction_and_widget(client, lang, direction):
    response = client.get(f"/?lang={lang}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == NO_CACHE
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert f'<html lang="{lang}" dir="{direction}">' in response.text
    tag = re.search(r'<script src="/widget.js"[^>]*></script>', response.text)
    assert tag is not None
    assert f'data-lang="{lang}"' in tag.group(0)
    assert 'data-site-key="demo"' in tag.group(0)


def test_demo_page_unknown_language_falls_back_to_persian(client):
    response = client.get("/?lang=<script>")
    assert response.status_code == 200
    assert '<html lang="fa" dir="rtl">' in response.text
    assert "<script>" not in response.text.replace('<script src="/widget.js"', "")


def test_demo_page_shows_the_snippet_escaped():
    page = render_demo("en")
    assert html.escape(widget_snippet("en", src="https://your-pasokh-server/widget.js")) in page
    assert re.search(r"\$[a-z_{]", page) is None  # every template placeholder was filled


def test_widget_snippet_escapes_attribute_values():
    snippet = widget_snippet("fa")
    assert snippet.startswith('<script src="/widget.js" data-site-key="demo" data-lang="fa"')
    assert snippet.endswith(" async></script>")
    assert '"' not in re.sub(r'="[^"]*"', "", snippet)  # every value stays inside its quotes


def test_widget_script_is_revalidated_every_load(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == NO_CACHE
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "X-Pasokh-Site-Key" in response.text


def test_console_page_is_served_with_csp(client):
    response = client.get("/console")
    assert response.status_code == 200
    assert "Pasokh" in response.text
    assert "frame-ancestors" in response.headers["content-security-policy"]


def test_static_fonts_are_cached_long_and_licensed(client):
    response = client.get("/static/fonts/Vazirmatn-Regular.woff2")
    assert response.status_code == 200
    assert response.content[:4] == b"wOF2"
    assert response.headers["cache-control"] == FONT_MAX_AGE
    licence = client.get("/static/fonts/OFL.txt")
    assert "SIL Open Font License" in licence.text


def test_static_unknown_file_is_404(client):
    assert client.get("/static/nope.js").status_code == 404


def test_widget_source_never_parses_html():
    """The widget and console build their DOM from text nodes only (the XSS guarantee in the issue)."""
    for name in ("widget.js", "console.js"):
        source = (STATIC_DIR / name).read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in source, f"{name} uses {sink}"
