"""Fit the second-stage ranker on question sets and report it out of fold.

Each question's first stage (candidates and features) is computed once with the index its set
is about. Candidates are labelled relevant per FORMAT.md (an evidence string in the chunk's text,
from a named source); a chunk holding the evidence but from another file (the same text in the
web version of a PDF) is left out of the fit, neither relevant nor not. Folds are grouped by
source document (`folds`): each question is ranked by a ranker fitted on the other folds, then
collapsed and judged exactly as `guichet eval` does, so the reported figures are what the
shipped ranker would do on documents it never saw.

Example:
    >>> pool = collect(retriever, load_question_set("dev.yaml"), corpus="minumeco")  # doctest: +SKIP
    >>> result = tune(pool)                                                        # doctest: +SKIP
    >>> result.out_of_fold["dev.yaml"]["hit@5"]                                    # doctest: +SKIP
    0.9
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from assistant.evaluation.folds import grouped_folds, question_group
from assistant.evaluation.metrics import share
from assistant.evaluation.questions import Question, QuestionSet
from assistant.evaluation.relevance import evidence_label
from assistant.evaluation.runner import RECALL_DEPTHS, candidate_rank, question_details, summarize
from assistant.retrieval.ranker import LinearRanker, fit

RETRIEVAL_KEYS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10")


@dataclass(frozen=True)
class Example:
    """One question of the pool with its first stage.

    Args:
        question: The question.
        set_name: Base name of its question set.
        group: Its cross-validation group (`folds.question_group`).
        stage: Its `HybridRetriever.first_stage`.
        labels: Per candidate: 1 relevant, 0 not, -1 left out of the fit (evidence, other file).
        rank: `HybridRetriever.rank` of the retriever that made the stage.
    """

    question: Question
    set_name: str
    group: str
    stage: Any
    labels: np.ndarray
    rank: Callable[[Any, np.ndarray, int], list]


@dataclass
class TuneResult:
    """A fitted ranker and its report.

    Args:
        ranker: Fitted on every question of the pool.
        out_of_fold: {set name: retrieval metrics with each question ranked out of fold}.
        before: {set name: metrics of the ranker the pool was collected with}, if any.
        recall: {set name: {"recall@N": share of answerable questions with a relevant candidate
            among the first N of either list}}.
        sizes: {set name: number of questions}.
    """

    ranker: LinearRanker
    out_of_fold: dict[str, dict[str, float | None]]
    before: dict[str, dict[str, float | None]] = field(default_factory=dict)
    recall: dict[str, dict[str, float | None]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"sets": {name: {"n": self.sizes[name], "out_of_fold": self.out_of_fold[name],
                                "before": self.before.get(name), "candidate_recall": self.recall.get(name)}
                         for name in self.out_of_fold}}


def labels_of(question: Question, stage) -> np.ndarray:
    """1 / 0 / -1 per candidate (see `relevance.evidence_label`)."""
    return np.asarray([evidence_label(question, c.chunk) for c in stage.candidates], dtype=np.int8)


def collect(retriever, qset: QuestionSet, set_name: str, corpus: str,
            progress: Callable[[], None] | None = None) -> list[Example]:
    """The first stage of every question of a set, searched with `retriever`.

    Args:
        retriever: A `HybridRetriever` over the index the set is about.
        qset: The question set.
        set_name: Its name in reports.
        corpus: A name for its index, so that two corpora's files never share a fold group.
        progress: Called after each question.
    """
    examples = []
    for question in qset.questions:
        stage = retriever.first_stage(question.question)
        examples.append(Example(question, set_name, question_group(question, corpus), stage,
                                labels_of(question, stage), retriever.rank))
        if progress is not None:
            progress()
    return examples


def tune(pool: Sequence[Example], folds: int = 5, l2: float = 1.0, seed: int = 0,
         current: LinearRanker | None = None) -> TuneResult:
    """Fit a ranker on the pool and measure it out of fold.

    Args:
        pool: Examples of one or several sets (and indexes).
        folds: Number of cross-validation folds (grouped by source document).
        l2: L2 penalty of the fit.
        seed: Seed of the fold assignment.
        current: A ranker to report beside ("before"), e.g. the one in use.

    Raises:
        ValueError: too few documents for the folds, or no relevant candidate anywhere.
    """
    fold_of = np.asarray(grouped_folds([e.group for e in pool], k=folds, seed=seed))
    oof: list[np.ndarray | None] = [None] * len(pool)
    for f in range(folds):
        train = [e for e, g in zip(pool, fold_of) if g != f]
        ranker = _fit(train, l2)
        for i in np.flatnonzero(fold_of == f):
            oof[i] = ranker.scores(pool[i].stage.features)
    final = _fit(pool, l2)
    names = list(dict.fromkeys(e.set_name for e in pool))
    result = TuneResult(final, {}, sizes={n: sum(e.set_name == n for e in pool) for n in names})
    for name in names:
        members = [i for i, e in enumerate(pool) if e.set_name == name]
        result.out_of_fold[name] = _metrics([pool[i] for i in members], [oof[i] for i in members])
        result.recall[name] = _recall([pool[i] for i in members])
        if current is not None:
            result.before[name] = _metrics([pool[i] for i in members],
                                           [current.scores(pool[i].stage.features) for i in members])
    final.fitted = {"sets": {n: {"n": result.sizes[n], "out_of_fold": result.out_of_fold[n]} for n in names},
                    "folds": folds, "l2": l2, "questions": len(pool)}
    return result


def _fit(examples: Sequence[Example], l2: float) -> LinearRanker:
    rows = [(e.stage.features[e.labels >= 0], e.labels[e.labels >= 0]) for e in examples]
    x = np.concatenate([f for f, _ in rows]) if rows else np.zeros((0, 0))
    y = np.concatenate([lab for _, lab in rows]) if rows else np.zeros(0)
    q = np.concatenate([np.full(len(lab), i) for i, (_, lab) in enumerate(rows)]) if rows else np.zeros(0)
    return fit(x, y, q, l2=l2)


def _metrics(examples: Sequence[Example], scores: Sequence[np.ndarray]) -> dict[str, float | None]:
    details = [question_details(e.question, e.rank(e.stage, s, 10), None, retrieval_ms=0.0)
               for e, s in zip(examples, scores)]
    metrics = summarize(details, drafting=False)
    return {key: _round(metrics[key]) for key in RETRIEVAL_KEYS}


def _recall(examples: Sequence[Example]) -> dict[str, float | None]:
    ranks = [candidate_rank(e.question, e.stage) for e in examples if e.question.answerable]
    return {f"recall@{n}": _round(share(r is not None and r <= n for r in ranks)) for n in RECALL_DEPTHS}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
