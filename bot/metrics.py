"""Prometheus metrics (text exposition format 0.0.4), kept in process memory.

Requests and their latency per route, handoffs by reason, answered and unanswered questions, and the
served index's age. Each replica exposes its own numbers at ``GET /metrics``; Prometheus sums them.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Callable

# Request latency buckets in seconds: the chat path takes 10-50 ms, a cold rebuild-time request longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for v in values)
    return "{" + ",".join(f'{n}="{v}"' for n, v in zip(names, escaped, strict=True)) + "}"


class Counter:
    """A monotonically increasing count per label combination."""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        """Name the counter and its labels."""
        self.name, self.help, self.labels = name, help_text, labels
        self._values: dict[tuple[str, ...], float] = defaultdict(float)
        self._lock = threading.Lock()

    def inc(self, *values: str, amount: float = 1.0) -> None:
        """Add ``amount`` to the series with these label values."""
        with self._lock:
            self._values[values] += amount

    def value(self, *values: str) -> float:
        """Return the current count of one series."""
        return self._values.get(values, 0.0)

    def render(self) -> list[str]:
        """Return the exposition lines."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            for values, count in sorted(self._values.items()):
                lines.append(f"{self.name}{_labels(self.labels, values)} {count:g}")
        return lines


class Histogram:
    """Observations counted into cumulative buckets per label combination."""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = (), buckets=LATENCY_BUCKETS) -> None:
        """Name the histogram, its labels and upper bounds."""
        self.name, self.help, self.labels, self.buckets = name, help_text, labels, tuple(buckets)
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: dict[tuple[str, ...], float] = defaultdict(float)
        self._lock = threading.Lock()

    def observe(self, seconds: float, *values: str) -> None:
        """Count one observation."""
        with self._lock:
            counts = self._counts.setdefault(values, [0] * (len(self.buckets) + 1))
            counts[bisect.bisect_left(self.buckets, seconds)] += 1
            self._sums[values] += seconds

    def render(self) -> list[str]:
        """Return the exposition lines (cumulative buckets, sum and count)."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            for values, counts in sorted(self._counts.items()):
                running = 0
                for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                    running += count
                    le = "+Inf" if bound == float("inf") else f"{bound:g}"
                    label = _labels((*self.labels, "le"), (*values, le))
                    lines.append(f"{self.name}_bucket{label} {running}")
                lines.append(f"{self.name}_sum{_labels(self.labels, values)} {self._sums[values]:.6f}")
                lines.append(f"{self.name}_count{_labels(self.labels, values)} {running}")
        return lines


class Metrics:
    """Every metric the server exposes."""

    def __init__(self) -> None:
        """Create the metrics (all zero)."""
        self.requests = Counter(
            "pasokh_http_requests_total", "HTTP requests by route and status.", ("method", "route", "status")
        )
        self.latency = Histogram(
            "pasokh_http_request_duration_seconds", "Time to answer an HTTP request.", ("method", "route")
        )
        self.handoffs = Counter("pasokh_handoffs_total", "Conversations handed to a person, by reason.", ("reason",))
        self.questions = Counter(
            "pasokh_questions_total", "Customer questions, by whether the bot answered from the KB.", ("answered",)
        )
        self.rate_limited = Counter("pasokh_rate_limited_total", "Requests refused by a rate limit.", ("scope",))
        self.started = time.time()

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """Return the whole exposition, with point-in-time ``gauges`` (name: (help, value)) appended."""
        lines: list[str] = []
        for metric in (self.requests, self.latency, self.handoffs, self.questions, self.rate_limited):
            lines.extend(metric.render())
        for name, (help_text, value) in sorted(gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


def timer() -> Callable[[], float]:
    """Return a function giving the seconds since this call."""
    start = time.perf_counter()
    return lambda: time.perf_counter() - start
