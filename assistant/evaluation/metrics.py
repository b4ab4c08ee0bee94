"""Retrieval metrics over BEIR-style dictionaries, and percentiles. Pure functions.

Conventions, the same in every function here:
- A metric averaged over nothing is `None` (JSON null), never 0.0: "no question of that kind"
  must not read as "every question failed".
- `qrels` decides which queries count. A query in `qrels` with no relevant document, or absent
  from `run`, scores 0 (in this project: an answerable question whose relevant passages were
  never retrieved). Queries in `run` but not in `qrels` are not judged.
- Relevance is binary: any grade > 0 is relevant.

Example:
    >>> qrels = {"q1": {"d2": 1}, "q2": {"d9": 1}}
    >>> run = {"q1": ["d1", "d2", "d3"], "q2": ["d4"]}
    >>> {key: round(value, 3) for key, value in evaluate(qrels, run, k_values=(1, 3)).items()}
    {'hit@1': 0.0, 'hit@3': 0.5, 'mrr@3': 0.25, 'ndcg@3': 0.315}
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

#: A ranked list of document ids, or BEIR's {doc_id: score} (higher score = better rank).
Ranking = Sequence[str] | Mapping[str, float]


def ranked_ids(ranking: Ranking) -> list[str]:
    """Document ids in rank order, each once.

    A score mapping is sorted by descending score; equal scores are ordered by document id so
    that a run gives the same metrics every time. A list keeps its order; repeated ids count
    at their first rank only.

    Example:
        >>> ranked_ids({"b": 1.0, "a": 1.0, "c": 2.0})
        ['c', 'a', 'b']
    """
    if isinstance(ranking, Mapping):
        ordered = [doc for doc, _ in sorted(ranking.items(), key=lambda item: (-item[1], item[0]))]
    else:
        ordered = list(ranking)
    return list(dict.fromkeys(ordered))


def first_relevant_rank(relevant: Iterable[str], ranking: Ranking) -> int | None:
    """1-based rank of the first relevant document, or None when none was ranked.

    Example:
        >>> first_relevant_rank({"d2"}, ["d1", "d2"])
        2
    """
    relevant = set(relevant)
    for rank, doc in enumerate(ranked_ids(ranking), start=1):
        if doc in relevant:
            return rank
    return None


def evaluate(qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Ranking],
             k_values: Sequence[int] = (1, 3, 5, 10)) -> dict[str, float | None]:
    """hit@k for every k, then MRR@K and nDCG@K (binary) at the largest k, averaged over qrels.

    Args:
        qrels: {query_id: {doc_id: grade}}; grade > 0 means relevant.
        run: {query_id: ranked doc ids or {doc_id: score}}.
        k_values: Cut-offs, each > 0.

    Returns:
        {"hit@k": ..., "mrr@K": ..., "ndcg@K": ...}; every value None when qrels is empty.

    Raises:
        ValueError: no cut-off, or a cut-off <= 0.
    """
    ks = sorted(set(k_values))
    if not ks:
        raise ValueError("k_values must name at least one cut-off, got none")
    if ks[0] <= 0:
        raise ValueError(f"k must be > 0, got {ks[0]}")
    top = ks[-1]
    keys = [f"hit@{k}" for k in ks] + [f"mrr@{top}", f"ndcg@{top}"]
    if not qrels:
        return dict.fromkeys(keys)
    sums = dict.fromkeys(keys, 0.0)
    for qid, judged in qrels.items():
        relevant = {doc for doc, grade in judged.items() if grade > 0}
        ranking = ranked_ids(run.get(qid, ()))[:top]
        rank = first_relevant_rank(relevant, ranking)
        for k in ks:
            sums[f"hit@{k}"] += 1.0 if rank is not None and rank <= k else 0.0
        sums[f"mrr@{top}"] += 1.0 / rank if rank is not None else 0.0
        sums[f"ndcg@{top}"] += _ndcg(relevant, ranking, top)
    return {key: value / len(qrels) for key, value in sums.items()}


def _ndcg(relevant: set[str], ranking: list[str], k: int) -> float:
    """Binary nDCG@k; 0.0 when nothing is relevant (the ideal gain is 0)."""
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    if ideal == 0.0:
        return 0.0
    gain = sum(1.0 / math.log2(rank + 1)
               for rank, doc in enumerate(ranking[:k], start=1) if doc in relevant)
    return gain / ideal


def hit_curve(ranks: Sequence[int | None], max_k: int = 10) -> list[float | None]:
    """hit@k for k = 1..max_k from each question's first relevant rank (None = not found).

    Example:
        >>> hit_curve([1, 3, None], max_k=3)
        [0.3333333333333333, 0.3333333333333333, 0.6666666666666666]
    """
    if max_k <= 0:
        raise ValueError(f"max_k must be > 0, got {max_k}")
    if not ranks:
        return [None] * max_k
    return [sum(1 for r in ranks if r is not None and r <= k) / len(ranks)
            for k in range(1, max_k + 1)]


def share(flags: Iterable[bool]) -> float | None:
    """Share of true values, or None when there are none at all.

    Example:
        >>> share([True, False, False, True])
        0.5
    """
    flags = list(flags)
    return sum(1 for f in flags if f) / len(flags) if flags else None


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation (numpy's default), None for no values.

    Args:
        values: Numbers, in any order.
        p: Percentile between 0 and 100.

    Raises:
        ValueError: p outside [0, 100].

    Example:
        >>> percentile([10, 20, 30, 40], 50)
        25.0
    """
    if not 0 <= p <= 100:
        raise ValueError(f"p must be between 0 and 100, got {p}")
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
