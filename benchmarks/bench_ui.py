"""Benchmark: concurrent buyers against the real web app over plain HTTP.

Starts `guichet serve` in a subprocess on a fresh data directory (the bundled sample corpus is
indexed on first start), then:
1. 20 buyers ask at the same moment through the public question endpoint
   (POST /gradio_api/call/poser, then the result stream): p50/p95 time to acknowledgement, errors;
2. 1,000 questions, 20 at a time: latency and errors again, then the app's resident memory.

Targets: p95 <= 2 s and no error for the 20 simultaneous questions; RSS <= 1.5 GB after 1,000.
The buyer rate limits are switched off for the run (one client address asks everything).

    python benchmarks/bench_ui.py                      # full sample corpus, 20 + 1,000 questions
    python benchmarks/bench_ui.py --questions 200 --corpus corpus/guides/exiger-un-label.md
    python benchmarks/bench_ui.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "evals" / "sample-questions.yaml"
TARGET_P95_S = 2.0
TARGET_RSS_MB = 1536.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def start(home: Path, corpus: list[str]) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env.update(GUICHET_HOME=str(home), PYTHONUNBUFFERED="1")
    args = [sys.executable, "-m", "assistant", "serve", "--port", str(port),
            "--questions-per-minute", "0", "--questions-per-minute-per-address", "0"]
    for path in corpus:
        args += ["--corpus", path]
    log = (home / "server.log").open("w")
    began = time.monotonic()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - began < 900:
        if process.poll() is not None:
            raise SystemExit(f"the app exited:\n{(home / 'server.log').read_text()}")
        try:
            if httpx.get(url + "/sante", timeout=2).status_code == 200:
                return process, url, time.monotonic() - began
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the app did not start within 15 min")


def ask(client: httpx.Client, question: str) -> tuple[float, str | None]:
    """One buyer question; returns (seconds to acknowledgement, error or None)."""
    began = time.perf_counter()
    try:
        event = client.post("/gradio_api/call/poser", json={"data": [question, "", ""]})
        event.raise_for_status()
        kind = None
        with client.stream("GET", f"/gradio_api/call/poser/{event.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    elapsed = time.perf_counter() - began
                    data = line.split(":", 1)[1]
                    if kind == "error":
                        return elapsed, f"error event: {data[:200]}"
                    if "bien reçue" not in json.dumps(json.loads(data), ensure_ascii=False):
                        return elapsed, f"no acknowledgement: {data[-300:]}"
                    return elapsed, None
        return time.perf_counter() - began, "stream closed without a result"
    except httpx.HTTPError as exc:
        return time.perf_counter() - began, f"{type(exc).__name__}: {exc}"


def burst(url: str, questions: list[str]) -> tuple[list[float], list[str]]:
    """All questions at the same moment, one client each (a barrier releases them together)."""
    barrier = threading.Barrier(len(questions))
    results: list[tuple[float, str | None]] = [(0.0, None)] * len(questions)

    def one(i: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            barrier.wait()
            results[i] = ask(client, questions[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r[0] for r in results], [r[1] for r in results if r[1]]


def sustained(url: str, questions: list[str], concurrency: int) -> tuple[list[float], list[str]]:
    local = threading.local()

    def one(question: str) -> tuple[float, str | None]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=120)
        return ask(local.client, question)

    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, questions))
    return [r[0] for r in results], [r[1] for r in results if r[1]]


def rss_mb(process: subprocess.Popen) -> float:
    proc = psutil.Process(process.pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=20, help="simultaneous questions (default 20)")
    parser.add_argument("--questions", type=int, default=1000, help="questions of the sustained run (default 1000)")
    parser.add_argument("--corpus", action="append", default=[],
                        help="file or folder indexed on first start (default: the bundled sample corpus)")
    parser.add_argument("--home", type=Path, default=None, help="data directory (default: a new temporary one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    texts = [q["question"] for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-ui-"))
    home.mkdir(parents=True, exist_ok=True)
    process, url, startup_s = start(home, args.corpus)
    try:
        rss_start = rss_mb(process)
        for i in range(3):  # warm-up: model, lexical index, database pages
            ask(httpx.Client(base_url=url, timeout=120), texts[i])
        latencies, errors = burst(url, [f"{texts[i % len(texts)]} (acheteur {i})" for i in range(args.buyers)])
        many = [f"{texts[i % len(texts)]} (n° {i})" for i in range(args.questions)]
        began = time.monotonic()
        sustained_latencies, sustained_errors = sustained(url, many, args.buyers)
        sustained_s = time.monotonic() - began
        rss_end = rss_mb(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()

    figures = {
        "startup_s": round(startup_s, 1),
        "burst": {"buyers": args.buyers, "errors": len(errors),
                  "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
                  "max_s": round(max(latencies), 3)},
        "sustained": {"questions": args.questions, "concurrency": args.buyers, "errors": len(sustained_errors),
                      "p50_s": round(percentile(sustained_latencies, 50), 3),
                      "p95_s": round(percentile(sustained_latencies, 95), 3),
                      "questions_per_s": round(args.questions / sustained_s, 1)},
        "rss_mb": {"after_start": round(rss_start), "after_questions": round(rss_end)},
        "first_errors": (errors + sustained_errors)[:3],
    }
    ok = (figures["burst"]["p95_s"] <= TARGET_P95_S and not errors and not sustained_errors
          and rss_end <= TARGET_RSS_MB)
    if args.json:
        print(json.dumps({**figures, "ok": ok}, ensure_ascii=False, indent=2))
    else:
        b, s, r = figures["burst"], figures["sustained"], figures["rss_mb"]
        print(f"app ready in {figures['startup_s']} s (first start indexes the corpus)")
        print(f"{b['buyers']} simultaneous buyers: p50 {b['p50_s']} s, p95 {b['p95_s']} s, max {b['max_s']} s, "
              f"{b['errors']} error(s)  (target p95 <= {TARGET_P95_S} s, no error)")
        print(f"{s['questions']} questions, {s['concurrency']} at a time: p50 {s['p50_s']} s, p95 {s['p95_s']} s, "
              f"{s['questions_per_s']} questions/s, {s['errors']} error(s)")
        print(f"app RSS: {r['after_start']} MB after start, {r['after_questions']} MB after the questions "
              f"(target <= {TARGET_RSS_MB:.0f} MB)")
        for error in figures["first_errors"]:
            print(f"  error: {error}")
        print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
