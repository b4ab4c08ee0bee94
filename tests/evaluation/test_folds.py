"""Grouped cross-validation folds: one document never in two folds."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation.folds import grouped_folds, question_group
from assistant.evaluation.questions import Question, load_question_set

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.mark.parametrize("k", [2, 3, 5])
def test_no_document_is_in_two_folds_on_the_real_sets(k):
    questions = [q for name in ("dev-questions.yaml", "validation-questions.yaml")
                 for q in load_question_set(SHARED / "evals" / name).questions]
    groups = [question_group(q, "minumeco") for q in questions]
    folds = grouped_folds(groups, k=k)
    seen: dict[str, set[int]] = {}
    for group, fold in zip(groups, folds):
        seen.setdefault(group, set()).add(fold)
    assert all(len(f) == 1 for f in seen.values()), {g: f for g, f in seen.items() if len(f) > 1}
    assert set(folds) == set(range(k)), f"every fold must be used, got {sorted(set(folds))}"


def test_folds_are_balanced_when_groups_allow_it():
    folds = grouped_folds([f"g{i}" for i in range(10)], k=5)
    assert sorted(folds.count(f) for f in range(5)) == [2] * 5, folds


def test_seed_changes_only_the_order_of_equal_groups():
    groups = ["big"] * 4 + [f"s{i}" for i in range(6)]
    for seed in range(5):
        folds = grouped_folds(groups, k=3, seed=seed)
        assert len(set(folds[:4])) == 1, "one group, one fold"
        assert folds == grouped_folds(groups, k=3, seed=seed), "deterministic for a seed"


def test_group_is_the_first_source_within_its_corpus():
    q = Question("q", "?", True, ("x",), ("a.md", "b.pdf"))
    assert question_group(q, "sample") == "sample:a.md"
    assert question_group(q, "sample") != question_group(q, "minumeco"), "corpora never merge"
    assert question_group(Question("n1", "?", False)) != question_group(Question("n2", "?", False))


@pytest.mark.parametrize("groups, k, message", [
    (["a", "b"], 1, "k must be >= 2"),
    (["a", "a", "b"], 3, "2 distinct groups cannot fill 3 folds"),
    ([], 2, "0 distinct groups"),
])
def test_bad_arguments_fail_in_one_line(groups, k, message):
    with pytest.raises(ValueError, match=message):
        grouped_folds(groups, k=k)
