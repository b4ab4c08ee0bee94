"""Scale-out benchmark: Chroma server + PostgreSQL versus the embedded defaults.

Part 1, the knowledge index. The same corpus is ingested into (a) the embedded defaults (Chroma
persistent client, SQLite catalog) and (b) a real `chroma run` with the catalog in PostgreSQL;
then the sample questions are searched. Embeddings are computed once with the real bundled model
and replayed to both runs, so the figures compare the stores, not the model (its own time is
printed apart: on 2 cores it dominates ingestion by far).

Part 2, the review store. Submit-claim-validate cycles per second with 4 and 16 concurrent
writer processes, on SQLite and on PostgreSQL (the cycle loop is `bench_review.writer`).

Servers: the URLs given, else throwaway ones started like the `server` tests do
(tests/server/server_helpers.py: `chroma run` on a free port, initdb/pg_ctl).

Example:
    python benchmarks/bench_scale.py                      # one run of everything, about 3 minutes
    python benchmarks/bench_scale.py --part index --corpus corpus/guides
    python benchmarks/bench_scale.py --part review --seconds 5 --postgres-url postgresql+psycopg://u@db
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))  # throwaway servers of the server tests

import bench_review  # noqa: E402  (the review cycle loop, shared with bench_review.py)

DEFAULT_CORPUS = [ROOT / "corpus" / name for name in ("guides", "answers", "resources")]
QUESTIONS = ROOT / "evals" / "sample-questions.yaml"


class ReplayEmbedder:
    """The real embedder's vectors, computed once and replayed (so both stores get the same input).

    Args:
        real: The embedder whose vectors are recorded.
    """

    def __init__(self, real) -> None:
        self.real = real
        self.name = real.name
        self.model_seconds = 0.0
        self._passages: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}

    def warm_up(self) -> None:
        self.real.warm_up()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._passages]
        if missing:
            started = time.perf_counter()
            for text, vector in zip(missing, self.real.embed_passages(missing)):
                self._passages[text] = vector
            self.model_seconds += time.perf_counter() - started
        return np.stack([self._passages[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self.real.embed_query(text)
        return self._queries[text]


def _settings(home: Path, **overrides):
    from assistant.config import Settings

    return Settings(home=home, **overrides)


def index_run(label: str, settings, embedder: ReplayEmbedder, corpus: list[Path],
              questions: list[str], passes: int) -> dict[str, float]:
    """Ingest the corpus, re-ingest it unchanged, then query the store and the hybrid retriever."""
    from assistant.compose import ingest_config, open_index, retrieval_config
    from assistant.ingest.pipeline import Ingestor
    from assistant.retrieval.hybrid import HybridRetriever

    index = open_index(settings, embedder)
    started = time.perf_counter()
    report = Ingestor(index, ingest_config(settings)).ingest(corpus)
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    Ingestor(index, ingest_config(settings)).ingest(corpus)
    unchanged_s = time.perf_counter() - started
    vectors = [embedder.embed_query(q) for q in questions]
    started = time.perf_counter()
    for _ in range(passes):
        for vector in vectors:
            index.vectors.query(vector, 50)
    store_qps = passes * len(vectors) / (time.perf_counter() - started)
    retriever = HybridRetriever(index.catalog, index.vectors, embedder, retrieval_config(settings))
    retriever.warm_up()
    latencies = []
    for _ in range(passes):
        for question in questions:
            started = time.perf_counter()
            retriever.search(question, k=5)
            latencies.append(time.perf_counter() - started)
    index.close()
    result = {"chunks": report.chunks, "ingest_chunks_per_s": report.chunks / ingest_s,
              "unchanged_s": unchanged_s, "store_qps": store_qps,
              "search_qps": len(latencies) / sum(latencies),
              "search_p50_ms": statistics.median(latencies) * 1000}
    print(f"  {label:<34} ingest {result['ingest_chunks_per_s']:7.1f} chunks/s ({report.chunks} chunks, "
          f"{ingest_s:.2f} s) · re-ingest unchanged {unchanged_s:.2f} s · store top-50 "
          f"{store_qps:7.1f} q/s · hybrid search {result['search_qps']:6.1f} q/s "
          f"(p50 {result['search_p50_ms']:.1f} ms)", flush=True)
    return result


def bench_index(corpus: list[Path], chroma_url: str, database_url: str, passes: int) -> None:
    import yaml

    from assistant.compose import ingest_config, open_index
    from assistant.embeddings.factory import make_embedder
    from assistant.ingest.pipeline import Ingestor

    questions = [q["question"] for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    embedder = ReplayEmbedder(make_embedder("e5-small"))
    embedder.warm_up()
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        # the model's pass: every chunk and question embedded once, replayed below
        model = _settings(scratch / "model")
        report = Ingestor(open_index(model, embedder), ingest_config(model)).ingest(corpus)
        for question in questions:
            embedder.embed_query(question)
        print(f"\n== knowledge index: {report.chunks} chunks of {', '.join(p.name for p in corpus)}; "
              f"{len(questions)} questions x {passes} passes")
        print(f"  model alone (e5-small, {os.cpu_count()} cores): "
              f"{report.chunks / embedder.model_seconds:.1f} chunks/s, the same for both stores")
        embedded = index_run("embedded (Chroma file + SQLite)", _settings(scratch / "embedded"), embedder,
                             corpus, questions, passes)
        server = index_run("server (chroma run + PostgreSQL)",
                           _settings(scratch / "server", chroma_url=chroma_url, database_url=database_url),
                           embedder, corpus, questions, passes)
        print("  server / embedded: ingest x{:.2f}, re-ingest unchanged x{:.2f} (time), store queries x{:.2f}, "
              "hybrid search x{:.2f}".format(server["ingest_chunks_per_s"] / embedded["ingest_chunks_per_s"],
                                             server["unchanged_s"] / embedded["unchanged_s"],
                                             server["store_qps"] / embedded["store_qps"],
                                             server["search_qps"] / embedded["search_qps"]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def review_run(writers: int, seconds: float, database_url: str) -> float:
    """Cycles per second with `writers` processes running `bench_review.writer`."""
    home = tempfile.mkdtemp(prefix="bench-scale-review-")
    previous = os.environ.get("GUICHET_DATABASE_URL")
    if database_url:
        os.environ["GUICHET_DATABASE_URL"] = database_url  # inherited by the spawned writers
    else:
        os.environ.pop("GUICHET_DATABASE_URL", None)
    try:
        setup = bench_review._service(home)
        names = [f"advisor{n}" for n in range(writers)]
        for name in names:
            setup.add_advisor(name, "benchmark password")
        setup.close()
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        start_at = time.time() + 5.0 + 0.3 * writers  # spawned interpreters need time to import
        procs = [context.Process(target=bench_review._process_writer, args=(home, n, seconds, start_at, queue))
                 for n in names]
        for proc in procs:
            proc.start()
        results = [queue.get(timeout=seconds + 120) for _ in procs]
        for proc in procs:
            proc.join()
    finally:
        if previous is None:
            os.environ.pop("GUICHET_DATABASE_URL", None)
        else:
            os.environ["GUICHET_DATABASE_URL"] = previous
        shutil.rmtree(home, ignore_errors=True)
    cycles = [v for r in results for v in r["cycle"]]
    rate = len(cycles) / seconds
    label = "PostgreSQL" if database_url else "SQLite"
    print(f"  {label:<10} writers={writers:<3} {rate:7.1f} cycles/s   cycle p50 "
          f"{bench_review._p(cycles, 50):7.1f} ms   p95 {bench_review._p(cycles, 95):7.1f} ms", flush=True)
    return rate


def bench_review_store(postgres_server_url: str, seconds: float, writer_counts: Sequence[int]) -> None:
    from server_helpers import new_database

    print(f"\n== review store: submit+claim+validate cycles, writer processes, {seconds:.0f} s each, "
          f"{os.cpu_count()} cores")
    for writers in writer_counts:
        sqlite = review_run(writers, seconds, "")
        postgres = review_run(writers, seconds, new_database(postgres_server_url, "bench"))
        print(f"  writers={writers}: PostgreSQL / SQLite = x{postgres / sqlite:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("index", "review", "both"), default="both")
    parser.add_argument("--corpus", nargs="+", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--passes", type=int, default=3, help="Passes over the questions.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Duration of each review run.")
    parser.add_argument("--writers", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--chroma-url", default="", help="A running Chroma server (default: start one).")
    parser.add_argument("--postgres-url", default="",
                        help="A PostgreSQL server URL without database name (default: start one).")
    args = parser.parse_args()
    for key in [k for k in os.environ if k.startswith("GUICHET_")]:
        del os.environ[key]  # the runs set their own settings

    from server_helpers import ChromaServer, PostgresServer, new_database

    started: list = []
    try:
        postgres_url = args.postgres_url.rstrip("/")
        if not postgres_url:
            started.append(PostgresServer.start())
            postgres_url = started[-1].url
        if args.part in ("index", "both"):
            chroma_url = args.chroma_url
            if not chroma_url:
                started.append(ChromaServer.start())
                chroma_url = started[-1].url
            else:
                from assistant.store.chroma import ChromaStore

                ChromaStore.drop_server(chroma_url)
            bench_index([p.resolve() for p in args.corpus], chroma_url, new_database(postgres_url, "bench"),
                        args.passes)
        if args.part in ("review", "both"):
            bench_review_store(postgres_url, args.seconds, args.writers)
    finally:
        for server in reversed(started):
            server.stop()


if __name__ == "__main__":
    main()
