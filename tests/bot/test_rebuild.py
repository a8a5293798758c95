"""The background rebuild job: one at a time, progress, and the outcome recorded."""

from __future__ import annotations

import threading

import pytest
from conftest import DEMO_KB

from bot.rebuild import FAILED, RUNNING, SUCCEEDED, IndexRebuilder, RebuildRunning
from bot.settings import Settings
from indexer.embedding import FakeEmbedder
from indexer.store import current_generation


def test_rebuild_runs_once_at_a_time_and_reports_progress(tmp_path):
    settings = Settings(kb=DEMO_KB, index=tmp_path / "index")
    release = threading.Event()
    swapped = []

    def slow_embedder():
        release.wait(30)
        return FakeEmbedder()

    rebuilder = IndexRebuilder(settings, slow_embedder, swapped.append)
    first = rebuilder.start()
    assert first.status == RUNNING and first.id == 1
    with pytest.raises(RebuildRunning):
        rebuilder.start()
    release.set()
    done = rebuilder.wait(60)
    assert done.status == SUCCEEDED and done.finished_at >= done.started_at
    assert done.total > 0 and done.done == done.total
    assert done.generation == current_generation(settings.index).name
    assert [r.generation for r in swapped] == [done.generation]
    second = rebuilder.start()
    assert second.id == 2
    assert rebuilder.wait(60).summary.startswith("indexed 35 articles") and "0 changed" in rebuilder.job.summary


def test_rebuild_failure_is_recorded_and_nothing_swapped(tmp_path):
    settings = Settings(kb=tmp_path / "empty-kb", index=tmp_path / "index")
    (tmp_path / "empty-kb").mkdir()
    swapped = []
    rebuilder = IndexRebuilder(settings, FakeEmbedder, swapped.append)
    rebuilder.start()
    job = rebuilder.wait(60)
    assert job.status == FAILED and "problem" in job.error and job.problems
    assert swapped == [] and current_generation(settings.index) is None
