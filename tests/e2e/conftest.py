"""End-to-end fixtures: a real ``pasokh serve`` over the demo KB and Debian's Chromium driven by Playwright.

One index build, one server and one browser per test session; each test gets a fresh browser context (its own
localStorage, so its own conversation).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_KB = ROOT / "kb" / "articles"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AGENT_KEY = "e2e-agent-key-0123456789"
ADMIN_KEY = "e2e-admin-key-0123456789"
SERVER_START_SECONDS = 240
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass(frozen=True)
class Server:
    """A running ``pasokh serve``: its address and the keys it accepts."""

    url: str
    agent_key: str
    admin_key: str
    log: Path

    def api(self, method: str, path: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
        """Call the HTTP API directly (setup and cross-checks that do not go through a page)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def _pasokh_command() -> list[str]:
    script = Path(sys.executable).with_name("pasokh")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def demo_index(real_demo_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo KB indexed with the real bundled model (the session's shared index, copied).

    The copy is then brought up to date by ``pasokh index`` itself, which only checks it against the KB.
    """
    index = tmp_path_factory.mktemp("e2e") / "index"
    shutil.copytree(real_demo_index, index)
    result = subprocess.run(
        [*_pasokh_command(), "index", "--kb", str(DEMO_KB), "--index", str(index)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        pytest.fail(f"pasokh index failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return index


@pytest.fixture(scope="session")
def server(demo_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``pasokh serve`` on a free port with a throwaway database; stopped at the end of the session."""
    with _serve(demo_index, tmp_path_factory.mktemp("e2e-server")) as running:
        yield running


@contextmanager
def _serve(demo_index: Path, work: Path, port: int | None = None, env_extra: dict | None = None) -> Iterator[Server]:
    """Start ``pasokh serve`` over ``demo_index`` with ``env_extra`` settings; yield once healthy, then stop it."""
    log = work / "serve.log"
    port = port or _free_port()
    env = {
        **os.environ,
        "PASOKH_INDEX": str(demo_index),
        "PASOKH_KB": str(DEMO_KB),
        "PASOKH_DATABASE_URL": f"sqlite:///{work / 'pasokh.db'}",
        "PASOKH_AGENT_KEY": AGENT_KEY,
        "PASOKH_ADMIN_KEY": ADMIN_KEY,
        "PASOKH_HANDOFF_WEBHOOK_URL": "",
        **(env_extra or {}),
    }
    env.pop("DATABASE_URL", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            [*_pasokh_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"pasokh serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"pasokh serve not healthy after {SERVER_START_SECONDS}s:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield Server(url=url, agent_key=AGENT_KEY, admin_key=ADMIN_KEY, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _hours_closed_now(zone: str = "Asia/Tehran") -> str:
    """Business hours of one hour a day, starting three hours from now in ``zone``: the team is away now."""
    start = (datetime.now(ZoneInfo(zone)).hour + 3) % 24
    return f"sat-fri {start:02d}:00-{start + 1:02d}:00"


class OtherSite:
    """Another website (its own port, so its own origin) whose pages embed the widget: ``add`` a page, open ``url``.

    Its pages are real HTTP responses from a loopback address: Chromium refuses a page it cannot place on the
    network (one fulfilled by a Playwright route) access to the loopback chat server.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.pages: dict[str, str] = {}

    def add(self, path: str, html: str) -> str:
        """Serve ``html`` at ``path``; return the path."""
        self.pages[path] = html
        return path


@pytest.fixture(scope="session")
def other_site() -> Iterator[OtherSite]:
    """A small static website on ``http://127.0.0.1:PORT`` (also ``http://localhost:PORT``), for embedding tests."""
    pages: dict[str, str] = {}

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            html = pages.get(self.path.split("?", 1)[0])
            if html is None:
                self.send_error(404)
                return
            body = html.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    site = OtherSite(httpd.server_address[1])
    site.pages = pages
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def site_server(demo_index: Path, other_site: OtherSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second server for embedding and time-zone tests: site keys checked, and its team away now.

    Its own demo page (``http://127.0.0.1:PORT``, site key ``demo``) may chat. On ``other_site``: site key ``shop``
    is allowed from ``http://127.0.0.1:OTHER`` (CORS lets that origin call the API), ``demo`` is not, any other
    key is unknown, and ``http://localhost:OTHER`` is not allowed at all. Its business hours are one hour a day
    starting three hours from now (Tehran time), so every handoff names an opening later today or tomorrow.
    """
    port = _free_port()
    env = {
        "PASOKH_SITE_KEYS": f"demo=http://127.0.0.1:{port}; shop={other_site.url}",
        "PASOKH_CORS_ORIGINS": other_site.url,
        "PASOKH_TIMEZONE": "Asia/Tehran",
        "PASOKH_BUSINESS_HOURS": _hours_closed_now(),
        "PASOKH_HOLIDAYS": "",
    }
    with _serve(demo_index, tmp_path_factory.mktemp("e2e-site-server"), port, env) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, launched once (never a browser downloaded by Playwright)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the end-to-end tests drive Debian's Chromium. "
            "Run `make setup` (it installs the `chromium` package) or `apt-get install -y chromium`."
        )
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the e2e tests need it
    except ImportError:
        pytest.fail("playwright is not installed: run `make setup` (it installs the project's dev extras)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _csp_error(page, message, errors: list[str]) -> None:
    """Keep a CSP violation reported on the console (but not the inline styles axe-core itself applies)."""
    if message.type != "error" or "Content Security Policy" not in message.text:
        return
    if getattr(page, "axe_injected", False) and "Applying inline style" in message.text:
        return
    errors.append(message.text)


@pytest.fixture
def new_page(browser, server: Server) -> Iterator:
    """Open pages in fresh browser contexts (separate storage); script errors and CSP violations fail the test."""
    contexts = []
    errors: list[str] = []

    def open_page(width: int = 1280, height: int = 800, timezone: str | None = None, base_url: str | None = None):
        options = {"timezone_id": timezone} if timezone else {}
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=base_url or server.url, **options
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: _csp_error(page, message, errors))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Folder for the screenshots the tests leave behind (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class Widget:
    """Drives the chat widget on a page (Playwright's CSS locators reach into its open shadow root)."""

    BOT_ANSWERS = ".msg-bot:not(.greeting)"

    def __init__(self, page) -> None:
        self.page = page
        self.bubble = page.locator(".bubble")
        self.panel = page.locator("#pasokh-panel")
        self.input = page.locator("#pasokh-input")
        self.banner = page.locator(".banner")

    def open(self) -> Widget:
        """Open the panel with the bubble."""
        from playwright.sync_api import expect  # noqa: PLC0415

        self.bubble.click()
        expect(self.panel).to_be_visible()
        return self

    def ask(self, text: str, timeout: float = 90_000):
        """Send ``text`` with Enter and return the bot message that answers it."""
        from playwright.sync_api import expect  # noqa: PLC0415

        answers = self.page.locator(self.BOT_ANSWERS)
        before = answers.count()
        self.input.fill(text)
        self.input.press("Enter")
        expect(answers).to_have_count(before + 1, timeout=timeout)
        expect(self.page.locator(".typing")).to_be_hidden(timeout=timeout)
        return answers.nth(before)

    def messages(self, role: str):
        """All messages of one role (customer, bot or agent)."""
        return self.page.locator(f".msg-{role}")


@pytest.fixture
def open_widget(new_page):
    """Open the demo page (or ``path``) in a fresh context and return a :class:`Widget` on it.

    ``timezone`` is the browser's own zone (e.g. ``"UTC"``, ``"Asia/Tehran"``).
    """

    def start(
        path: str = "/?lang=fa",
        width: int = 1280,
        height: int = 800,
        timezone: str | None = None,
        base_url: str | None = None,
    ) -> Widget:
        page = new_page(width, height, timezone, base_url)
        page.goto(path)
        widget = Widget(page)
        widget.bubble.wait_for(state="visible")
        return widget

    return start


class Geometry:
    """Layout measurements taken in the browser."""

    @staticmethod
    def text_layout(locator) -> dict:
        """Where a message's text sits inside its box, and the direction the browser gave it."""
        return locator.evaluate(
            """el => {
                const range = document.createRange();
                range.selectNodeContents(el);
                const rects = [...range.getClientRects()].filter(r => r.width > 0);
                const box = el.getBoundingClientRect();
                const style = getComputedStyle(el);
                return {
                    direction: style.direction,
                    unicodeBidi: style.unicodeBidi,
                    textLeft: Math.min(...rects.map(r => r.left)),
                    textRight: Math.max(...rects.map(r => r.right)),
                    contentLeft: box.left + parseFloat(style.paddingLeft),
                    contentRight: box.right - parseFloat(style.paddingRight),
                };
            }"""
        )

    @staticmethod
    def inside_viewport(page, locator) -> bool:
        """Whether the element's box lies wholly inside the viewport."""
        box = locator.bounding_box()
        size = page.viewport_size
        return (
            box is not None
            and box["x"] >= 0
            and box["y"] >= 0
            and box["x"] + box["width"] <= size["width"]
            and box["y"] + box["height"] <= size["height"]
        )


@pytest.fixture
def geometry() -> type[Geometry]:
    """Layout measurements (text alignment, viewport containment)."""
    return Geometry


AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def _axe_source() -> str:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `make setup` (it installs the test-only axe-core from npm)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def axe() -> object:
    """Run axe-core on a page and return its serious and critical violations (open shadow roots included).

    The script is evaluated through the browser's debugging channel, so the page's Content-Security-Policy
    (which blocks injected scripts) is left as it is.
    """
    source = _axe_source()

    def run(page, context: object = None) -> list[dict]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.axe_injected = True  # its own inline styles are not the page's CSP violations
            page.evaluate(f"() => {{ {source}\n }}")
        results = page.evaluate(
            """async (context) => {
                const result = await window.axe.run(context || document, {resultTypes: ['violations']});
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
                }));
            }""",
            context,
        )
        return [v for v in results if v["impact"] in BLOCKING_IMPACTS]

    return run
