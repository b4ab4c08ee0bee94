"""Agreement of topic groupings with the labelled set, and what each grouping costs.

Reads evals/topics-labelled.yaml (questions of the sample, validation, dev and paraphrase sets,
each filed under one subject by the project; the texts come from the sets) and prints, per
question set, the adjusted Rand index, purity and number of groups of:

- keyword-only: TF-IDF (analyser stems) average-linkage clustering, the baseline; its threshold
  is chosen on the sample set, then applied unchanged to the others (and, in brackets, its best
  threshold on each set, which flatters it);
- lexicon only: the dashboard's subject lexicon, unmatched questions in one "other" group;
- lexicon, then TF-IDF: what the dashboard does (`assistant.insights.topics.group_questions`);
- with --embeddings: multilingual-e5-small (bundled) average-linkage clustering, alone and for
  the questions the lexicon leaves, thresholds chosen on the sample set.

The lexicon was written from the sample questions (in-sample there); the dev and paraphrase
questions were labelled before the lexicon was extended from the labelled subjects.

Example:
    python benchmarks/bench_topics.py --embeddings
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.insights import agreement, topics

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("sample", "validation", "dev", "paraphrases")
TFIDF_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3)
E5_THRESHOLDS = (0.84, 0.86, 0.88, 0.9)

Grouping = Callable[[Sequence[agreement.Labelled], float], list[str]]


def _labels(clusters: list[list[int]], n: int, prefix: str = "") -> list[str]:
    labels = [""] * n
    for k, cluster in enumerate(clusters):
        for i in cluster:
            labels[i] = f"{prefix}{k}"
    return labels


def keywords_only(items, threshold: float) -> list[str]:
    return _labels(topics.cluster_texts([q.text for q in items], threshold), len(items))


def lexicon_only(items, _: float) -> list[str]:
    return [topics.subject_of(q.text) for q in items]


def dashboard(items, threshold: float) -> list[str]:
    groups = topics.group_questions([(i, q.text) for i, q in enumerate(items)], threshold=threshold)
    return agreement.labels_of(groups, list(range(len(items))))


def embedding_groupings(vectors: dict[str, np.ndarray]) -> tuple[Grouping, Grouping]:
    def e5(items, threshold: float) -> list[str]:
        return _labels(topics.average_linkage(np.array([vectors[q.id] for q in items]), threshold), len(items))

    def lexicon_then_e5(items, threshold: float) -> list[str]:
        labels = [topics.subject_of(q.text) for q in items]
        rest = [i for i, label in enumerate(labels) if label == topics.OTHER]
        if rest:
            clusters = topics.average_linkage(np.array([vectors[items[i].id] for i in rest]), threshold)
            for k, cluster in enumerate(clusters):
                for j in cluster:
                    labels[rest[j]] = f"e5-{k}" if len(cluster) > 1 else topics.OTHER
        return labels

    return e5, lexicon_then_e5


def _score(grouping: Grouping, items, threshold: float) -> dict:
    return agreement.score_against([q.subject for q in items], grouping(items, threshold))


def row(name: str, grouping: Grouping, by_part: dict, thresholds: Sequence[float]) -> str:
    """One table row: the threshold that does best on the sample set, applied to every set."""
    chosen = max(thresholds, key=lambda t: _score(grouping, by_part["sample"], t)["ari"])
    cells = []
    for part in PARTS:
        s = _score(grouping, by_part[part], chosen)
        best = max(_score(grouping, by_part[part], t)["ari"] for t in thresholds) if len(thresholds) > 1 else None
        extra = f" [{best:.2f}]" if best is not None and best != s["ari"] else ""
        cells.append(f"{s['ari']:.2f}{extra} / {s['purity']:.2f} / {s['groups']}")
    label = f"{name} (threshold {chosen})" if len(thresholds) > 1 else name
    return f"| {label} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embeddings", action="store_true", help="also measure e5-small groupings (slower)")
    args = parser.parse_args()
    items = agreement.load_labelled(ROOT / "evals" / "topics-labelled.yaml", ROOT)
    by_part = {part: [q for q in items if q.set == part] for part in PARTS}
    print(f"{len(items)} labelled questions: " + ", ".join(f"{p} {len(by_part[p])}" for p in PARTS))
    print("\n| grouping | " + " | ".join(f"{p}: ARI / purity / groups" for p in PARTS) + " |")
    print("| --- |" + " --- |" * len(PARTS))
    print(row("keyword-only: TF-IDF clustering", keywords_only, by_part, TFIDF_THRESHOLDS))
    print(row("lexicon only", lexicon_only, by_part, (0.25,)))
    print(row("lexicon, then TF-IDF (the dashboard)", dashboard, by_part, (topics.DEFAULT_THRESHOLD,)))
    timings = []
    if args.embeddings:
        from assistant.embeddings.factory import make_embedder

        embedder = make_embedder("e5-small")
        embedder.warm_up()
        started = time.perf_counter()
        vectors = {q.id: embedder.embed_query(q.text) for q in items}
        per_question = (time.perf_counter() - started) / len(items)
        vectors = {k: v / np.linalg.norm(v) for k, v in vectors.items()}
        e5, lexicon_then_e5 = embedding_groupings(vectors)
        print(row("e5-small embeddings, average linkage", e5, by_part, E5_THRESHOLDS))
        print(row("lexicon, then e5-small", lexicon_then_e5, by_part, E5_THRESHOLDS))
        timings.append(f"e5-small: {1000 * per_question:.0f} ms per question to embed")
    many = [(i, f"{items[i % len(items)].text} variante {i}") for i in range(1000)]
    started = time.perf_counter()
    topics.group_questions(many)
    timings.insert(0, f"the dashboard's grouping: {time.perf_counter() - started:.2f} s for 1,000 questions")
    print("\n[n] = the ARI at the threshold best for that set (which flatters the method).")
    print("Measured in this run: " + "; ".join(timings) + ".")


if __name__ == "__main__":
    main()
