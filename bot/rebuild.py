"""Rebuild the index from the KB folder in the background, for content writers (``POST /v1/index/rebuild``).

The job runs the same incremental, atomic build as ``pasokh index``; while it runs the old index keeps
answering, and when it succeeds the chat service switches to the new generation. One job at a time per
process; the index folder's build lock also keeps a concurrent ``pasokh index`` out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.records import iso, utcnow
from bot.settings import Settings
from indexer.build import BuildError, BuildReport, build_from_kb
from indexer.embedding import Embedder
from indexer.store import current_generation

if TYPE_CHECKING:
    from bot.service import ChatService

logger = logging.getLogger(__name__)

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"


class RebuildRunning(RuntimeError):
    """A rebuild was asked for while one is still running."""


@dataclass(frozen=True)
class RebuildJob:
    """The state of one background rebuild."""

    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    done: int = 0
    total: int = 0
    summary: str | None = None
    generation: str | None = None
    error: str | None = None
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the job as ``GET /v1/index/rebuild`` shows it."""
        return {
            "id": self.id,
            "status": self.status,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "progress": {"done": self.done, "total": self.total},
            "summary": self.summary,
            "generation": self.generation,
            "error": self.error,
            "problems": list(self.problems),
        }


class IndexRebuilder:
    """Runs at most one rebuild at a time on a background thread and remembers the latest job."""

    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[], Embedder],
        on_success: Callable[[BuildReport], None],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``embedder_factory`` gives a loaded passage embedder; ``on_success`` swaps the new index in."""
        self.settings = settings
        self._embedder_factory = embedder_factory
        self._on_success = on_success
        self._clock = clock
        self._lock = threading.Lock()
        self._job: RebuildJob | None = None
        self._thread: threading.Thread | None = None

    @property
    def job(self) -> RebuildJob | None:
        """The latest job (running or finished), or None before the first."""
        return self._job

    def start(self) -> RebuildJob:
        """Start a rebuild; raise :class:`RebuildRunning` if one is in progress."""
        with self._lock:
            if self._job is not None and self._job.status == RUNNING:
                raise RebuildRunning(f"rebuild {self._job.id} is still running")
            self._job = RebuildJob(id=(self._job.id + 1 if self._job else 1), status=RUNNING, started_at=self._clock())
            job = self._job
        self._thread = threading.Thread(target=self._run, args=(job.id,), name="pasokh-rebuild", daemon=True)
        self._thread.start()
        return job

    def wait(self, timeout: float | None = None) -> RebuildJob | None:
        """Wait for the running job to finish (tests, shutdown) and return it."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._job

    def _update(self, job_id: int, **changes: Any) -> None:
        with self._lock:
            if self._job is not None and self._job.id == job_id:
                self._job = replace(self._job, **changes)

    def _run(self, job_id: int) -> None:
        try:
            report = build_from_kb(
                self.settings.kb,
                self._embedder_factory(),
                self.settings.index,
                section_max_chars=self.settings.section_max_chars,
                batch_size=self.settings.embed_batch_size,
                progress=lambda done, total: self._update(job_id, done=done, total=total),
            )
            self._on_success(report)
        except BuildError as exc:
            self._fail(job_id, f"{len(exc.problems)} problem(s) in the KB; the index was not changed", exc.problems)
        except Exception as exc:  # any failure must end the job, never leave it "running"
            logger.exception("index rebuild %d failed", job_id)
            self._fail(job_id, f"{exc.__class__.__name__}: {exc}", ())
        else:
            logger.info("index rebuild %d: %s", job_id, report.summary())
            self._update(
                job_id,
                status=SUCCEEDED,
                finished_at=self._clock(),
                summary=report.summary(),
                generation=report.generation,
                problems=tuple(str(p) for p in report.skipped),
            )

    def _fail(self, job_id: int, error: str, problems) -> None:
        self._update(
            job_id, status=FAILED, finished_at=self._clock(), error=error, problems=tuple(str(p) for p in problems)
        )


class IndexWatcher:
    """Switch the service to a new index generation when the folder's ``CURRENT`` changes (other replicas' builds)."""

    def __init__(self, service: ChatService, seconds: float) -> None:
        """Check every ``seconds``."""
        self.service = service
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pasokh-index-watch", daemon=True)

    def start(self) -> IndexWatcher:
        """Start watching (no-op when the interval is 0)."""
        if self.seconds > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()

    def check(self) -> bool:
        """Reload when the served generation is not the folder's current one; return whether it did."""
        current = current_generation(self.service.settings.index)
        if current is None or current.name == self.service.matcher.searcher.index.generation:
            return False
        try:
            self.service.reload_index()
        except Exception:  # a half-visible or broken generation: keep serving the old one, try again later
            logger.exception("could not switch to index generation %s", current.name)
            return False
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            self.check()
