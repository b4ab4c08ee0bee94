"""Fit the abstention model on pooled question sets, and report it out of fold.

`fit_abstention(features, labels, groups)` fits a logistic regression (L2, Newton steps, on
standardised features) and its two thresholds, and says how it does on questions it was not
fitted on: folds are grouped by source document (`evaluation.folds`), every question is decided
by a model fitted on the other folds, and each fold's thresholds are themselves chosen on
out-of-fold probabilities of its training part (nested), so no figure of the report is
in-sample. The thresholds:
- `abstain_below`: the highest that keeps false abstentions (answerable questions abstained on)
  within `max_false_abstention`, placed halfway to the next probability (largest margin);
- `answer_from`: the lowest that leaves at most `max_answered` of unanswerable questions
  answered (the ones between the thresholds get a partial draft).

`pool` searches every question of `load_sets` (GUICHET_HOME, QUESTIONS.yaml) once, `calibrate`
cross-fits them and reports per set (with the evaluation's draft metrics of each question's
out-of-fold model), `save` writes the parameter file. `guichet calibrate` drives them:

    guichet calibrate ../shared/evals/dev-questions.yaml ../shared/evals/validation-questions.yaml \
        --also-index /tmp/sample-home evals/sample-questions.yaml --drafts

Example:
    >>> import random
    >>> rng = random.Random(0)
    >>> feats = [Evidence(c, c, c, 1.0, 0.0, 1.0, 1.0, 1.0, 0.5, 1.5, 0.0, c, 0.5, 5)
    ...          for c in [rng.uniform(0.5, 1) for _ in range(30)] + [rng.uniform(0, 0.5) for _ in range(30)]]
    >>> params, report = fit_abstention(feats, [True] * 30 + [False] * 30, [f"g{i % 12}" for i in range(60)])
    >>> report["abstention_rate"] > 0.8 and report["false_abstention_rate"] <= 0.1
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from assistant.drafting.abstention import FORMAT, KIND, Decision, Evidence, Model, decide, evidence
from assistant.evaluation.folds import grouped_folds
from assistant.drafting.terms import Rarity
from assistant.records import Passage

FOLDS = 5
INNER_FOLDS = 4
MAX_FALSE_ABSTENTION = 0.05
MAX_ANSWERED = 0.10
L2 = 1.0
_NEWTON_STEPS = 100


@dataclass(frozen=True)
class CrossFit:
    """A final model, the model of each fold and each question's out-of-fold decision."""

    model: Model
    fold_models: tuple[Model, ...]
    folds: tuple[int, ...]
    decisions: tuple[Decision, ...]


