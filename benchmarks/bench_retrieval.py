"""Retrieval benchmark: latency on the shared corpus, and at scale on a synthetic index.

Part 1 (corpus): the dev questions of ../shared/evals/dev-questions.yaml searched over an index
of ../shared/corpus/minumeco (an existing GUICHET_HOME given with --home, or one ingested into a
temporary folder first, which embeds the corpus and takes several minutes). Reports p50/p95 of
the whole hybrid search (learned ranker; its first round apart, before the per-chunk cache is
warm), of the fusion alone, and of the query embedding, the search's p50 beyond the embedding's,
and the process memory.

Part 2 (scale): a temporary index of --chunks synthetic chunks (default 100,000): French-like
texts drawn from the corpus vocabulary with its word frequencies, random unit vectors in an
embedded Chroma (three random window vectors kept per chunk, as ingestion keeps them), real
analysed tokens in a real catalog. Reports build, save and load times of
the lexical index, p50/p95 search latency (hybrid, lexical, dense) with real e5-small query
embeddings, memory, and the time to bring the lexical index up to date after adding one
20-chunk document (in memory, and from the saved file as a new process would).

Nothing is written outside the temporary folders, which are deleted at the end.

Example:
    python benchmarks/bench_retrieval.py                       # both parts, ingests the corpus
    python benchmarks/bench_retrieval.py --home ~/.guichet     # part 1 on an existing index
    python benchmarks/bench_retrieval.py --skip-corpus --chunks 20000 --json out.json
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "minumeco"
QUESTIONS = SHARED / "evals" / "dev-questions.yaml"


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "mean_ms": round(float(ms.mean()), 1)}


def rss_mb() -> float:
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def questions() -> list[str]:
    from assistant.evaluation.questions import load_question_set

    return [q.question for q in load_question_set(QUESTIONS).questions]


def timed_searches(retriever, texts: list[str], rounds: int, mode: str = "hybrid",
                   warm: bool = True) -> list[float]:
    if warm:
        retriever.search(texts[0], mode=mode)  # warm up: model, lexical index, Chroma
    times = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            retriever.search(text, mode=mode)
            times.append(time.perf_counter() - start)
    return times


def embed_times(embedder, texts: list[str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            embedder.embed_query(text)
            times.append(time.perf_counter() - start)
    return times


def bench_corpus(home: Path | None, rounds: int) -> dict:
    from assistant.config import Settings
    from assistant.compose import index_config, ingest_config, open_index, retrieval_config
    from assistant.retrieval.hybrid import HybridRetriever

    scratch = None
    if home is None:
        from assistant.ingest.pipeline import Ingestor

        scratch = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
        home = scratch
        print(f"ingesting {CORPUS} into {home} (embeds the corpus: several minutes)...", flush=True)
        start = time.perf_counter()
        scratch_settings = Settings(home=home)
        report = Ingestor(open_index(scratch_settings), ingest_config(scratch_settings)).ingest([CORPUS])
        print(f"  {report.as_json()} in {time.perf_counter() - start:.0f} s", flush=True)
    try:
        settings = Settings(home=home)
        index = open_index(settings)
        retriever = HybridRetriever(index.catalog, index.vectors, index.embedder,
                                    retrieval_config(settings),
                                    lexical_cache_dir=index_config(settings).lexical_path, query_cache_size=0)
        fusion = HybridRetriever(index.catalog, index.vectors, index.embedder,
                                 retrieval_config(settings.model_copy(update={"ranker": "fusion",
                                                                              "candidates": 50})),
                                 lexical_cache_dir=index_config(settings).lexical_path, query_cache_size=0)
        texts = questions()
        index.embedder.warm_up()
        retriever.lexical_index()
        first = timed_searches(retriever, texts, 1, warm=False)
        total = timed_searches(retriever, texts, rounds)
        embedding = percentiles(embed_times(index.embedder, texts, rounds))
        result = {"chunks": index.catalog.count(), "questions": len(texts), "rounds": rounds,
                  "search": percentiles(total), "search_first_round": percentiles(first),
                  "query_embedding": embedding,
                  "search_beyond_embedding_p50_ms": round(percentiles(total)["p50_ms"] - embedding["p50_ms"], 1),
                  "fusion_only": percentiles(timed_searches(fusion, texts, rounds)),
                  "lexical_only": percentiles(timed_searches(retriever, texts, rounds, "lexical")),
                  "rss_mb": rss_mb()}
        index.close()
        return result
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def corpus_vocabulary() -> tuple[list[str], np.ndarray]:
    """Words of the shared Markdown files and their relative frequencies."""
    counts: collections.Counter[str] = collections.Counter()
    for path in sorted((CORPUS / "md").glob("*.md")):
        text = re.sub(r"<[^>]+>|\([^)]*\)|[#*|>\[\]_`-]", " ", path.read_text(encoding="utf-8"))
        counts.update(re.findall(r"[^\W\d_]{2,}|\d+(?:,\d+)?", text.lower()))
    words = [w for w, _ in counts.most_common()]
    freq = np.array([counts[w] for w in words], dtype=np.float64)
    return words, freq / freq.sum()


def synthetic_texts(n: int, rng: np.random.Generator, words: list[str], p: np.ndarray) -> list[str]:
    lengths = rng.integers(60, 160, size=n)  # ~400-1000 characters, like real chunks
    draws = rng.choice(len(words), size=int(lengths.sum()), p=p)
    out, at = [], 0
    for length in lengths:
        out.append(" ".join(words[i] for i in draws[at:at + length]) + ".")
        at += length
    return out


def add_file(catalog, store, analyzer, path: str, texts: list[str], rng: np.random.Generator) -> list:
    from assistant.records import Chunk, chunk_id

    chunks = [Chunk(chunk_id(path, None, i, t), t, path, Path(path).stem, start=i,
                    metadata={"tags": "synthetique"}) for i, t in enumerate(texts)]
    windows = rng.standard_normal((len(chunks), 3, 384)).astype(np.float32)
    windows /= np.linalg.norm(windows, axis=2, keepdims=True)
    vectors = windows.sum(axis=1)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.upsert([c.id for c in chunks], vectors, [{"kind": c.kind, "source": c.source} for c in chunks],
                 list(windows))
    catalog.replace_file(path, "sha-" + path, 1, chunks, [analyzer.analyze(c.index_text) for c in chunks],
                         "2026-01-01T00:00:00")
    return chunks


def bench_scale(n_chunks: int, rounds: int, per_file: int = 100) -> dict:
    from assistant.config import Settings
    from assistant.embeddings.factory import make_embedder
    from assistant.text.analysis import ANALYZER_VERSION, FrenchAnalyzer
    from assistant.retrieval.filters import Filters
    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.retrieval.lexical import FILE_NAME, LexicalIndex
    from assistant.store.catalog import Catalog
    from assistant.store.chroma import ChromaStore

    home = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    result: dict = {"chunks": n_chunks}
    try:
        rng = np.random.default_rng(42)
        words, p = corpus_vocabulary()
        analyzer = FrenchAnalyzer()
        embedder = make_embedder("e5-small")
        catalog = Catalog(home / "catalog.sqlite")
        catalog.set_meta("analyzer", ANALYZER_VERSION)
        store = ChromaStore.persistent(home / "chroma", embedder=embedder.name)
        start = time.perf_counter()
        for f in range(0, n_chunks, per_file):
            add_file(catalog, store, analyzer, f"/synthetic/doc-{f // per_file:05d}.md",
                     synthetic_texts(min(per_file, n_chunks - f), rng, words, p), rng)
            if (f // per_file) % 100 == 0:
                print(f"  {f + per_file} chunks generated ({time.perf_counter() - start:.0f} s)", flush=True)
        result["generate_s"] = round(time.perf_counter() - start, 1)

        cache = home / "lexical"
        start = time.perf_counter()
        index = LexicalIndex.build(catalog.token_rows())
        result["lexical_build_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        index.save(cache, catalog.generation)
        result["lexical_save_s"] = round(time.perf_counter() - start, 2)
        result["lexical_file_mb"] = round((cache / FILE_NAME).stat().st_size / 2**20, 1)
        start = time.perf_counter()
        LexicalIndex.load(cache, catalog.generation)
        result["lexical_load_s"] = round(time.perf_counter() - start, 2)
        del index

        settings = Settings(home=home)
        retriever = HybridRetriever(catalog, store, embedder, settings, lexical_cache_dir=cache,
                                    query_cache_size=0)
        texts = questions()
        result["search_first_round"] = percentiles(timed_searches(retriever, texts, 1))
        result["search"] = percentiles(timed_searches(retriever, texts, rounds))
        result["lexical_only"] = percentiles(timed_searches(retriever, texts, rounds, "lexical"))
        result["dense_only"] = percentiles(timed_searches(retriever, texts, rounds, "dense"))
        result["query_embedding"] = percentiles(embed_times(embedder, texts, rounds))
        start = time.perf_counter()
        retriever.search(texts[0], filters=Filters(tags=("synthetique",)))
        result["first_filtered_search_s"] = round(time.perf_counter() - start, 2)
        result["rss_mb"] = rss_mb()

        extra = synthetic_texts(20, rng, words, p)
        add_file(catalog, store, analyzer, "/synthetic/new-document.md", extra, rng)
        start = time.perf_counter()
        retriever.lexical_index()  # in memory: update the loaded index, then save it
        result["update_after_one_document_s"] = round(time.perf_counter() - start, 2)
        catalog.remove_files(["/synthetic/new-document.md"])
        start = time.perf_counter()
        LexicalIndex.for_catalog(catalog, cache)  # a new process: load the saved index, update, save
        result["update_from_saved_file_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        LexicalIndex.build(catalog.token_rows())
        result["full_rebuild_s"] = round(time.perf_counter() - start, 2)
        catalog.close()
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="existing GUICHET_HOME holding the shared corpus")
    parser.add_argument("--chunks", type=int, default=100_000, help="synthetic chunks for part 2")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the dev questions")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    results: dict = {"cpus": psutil.cpu_count(), "load_average": [round(x, 2) for x in psutil.getloadavg()]}
    if not args.skip_corpus:
        results["corpus"] = bench_corpus(args.home, args.rounds)
        print(json.dumps({"corpus": results["corpus"]}, indent=2), flush=True)
    if not args.skip_scale:
        results["scale"] = bench_scale(args.chunks, args.rounds)
        print(json.dumps({"scale": results["scale"]}, indent=2), flush=True)
    if "corpus" in results and "scale" in results:
        results["scale_over_corpus_search_p50"] = round(
            results["scale"]["search"]["p50_ms"] / results["corpus"]["search"]["p50_ms"], 2)
        print(json.dumps({"scale_over_corpus_search_p50": results["scale_over_corpus_search_p50"]}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
