"""How well a grouping of questions agrees with reference subjects (for tests and benchmarks).

The reference is `evals/topics-labelled.yaml`: questions of the sample and validation sets,
each filed under one subject by the project (`load_labelled`). The figures are the adjusted
Rand index (pairs of questions put together or apart as in the reference, corrected for
chance: 0 for a random grouping, 1 for the reference), purity (share of questions that belong
to their group's main subject; it rewards splitting, so it is read with the ARI), V-measure
and B-cubed F1.

Example:
    >>> score_against(["a", "a", "b"], ["x", "x", "y"])["v_measure"]
    1.0
    >>> adjusted_rand_index(["a", "a", "b", "b"], ["x", "x", "x", "y"])
    0.0
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.insights.topics import Group


def _entropy(counts: Iterable[int]) -> float:
    counts = [c for c in counts if c]
    total = sum(counts)
    return -sum(c / total * math.log(c / total) for c in counts) if total else 0.0


def score_against(reference: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Homogeneity, completeness and V-measure of a grouping against reference labels.

    Completeness (do the questions of one reference subject land in one group?) is what a
    coordinator needs most: a recurring subject scattered over groups goes unnoticed.
    Homogeneity (does a group hold one reference subject?) drops when groups are broader than
    the reference, which is expected when the reference is one document per question.

    Args:
        reference: Reference label per question.
        predicted: Group label per question (same order).

    Returns:
        {"homogeneity", "completeness", "v_measure", "bcubed_precision", "bcubed_recall",
        "bcubed_f1", "groups"}; 1.0 is perfect.
    """
    if len(reference) != len(predicted):
        raise ValueError(f"{len(reference)} reference labels but {len(predicted)} predicted labels")
    if not reference:
        return {"homogeneity": 1.0, "completeness": 1.0, "v_measure": 1.0, "bcubed_precision": 1.0,
                "bcubed_recall": 1.0, "bcubed_f1": 1.0, "groups": 0}
    joint = Counter(zip(reference, predicted))
    h_ref = _entropy(Counter(reference).values())
    h_pred = _entropy(Counter(predicted).values())
    h_joint = _entropy(joint.values())
    h_ref_given_pred = h_joint - h_pred
    h_pred_given_ref = h_joint - h_ref
    homogeneity = 1.0 if h_ref == 0 else 1 - h_ref_given_pred / h_ref
    completeness = 1.0 if h_pred == 0 else 1 - h_pred_given_ref / h_pred
    v = 0.0 if homogeneity + completeness == 0 else 2 * homogeneity * completeness / (homogeneity + completeness)
    # B-cubed: per question, the share of its group that shares its reference label (precision)
    # and the share of its reference label that shares its group (recall); unlike the entropy
    # scores it does not reward splitting everything into singletons.
    pred_size = Counter(predicted)
    ref_size = Counter(reference)
    precision = sum(joint[(r, p)] / pred_size[p] for r, p in zip(reference, predicted)) / len(reference)
    recall = sum(joint[(r, p)] / ref_size[r] for r, p in zip(reference, predicted)) / len(reference)
    f1 = 2 * precision * recall / (precision + recall)
    return {"homogeneity": round(homogeneity, 4), "completeness": round(completeness, 4),
            "v_measure": round(v, 4), "bcubed_precision": round(precision, 4),
            "bcubed_recall": round(recall, 4), "bcubed_f1": round(f1, 4),
            "ari": adjusted_rand_index(reference, predicted), "purity": purity(reference, predicted),
            "groups": len(set(predicted))}


def _pairs(n: int) -> float:
    return n * (n - 1) / 2


def adjusted_rand_index(reference: Sequence[str], predicted: Sequence[str]) -> float:
    """Hubert and Arabie's adjusted Rand index of two groupings of the same items (1.0: identical).

    Raises:
        ValueError: the two sequences differ in length.
    """
    if len(reference) != len(predicted):
        raise ValueError(f"{len(reference)} reference labels but {len(predicted)} predicted labels")
    together = sum(_pairs(c) for c in Counter(zip(reference, predicted)).values())
    ref = sum(_pairs(c) for c in Counter(reference).values())
    pred = sum(_pairs(c) for c in Counter(predicted).values())
    expected = ref * pred / _pairs(len(reference)) if len(reference) > 1 else 0.0
    best = (ref + pred) / 2
    if best == expected:  # both groupings are all-singletons or all-one-group
        return 1.0
    return round((together - expected) / (best - expected), 4)


def purity(reference: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of items that carry the most frequent reference label of their predicted group."""
    if len(reference) != len(predicted):
        raise ValueError(f"{len(reference)} reference labels but {len(predicted)} predicted labels")
    if not reference:
        return 1.0
    by_group: dict[str, Counter[str]] = {}
    for ref, pred in zip(reference, predicted):
        by_group.setdefault(pred, Counter())[ref] += 1
    return round(sum(c.most_common(1)[0][1] for c in by_group.values()) / len(reference), 4)


@dataclass(frozen=True)
class Labelled:
    """A question of the labelled set: its id in its question set, its text and its subject."""

    id: str
    text: str
    subject: str
    set: str


def load_labelled(path: Path, root: Path) -> list[Labelled]:
    """The labelled questions of `path` (evals/topics-labelled.yaml), texts read from their sets.

    Args:
        path: The labelled set.
        root: The folder its `sets` paths are relative to (the repository).

    Raises:
        ValueError: an id that no set holds, or an id filed under two subjects.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    texts: dict[str, tuple[str, str]] = {}
    for name, relative in data["sets"].items():
        for question in yaml.safe_load((root / relative).read_text(encoding="utf-8"))["questions"]:
            texts[question["id"]] = (question["question"], name)
    found: list[Labelled] = []
    seen: dict[str, str] = {}
    for subject, ids in data["subjects"].items():
        for qid in ids:
            if qid not in texts:
                raise ValueError(f"{path}: '{qid}' is in no question set of {', '.join(data['sets'])}")
            if qid in seen:
                raise ValueError(f"{path}: '{qid}' is filed under '{seen[qid]}' and '{subject}'")
            seen[qid] = subject
            found.append(Labelled(qid, texts[qid][0], subject, texts[qid][1]))
    return found


def labels_of(groups: Sequence[Group], question_ids: Sequence[int]) -> list[str]:
    """Each question's group label, in the order of `question_ids`."""
    where = {qid: g.label for g in groups for qid in g.question_ids}
    return [where[qid] for qid in question_ids]
