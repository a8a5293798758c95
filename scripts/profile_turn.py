"""Where one chat turn spends its time, in process (no HTTP): query embedding versus the rest.

Builds the chat service on the served index (``pasokh index`` first) with a throwaway SQLite
database, warms up, then answers a fixed mix of fa/en messages, each in a new session.

    python scripts/profile_turn.py [--turns 60]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.runtime import build_service  # noqa: E402
from bot.service import ChatRequest  # noqa: E402
from bot.settings import Settings  # noqa: E402

MESSAGES = (
    "هزینه ارسال به شیراز چقدره؟",
    "How do I reset my password?",
    "چطور سفارشم رو لغو کنم؟",
    "Do you ship to Germany?",
    "سلام",
    "کی پولم برمیگرده؟",
)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = build_service(Settings(database_url=f"sqlite:///{tmp}/profile.db"))
        embed = service.embedder.embed_queries
        spent = [0.0]

        def timed(texts):
            started = time.perf_counter()
            try:
                return embed(texts)
            finally:
                spent[0] += time.perf_counter() - started

        service.embedder.embed_queries = timed
        for message in MESSAGES * 2:
            service.chat(ChatRequest(message))
        total, embedding = [], []
        for i in range(args.turns):
            spent[0] = 0.0
            started = time.perf_counter()
            service.chat(ChatRequest(f"{MESSAGES[i % len(MESSAGES)]} لطفا"))
            total.append((time.perf_counter() - started) * 1000)
            embedding.append(spent[0] * 1000)
        service.storage.close()
    rest = [t - e for t, e in zip(total, embedding, strict=True)]
    print(f"turns: {args.turns}")
    print(f"p50 per turn: {statistics.median(total):.1f} ms")
    print(f"p50 query embedding: {statistics.median(embedding):.1f} ms")
    print(f"p50 everything else: {statistics.median(rest):.1f} ms")
    print(f"Command: python scripts/profile_turn.py --turns {args.turns}")


if __name__ == "__main__":
    main()
