"""Fit the abstention thresholds on a question set with answerable and unanswerable questions.

The fit maximises the abstention rate on unanswerable questions subject to a false-abstention
rate of at most `max_false_abstention` on answerable ones; ties go to the thresholds farthest
from every observed value (largest margin), which generalise best to unseen questions.

Run it on the dev set once the index is built, then copy the printed values into the
constants of `assistant/drafting/abstention.py`:

    python -m assistant.drafting.calibration ../shared/evals/dev-questions.yaml

Example:
    >>> from assistant.drafting.abstention import Evidence
    >>> feats = [Evidence(5, 0.03, 0.8, 1), Evidence(5, 0.03, 0.6, 2), Evidence(5, 0.02, 0.2, 40)]
    >>> fit = calibrate(feats, [True, True, False])
    >>> fit.abstention_rate, fit.false_abstention_rate
    (1.0, 0.0)
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from assistant.drafting.abstention import NO_AGREEMENT, Evidence, Thresholds, evidence
from assistant.records import Passage

DEPTHS = (1, 3, 5, 10)
MAX_CUTS = 30


@dataclass(frozen=True)
class Fit:
    """Fitted thresholds and how they do on the questions they were fitted on."""

    thresholds: Thresholds
    abstention_rate: float
    false_abstention_rate: float
    n_answerable: int
    n_unanswerable: int


def calibrate(features: Sequence[Evidence], answerable: Sequence[bool], *,
              max_false_abstention: float = 0.10) -> Fit:
    """Thresholds that abstain on most unanswerable questions with few false abstentions.

    Args:
        features: Evidence of each question (`abstention.evidence` on its passages).
        answerable: Label of each question (True when the corpus answers it).
        max_false_abstention: Highest acceptable share of answerable questions abstained on.

    Returns:
        The best `Fit` (never a fit above the false-abstention bound: abstaining on nothing
        always qualifies).

    Raises:
        ValueError: lengths differ, or no answerable / no unanswerable question.
    """
    if len(features) != len(answerable):
        raise ValueError(f"{len(features)} features but {len(answerable)} labels")
    labels = np.array(answerable, dtype=bool)
    if labels.all() or not labels.any():
        raise ValueError("calibration needs both answerable and unanswerable questions")
    if not 0 <= max_false_abstention <= 1:
        raise ValueError(f"max_false_abstention must be in [0, 1], got {max_false_abstention}")
    empty = np.array([f.passages == 0 for f in features])
    score = np.array([f.top_score for f in features])
    cover = np.array([f.coverage for f in features])
    joint = np.array([min(f.joint_rank, NO_AGREEMENT) for f in features])
    scales = {"score": np.ptp(score) or 1.0, "cover": np.ptp(cover) or 1.0}
    best: tuple | None = None
    for min_score, min_cov, min_cov_alone, depth in itertools.product(
            _cuts(score), _cuts(cover), _cuts(cover), DEPTHS):
        if min_cov_alone < min_cov:
            continue
        abstain = (empty | (score < min_score) | (cover < min_cov)
                   | ((joint > depth) & (cover < min_cov_alone)))
        false_rate = float(abstain[labels].mean())
        if false_rate > max_false_abstention + 1e-9:
            continue
        rate = float(abstain[~labels].mean())
        margin = min(_margin(score, min_score, scales["score"]), _margin(cover, min_cov, scales["cover"]),
                     _margin(cover, min_cov_alone, scales["cover"]))
        key = (rate, -false_rate, margin)
        if best is None or key > best[0]:
            best = (key, Thresholds(round(min_cov, 4), round(min_cov_alone, 4), depth, round(min_score, 6)))
    (rate, neg_false, _), thresholds = best
    return Fit(thresholds, rate, -neg_false, int(labels.sum()), int((~labels).sum()))


def collect(questions: Sequence, search: Callable[[str], Sequence[Passage]]) -> list[Evidence]:
    """Evidence of each question (objects with a `.question` text) from a search function."""
    return [evidence(list(search(q.question)), q.question) for q in questions]


def _cuts(values: np.ndarray) -> list[float]:
    """Candidate thresholds: 0 and midpoints between consecutive distinct values (at most
    `MAX_CUTS`, evenly spread, so that large question sets stay quick to fit)."""
    distinct = np.unique(values)
    mids = (distinct[:-1] + distinct[1:]) / 2
    if len(mids) > MAX_CUTS:
        mids = mids[np.linspace(0, len(mids) - 1, MAX_CUTS).round().astype(int)]
    return [0.0] + [float(x) for x in mids]


def _margin(values: np.ndarray, threshold: float, scale: float) -> float:
    if threshold <= 0:
        return 1.0  # an unused bar takes no risk
    return float(np.min(np.abs(values - threshold))) / scale


def main(argv: Sequence[str] | None = None) -> int:
    """Fit on a question set with the configured index and print the thresholds as JSON."""
    parser = argparse.ArgumentParser(prog="python -m assistant.drafting.calibration",
                                     description="Fit the abstention thresholds on a question set.")
    parser.add_argument("questions", help="question set in the evaluation format (FORMAT.md)")
    parser.add_argument("--max-false-abstention", type=float, default=0.10)
    args = parser.parse_args(argv)
    from assistant.config import get_settings
    from assistant.evaluation.questions import load_question_set
    from assistant.pipeline import open_assistant

    qset = load_question_set(args.questions)
    assistant = open_assistant(get_settings())
    features = collect(qset.questions, assistant.search)
    fit = calibrate(features, [q.answerable for q in qset.questions],
                    max_false_abstention=args.max_false_abstention)
    json.dump({"fit": asdict(fit), "questions": [
        {"id": q.id, "answerable": q.answerable, **asdict(f)} for q, f in zip(qset.questions, features)]},
        sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
