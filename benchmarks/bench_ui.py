"""Benchmark: concurrent buyers against the real web app over plain HTTP, beside the embedding floor.

Starts `guichet serve` in a subprocess on a fresh data directory (the bundled sample corpus is
indexed on first start, or `--home` is a copy of a ready one), then:
1. the query embedding alone (the floor of an acknowledgement), in a separate process, on the
   questions of the run: its rate in questions/s;
2. `--buyers` buyers ask at the same moment through the public question endpoint
   (POST /gradio_api/call/poser, then the result stream): p50/p95 time to acknowledgement, errors;
3. `--questions` questions, `--buyers` at a time: latency, errors, the app's rate, and its ratio to
   the embedding-only rate (measured again right after, the mean of both is the reference);
4. the time until every question has its draft (drafts are written in the background), and the
   app's resident memory.

Targets (issue #16): p95 <= 2 s and no error for 50 simultaneous buyers, sustained rate >= half
the embedding-only rate of the same run, RSS <= 1.5 GB after 1,000 questions. With `--llm-delay`
the drafts come from the real `llm` generator against a FAKE OpenAI-compatible endpoint on
loopback that takes that long to answer (tests/slow_llm.py); target (issue #14) p95 <= 1 s over
20 buyers, and every question drafted. The buyer rate limits are switched off for the run (one
client address asks everything). The load average before and after is printed: the machine is
shared, so compare figures within one run.

    python benchmarks/bench_ui.py --buyers 50                          # 50 at once, then 1,000 questions
    python benchmarks/bench_ui.py --buyers 20 --questions 0 --llm-delay 30 --draft-workers 20
    python benchmarks/bench_ui.py --questions 200 --corpus corpus/guides/exiger-un-label.md --json
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
TARGET_LLM_P95_S = 1.0
TARGET_RSS_MB = 1536.0
TARGET_RATE_RATIO = 0.5
#: Runs in a separate process: the bundled embedder alone, as the app calls it, one query at a time.
EMBED_ONLY = """
import json, sys, time
from assistant.config import get_settings
from assistant.embeddings.factory import make_embedder
from assistant.retrieval.query import prepare_question
texts = json.load(sys.stdin)
embedder = make_embedder(get_settings().embedder)
embedder.embed_query(prepare_question(texts[0]))
began, cpu = time.perf_counter(), time.process_time()
for text in texts:
    embedder.embed_query(prepare_question(text))
wall = time.perf_counter() - began
print(json.dumps({"questions_per_s": len(texts) / wall, "cpu_ms": 1000 * (time.process_time() - cpu) / len(texts)}))
"""


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


def environment(home: Path, settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env.update(GUICHET_HOME=str(home), PYTHONUNBUFFERED="1", **settings)
    return env


def start(home: Path, corpus: list[str], settings: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    args = [sys.executable, "-m", "assistant", "serve", "--port", str(port),
            "--questions-per-minute", "0", "--questions-per-minute-per-address", "0"]
    for path in corpus:
        args += ["--corpus", path]
    log = (home / "server.log").open("w")
    began = time.monotonic()
    process = subprocess.Popen(args, cwd=ROOT, env=environment(home, settings), stdout=log, stderr=subprocess.STDOUT)
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


def embedding_only(home: Path, texts: list[str], settings: dict[str, str]) -> dict[str, float]:
    """The query embedding alone, in its own process (no app, no HTTP): the acknowledgement's floor."""
    done = subprocess.run([sys.executable, "-c", EMBED_ONLY], input=json.dumps(texts), capture_output=True,
                          text=True, cwd=ROOT, env=environment(home, settings), check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


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


def wait_drafts(home: Path, settings: dict[str, str], timeout_s: float) -> dict[str, object]:
    """Wait until no draft job is open; how long it took and how the questions ended."""
    env = environment(home, settings)
    code = ("import json; from assistant.compose import load_settings as get_settings, review_service\n"
            "s = review_service(get_settings()); q = s.list_questions()\n"
            "print(json.dumps({'open': sum(r.drafting is not None for r in q), 'questions': len(q),"
            " 'drafted': sum(r.status == 'drafted' for r in q), 'failed': len(s.draft_jobs('failed'))})); s.close()")
    began = time.monotonic()
    while True:
        state = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                          env=env, check=True).stdout)
        if not state["open"] or time.monotonic() - began > timeout_s:
            return {**state, "waited_s": round(time.monotonic() - began, 1)}
        time.sleep(1.0)