def fit_abstention(features: Sequence[Evidence], labels: Sequence[bool], groups: Sequence[str], *,
                   sets: Sequence[str] | None = None, k: int = FOLDS,
                   max_false_abstention: float = MAX_FALSE_ABSTENTION, max_answered: float = MAX_ANSWERED,
                   seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the abstention model and report it out of fold.

    Args:
        features: `abstention.evidence` of each question.
        labels: True when the corpus answers the question.
        groups: Fold group of each question (`evaluation.folds.question_group`).
        sets: Optional name of each question's set, for a per-set report.
        k: Number of folds.
        max_false_abstention: Highest share of answerable questions to abstain on (fitting).
        max_answered: Highest share of unanswerable questions to answer (fitting).
        seed: Seed of the fold assignment.

    Returns:
        (params, report): the `params` of a parameter file (`Model.to_params`), and the
        out-of-fold report (rates over all questions, per set, and per question).

    Raises:
        ValueError: lengths differ, labels of one kind only, fewer groups than folds, or a bound
            outside [0, 1].
    """
    fit = cross_fit(features, labels, groups, k=k, max_false_abstention=max_false_abstention,
                    max_answered=max_answered, seed=seed)
    return fit.model.to_params(), report(fit, labels, sets, k=k, max_false_abstention=max_false_abstention,
                                         max_answered=max_answered)


def cross_fit(features: Sequence[Evidence], labels: Sequence[bool], groups: Sequence[str], *,
              k: int = FOLDS, max_false_abstention: float = MAX_FALSE_ABSTENTION,
              max_answered: float = MAX_ANSWERED, seed: int = 0) -> CrossFit:
    """The final model, one model per fold, and every question's out-of-fold decision."""
    n = len(features)
    if len(labels) != n or len(groups) != n:
        raise ValueError(f"{n} features, {len(labels)} labels and {len(groups)} groups: one of each per question")
    y = np.array(labels, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("fitting abstention needs both answerable and unanswerable questions")
    for name, bound in (("max_false_abstention", max_false_abstention), ("max_answered", max_answered)):
        if not 0 <= bound <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {bound}")
    x = np.array([f.vector() for f in features], dtype=float)
    folds = grouped_folds(groups, k, seed)
    groups = list(groups)
    models, decisions = [], [None] * n
    for fold in range(k):
        train = [i for i in range(n) if folds[i] != fold]
        model = _fit_with_thresholds(x[train], y[train], [groups[i] for i in train],
                                     max_false_abstention, max_answered, seed)
        models.append(model)
        for i in range(n):
            if folds[i] == fold:
                decisions[i] = decide(features[i], model)
    final = _fit_with_thresholds(x, y, groups, max_false_abstention, max_answered, seed)
    return CrossFit(final, tuple(models), tuple(folds), tuple(decisions))


def report(fit: CrossFit, labels: Sequence[bool], sets: Sequence[str] | None = None, **settings: Any
           ) -> dict[str, Any]:
    """The out-of-fold report of a cross fit: rates overall, per set, and per question."""
    sets = list(sets) if sets is not None else ["all"] * len(labels)
    out: dict[str, Any] = {"fit": dict(settings), "n": len(labels), **_rates(fit.decisions, labels),
                           "sets": {}, "weights": dict(zip(fit.model.features, fit.model.weights)),
                           "thresholds": {"abstain_below": fit.model.abstain_below,
                                          "answer_from": fit.model.answer_from}}
    for name in dict.fromkeys(sets):
        keep = [i for i, s in enumerate(sets) if s == name]
        out["sets"][name] = {"n": len(keep), **_rates([fit.decisions[i] for i in keep], [labels[i] for i in keep])}
    out["questions"] = [{"fold": f, "outcome": d.outcome, "probability": round(d.probability, 4)}
                        for f, d in zip(fit.folds, fit.decisions)]
    return out


def _rates(decisions: Sequence[Decision], labels: Sequence[bool]) -> dict[str, Any]:
    """Outcome shares of answerable and unanswerable questions (None when there are none)."""
    def share(label: bool, outcome: str) -> float | None:
        chosen = [d for d, y in zip(decisions, labels) if bool(y) == label]
        return round(sum(d.outcome == outcome for d in chosen) / len(chosen), 4) if chosen else None

    return {"n_answerable": sum(1 for y in labels if y), "n_unanswerable": sum(1 for y in labels if not y),
            "abstention_rate": share(False, "abstain"), "false_abstention_rate": share(True, "abstain"),
            "outcomes": {"answerable": {o: share(True, o) for o in ("answer", "partial", "abstain")},
                         "unanswerable": {o: share(False, o) for o in ("answer", "partial", "abstain")}}}


def _fit_with_thresholds(x: np.ndarray, y: np.ndarray, groups: list[str], max_false_abstention: float,
                         max_answered: float, seed: int) -> Model:
    """Weights on all of (x, y); thresholds on out-of-fold probabilities of (x, y)."""
    inner = min(INNER_FOLDS, len(set(groups)))
    folds = np.array(grouped_folds(groups, inner, seed)) if inner >= 2 else None
    if folds is not None and all(_both(y[folds != fold]) for fold in range(inner)):
        probabilities = np.zeros(len(y))
        for fold in range(inner):
            train = folds != fold
            probabilities[~train] = _predict(_fit_logistic(x[train], y[train]), x[~train])
    else:  # too few groups to nest: in-sample probabilities (tiny sets only)
        probabilities = _predict(_fit_logistic(x, y), x)
    mean, scale, weights, bias = _fit_logistic(x, y)
    low = _abstain_threshold(probabilities, y, max_false_abstention)
    high = max(low, _answer_threshold(probabilities, y, max_answered))
    return Model(tuple(Evidence.names()), tuple(mean), tuple(scale), tuple(weights), float(bias),
                 round(low, 4), round(high, 4))


def _both(y: np.ndarray) -> bool:
    return bool(y.any()) and not bool(y.all())


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2):
    """Standardised L2 logistic regression by Newton steps: (mean, scale, weights, bias)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    design = np.hstack([z, np.ones((len(z), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    target = y.astype(float)
    for _ in range(_NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -60, 60)))
        gradient = design.T @ (p - target) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return [round(float(v), 6) for v in mean], [round(float(v), 6) for v in scale], \
        [round(float(v), 6) for v in w[:-1]], round(float(w[-1]), 6)


def _predict(fitted, x: np.ndarray) -> np.ndarray:
    mean, scale, weights, bias = fitted
    z = ((x - np.array(mean)) / np.array(scale)) @ np.array(weights) + bias
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def _abstain_threshold(p: np.ndarray, y: np.ndarray, bound: float) -> float:
    """The highest threshold with at most `bound` of answerable questions below it, halfway to
    the next probability."""
    answerable = np.sort(p[y])
    allowed = int(np.floor(bound * len(answerable) + 1e-9))
    ceiling = answerable[allowed] if allowed < len(answerable) else 1.0
    below = np.sort(p[p < ceiling])
    if not len(below):
        return 0.0
    above = p[p > below[-1]]
    upper = float(above.min()) if len(above) else 1.0
    return (float(below[-1]) + upper) / 2


def _answer_threshold(p: np.ndarray, y: np.ndarray, bound: float) -> float:
    """The lowest threshold with at most `bound` of unanswerable questions at or above it."""
    unanswerable = np.sort(p[~y])[::-1]
    allowed = int(np.floor(bound * len(unanswerable) + 1e-9))
    if allowed >= len(unanswerable):
        return 0.0
    floor = float(unanswerable[allowed])
    above = p[p > floor]
    upper = float(above.min()) if len(above) else 1.0
    return (floor + upper) / 2


def collect(questions: Sequence, search: Callable[[str], Sequence[Passage]], rarity: Rarity | None = None
            ) -> list[tuple[list[Passage], Evidence]]:
    """Passages and evidence of each question (objects with a `.question` text).

    Args:
        questions: Objects with a `.question` text (`evaluation.questions.Question`).
        search: `(question) -> ranked passages`, e.g. `Assistant.search`.
        rarity: Term rarity in the corpus, e.g. `Assistant.term_rarity`.
    """
    out = []
    for q in questions:
        passages = list(search(q.question))
        out.append((passages, evidence(passages, q.question, rarity)))
    return out


@dataclass(frozen=True)
class Pooled:
    """One question of a pooled set, with what was retrieved for it and its fold group."""

    set: str
    question: Any
    assistant: Any
    passages: list[Passage]
    group: str
    evidence: Evidence


def load_sets(sets: Sequence[tuple[Path, Path]]) -> list[tuple[Path, Path, Any]]:
    """`(home, path, QuestionSet)` of each `(GUICHET_HOME, QUESTIONS.yaml)` pair.

    Raises:
        GuichetError: a set that does not load, or two sets with one file name (the report is
            per set name), in one line.
    """
    from assistant.errors import ConfigError
    from assistant.evaluation.questions import load_question_set

    names = [Path(path).name for _, path in sets]
    if len(set(names)) != len(names):
        raise ConfigError(f"two question sets share the name {max(names, key=names.count)!r}: rename one")
    return [(Path(home), Path(path), load_question_set(Path(path))) for home, path in sets]


def pool(sets: Sequence[tuple[Path, Path, Any]], open_assistant: Callable[[Path], Any],
         progress: Callable[[], None] | None = None) -> list[Pooled]:
    """Every question of `load_sets(...)`, searched once over its set's index.

    Args:
        sets: `(home, path, QuestionSet)` triples.
        open_assistant: The Assistant over the index of a GUICHET_HOME (one per home).
        progress: Called after each question.
    """
    from assistant.evaluation.folds import question_group

    assistants: dict[str, Any] = {}
    pooled = []
    for home, path, qset in sets:
        key = str(home.resolve())
        if key not in assistants:
            assistants[key] = open_assistant(home)
        assistant = assistants[key]
        for question in qset.questions:
            passages = list(assistant.search(question.question))
            pooled.append(Pooled(path.name, question, assistant, passages, question_group(question, key),
                                 evidence(passages, question.question, assistant.term_rarity)))
            if progress is not None:
                progress()
    return pooled


def calibrate(pooled: Sequence[Pooled], *, k: int = FOLDS, max_false_abstention: float = MAX_FALSE_ABSTENTION,
              max_answered: float = MAX_ANSWERED, drafts: bool = False) -> tuple[CrossFit, dict[str, Any]]:
    """Cross-fit the pooled questions; the out-of-fold report, per set (with the evaluation's
    draft metrics of each question's out-of-fold model when `drafts`), per question last.

    Raises:
        ValueError: labels of one kind only, or fewer source documents than folds.
    """
    labels = [p.question.answerable for p in pooled]
    fit = cross_fit([p.evidence for p in pooled], labels, [p.group for p in pooled], k=k,
                    max_false_abstention=max_false_abstention, max_answered=max_answered)
    out = report(fit, labels, [p.set for p in pooled], k=k, max_false_abstention=max_false_abstention,
                 max_answered=max_answered)
    if drafts:
        for name, metrics in oof_drafts(pooled, fit).items():
            out["sets"][name]["drafts"] = metrics
    out["questions"] = [{"set": p.set, "id": p.question.id, "answerable": p.question.answerable,
                         **asdict(p.evidence), **r} for p, r in zip(pooled, out["questions"])]
    return fit, out


def save(path: Path, fit: CrossFit, out: dict[str, Any]) -> None:
    """Write the final model's parameter file, with the out-of-fold report (without per-question
    records) as how it was fitted."""
    from assistant.params import save_params

    save_params(path, KIND, FORMAT, fit.model.to_params(),
                {key: value for key, value in out.items() if key != "questions"})


def oof_drafts(pooled: Sequence[Pooled], fit: CrossFit) -> dict[str, dict[str, Any]]:
    """Per set, the evaluation's metrics of drafts made with each question's out-of-fold model."""
    import time

    from assistant.drafting.extractive import ExtractiveGenerator
    from assistant.evaluation.runner import question_details, summarize

    details: dict[str, list] = {}
    for item, fold in zip(pooled, fit.folds):
        generator = ExtractiveGenerator(item.assistant.related_resources, model=fit.fold_models[fold],
                                        rarity=item.assistant.term_rarity,
                                        max_age_days=item.assistant.drafting.max_source_age_days)
        start = time.perf_counter()
        draft = generator.draft(item.question.question, item.passages)
        details.setdefault(item.set, []).append(question_details(
            item.question, item.passages, draft, retrieval_ms=0.0,
            draft_ms=(time.perf_counter() - start) * 1000))
    return {name: summarize(records) for name, records in details.items()}

