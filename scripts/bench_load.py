"""Sustained load against a real ``pasokh serve``: mixed fa/en chat, follow-ups, handoffs and searches.

Starts ``pasokh serve`` on the demo KB's index (the bundled model; a throw-away SQLite database unless
``--database-url`` is given; rate limits off, since all the traffic comes from one address), or targets a
running server with ``--url``. Then ``--concurrency`` workers send requests for ``--duration`` seconds:

- 50 % ``POST /v1/chat`` opening a new session (Persian, English or code-mixed),
- 25 % ``POST /v1/chat`` continuing the worker's current session,
- 5 % ``POST /v1/chat`` asking for a person (a handoff ticket is queued),
- 20 % ``GET /v1/search``.

Prints requests, errors (transport failures and non-2xx answers, by kind), requests/s, p50/p95/p99
latency overall and per kind, and the load average; exits 1 if any request failed.

    python scripts/bench_load.py                                   # 60 s at concurrency 16
    python scripts/bench_load.py --duration 10 --concurrency 4
    python scripts/bench_load.py --url http://127.0.0.1:8000       # an already running server
    python scripts/bench_load.py --database-url postgresql+psycopg://user@host/db --json var/bench/load.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from _server import stop, wait_healthy  # noqa: E402

PASOKH = [sys.executable, "-m", "bot.cli"]

FA_QUESTIONS = [
    "سلام، سفارشم کی به دستم می‌رسد؟",
    "هزینه ارسال به شیراز چقدر است؟",
    "می‌خواهم کالایی که خریدم را پس بدهم",
    "پول از حسابم کم شد ولی سفارش ثبت نشد",
    "چطور سفارشم را لغو کنم؟",
    "کد تخفیفم کار نمی‌کند",
    "رمز عبورم را فراموش کرده‌ام",
    "پرداخت در محل برای اصفهان هم هست؟",
    "کالایی که رسید شکسته بود، چه کار کنم؟",
    "گارانتی گوشی چطور کار می‌کند؟",
]
EN_QUESTIONS = [
    "Hi, when will my order arrive?",
    "How much is shipping to Tehran?",
    "I want to return my shoes, they don't fit",
    "Can you send my order to my sister in Canada?",
    "How do I reset my password?",
    "Is cash on delivery available in Isfahan?",
]
MIXED_QUESTIONS = ["سفارش A-1024 من refund نشده", "کد OTP برای login نمی‌آید", "my order سفارش ۱۲۳۴ کجاست؟"]
FOLLOW_UPS = [
    "و اگر بعد از هفت روز باشد چه؟",
    "ممنون، یک سوال دیگر: هزینه‌اش چقدر است؟",
    "And how long does it take?",
    "ok thanks",
]
HANDOFFS = ["می‌خواهم با یک کارشناس صحبت کنم", "Can I talk to a human please?"]
SEARCHES = ["هزینه ارسال", "مرجوعی کالا", "refund", "reset password", "گارانتی", "cash on delivery"]

KINDS = ("chat_new", "chat_follow_up", "chat_handoff", "search")
WEIGHTS = (0.50, 0.25, 0.05, 0.20)


@dataclass
class Sample:
    """One request: its kind, latency and how it ended."""

    kind: str
    ms: float
    error: str | None = None


@dataclass
class WorkerState:
    """A worker's random stream and its current conversation."""

    rng: random.Random
    session_id: str | None = None
    samples: list[Sample] = field(default_factory=list)


def new_question(rng: random.Random) -> str:
    roll = rng.random()
    pool = FA_QUESTIONS if roll < 0.6 else EN_QUESTIONS if roll < 0.9 else MIXED_QUESTIONS
    return rng.choice(pool)


def one_request(client: httpx.Client, state: WorkerState) -> Sample:
    """Send one request of a randomly chosen kind and time it."""
    rng = state.rng
    kind = rng.choices(KINDS, WEIGHTS)[0]
    if kind == "chat_follow_up" and state.session_id is None:
        kind = "chat_new"
    started = time.perf_counter()
    try:
        if kind == "search":
            response = client.get("/v1/search", params={"q": rng.choice(SEARCHES), "k": 5})
        else:
            body: dict = {
                "chat_new": lambda: {"message": new_question(rng)},
                "chat_follow_up": lambda: {"message": rng.choice(FOLLOW_UPS), "session_id": state.session_id},
                "chat_handoff": lambda: {"message": rng.choice(HANDOFFS)},
            }[kind]()
            response = client.post("/v1/chat", json=body)
    except httpx.TransportError as exc:
        return Sample(kind, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}")
    ms = (time.perf_counter() - started) * 1000
    if not 200 <= response.status_code < 300:
        return Sample(kind, ms, f"HTTP {response.status_code}")
    if kind.startswith("chat"):
        # A handed-off conversation goes to people: the next follow-up starts a fresh one instead.
        reply = response.json()
        state.session_id = None if reply["handoff"] else reply["session_id"]
    return Sample(kind, ms)


