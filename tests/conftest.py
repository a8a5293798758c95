"""Shared fixtures: the deterministic fake embedder, the real model (once per session), KB builders."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from indexer.embedding import FakeEmbedder, SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parents[1]
DEMO_KB = ROOT / "kb" / "articles"


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The bundled multilingual-e5-small, loaded once for all integration tests."""
    return SentenceTransformerEmbedder().load()


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory) -> Path:
    """The demo KB indexed once per test session with the fake embedder; tests only read it."""
    from indexer.build import build_from_kb

    folder = tmp_path_factory.mktemp("fake-demo") / "index"
    build_from_kb(DEMO_KB, FakeEmbedder(), folder)
    return folder


@pytest.fixture(scope="session")
def real_demo_index(tmp_path_factory, real_embedder) -> Path:
    """The demo KB indexed once per test session with the real model; tests only read it."""
    from indexer.build import build_from_kb

    folder = tmp_path_factory.mktemp("real-demo") / "index"
    build_from_kb(DEMO_KB, real_embedder, folder)
    return folder


@pytest.fixture(scope="module")
def real_service(tmp_path_factory, real_embedder, real_demo_index):
    """The chat service on the real demo index, model and calibrator, with a database of its own per module."""
    from bot.runtime import build_service
    from bot.settings import Settings

    folder = tmp_path_factory.mktemp("real-service")
    svc = build_service(
        Settings(index=real_demo_index, database_url=f"sqlite:///{folder}/pasokh.db"), embedder=real_embedder
    )
    yield svc
    svc.storage.close()


def write_article(folder: Path, name: str, text: str) -> Path:
    """Write one article file (dedented) and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def small_kb(tmp_path: Path) -> Path:
    """A three-article KB in both languages, one without front matter."""
    kb = tmp_path / "kb"
    write_article(
        kb,
        "returns.md",
        """
        ---
        id: en-returns
        title: Returns and refunds
        lang: en
        questions:
          - How do I send an item back?
        url: https://help.example.com/returns
        ---
        # Returns and refunds
        You can return any item within 7 days of delivery.

        ## How to return
        Open your orders page, choose the item and press Return. A courier collects it.

        ## Refund timing
        Refunds reach your bank card within 3 working days after we receive the item.
        """,
    )
    write_article(
        kb,
        "fa/delivery.md",
        """
        ---
        id: fa-delivery
        title: زمان و هزینه ارسال
        lang: fa
        questions:
          - سفارشم کی به دستم می‌رسد؟
        ---
        # زمان و هزینه ارسال
        ارسال به تهران یک تا دو روز کاری طول می‌کشد.

        ## هزینه ارسال
        هزینه ارسال به شیراز و اصفهان ۴۵ هزار تومان است و برای خرید بالای ۵۰۰ هزار تومان رایگان است.
        """,
    )
    write_article(
        kb,
        "password.md",
        """
        # Reset your password
        Use the Forgot password link on the login page and enter the code we send by SMS.
        """,
    )
    return kb


@pytest.fixture
def env_fake(monkeypatch, tmp_path) -> None:
    """Make the CLI use the fake embedder (no model load) and a throwaway database, for fast command tests."""
    monkeypatch.setenv("PASOKH_MODEL", "fake")
    monkeypatch.setenv("PASOKH_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    os.environ.pop("PASOKH_INDEX", None)
