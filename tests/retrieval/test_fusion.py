"""Fusion of ranked lists: every mode, every empty edge, every bad argument."""

from __future__ import annotations

import pytest

from assistant.retrieval.fusion import MODES, fuse, ranks

LEX = [("a", 12.0), ("b", 8.0), ("c", 1.0)]
DENSE = [("c", 0.91), ("d", 0.88), ("a", 0.80)]


def ids(result):
    return [id_ for id_, _ in result]


@pytest.mark.parametrize("mode", MODES)
def test_agreement_wins(mode):
    result = fuse({"lexical": LEX, "dense": DENSE}, {"lexical": 1.0, "dense": 1.0}, mode=mode)
    assert set(ids(result)) == {"a", "b", "c", "d"}, "every candidate is kept"
    assert ids(result)[0] in {"a", "c"}, f"{mode}: an id found by both lists comes first"
    scores = [s for _, s in result]
    assert scores == sorted(scores, reverse=True), "best first"


def test_rrf_formula():
    result = dict(fuse({"x": ["a", "b"], "y": ["b"]}, {"x": 2.0, "y": 1.0}, k=10))
    assert result["a"] == pytest.approx(2.0 / 11)
    assert result["b"] == pytest.approx(2.0 / 12 + 1.0 / 11)


def test_score_mode_normalises_each_list():
    result = dict(fuse({"lexical": LEX, "dense": DENSE}, {"lexical": 0.5, "dense": 0.5}, mode="score"))
    assert result["a"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0), "top of one list, bottom of the other"
    assert result["d"] == pytest.approx(0.5 * (0.88 - 0.80) / (0.91 - 0.80))


def test_score_mode_equal_scores_all_count_fully():
    assert fuse({"x": [("a", 3.0), ("b", 3.0)]}, {"x": 1.0}, mode="score") == [("a", 1.0), ("b", 1.0)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ranked", [
    {}, {"lexical": []}, {"lexical": [], "dense": []},
])
def test_empty_inputs_give_nothing(mode, ranked):
    assert fuse(ranked, {"lexical": 1.0, "dense": 1.0}, mode=mode) == []


@pytest.mark.parametrize("mode", MODES)
def test_one_empty_list_leaves_the_other_order(mode):
    result = fuse({"lexical": LEX, "dense": []}, {"lexical": 1.0, "dense": 1.0}, mode=mode)
    assert ids(result) == ["a", "b", "c"]


@pytest.mark.parametrize("mode", MODES)
def test_zero_weight_list_is_left_out(mode):
    result = fuse({"lexical": LEX, "dense": DENSE}, {"lexical": 1.0, "dense": 0.0}, mode=mode)
    assert ids(result) == ["a", "b", "c"], "a list of weight 0 neither adds ids nor scores"


@pytest.mark.parametrize("mode", MODES)
def test_weights_change_the_winner(mode):
    lexical_first = fuse({"lexical": LEX, "dense": DENSE}, {"lexical": 3.0, "dense": 1.0}, mode=mode)
    dense_first = fuse({"lexical": LEX, "dense": DENSE}, {"lexical": 1.0, "dense": 3.0}, mode=mode)
    assert ids(lexical_first)[0] == "a" and ids(dense_first)[0] == "c", mode


@pytest.mark.parametrize("mode", MODES)
def test_duplicates_in_one_list_count_once(mode):
    result = dict(fuse({"x": [("a", 2.0), ("b", 1.0), ("a", 0.5)]}, {"x": 1.0}, k=1, mode=mode))
    assert result["a"] == pytest.approx(0.5 if mode == "rrf" else 1.0), "first occurrence only"


def test_ties_keep_first_seen_order():
    assert ids(fuse({"x": ["a"], "y": ["b"]}, {"x": 1.0, "y": 1.0})) == ["a", "b"]


def test_plain_ids_and_pairs_mix_in_rrf():
    assert ids(fuse({"x": ["a", "b"], "y": [("b", 0.3)]}, {"x": 1.0, "y": 1.0})) == ["b", "a"]


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 0}, "k must be > 0, got 0"),
    ({"k": -5}, "k must be > 0, got -5"),
    ({"mode": "max"}, "unknown fusion mode 'max'"),
    ({"weights": {"lexical": 1.0}}, "no weight for list 'dense'"),
    ({"weights": {"lexical": -1.0, "dense": 1.0}}, "must be >= 0, got -1.0"),
    ({"weights": {"lexical": 0.0, "dense": 0.0}}, "at least one list must have a weight > 0"),
])
def test_bad_arguments(kwargs, message):
    args = {"ranked": {"lexical": LEX, "dense": DENSE}, "weights": {"lexical": 1.0, "dense": 1.0}}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fuse(**args)


def test_score_mode_needs_scores():
    with pytest.raises(ValueError, match="score fusion needs \\(id, score\\) pairs"):
        fuse({"x": ["a"]}, {"x": 1.0}, mode="score")


def test_inputs_are_not_modified():
    ranked = {"lexical": list(LEX), "dense": list(DENSE)}
    weights = {"lexical": 1.0, "dense": 1.0}
    fuse(ranked, weights)
    assert ranked == {"lexical": LEX, "dense": DENSE} and weights == {"lexical": 1.0, "dense": 1.0}


@pytest.mark.parametrize("items, expected", [
    ([], {}), (["a"], {"a": 1}), (["a", "b", "a"], {"a": 1, "b": 2}),
])
def test_ranks(items, expected):
    assert ranks(items) == expected