def rss_mb(process: subprocess.Popen) -> float:
    proc = psutil.Process(process.pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def cpu_s(process: subprocess.Popen) -> float:
    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=50, help="simultaneous buyers, and the concurrency of the "
                        "sustained run (default 50)")
    parser.add_argument("--questions", type=int, default=1000, help="questions of the sustained run (default 1000; "
                        "0 = burst only)")
    parser.add_argument("--embed-questions", type=int, default=200,
                        help="questions embedded for each embedding-only measure (default 200)")
    parser.add_argument("--corpus", action="append", default=[],
                        help="file or folder indexed on first start (default: the bundled sample corpus)")
    parser.add_argument("--home", type=Path, default=None, help="data directory (default: a new temporary one)")
    parser.add_argument("--llm-delay", type=float, default=None, metavar="S",
                        help="draft with the llm generator against a fake endpoint that answers after S seconds")
    parser.add_argument("--draft-workers", type=int, default=None, help="GUICHET_DRAFT_WORKERS of the app")
    parser.add_argument("--drafts-timeout", type=float, default=1800, help="seconds to wait for every draft")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    texts = [q["question"] for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-ui-"))
    home.mkdir(parents=True, exist_ok=True)
    settings: dict[str, str] = {}
    if args.draft_workers is not None:
        settings["GUICHET_DRAFT_WORKERS"] = str(args.draft_workers)
    fake = None
    if args.llm_delay is not None:
        sys.path.insert(0, str(ROOT / "tests"))
        from slow_llm import SlowLLM

        fake = SlowLLM(delay_s=args.llm_delay).start()
        settings.update(GUICHET_GENERATOR="llm", GUICHET_LLM_BASE_URL=fake.base_url, GUICHET_LLM_MODEL=fake.model,
                        GUICHET_LLM_TIMEOUT_S=str(max(60.0, 3 * args.llm_delay)))
    load_before = os.getloadavg()
    process, url, startup_s = start(home, args.corpus, settings)
    many = [f"{texts[i % len(texts)]} (n° {i})" for i in range(args.questions)]
    probe = many[:args.embed_questions] or [f"{texts[i % len(texts)]} (n° {i})" for i in range(args.embed_questions)]
    try:
        rss_start = rss_mb(process)
        for i in range(3):  # warm-up: model, lexical index, database pages
            ask(httpx.Client(base_url=url, timeout=120), texts[i])
        latencies, errors = burst(url, [f"{texts[i % len(texts)]} (acheteur {i})" for i in range(args.buyers)])
        embed_before = embedding_only(home, probe, settings)
        sustained_latencies, sustained_errors, sustained_s, app_cpu_s = [], [], 0.0, 0.0
        if many:
            began, cpu_began = time.monotonic(), cpu_s(process)
            sustained_latencies, sustained_errors = sustained(url, many, args.buyers)
            sustained_s, app_cpu_s = time.monotonic() - began, cpu_s(process) - cpu_began
        drafts = wait_drafts(home, settings, args.drafts_timeout)
        embed_after = embedding_only(home, probe, settings)
        rss_end = rss_mb(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if fake is not None:
            fake.stop()
    load_after = os.getloadavg()

    embed_rate = (embed_before["questions_per_s"] + embed_after["questions_per_s"]) / 2
    app_rate = args.questions / sustained_s if sustained_s else None
    figures = {
        "startup_s": round(startup_s, 1),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in load_after]},
        "generator": f"llm (fake endpoint, {args.llm_delay:g} s)" if fake else "extractive",
        "burst": {"buyers": args.buyers, "errors": len(errors),
                  "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
                  "max_s": round(max(latencies), 3)},
        "embedding_only": {"questions_per_s": round(embed_rate, 1),
                           "before": round(embed_before["questions_per_s"], 1),
                           "after": round(embed_after["questions_per_s"], 1),
                           "cpu_ms_per_question": round((embed_before["cpu_ms"] + embed_after["cpu_ms"]) / 2, 1)},
        "sustained": None if not many else {
            "questions": args.questions, "concurrency": args.buyers, "errors": len(sustained_errors),
            "p50_s": round(percentile(sustained_latencies, 50), 3),
            "p95_s": round(percentile(sustained_latencies, 95), 3),
            "questions_per_s": round(app_rate, 1), "ratio_to_embedding_only": round(app_rate / embed_rate, 2),
            "app_cpu_ms_per_question": round(1000 * app_cpu_s / args.questions, 1)},
        "drafts": drafts,
        "rss_mb": {"after_start": round(rss_start), "after_questions": round(rss_end)},
        "first_errors": (errors + sustained_errors)[:3],
    }
    asked = 3 + args.buyers + args.questions
    target_p95 = TARGET_LLM_P95_S if fake else TARGET_P95_S
    ok = (figures["burst"]["p95_s"] <= target_p95 and not errors and not sustained_errors
          and rss_end <= TARGET_RSS_MB and drafts["drafted"] == drafts["questions"] == asked
          and (app_rate is None or app_rate >= TARGET_RATE_RATIO * embed_rate))
    if args.json:
        print(json.dumps({**figures, "ok": ok}, ensure_ascii=False, indent=2))
    else:
        b, s, e, d, r = (figures[k] for k in ("burst", "sustained", "embedding_only", "drafts", "rss_mb"))
        print(f"load average before {figures['load_average']['before']}, after {figures['load_average']['after']}")
        print(f"app ready in {figures['startup_s']} s; drafts: {figures['generator']}")
        print(f"{b['buyers']} simultaneous buyers: p50 {b['p50_s']} s, p95 {b['p95_s']} s, max {b['max_s']} s, "
              f"{b['errors']} error(s)  (target p95 <= {target_p95} s, no error)")
        print(f"query embedding alone: {e['questions_per_s']} questions/s (before {e['before']}, after {e['after']}; "
              f"{e['cpu_ms_per_question']} ms CPU each)")
        if s:
            print(f"{s['questions']} questions, {s['concurrency']} at a time: p50 {s['p50_s']} s, p95 {s['p95_s']} s, "
                  f"{s['questions_per_s']} questions/s = {s['ratio_to_embedding_only']} x the embedding-only rate "
                  f"(target >= {TARGET_RATE_RATIO}), {s['app_cpu_ms_per_question']} ms app CPU each, "
                  f"{s['errors']} error(s)")
        print(f"drafts: {d['drafted']} of {d['questions']} questions drafted ({d['failed']} failed job(s)), "
              f"the last {d['waited_s']} s after the last acknowledgement")
        print(f"app RSS: {r['after_start']} MB after start, {r['after_questions']} MB after the questions "
              f"(target <= {TARGET_RSS_MB:.0f} MB)")
        for error in figures["first_errors"]:
            print(f"  error: {error}")
        print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
