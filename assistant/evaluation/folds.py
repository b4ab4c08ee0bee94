"""Cross-validation folds grouped by source document. Pure functions.

Anything fitted on question sets (the second-stage ranker, the abstention model) is reported out
of fold: every question is scored by a model fitted on the other folds. Questions about one
document all fall in one fold, so a model is never judged on a document it was fitted on.

A question's group is its first named source (the document its writer had in mind; the others
are copies of the same text, such as a PDF guide and its web pages), prefixed by its set's corpus
so that two corpora's files never merge; a question without a source (unanswerable ones) is a
group of its own.

Example:
    >>> from assistant.evaluation.questions import Question
    >>> qs = [Question("a", "?", True, ("x",), ("guide.pdf",)), Question("b", "?", True, ("y",), ("guide.pdf",)),
    ...       Question("c", "?", False), Question("d", "?", True, ("z",), ("faq.md",))]
    >>> grouped_folds([question_group(q) for q in qs], k=2)
    [0, 0, 1, 1]
"""

from __future__ import annotations

import random
from typing import Hashable, Sequence

from assistant.evaluation.questions import Question


def question_group(question: Question, corpus: str = "") -> str:
    """The group of a question: `corpus:first source`, or `corpus#id` when it names none.

    Example:
        >>> question_group(Question("q1", "?", True, ("x",), ("b.md", "a.pdf")), "minumeco")
        'minumeco:b.md'
    """
    if question.sources:
        return f"{corpus}:{question.sources[0]}"
    return f"{corpus}#{question.id}"


def grouped_folds(groups: Sequence[Hashable], k: int = 5, seed: int = 0) -> list[int]:
    """A fold number in [0, k) for each item, every group in exactly one fold.

    Groups are dealt largest first to the fold holding the fewest items so far (ties: the
    lowest fold number); groups of equal size are shuffled with `seed` first.

    Args:
        groups: The group of each item (e.g. `question_group` of each question).
        k: Number of folds (>= 2).
        seed: Seed of the order of equal-sized groups.

    Returns:
        One fold number per item, in the order of `groups`.

    Raises:
        ValueError: k < 2, or fewer distinct groups than folds.
    """
    if k < 2:
        raise ValueError(f"k must be >= 2, got {k}")
    sizes: dict[Hashable, int] = {}
    for group in groups:
        sizes[group] = sizes.get(group, 0) + 1
    if len(sizes) < k:
        raise ValueError(f"{len(sizes)} distinct groups cannot fill {k} folds: use fewer folds")
    order = list(sizes)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -sizes[g])  # stable: the shuffle only breaks ties
    load = [0] * k
    fold_of: dict[Hashable, int] = {}
    for group in order:
        fold = min(range(k), key=lambda f: (load[f], f))
        fold_of[group] = fold
        load[fold] += sizes[group]
    return [fold_of[g] for g in groups]
