"""Topic grouping against the labelled set (evals/topics-labelled.yaml): ARI, purity, baseline.

The figures of benchmarks/bench_topics.py, asserted: the dashboard's grouping (subject lexicon,
then TF-IDF clustering of the rest) must agree with the project's labels better than a
keyword-only clustering at its best threshold, on every question set, including the sets the
lexicon was not written from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.insights import agreement, topics

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "evals" / "topics-labelled.yaml"
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3)


@pytest.fixture(scope="module")
def labelled() -> list[agreement.Labelled]:
    if not (ROOT.parent / "shared" / "evals").is_dir():
        pytest.fail("../shared/evals is missing: the labelled set reads its questions there")
    return agreement.load_labelled(LABELLED, ROOT)


def _grouping(items) -> list[str]:
    groups = topics.group_questions([(i, q.text) for i, q in enumerate(items)])
    return agreement.labels_of(groups, list(range(len(items))))


def _keywords_only(items, threshold: float) -> list[str]:
    labels = [""] * len(items)
    for k, cluster in enumerate(topics.cluster_texts([q.text for q in items], threshold)):
        for i in cluster:
            labels[i] = str(k)
    return labels


def test_the_labelled_set_is_large_and_read_from_the_question_sets(labelled):
    assert len(labelled) >= 80, f"at least 80 labelled questions: {len(labelled)}"
    by_set = {name: sum(q.set == name for q in labelled) for name in ("sample", "validation", "dev", "paraphrases")}
    assert by_set["sample"] == 66 and by_set["validation"] == 135, by_set
    assert len({q.subject for q in labelled}) >= 15 and all(q.text for q in labelled)


@pytest.mark.parametrize("part, min_ari", [("sample", 0.6), ("validation", 0.35), ("dev", 0.25),
                                           ("paraphrases", 0.3)])
def test_grouping_beats_the_keyword_only_baseline(labelled, part, min_ari):
    items = [q for q in labelled if q.set == part]
    reference = [q.subject for q in items]
    score = agreement.score_against(reference, _grouping(items))
    baseline = max(agreement.score_against(reference, _keywords_only(items, t))["ari"] for t in THRESHOLDS)
    assert score["ari"] > baseline + 0.15, f"{part}: grouping {score} vs keyword-only best ARI {baseline}"
    assert score["ari"] >= min_ari, f"{part}: agreement dropped: {score}"
    assert score["purity"] >= 0.6, f"{part}: groups mix subjects: {score}"


@pytest.mark.parametrize("reference, predicted, ari, purity", [
    (["a", "a", "b", "b"], ["x", "x", "y", "y"], 1.0, 1.0),
    (["a", "a", "b", "b"], ["y", "y", "x", "x"], 1.0, 1.0),           # names do not matter
    (["a", "a", "b", "b"], ["x", "x", "x", "y"], 0.0, 0.75),
    (["a", "a", "a", "b", "b", "c"], ["x", "x", "y", "y", "z", "z"], 0.0741, 0.6667),  # (1 - 0.8) / (3.5 - 0.8)
    (["a", "b", "c"], ["x", "y", "z"], 1.0, 1.0),                      # all singletons on both sides
    (["a", "b"], ["x", "x"], 0.0, 0.5),
])
def test_ari_and_purity(reference, predicted, ari, purity):
    assert agreement.adjusted_rand_index(reference, predicted) == pytest.approx(ari, abs=1e-4)
    assert agreement.purity(reference, predicted) == pytest.approx(purity, abs=1e-4)


def test_measures_refuse_mismatched_lengths():
    for measure in (agreement.adjusted_rand_index, agreement.purity):
        with pytest.raises(ValueError, match="2 reference labels but 1"):
            measure(["a", "b"], ["x"])


def test_the_loader_refuses_unknown_and_twice_filed_ids(tmp_path):
    sets = tmp_path / "q.yaml"
    sets.write_text("questions:\n  - {id: q1, question: un}\n  - {id: q2, question: deux}\n", encoding="utf-8")
    path = tmp_path / "labels.yaml"
    path.write_text("sets: {s: q.yaml}\nsubjects:\n  A: [q1, q9]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'q9' is in no question set"):
        agreement.load_labelled(path, tmp_path)
    path.write_text("sets: {s: q.yaml}\nsubjects:\n  A: [q1]\n  B: [q1, q2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'q1' is filed under 'A' and 'B'"):
        agreement.load_labelled(path, tmp_path)
    path.write_text("sets: {s: q.yaml}\nsubjects:\n  A: [q1]\n  B: [q2]\n", encoding="utf-8")
    assert [(q.id, q.text, q.subject, q.set) for q in agreement.load_labelled(path, tmp_path)] == [
        ("q1", "un", "A", "s"), ("q2", "deux", "B", "s")]
