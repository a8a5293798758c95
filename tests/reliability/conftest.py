"""Fixtures of the reliability tests: a real PostgreSQL server, a demo index, pairs of ``pasokh serve`` replicas.

Every test here starts real processes (PostgreSQL, Pasokh replicas, index builds), so all are
``integration`` tests. The replicas use the fake embedder (``PASOKH_MODEL=fake``): what is under test is
the shared database and index folder, not the model, and a replica then starts in seconds.
Each test module sets ``pytestmark = pytest.mark.integration``.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability.pg_server import PostgresServer, PostgresUnavailable
from reliability.replicas import ROOT, Replica, pasokh_env, run_index, start_replica

DEMO_KB = ROOT / "kb" / "articles"
_database_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (initdb in a temporary folder, a free port)."""
    try:
        server = PostgresServer().init().start()
    except PostgresUnavailable as exc:
        pytest.fail(f"cannot run the PostgreSQL reliability tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def database(postgres: PostgresServer) -> str:
    """URL of a new, empty database on the session's server (one per test: no state leaks between tests)."""
    if not postgres.running:  # a test that restarts the server may have failed half-way
        postgres.start()
    return postgres.create_database(f"pasokh_{next(_database_names)}")


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo KB indexed once with the fake embedder by ``pasokh index`` (tests copy it before changing it)."""
    index = tmp_path_factory.mktemp("demo-index") / "index"
    done = run_index(pasokh_env(index=index, database_url="sqlite://"), DEMO_KB, index)
    assert done.returncode == 0, done.stderr
    return index


@pytest.fixture
def shared_index(demo_index: Path, tmp_path: Path) -> Path:
    """A private copy of the demo index folder, shared by the replicas of one test."""
    target = tmp_path / "index"
    shutil.copytree(demo_index, target, symlinks=True)
    return target


@pytest.fixture
def start_replicas(tmp_path: Path) -> Iterator[Callable[..., list[Replica]]]:
    """Start named replicas with one environment; all are stopped when the test ends."""
    started: list[Replica] = []

    def start(env: dict[str, str], *names: str) -> list[Replica]:
        replicas = [start_replica(name, env, tmp_path, wait=False) for name in names]
        started.extend(replicas)
        for replica in replicas:
            replica.wait_ready()
        return replicas

    yield start
    for replica in started:
        replica.stop()


@pytest.fixture
def pair(start_replicas: Callable[..., list[Replica]], database: str, shared_index: Path) -> tuple[Replica, Replica]:
    """Two replicas, A and B, on different ports with the same database and index folder."""
    # One after the other: starting together on an empty database is its own test (test_replicas.py).
    env = pasokh_env(index=shared_index, database_url=database)
    (a,) = start_replicas(env, "A")
    (b,) = start_replicas(env, "B")
    return a, b
