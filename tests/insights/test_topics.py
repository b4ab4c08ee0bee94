"""Recurring-topic grouping: the lexicon, the clustering of the rest, the CSV, the measure."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from assistant.insights import agreement, exports, quality, topics
from assistant.insights.indicators import QuestionFacts

SAMPLE_QUESTIONS = Path(__file__).resolve().parents[2] / "evals" / "sample-questions.yaml"


@pytest.mark.parametrize("question, subject", [
    ("egalim il faut quel pourcentage de bio a la cantine ?", "Restauration collective (EGAlim)"),
    ("on peut donner nos vieux ordis à une asso ?", "Matériel réformé : don, cession, recyclage (DEEE)"),
    ("un candidat propose un label équivalent, je dois l'accepter ?", "Labels et écolabels"),
    ("indice de reparabilite c'est une note sur combien", "Indice de réparabilité et durabilité"),
    ("quelle part de reconditionné pour respecter AGEC ?", "Réemploi et reconditionné (loi AGEC)"),
    ("a partir de quel montant le spaser est obligatoire", "SPASER et plan national (PNAD)"),
    ("bonjour", topics.OTHER),
    ("", topics.OTHER),
])
def test_subject_of_reads_buyers_words(question, subject):
    assert topics.subject_of(question) == subject, f"{question!r} went to {topics.subject_of(question)!r}"


def test_every_subject_has_cues_that_survive_analysis():
    for subject, phrases in topics.SUBJECTS.items():
        assert phrases, f"{subject} has no cue"
        empty = [p for p in phrases if not topics.stems(p)]
        assert not empty, f"{subject}: cues {empty} are only stop words and can never match"


def test_group_questions_counts_examples_and_ids():
    questions = [(1, "exiger un écolabel ?"), (2, "label équivalent accepté ?"), (3, "EPEAT silver ?"),
                 (4, "la cantine et EGAlim"), (5, "météo des serveurs informatiques"),
                 (6, "météo des serveurs en été")]
    groups = topics.group_questions(questions, examples=2)
    by_label = {g.label: g for g in groups}
    labels = by_label["Labels et écolabels"]
    assert labels.size == 3 and labels.question_ids == (1, 2, 3), f"labels group wrong: {labels}"
    assert labels.examples == ("exiger un écolabel ?", "label équivalent accepté ?"), "examples: oldest first, capped"
    discovered = [g for g in groups if g.label.startswith("Autres :")]
    assert len(discovered) == 1 and set(discovered[0].question_ids) == {5, 6}, \
        f"the two unmatched questions on the same thing should form one discovered group: {groups}"
    assert "météo" in discovered[0].label and "serveurs" in discovered[0].label, \
        f"a discovered group is named by its shared words, as typed: {discovered[0].label}"
    assert groups[0].label == "Labels et écolabels", "biggest group first"
    assert sum(g.size for g in groups) == len(questions), "every question is in exactly one group"


def test_unmatched_singletons_are_pooled_into_other():
    groups = topics.group_questions([(1, "bonjour"), (2, "météo de demain"), (3, "exiger un label")])
    other = [g for g in groups if g.label == topics.OTHER]
    assert other and set(other[0].question_ids) == {1, 2}, f"singletons go to {topics.OTHER}: {groups}"


@pytest.mark.parametrize("questions", [[], [(1, "")], [(7, "une seule question sans sujet")]])
def test_group_questions_edge_cases(questions):
    groups = topics.group_questions(questions)
    assert sum(g.size for g in groups) == len(questions), f"{questions} gave {groups}"


@pytest.mark.parametrize("texts, expected", [
    ([], []),
    (["seul"], [[0]]),
    (["pompe à chaleur", "pompe à chaleur air eau", "cantine scolaire"], [[0, 1], [2]]),
])
def test_cluster_texts(texts, expected):
    assert topics.cluster_texts(texts, threshold=0.3) == expected


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5])
def test_cluster_texts_refuses_a_bad_threshold(threshold):
    with pytest.raises(ValueError, match="threshold must be in"):
        topics.cluster_texts(["a", "b"], threshold)


def test_topics_csv_round_trips_through_a_csv_reader():
    questions = [(1, 'label "équivalent", accepté ?'), (2, "écolabel ; exiger\nun label")]
    groups = topics.group_questions(questions)
    facts = [QuestionFacts(i, text, "received", datetime(2026, 3, 2, tzinfo=timezone.utc)) for i, text in questions]
    rows = list(csv.reader(io.StringIO(exports.topics_csv(quality.topic_quality(groups, facts)))))
    assert rows[0][:4] == ["sujet", "questions", "identifiants", "exemples"], "header"
    assert rows[0] == list(exports.TOPIC_COLUMNS) and all(len(r) == len(rows[0]) for r in rows), "one cell per column"
    assert rows[1][0] == "Labels et écolabels" and rows[1][1] == "2" and rows[1][2] == "1 2", f"row: {rows[1]}"
    assert 'label "équivalent", accepté ?' in rows[1][3], "quotes and commas survive the CSV"
    assert rows[1][4] == "non" and rows[1][5] == "", "no draft, no answer: no score and no flag"


def test_score_against_perfect_and_degenerate():
    perfect = agreement.score_against(["a", "a", "b"], ["x", "x", "y"])
    assert perfect["v_measure"] == 1.0 and perfect["bcubed_f1"] == 1.0, f"{perfect}"
    one_group = agreement.score_against(["a", "b"], ["x", "x"])
    assert one_group["completeness"] == 1.0 and one_group["homogeneity"] == 0.0, f"{one_group}"
    assert agreement.score_against([], [])["groups"] == 0
    with pytest.raises(ValueError, match="2 reference labels but 1"):
        agreement.score_against(["a", "b"], ["x"])


def _sample() -> tuple[list[tuple[int, str]], list[str]]:
    data = yaml.safe_load(SAMPLE_QUESTIONS.read_text(encoding="utf-8"))["questions"]
    items, reference = [], []
    for q in data:
        source = q.get("source")
        if not source:
            continue  # unanswerable questions have no reference subject
        items.append((len(items) + 1, q["question"]))
        reference.append(source if isinstance(source, str) else source[0])
    return items, reference


def test_grouping_quality_on_the_sample_questions():
    """Measured against each question's source document (see the table in topics.py)."""
    items, reference = _sample()
    groups = topics.group_questions(items)
    score = agreement.score_against(reference, agreement.labels_of(groups, [i for i, _ in items]))
    assert score["completeness"] >= 0.85, f"a subject's questions should stay together: {score}"
    assert score["bcubed_f1"] >= 0.6, f"grouping quality dropped: {score}"
    assert 8 <= score["groups"] <= 25, f"a coordinator needs a readable number of groups: {score}"
    baseline = max(
        agreement.score_against(reference, _cluster_labels([t for _, t in items], threshold))["bcubed_f1"]
        for threshold in (0.1, 0.15, 0.2, 0.25, 0.3))
    assert score["bcubed_f1"] > baseline, f"the lexicon should beat TF-IDF clustering alone ({baseline}): {score}"


def _cluster_labels(texts: list[str], threshold: float) -> list[int]:
    labels = [0] * len(texts)
    for k, cluster in enumerate(topics.cluster_texts(texts, threshold)):
        for i in cluster:
            labels[i] = k
    return labels


def test_grouping_a_thousand_questions_is_fast():
    import time

    items, _ = _sample()
    many = [(i, f"{items[i % len(items)][1]} variante {i}") for i in range(1000)]
    start = time.perf_counter()
    groups = topics.group_questions(many)
    elapsed = time.perf_counter() - start
    assert sum(g.size for g in groups) == 1000
    assert elapsed < 5.0, f"grouping 1,000 questions took {elapsed:.1f} s"
