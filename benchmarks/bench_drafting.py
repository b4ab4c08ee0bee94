"""Benchmark: extractive draft latency after retrieval, over the real shared corpus.

Loads and chunks ../shared/corpus/minumeco with the project's own loaders and chunker, retrieves
the top-k passages of every dev question with the French BM25 index (the lexical half of the
hybrid retriever; retrieval time is not part of the figure), then times `ExtractiveGenerator.draft`
on each question's passages. Target: p50 <= 100 ms.

    python benchmarks/bench_drafting.py                 # whole corpus, 20 rounds
    python benchmarks/bench_drafting.py --rounds 5 --no-big-pdf
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BIG_PDF = "guide-achats-numeriques-responsables-2021.pdf"


def load_chunks(corpus: Path, big_pdf: bool):
    from assistant.compose import ingest_config, load_settings
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.loading import load_document

    config = ingest_config(load_settings(home=Path(tempfile.mkdtemp(prefix="bench-drafting-"))))
    files = sorted((corpus / "md").glob("*.md")) + sorted((corpus / "pdf").glob("*.pdf"))
    chunks = []
    for path in files:
        if path.name == BIG_PDF and not big_pdf:
            continue
        for document in load_document(path, config.files):
            chunks.extend(chunk_document(document, config.chunk_size, config.chunk_overlap))
    return chunks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="drafts per question (default 20)")
    parser.add_argument("-k", type=int, default=5, help="passages per question (default 5)")
    parser.add_argument("--no-big-pdf", action="store_true", help=f"skip {BIG_PDF} (its extraction takes ~30 s)")
    args = parser.parse_args(argv)

    from assistant.drafting.extractive import ExtractiveGenerator
    from assistant.drafting import terms
    from assistant.drafting.terms import analyzer
    from assistant.evaluation.questions import load_question_set
    from assistant.records import Passage
    from assistant.retrieval.lexical import LexicalIndex

    start = time.perf_counter()
    chunks = load_chunks(SHARED / "corpus" / "minumeco", big_pdf=not args.no_big_pdf)
    by_id = {c.id: c for c in chunks}
    index = LexicalIndex.build([(c.id, analyzer().analyze(c.index_text)) for c in chunks])
    print(f"corpus: {len(chunks)} chunks loaded and indexed in {time.perf_counter() - start:.1f} s")

    questions = load_question_set(SHARED / "evals" / "dev-questions.yaml").questions
    retrieved = []
    for q in questions:
        hits = index.search(analyzer().analyze_query(q.question), k=args.k)
        # Both ranks set: the abstention rule then judges coverage, and most questions draft.
        retrieved.append((q.question, [Passage(by_id[cid], s, (), i + 1, i + 1) for i, (cid, s) in enumerate(hits)]))

    generator = ExtractiveGenerator()
    timings, abstained = [], 0
    for round_ in range(args.rounds):
        for question, passages in retrieved:
            terms._query_terms.cache_clear()  # every buyer's question is new: measure it cold
            t0 = time.perf_counter()
            draft = generator.draft(question, passages)
            timings.append((time.perf_counter() - t0) * 1000)
            abstained += draft.abstained and round_ == 0
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"extractive draft after retrieval: {len(questions)} questions x {args.rounds} rounds, k={args.k}, "
          f"{len(questions) - abstained} drafted / {abstained} abstained")
    print(f"  p50 {p50:.1f} ms   p95 {p95:.1f} ms   mean {statistics.fmean(timings):.1f} ms   "
          f"max {max(timings):.1f} ms   (target p50 <= 100 ms: {'met' if p50 <= 100 else 'MISSED'})")
    return 0 if p50 <= 100 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
