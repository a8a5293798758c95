"""Starting and stopping a real ``pasokh serve`` for the benchmarks."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> dict:
    """Poll ``/healthz`` until it answers 200; stop with the server's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"pasokh serve exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            response = httpx.get(f"{url}/healthz", timeout=2.0)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"pasokh serve not healthy after {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Ask uvicorn to shut down (SIGINT, like Ctrl-C); escalate only if it does not."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
