"""Running ``pasokh serve`` and ``pasokh index`` as real processes for the reliability tests; KB copies to index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from reliability.pg_server import free_port

ROOT = Path(__file__).resolve().parents[2]
AGENT_KEY = "agent-key-reliability-0123456789"
ADMIN_KEY = "admin-key-reliability-0123456789"
AGENT = {"Authorization": f"Bearer {AGENT_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def pasokh_env(*, index: Path, database_url: str, kb: Path | None = None, **extra: str) -> dict[str, str]:
    """Environment of a Pasokh process: fake embedder (no model load), the given index and database, keys set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASOKH_") and k != "DATABASE_URL"}
    env.update(
        PASOKH_MODEL="fake",
        PASOKH_INDEX=str(index),
        PASOKH_KB=str(kb or ROOT / "kb" / "articles"),
        PASOKH_DATABASE_URL=database_url,
        PASOKH_AGENT_KEY=AGENT_KEY,
        PASOKH_ADMIN_KEY=ADMIN_KEY,
        # Load tests from one address would trip per-client rate limits; 0 turns them off.
        PASOKH_RATE_LIMIT_PER_IP="0",
        PASOKH_RATE_LIMIT_PER_SESSION="0",
        # A replica notices a new index generation within a second (the default checks every 5 s).
        PASOKH_INDEX_POLL_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_index(env: dict[str, str], kb: Path, index: Path, *, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``pasokh index`` to completion and return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "index", "--kb", str(kb), "--index", str(index)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_index(env: dict[str, str], kb: Path, index: Path, log: Path) -> subprocess.Popen:
    """Start ``pasokh index`` in the background (output to ``log``)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "index", "--kb", str(kb), "--index", str(index)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class Replica:
    """One ``pasokh serve`` process."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def wait_ready(self, timeout: float = 180) -> None:
        """Wait until ``/healthz`` answers 200; fail with the log when the process dies or never answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.client.get("/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"replica {self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the process (no shutdown handlers run)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the process gracefully (SIGTERM), killing it if it does not exit."""
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_replica(name: str, env: dict[str, str], log_dir: Path, *, wait: bool = True) -> Replica:
    """Start ``pasokh serve`` on a free port with ``env``; wait for it unless ``wait`` is false."""
    port = free_port()
    log = log_dir / f"replica-{name}-{port}.log"
    # Each replica keeps turns it could not store on its own local disk, never in the project's var/.
    env = {**env, "PASOKH_OUTBOX_DIR": str(log_dir / f"outbox-{name}-{port}")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    replica = Replica(name, port, process, log)
    if wait:
        try:
            replica.wait_ready()
        except RuntimeError:
            replica.stop()
            raise
    return replica


def changed_kb(folder: Path, extra_articles: int) -> Path:
    """The demo KB plus a new article and ``extra_articles`` filler articles (so a build takes a while)."""
    shutil.copytree(ROOT / "kb" / "articles", folder)
    (folder / "gift-wrapping.md").write_text(
        "---\nid: en-gift-wrapping\ntitle: Gift wrapping\nlang: en\n---\n# Gift wrapping\n"
        "We wrap any order as a gift for a small fee; choose gift wrapping at checkout.\n",
        encoding="utf-8",
    )
    words = "order delivery return refund payment card warranty courier cost support account code".split()
    for i in range(extra_articles):
        body = "\n\n".join(
            f"## Part {s}\n" + " ".join(words[(i * 7 + s * 3 + j) % len(words)] for j in range(60)) + "."
            for s in range(4)
        )
        (folder / "filler" / f"filler-{i:04d}.md").parent.mkdir(exist_ok=True)
        (folder / "filler" / f"filler-{i:04d}.md").write_text(f"# Filler guide {i}\n\n{body}\n", encoding="utf-8")
    return folder
