"""Tell another system about new handoffs: POST each ticket to ``PASOKH_HANDOFF_WEBHOOK_URL``, with retries.

The ticket is already committed when the webhook is tried, so a webhook that is down delays a
notification and loses nothing. Delivery runs on one background thread; each ticket's state
(``pending``, ``sent``, ``failed``) is recorded on it, and tickets still pending when the process
stopped are sent again at the next start.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from bot.storage import Storage, Ticket

logger = logging.getLogger(__name__)

_STOP = object()


def ticket_event(ticket: Ticket) -> dict[str, Any]:
    """Return the webhook body for a new ticket (no transcript: it may be long and holds customer text)."""
    body = ticket.to_json()
    body.pop("transcript", None)
    return {"event": "handoff.created", "ticket": body}


class WebhookNotifier:
    """Deliver new tickets to one URL from a background thread, retrying with exponential back-off."""

    def __init__(
        self,
        url: str,
        storage: Storage,
        *,
        attempts: int = 5,
        timeout: float = 5.0,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Describe the deliveries; :meth:`start` launches the thread."""
        self.url = url
        self.storage = storage
        self.attempts = attempts
        self.timeout = timeout
        self.backoff = backoff
        self._sleep = sleep
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookNotifier:
        """Start delivering, beginning with tickets left pending by an earlier run."""
        self._thread = threading.Thread(target=self._run, name="pasokh-webhook", daemon=True)
        self._thread.start()
        for ticket in self.storage.undelivered_webhooks():
            self._queue.put(ticket.id)
        return self

    def notify(self, ticket_id: str) -> None:
        """Queue a ticket for delivery (returns at once)."""
        self.storage.mark_webhook(ticket_id, "pending", 0)
        self._queue.put(ticket_id)

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the delivery in progress and stop; undelivered tickets stay pending for the next start."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued ticket was handled (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                self._deliver(item)
            except Exception:  # the thread must survive anything one ticket does
                logger.exception("webhook delivery of %s crashed", item)
            finally:
                self._queue.task_done()

    def _deliver(self, ticket_id: str) -> None:
        ticket = self.storage.get_ticket(ticket_id)
        if ticket is None:
            return
        body = json.dumps(ticket_event(ticket), ensure_ascii=False).encode("utf-8")
        for attempt in range(1, self.attempts + 1):
            problem = self._post(body)
            if problem is None:
                self.storage.mark_webhook(ticket_id, "sent", attempt)
                logger.info("handoff %s delivered to the webhook (attempt %d)", ticket_id, attempt)
                return
            logger.warning(
                "handoff webhook attempt %d/%d for %s failed: %s", attempt, self.attempts, ticket_id, problem
            )
            self.storage.mark_webhook(ticket_id, "pending" if attempt < self.attempts else "failed", attempt)
            if attempt < self.attempts:
                self._sleep(self.backoff * 2 ** (attempt - 1))
        logger.error("handoff %s was not delivered to the webhook; it is in the queue", ticket_id)

    def _post(self, body: bytes) -> str | None:
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - URL is http(s), checked in settings
                if 200 <= response.status < 300:
                    return None
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return f"{exc.__class__.__name__}: {exc}"
