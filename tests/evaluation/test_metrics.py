"""Pure retrieval metrics and percentiles, over every empty and edge case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assistant.evaluation.metrics import (evaluate, first_relevant_rank, hit_curve, percentile,
                                          ranked_ids, share)

DEFAULT_KEYS = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]
INV2 = 1 / math.log2(3)  # discounted gain at rank 2


@pytest.mark.parametrize("qrels, run, expected", [
    pytest.param({}, {"q": ["d"]}, dict.fromkeys(DEFAULT_KEYS), id="empty-qrels-gives-none"),
    pytest.param({}, {}, dict.fromkeys(DEFAULT_KEYS), id="both-empty"),
    pytest.param({"q": {"d": 1}}, {}, dict.fromkeys(DEFAULT_KEYS, 0.0), id="empty-run"),
    pytest.param({"q": {"d": 1}}, {"q": []}, dict.fromkeys(DEFAULT_KEYS, 0.0), id="empty-ranking"),
    pytest.param({"q": {}}, {"q": ["a", "b"]}, dict.fromkeys(DEFAULT_KEYS, 0.0), id="no-relevant"),
    pytest.param({"q": {"a": 0}}, {"q": ["a"]}, dict.fromkeys(DEFAULT_KEYS, 0.0), id="grade-zero"),
    pytest.param({"q": {"a": 1, "b": 1}}, {"q": ["a", "b"]}, dict.fromkeys(DEFAULT_KEYS, 1.0),
                 id="all-relevant"),
    pytest.param({"q": {"b": 1}}, {"q": ["a", "b", "c"]},
                 {"hit@1": 0.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr@10": 0.5,
                  "ndcg@10": INV2}, id="rank-2"),
    pytest.param({"q": {"a": 1, "c": 1}}, {"q": ["a", "b", "c"]},
                 {"hit@1": 1.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr@10": 1.0,
                  "ndcg@10": (1 + 0.5) / (1 + INV2)}, id="two-relevant-ranks-1-and-3"),
    pytest.param({"q": {"k": 1}}, {"q": list("abcdefghijk")}, dict.fromkeys(DEFAULT_KEYS, 0.0),
                 id="relevant-at-rank-11-is-out"),
    pytest.param({"q": {"b": 1}}, {"q": ["a", "a", "b"]},
                 {"hit@1": 0.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr@10": 0.5,
                  "ndcg@10": INV2}, id="repeated-id-counts-once"),
    pytest.param({"q": {"b": 1}}, {"q": {"b": 0.5, "a": 0.5}}, dict.fromkeys(DEFAULT_KEYS, 0.0) |
                 {"hit@1": 0.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr@10": 0.5,
                  "ndcg@10": INV2}, id="score-ties-broken-by-id"),
    pytest.param({"q": {"b": 1}}, {"q": {"b": 0.9, "a": 0.1}}, dict.fromkeys(DEFAULT_KEYS, 1.0),
                 id="score-mapping-sorted"),
    pytest.param({"q1": {"a": 1}, "q2": {"z": 1}}, {"q1": ["a"], "q2": ["y"], "extra": ["z"]},
                 dict.fromkeys(DEFAULT_KEYS, 0.5), id="unjudged-queries-ignored"),
])
def test_evaluate(qrels, run, expected):
    result = evaluate(qrels, run)
    assert list(result) == DEFAULT_KEYS, f"keys: {list(result)}"
    for key, value in expected.items():
        if value is None:
            assert result[key] is None, f"{key} should be None, got {result[key]}"
        else:
            assert result[key] == pytest.approx(value), f"{key}: {result[key]} != {value}"


def test_evaluate_uses_the_largest_k_for_mrr_and_ndcg():
    result = evaluate({"q": {"c": 1}}, {"q": ["a", "b", "c"]}, k_values=(2,))
    assert result == {"hit@2": 0.0, "mrr@2": 0.0, "ndcg@2": 0.0}, f"rank 3 is beyond k=2: {result}"


@pytest.mark.parametrize("k_values, message", [((), "at least one"), ((0, 5), "k must be > 0, got 0"),
                                              ((-1,), "got -1")])
def test_evaluate_rejects_bad_cutoffs(k_values, message):
    with pytest.raises(ValueError, match=message):
        evaluate({"q": {"a": 1}}, {"q": ["a"]}, k_values=k_values)


def test_ranked_ids_and_first_relevant_rank():
    assert ranked_ids(["b", "a", "b"]) == ["b", "a"], "first occurrence kept"
    assert ranked_ids({"x": 1.0, "y": 2.0}) == ["y", "x"], "descending score"
    assert first_relevant_rank(set(), ["a"]) is None, "nothing relevant"
    assert first_relevant_rank({"a"}, []) is None, "empty ranking"


@pytest.mark.parametrize("values, p, expected", [
    pytest.param([], 50, None, id="empty"),
    pytest.param([7.0], 95, 7.0, id="single"),
    pytest.param([3, 1, 2], 0, 1.0, id="p0-is-min"),
    pytest.param([3, 1, 2], 100, 3.0, id="p100-is-max"),
    pytest.param([10, 20, 30, 40], 50, 25.0, id="even-median"),
    pytest.param([5, 5, 5], 95, 5.0, id="ties"),
])
def test_percentile(values, p, expected):
    assert percentile(values, p) == expected, f"percentile({values}, {p})"


@pytest.mark.parametrize("p", [1, 25, 50, 90, 95, 99])
def test_percentile_matches_numpy(p):
    values = [0.3, 12.0, 4.5, 4.5, 100.0, 7.25, 3.0]
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p))), f"p{p}"


@pytest.mark.parametrize("p", [-1, 100.5])
def test_percentile_rejects_out_of_range(p):
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], p)


@pytest.mark.parametrize("ranks, max_k, expected", [
    ([], 3, [None, None, None]),
    ([None, None], 2, [0.0, 0.0]),
    ([1, 2, None, 10], 3, [0.25, 0.5, 0.5]),
])
def test_hit_curve(ranks, max_k, expected):
    assert hit_curve(ranks, max_k) == expected, f"hit_curve({ranks})"


def test_hit_curve_rejects_bad_k():
    with pytest.raises(ValueError, match="max_k must be > 0"):
        hit_curve([1], 0)


@pytest.mark.parametrize("flags, expected", [([], None), ([False], 0.0), ([True, True], 1.0),
                                             ([True, False, False, False], 0.25)])
def test_share(flags, expected):
    assert share(flags) == expected, f"share({flags})"
