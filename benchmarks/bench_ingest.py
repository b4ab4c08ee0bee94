"""Ingestion benchmark: the shared corpus into an empty home, then an unchanged re-run.

Prints pages/s, chunks/s, tokens embedded per second, the share of time spent embedding, peak
RSS, the unchanged re-run's time, and the embedder's raw throughput on the same chunks (so the
pipeline's own overhead is visible). With --without-windows, the same corpus is ingested a
second time into another empty home with the window vectors not stored (as before the learned
ranker), and the ratio of the two times is printed.

Usage:
    python benchmarks/bench_ingest.py [CORPUS_DIR] [--without-windows]   # default: ../shared/corpus/minumeco
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class TimedEmbedder:
    """Wraps the real embedder to add up the time spent inside it."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.seconds, self.chars = inner, inner.name, 0.0, 0

    def warm_up(self) -> None:
        self.inner.warm_up()

    def embed_passages(self, texts):
        start = time.perf_counter()
        try:
            return self.inner.embed_passages(texts)
        finally:
            self.seconds += time.perf_counter() - start
            self.chars += sum(len(t) for t in texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


class WithoutWindows:
    """Wraps the vector store to drop the window vectors, as ingestion did before they were kept."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def upsert(self, ids, vectors, metadatas, windows=None):
        self.inner.upsert(ids, vectors, metadatas)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def timed_ingest(corpus: Path, keep_windows: bool) -> float:
    from assistant.compose import ingest_config, load_settings, open_index
    from assistant.ingest.pipeline import Ingestor

    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home))
        index = open_index(settings)
        index.embedder.warm_up()
        if not keep_windows:
            index.vectors = WithoutWindows(index.vectors)
        start = time.perf_counter()
        Ingestor(index, ingest_config(settings)).ingest([corpus])
        return time.perf_counter() - start


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    corpus = Path(args[0]) if args else ROOT.parent / "shared" / "corpus" / "minumeco"
    from assistant.compose import ingest_config, load_settings, open_index
    from assistant.embeddings.factory import make_embedder
    from assistant.embeddings.windows import embed_chunks, windows
    from assistant.ingest.pipeline import Ingestor

    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home))
        embedder = TimedEmbedder(make_embedder(settings.embedder))
        embedder.warm_up()
        index = open_index(settings, embedder)
        start = time.perf_counter()
        report = Ingestor(index, ingest_config(settings)).ingest([corpus])
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = Ingestor(index, ingest_config(settings)).ingest([corpus])
        second = time.perf_counter() - start
        chunks = list(index.catalog.get_chunks(sorted(index.catalog.all_ids())).values())
        texts = [c.index_text for c in chunks]
        start = time.perf_counter()
        for i in range(0, len(texts), settings.embed_batch_size):
            embedder.inner.embed_passages(texts[i:i + settings.embed_batch_size])
        raw = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, len(chunks), settings.embed_batch_size):
            embed_chunks(embedder.inner, chunks[i:i + settings.embed_batch_size])
        pooled = time.perf_counter() - start
        n_windows = sum(len(windows(c)) for c in chunks)

    chars = embedder.chars
    approx_tokens = chars / 4.2  # e5 tokeniser on French prose: about 4.2 characters per token here
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {corpus}")
    print(f"files {report.files}, failed {len(report.failed)}, pages/sections {report.pages}, chunks {report.chunks}")
    for path, error in report.failed:
        print(f"  FAILED {path}: {error}")
    print(f"first run: {first:.1f} s  ->  {report.pages / first:.1f} pages/s, {report.chunks / first:.1f} chunks/s")
    print(f"embedding inside the run: {embedder.seconds:.1f} s ({100 * embedder.seconds / first:.0f} % of the run), "
          f"{chars / embedder.seconds:.0f} chars/s, ~{approx_tokens / embedder.seconds:.0f} tokens/s")
    print(f"pipeline time beyond the embedder: {first - embedder.seconds:.1f} s "
          f"({100 * (first - embedder.seconds) / embedder.seconds:.0f} % of the embedder's time)")
    print(f"embedder alone on the same {len(texts)} chunks: {raw:.1f} s whole ({len(texts) / raw:.1f} chunks/s), "
          f"{pooled:.1f} s as {n_windows} windows ({100 * (pooled - raw) / raw:+.0f} %)")
    print(f"unchanged re-run: {second:.2f} s ({100 * second / first:.1f} % of the first run), "
          f"unchanged files {again.unchanged}, embedded {again.embedded}")
    print(f"peak RSS: {rss_mb:.0f} MB")
    if "--without-windows" in sys.argv:
        without = timed_ingest(corpus, keep_windows=False)
        again = timed_ingest(corpus, keep_windows=True)
        print(f"ingest with window vectors stored: {again:.1f} s, without: {without:.1f} s, "
              f"ratio {again / without:.2f} (first run above: {first:.1f} s)")


if __name__ == "__main__":
    main()
