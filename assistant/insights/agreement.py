"""How well a grouping of questions agrees with reference subjects (for tests and benchmarks).

Example:
    >>> score_against(["a", "a", "b"], ["x", "x", "y"])["v_measure"]
    1.0
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

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
            "bcubed_recall": round(recall, 4), "bcubed_f1": round(f1, 4), "groups": len(set(predicted))}


def labels_of(groups: Sequence[Group], question_ids: Sequence[int]) -> list[str]:
    """Each question's group label, in the order of `question_ids`."""
    where = {qid: g.label for g in groups for qid in g.question_ids}
    return [where[qid] for qid in question_ids]
