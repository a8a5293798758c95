"""Replicas sharing one index folder each switch to a new generation when a build publishes it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from reliability.replicas import ADMIN, Replica, changed_kb, pasokh_env, run_index

pytestmark = pytest.mark.integration

NEW_ARTICLE = "en-gift-wrapping"


def served(replica: Replica) -> str:
    return replica.client.get("/healthz").json()["index"]


def wait_served(replicas: tuple[Replica, ...], generation: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while {served(r) for r in replicas} != {generation}:
        if time.monotonic() > deadline:
            shown = {r.name: served(r) for r in replicas}
            raise AssertionError(f"replicas serve {shown} {timeout:.0f}s after {generation} was published")
        time.sleep(0.2)


def top_article(replica: Replica, query: str) -> str:
    response = replica.client.get("/v1/search", params={"q": query, "k": 1})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["article_id"]


def test_replicas_reload_index_built_by_cli(pair: tuple[Replica, Replica], shared_index: Path, tmp_path: Path) -> None:
    kb = changed_kb(tmp_path / "kb", extra_articles=0)
    done = run_index(pasokh_env(index=shared_index, database_url="sqlite://"), kb, shared_index)
    assert done.returncode == 0, done.stderr
    generation = (shared_index / "CURRENT").read_text(encoding="utf-8").strip()

    wait_served(pair, generation)
    for replica in pair:
        assert top_article(replica, "gift wrapping fee at checkout") == NEW_ARTICLE
        assert replica.client.post("/v1/chat", json={"message": "Do you do gift wrapping?"}).status_code == 200


def test_replica_reloads_index_rebuilt_over_http_on_the_other(
    start_replicas, database: str, shared_index: Path, tmp_path: Path
) -> None:
    kb = changed_kb(tmp_path / "kb", extra_articles=0)
    env = pasokh_env(index=shared_index, database_url=database, kb=kb)
    (a,) = start_replicas(env, "A")
    (b,) = start_replicas(env, "B")
    before = served(a)

    started = a.client.post("/v1/index/rebuild", headers=ADMIN)
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 300
    while (job := a.client.get("/v1/index/rebuild", headers=ADMIN).json())["status"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "succeeded", job
    assert job["generation"] and job["generation"] != before

    wait_served((a, b), job["generation"])
    assert top_article(b, "gift wrapping fee at checkout") == NEW_ARTICLE