def run_load(url: str, duration: float, concurrency: int, seed: int) -> tuple[list[Sample], float]:
    """Run ``concurrency`` workers against ``url`` for ``duration`` seconds; return samples and wall seconds."""
    states = [WorkerState(random.Random(seed * 1000 + i)) for i in range(concurrency)]
    deadline = time.monotonic() + duration

    def work(state: WorkerState) -> None:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(60, connect=5)) as client:
            while time.monotonic() < deadline:
                state.samples.append(one_request(client, state))

    threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in states]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [s for state in states for s in state.samples], time.monotonic() - started


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return (float("nan"),) * 3
    p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def summarize(samples: list[Sample], seconds: float) -> dict:
    """Overall and per-kind figures (latencies of successful requests only)."""
    ok = [s for s in samples if s.error is None]
    p50, p95, p99 = percentiles([s.ms for s in ok])
    per_kind = {}
    for kind in KINDS:
        mine = [s for s in samples if s.kind == kind]
        k50, k95, k99 = percentiles([s.ms for s in mine if s.error is None])
        per_kind[kind] = {
            "requests": len(mine),
            "errors": sum(s.error is not None for s in mine),
            "p50_ms": round(k50, 1),
            "p95_ms": round(k95, 1),
            "p99_ms": round(k99, 1),
        }
    return {
        "requests": len(samples),
        "errors": len(samples) - len(ok),
        "error_kinds": dict(Counter(s.error for s in samples if s.error)),
        "seconds": round(seconds, 1),
        "requests_per_second": round(len(samples) / seconds, 1) if seconds else None,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "per_kind": per_kind,
    }


@contextmanager
def started_server(args: argparse.Namespace) -> Iterator[tuple[str, dict]]:
    """Start ``pasokh serve`` on a free port (rate limits off, private outbox); yield its URL and /healthz."""
    import socket  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="pasokh-load-") as tmp:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            PASOKH_DATABASE_URL=args.database_url or f"sqlite:///{tmp}/load.db",
            PASOKH_RATE_LIMIT_PER_IP="0",
            PASOKH_RATE_LIMIT_PER_SESSION="0",
            PASOKH_OUTBOX_DIR=f"{tmp}/outbox",
        )
        if args.model:
            env["PASOKH_MODEL"] = args.model
        cmd = [*PASOKH, "serve", "--index", str(args.index), "--kb", str(args.kb), "--port", str(port)]
        log = Path(tmp) / "serve.log"
        print(f"starting: {shlex.join(cmd)}", file=sys.stderr)
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            yield url, wait_healthy(url, proc, log, args.startup_timeout)
        finally:
            stop(proc)
            errors = [line for line in log.read_text(errors="replace").splitlines() if " ERROR " in line]
            if errors:
                print(f"server logged {len(errors)} error line(s), e.g.: {errors[0]}", file=sys.stderr)


@contextmanager
def running_server(url: str) -> Iterator[tuple[str, dict]]:
    """Yield an already running server's URL and /healthz."""
    url = url.rstrip("/")
    response = httpx.get(f"{url}/healthz", timeout=10)
    response.raise_for_status()
    yield url, response.json()


def report(result: dict, args: argparse.Namespace, health: dict) -> str:
    """Human-readable summary."""
    lines = [
        f"target: {args.url or 'pasokh serve (started here)'}; index {health.get('index')} ({health.get('articles')} "
        f"articles, model {health.get('model')}); {args.duration:.0f} s at concurrency {args.concurrency}",
        f"requests {result['requests']}, errors {result['errors']} {result['error_kinds'] or ''}".rstrip(),
        f"throughput {result['requests_per_second']} req/s; latency p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms",
        "",
        "| kind | requests | errors | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, k in result["per_kind"].items():
        lines.append(f"| {kind} | {k['requests']} | {k['errors']} | {k['p50_ms']} | {k['p95_ms']} | {k['p99_ms']} |")
    load = result["load_average"]
    lines += ["", f"machine: {result['cpus']} CPUs ({platform.machine()}), load average after the run {load}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="target a running server instead of starting one")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index", help="index folder (built if missing)")
    parser.add_argument(
        "--kb", type=Path, default=ROOT / "kb" / "articles", help="KB folder (to build a missing index)"
    )
    parser.add_argument("--model", help="embedding model of the started server (default: the bundled one)")
    parser.add_argument("--database-url", help="database of the started server (default: a temporary SQLite file)")
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.concurrency < 1:
        parser.error("--duration must be > 0 and --concurrency >= 1")

    with running_server(args.url) if args.url else started_server(args) as (url, health):
        if args.warmup > 0:
            run_load(url, args.warmup, args.concurrency, args.seed + 1)
        samples, seconds = run_load(url, args.duration, args.concurrency, args.seed)
    result = summarize(samples, seconds)
    result.update(
        command=shlex.join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        duration=args.duration,
        concurrency=args.concurrency,
        index=health.get("index"),
        model=health.get("model"),
        cpus=os.cpu_count(),
        load_average=[round(x, 2) for x in os.getloadavg()],
    )
    print(report(result, args, health))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
