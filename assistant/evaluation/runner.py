"""Run a question set through an assistant and measure retrieval, drafts and latency.

Example:
    >>> result = run_eval(assistant, load_question_set("evals/dev-questions.yaml"))  # doctest: +SKIP
    >>> result.metrics["hit@5"], result.metrics["latency_ms"]["retrieval_p50"]  # doctest: +SKIP
    (0.95, 12.4)
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

from assistant.errors import GuichetError
from assistant.evaluation.drafts import (bullets, citation_valid, citations_valid, cut_bullets, evidence_first,
                                         evidence_in_text)
from assistant.evaluation.metrics import evaluate, percentile, share
from assistant.evaluation.questions import Question, QuestionSet
from assistant.evaluation.relevance import evidence_label, is_relevant
from assistant.records import Draft, Passage

#: Passages judged per question: metrics stop at rank 10.
DEPTH = 10
#: First-stage candidate recall is reported at these depths.
RECALL_DEPTHS = (20, 50, 100)
#: Keys of the metrics dictionary, in the order of DESIGN.md's contract (and what followed it).
METRIC_KEYS = ("n", "hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "abstention_rate",
               "false_abstention_rate", "citation_validity", "evidence_in_draft", "evidence_first",
               "bullets_per_draft", "cut_sentence_rate", "outcomes", "evidence_misses",
               *(f"candidate_recall@{n}" for n in RECALL_DEPTHS), "latency_ms")
OUTCOMES = ("answer", "partial", "abstain")
LATENCY_KEYS = ("retrieval_p50", "retrieval_p95", "draft_p50", "draft_p95")
_TEXT_CHARS = 300


class Searcher(Protocol):
    """What `run_eval` needs: ranked passages for a question (and optionally `ask`, and
    `search_detailed(question) -> (passages, first stage or None)` for candidate recall)."""

    def search(self, question: str) -> list[Passage]: ...


@dataclass(frozen=True)
class EvalResult:
    """Metrics of one run and one JSON-ready record per question.

    Example:
        >>> EvalResult(metrics={"n": 0}, details=()).metrics["n"]
        0
    """

    metrics: dict[str, Any]
    details: tuple[dict[str, Any], ...]


def select_questions(questions: Sequence[Question], *, limit: int | None = None,
                     sample: int | None = None, seed: int = 0) -> list[Question]:
    """A random sample of `sample` questions (seeded, file order kept), then the first `limit`.

    Example:
        >>> qs = [Question(str(i), "x", False) for i in range(5)]
        >>> [q.id for q in select_questions(qs, limit=2)]
        ['0', '1']
    """
    for name, value in (("limit", limit), ("sample", sample)):
        if value is not None and value <= 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    chosen = list(questions)
    if sample is not None and sample < len(chosen):
        keep = set(random.Random(seed).sample(range(len(chosen)), sample))
        chosen = [q for i, q in enumerate(chosen) if i in keep]
    return chosen[:limit] if limit is not None else chosen


def run_eval(assistant: Searcher, qset: QuestionSet, *, limit: int | None = None,
             sample: int | None = None, seed: int = 0, progress: bool = True) -> EvalResult:
    """Search (and draft, when the assistant has `ask`) every question; measure everything.

    Args:
        assistant: Has `search(question) -> list[Passage]` (ranked) and optionally
            `ask(question, passages) -> Draft`; without `ask` the drafting metrics are None.
        qset: The question set.
        limit: Keep only the first N questions (after sampling).
        sample: Keep N questions drawn at random with `seed`.
        seed: Seed of the sample.
        progress: Show a progress bar on stderr (only when it is a terminal).

    Returns:
        The contract metrics (see `METRIC_KEYS`) and per-question details. A question whose
        search or draft raised a GuichetError is recorded with its `error` and counted as
        not found / no draft; any other exception propagates (it is a bug, not a result).
    """
    questions = select_questions(qset.questions, limit=limit, sample=sample, seed=seed)
    ask: Callable[[str, list[Passage]], Draft] | None = getattr(assistant, "ask", None)
    detailed = getattr(assistant, "search_detailed", None)
    details = []
    for question in _progress(questions, progress):
        error, stage = None, None
        start = time.perf_counter()
        try:
            if detailed is not None:
                passages, stage = detailed(question.question)
                passages = list(passages)
            else:
                passages = list(assistant.search(question.question))
        except GuichetError as exc:
            passages, error = [], str(exc)
        retrieval_ms = (time.perf_counter() - start) * 1000
        draft, draft_ms = None, None
        if ask is not None and error is None:
            start = time.perf_counter()
            try:
                draft = ask(question.question, passages)
            except GuichetError as exc:
                error = str(exc)
            draft_ms = (time.perf_counter() - start) * 1000
        details.append(question_details(question, passages, draft, retrieval_ms=retrieval_ms,
                                        draft_ms=draft_ms, error=error, stage=stage))
    return EvalResult(metrics=summarize(details, drafting=ask is not None), details=tuple(details))


def candidate_rank(question: Question, stage) -> int | None:
    """Best first-stage rank (lexical or dense list) of a candidate that itself answers the
    question (`relevance.evidence_label` 1), or None: none there, or no first stage.

    Example:
        >>> candidate_rank(Question("q", "?", True, ("x",)), None) is None
        True
    """
    if stage is None:
        return None
    found = [min(r for r in (c.lexical_rank, c.dense_rank) if r is not None) for c in stage.candidates
             if evidence_label(question, c.chunk) == 1 and (c.lexical_rank or c.dense_rank)]
    return min(found, default=None)


def question_details(question: Question, passages: Sequence[Passage], draft: Draft | None, *,
                     retrieval_ms: float, draft_ms: float | None = None,
                     error: str | None = None, stage=None) -> dict[str, Any]:
    """The JSON-ready record of one question: what was retrieved, drafted and how fast.

    `stage` is the retriever's first stage, for `candidate_rank` (None: not known)."""
    retrieved = []
    for rank, passage in enumerate(passages[:DEPTH], start=1):
        chunk = passage.chunk
        retrieved.append({
            "rank": rank, "chunk_id": chunk.id, "source": chunk.source, "title": chunk.title,
            "page": chunk.page, "section": chunk.section, "location": chunk.location,
            "score": passage.score, "relevant": is_relevant(question, passage),
            "also_in": [Path(d.source).name for d in passage.duplicates],
            "text": chunk.text[:_TEXT_CHARS],
        })
    first = next((r["rank"] for r in retrieved if r["relevant"]), None)
    record: dict[str, Any] = {
        "id": question.id, "question": question.question, "answerable": question.answerable,
        "evidence": list(question.evidence), "sources": list(question.sources),
        "retrieved": retrieved, "first_relevant_rank": first,
        "candidate_rank": candidate_rank(question, stage) if question.answerable else None,
        "has_stage": stage is not None,
        "draft": None, "citations": [], "abstained": None, "outcome": None, "reason": None, "flags": [],
        "citations_valid": None, "evidence_in_draft": None, "evidence_first": None,
        "bullets": None, "cut_bullets": [],
        "retrieval_ms": retrieval_ms, "draft_ms": draft_ms, "error": error,
    }
    if draft is not None:
        record.update({
            "draft": draft.text, "abstained": draft.abstained, "outcome": draft.outcome, "reason": draft.reason,
            "citations": [{"marker": c.marker, "chunk_id": c.chunk_id, "quote": c.quote,
                           "valid": citation_valid(c, passages)} for c in draft.citations],
            "flags": [{"sentence": f.sentence, "reason": f.reason} for f in draft.flags],
            "citations_valid": citations_valid(draft, passages),
            "evidence_in_draft": (evidence_in_text(question.evidence, draft.text)
                                  if question.answerable else None),
            "evidence_first": (evidence_first(question.evidence, draft.text)
                               if question.answerable else None),
            "bullets": 0 if draft.abstained else len(bullets(draft.text)),
            "cut_bullets": [] if draft.abstained else [{"bullet": b, "reason": r} for b, r in cut_bullets(draft.text)],
        })
    return record


