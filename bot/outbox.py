"""Turns that could not be stored because the database was down: kept on local disk and written later.

When the database fails on the chat path the customer still gets the answer (and, for a handoff, a
ticket number), and the turn — messages, session state and ticket — is appended to a JSON-lines file
with fsync. A background thread writes the pending turns to the database once it answers again; a
turn already stored (its ticket exists) is not written twice. Nothing is lost unless the local disk
is lost too. A pending turn the database refuses for another reason (not a lost connection) is moved
to ``rejected.jsonl`` beside it, so it neither blocks the turns behind it nor disappears.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from bot.records import Conversation, ConversationUpdate, NewTicket, Turn
from bot.storage import Storage

logger = logging.getLogger(__name__)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _turn(data: dict[str, Any]) -> Turn:
    return Turn(**{**data, "created_at": _when(data["created_at"])})


def _update(data: dict[str, Any]) -> ConversationUpdate:
    ticket = data.get("ticket")
    return ConversationUpdate(
        **{
            **data,
            "turns": tuple(_turn(t) for t in data["turns"]),
            "ticket": NewTicket(**{**ticket, "expected_at": _when(ticket.get("expected_at"))}) if ticket else None,
        }
    )


def _conversation(data: dict[str, Any] | None) -> Conversation | None:
    if data is None:
        return None
    return Conversation(**{**data, "turns": (), "created_at": _when(data.get("created_at"))})


class Outbox:
    """A local, durable queue of turns waiting for the database."""

    def __init__(self, folder: Path, storage: Storage, *, retry_seconds: float = 5.0) -> None:
        """Keep pending turns in ``folder/pending.jsonl`` and retry every ``retry_seconds``."""
        self.path = Path(folder) / "pending.jsonl"
        self.storage = storage
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, conversation_id: str, update: ConversationUpdate, new: Conversation | None) -> None:
        """Append a turn durably (fsync) before the reply is returned."""
        entry = {
            "conversation_id": conversation_id,
            "update": _encode(asdict(update)),
            "new": _encode({**asdict(new), "turns": []}) if new is not None else None,
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        logger.error("database unavailable: turn of session %s kept in %s until it is back", conversation_id, self.path)

    def pending(self) -> int:
        """Return how many turns are waiting."""
        with self._lock:
            return len(self._read())

    def _read(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def flush(self) -> int:
        """Write pending turns to the database in order; return how many were written (stops at the first failure)."""
        with self._lock:
            lines = self._read()
            done = 0
            for line in lines:
                try:
                    entry = json.loads(line)
                    self.storage.record_turn(
                        entry["conversation_id"], _update(entry["update"]), _conversation(entry["new"])
                    )
                except IntegrityError:
                    logger.info("outbox: a pending turn was already stored")
                except (OperationalError, InterfaceError) as exc:
                    logger.warning(
                        "outbox: database still unavailable (%s); %d turn(s) pending",
                        exc.__class__.__name__,
                        len(lines) - done,
                    )
                    break
                except Exception as exc:  # never retried forever, never lost: set aside for a person to look at
                    self._reject(line, exc)
                done += 1
            if done:
                rest = lines[done:]
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text("".join(line + "\n" for line in rest), encoding="utf-8")
                with tmp.open("rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
                logger.info("outbox: %d turn(s) written to the database, %d pending", done, len(rest))
            return done

    def _reject(self, line: str, exc: Exception) -> None:
        rejected = self.path.with_name("rejected.jsonl")
        with rejected.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        logger.error("outbox: a pending turn cannot be stored (%s); kept in %s", exc.__class__.__name__, rejected)

    def start(self) -> Outbox:
        """Retry in the background (at once, then every ``retry_seconds``)."""
        self._thread = threading.Thread(target=self._run, name="pasokh-outbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop retrying (pending turns stay on disk for the next start)."""
        self._stop.set()

    def _run(self) -> None:
        while True:
            try:
                if self.path.exists():
                    self.flush()
            except Exception:  # the retry thread must outlive any one bad entry
                logger.exception("outbox flush failed")
            if self._stop.wait(self.retry_seconds):
                return
