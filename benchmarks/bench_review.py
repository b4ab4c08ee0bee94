"""Throughput of the review store: submit-claim-validate cycles with concurrent writers on SQLite.

Each writer (a thread with its own engine, or a separate process) loops over: submit a question
(the drafter returns a fixed draft, so this measures the store, not drafting), claim it, validate
it with an edited text. Prints cycles per second and the p50/p95 latency of each operation.

Example:
    python benchmarks/bench_review.py --writers 4 --seconds 10 --mode both
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from assistant.records import Chunk, Citation, Draft, Passage

PASSAGE = Passage(Chunk(id="bench-p1", text="Un label équivalent doit être accepté.", source="/bench/guide.pdf",
                        title="Guide", page=3), 0.9)


def fixed_draft(question: str, history: list[str]) -> Draft:
    """A constant cited draft (benchmark input, not a drafting algorithm)."""
    return Draft(text="Oui, un label équivalent doit être accepté [1].",
                 citations=(Citation(1, PASSAGE.chunk.id, PASSAGE.chunk.text),), passages=(PASSAGE,))


def _service(home: str):
    os.environ["GUICHET_HOME"] = home
    from assistant.config import get_settings
    from assistant.compose import review_service

    return review_service(get_settings(), drafter=fixed_draft, busy_timeout_s=30)


def writer(home: str, name: str, seconds: float, start_at: float) -> dict[str, list[float]]:
    """Run cycles until `seconds` have passed; returns latencies (s) per operation."""
    service = _service(home)
    timings: dict[str, list[float]] = {"submit": [], "claim": [], "validate": [], "cycle": []}
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.time() + seconds
    i = 0
    while time.time() < deadline:
        t0 = time.perf_counter()
        sub = service.submit(f"Question {name} {i} : puis-je exiger un label ?", email=f"{name}{i}@ville.fr")
        t1 = time.perf_counter()
        service.claim(sub.id, name)
        t2 = time.perf_counter()
        service.validate(sub.id, name, f"Oui, un équivalent doit être accepté [1]. ({i})")
        t3 = time.perf_counter()
        for key, value in (("submit", t1 - t0), ("claim", t2 - t1), ("validate", t3 - t2), ("cycle", t3 - t0)):
            timings[key].append(value)
        i += 1
    service.close()
    return timings


def _process_writer(home, name, seconds, start_at, queue):
    queue.put(writer(home, name, seconds, start_at))


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000


def run(mode: str, writers: int, seconds: float) -> None:
    home = tempfile.mkdtemp(prefix=f"bench-review-{mode}-")
    setup = _service(home)
    names = [f"advisor{n}" for n in range(writers)]
    for name in names:
        setup.add_advisor(name, "benchmark password")
    setup.close()
    start_at = time.time() + 1.0
    results: list[dict[str, list[float]]] = []
    if mode == "threads":
        lock = threading.Lock()

        def target(name):
            timings = writer(home, name, seconds, start_at)
            with lock:
                results.append(timings)

        threads = [threading.Thread(target=target, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        start_at = time.time() + 5.0  # spawned interpreters need time to import
        procs = [context.Process(target=_process_writer, args=(home, n, seconds, start_at, queue)) for n in names]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
    merged = {key: [v for r in results for v in r[key]] for key in results[0]}
    cycles = len(merged["cycle"])
    size = sum(f.stat().st_size for f in Path(home).glob("review.sqlite*")) / 1e6
    print(f"{mode:<9} writers={writers} duration={seconds:.0f}s cycles={cycles} "
          f"-> {cycles / seconds:.1f} submit+claim+validate cycles/s (db {size:.1f} MB)")
    for key in ("submit", "claim", "validate", "cycle"):
        values = merged[key]
        print(f"  {key:<9} p50 {_p(values, 50):7.1f} ms   p95 {_p(values, 95):7.1f} ms   "
              f"mean {statistics.fmean(values) * 1000:7.1f} ms")
    shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--mode", choices=("threads", "processes", "both"), default="both")
    args = parser.parse_args()
    for mode in ("threads", "processes") if args.mode == "both" else (args.mode,):
        run(mode, args.writers, args.seconds)


if __name__ == "__main__":
    main()