def summarize(details: Sequence[dict[str, Any]], *, drafting: bool = True) -> dict[str, Any]:
    """Contract metrics from per-question records (see `question_details`).

    Retrieval metrics are over answerable questions, abstention over unanswerable ones,
    citation validity over every drafted question; `evidence_in_draft` and `evidence_first` over
    answerable drafts (an abstention holds no evidence); `bullets_per_draft` and
    `cut_sentence_rate` over the bullets of drafts that do not abstain; `outcomes` is the share
    of each outcome (answer, partial, abstain) among answerable and unanswerable drafts, and
    `evidence_misses` counts the answerable drafts without evidence by cause: no relevant
    passage among the passages given to the generator (retrieval), an abstention despite one (abstention), or a
    relevant passage whose sentence was not quoted (selection). A metric over no question is
    None; every drafting metric is None when `drafting` is false.

    Example:
        >>> summarize([], drafting=False)["hit@5"] is None
        True
    """
    answerable = [d for d in details if d["answerable"]]
    qrels = {d["id"]: {r["chunk_id"]: 1 for r in d["retrieved"] if r["relevant"]} for d in answerable}
    run = {d["id"]: [r["chunk_id"] for r in d["retrieved"]] for d in answerable}
    retrieval = evaluate(qrels, run, k_values=(1, 3, 5, 10))
    drafted = [d for d in details if d["draft"] is not None] if drafting else []
    unanswerable_drafts = [d for d in drafted if not d["answerable"]]
    answerable_drafts = [d for d in drafted if d["answerable"]]
    answering = [d for d in drafted if not d["abstained"]]
    total_bullets = sum(d["bullets"] or 0 for d in answering)
    retrieval_ms = [d["retrieval_ms"] for d in details]
    draft_ms = [d["draft_ms"] for d in details if d["draft_ms"] is not None] if drafting else []
    return {
        "n": len(details),
        "hit@1": retrieval["hit@1"], "hit@3": retrieval["hit@3"], "hit@5": retrieval["hit@5"],
        "mrr@10": retrieval["mrr@10"], "ndcg@10": retrieval["ndcg@10"],
        "abstention_rate": share(d["abstained"] for d in unanswerable_drafts),
        "false_abstention_rate": share(d["abstained"] for d in answerable_drafts),
        "citation_validity": share(d["citations_valid"] for d in drafted),
        "evidence_in_draft": share(d["evidence_in_draft"] for d in answerable_drafts),
        "evidence_first": share(d["evidence_first"] for d in answerable_drafts),
        "bullets_per_draft": _mean(d["bullets"] for d in answering),
        "cut_sentence_rate": (sum(len(d["cut_bullets"]) for d in answering) / total_bullets
                              if total_bullets else None),
        "outcomes": ({"answerable": _outcomes(answerable_drafts), "unanswerable": _outcomes(unanswerable_drafts)}
                     if drafting else None),
        "evidence_misses": evidence_misses(answerable_drafts) if drafting else None,
        **{f"candidate_recall@{n}": share((d["candidate_rank"] or n + 1) <= n for d in answerable
                                          if d.get("has_stage")) for n in RECALL_DEPTHS},
        "latency_ms": {
            "retrieval_p50": _rounded(percentile(retrieval_ms, 50)),
            "retrieval_p95": _rounded(percentile(retrieval_ms, 95)),
            "draft_p50": _rounded(percentile(draft_ms, 50)),
            "draft_p95": _rounded(percentile(draft_ms, 95)),
        },
    }


def evidence_misses(answerable_drafts: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Answerable drafts without their evidence, by cause (see `summarize`).

    Example:
        >>> evidence_misses([{"evidence_in_draft": False, "first_relevant_rank": None, "abstained": False},
        ...                  {"evidence_in_draft": False, "first_relevant_rank": 2, "abstained": False}])
        {'retrieval': 1, 'abstention': 0, 'selection': 1}
    """
    misses = {"retrieval": 0, "abstention": 0, "selection": 0}
    for d in answerable_drafts:
        if d["evidence_in_draft"]:
            continue
        cause = ("retrieval" if d["first_relevant_rank"] is None else
                 "abstention" if d["abstained"] else "selection")
        misses[cause] += 1
    return misses


def _outcomes(drafts: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    return {o: share(d["outcome"] == o for d in drafts) for o in OUTCOMES}


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _progress(items: Sequence[Question], enabled: bool) -> Iterator[Question] | Iterable[Question]:
    """A rich progress bar on stderr, only when asked for and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty() or len(items) < 2:
        return items
    from rich.console import Console
    from rich.progress import track

    return track(items, description="Questions", total=len(items), transient=True,
                 console=Console(stderr=True))
