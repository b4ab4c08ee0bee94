"""The abstention rule, its French message, and the calibration that fits its thresholds."""

from __future__ import annotations

import time
from datetime import date
from types import SimpleNamespace

import pytest

from assistant.drafting import texts
from assistant.drafting.abstention import NO_AGREEMENT, Evidence, Thresholds, decide, evidence, should_abstain
from assistant.drafting.calibration import calibrate, collect
from assistant.drafting.extractive import ExtractiveGenerator
from assistant.evaluation.drafts import citations_valid
from assistant.records import Passage

from .helpers import md_chunk, paragraph, passages

FAQ = md_chunk("fin-usage--faq.md", paragraph("fin-usage--faq.md", "En dessous de 5 ans"), section="DEEE")
DON = md_chunk("fin-usage--don.md", paragraph("fin-usage--don.md", "15 jours"), section="Comment donner")
ON_TOPIC = "pc de 7 ans qui tourne encore : don ou DEEE ?"
OFF_TOPIC = "c'est quoi la recette de la blanquette de veau ?"


def test_answerable_question_with_agreeing_lists_is_answered():
    assert should_abstain(passages(FAQ, DON), ON_TOPIC) == (False, "")


def test_off_topic_question_abstains_on_coverage():
    abstain, reason = should_abstain(passages(FAQ, DON), OFF_TOPIC)
    assert abstain and reason.startswith("preuves faibles : le meilleur passage couvre 0 %"), reason


def test_no_passage_abstains():
    assert should_abstain([], ON_TOPIC) == (True, "aucun passage trouvé")


def test_agreement_between_lists_matters():
    found = evidence(passages(FAQ, DON), "don d'un vieux matériel ou jeter à la benne ?")
    assert 0.34 <= found.coverage < 0.5, found
    assert not decide(found)[0], "in both lists' top 5: the normal bar applies"
    alone = evidence(passages(FAQ, DON, agree=False), "don d'un vieux matériel ou jeter à la benne ?")
    assert alone.joint_rank == NO_AGREEMENT
    abstain, reason = decide(alone)
    assert abstain and "aucun passage dans les 5 premiers des deux recherches" in reason, reason


def test_top_score_bar_when_set():
    assert decide(Evidence(5, 0.01, 0.9, 1), Thresholds(min_top_score=0.02))[0]
    assert not decide(Evidence(5, 0.03, 0.9, 1), Thresholds(min_top_score=0.02))[0]


def test_evidence_counts_terms_of_title_and_section():
    found = evidence([Passage(FAQ, 0.03, (), 1, 2)], "foire aux questions DEEE")
    assert found.coverage == 1.0 and found.joint_rank == 2, found


def test_abstention_draft_says_so_and_whom_to_ask():
    generator = ExtractiveGenerator(today=date(2024, 1, 1))
    draft = generator.draft(OFF_TOPIC, passages(FAQ, DON))
    assert draft.abstained and draft.reason and draft.citations == ()
    assert draft.text.startswith(texts.ABSTENTION), draft.text
    assert "réseau régional" in draft.text and "guichet vert" in draft.text
    assert texts.ASK_LEGAL not in draft.text, "not a legal question"
    assert citations_valid(draft, passages(FAQ, DON)), "an abstention is a valid draft for the eval"


def test_legal_question_abstention_suggests_a_legal_expert():
    draft = ExtractiveGenerator().draft("délai de standstill mini entre la lettre de rejet et la signature ?",
                                        passages(FAQ, DON))
    assert draft.abstained and texts.ASK_LEGAL in draft.text, draft.text


def test_calibration_meets_the_false_abstention_bound():
    answerable = [Evidence(5, 0.03, c, j) for c, j in [(0.9, 1), (0.8, 2), (0.7, 40), (0.6, 1), (0.5, 3),
                                                        (0.45, 1), (0.75, 1), (0.66, 2), (0.3, 1), (0.55, 9)]]
    unanswerable = [Evidence(5, 0.02, c, j) for c, j in [(0.2, NO_AGREEMENT), (0.33, 40), (0.4, NO_AGREEMENT),
                                                          (0.1, 1)]]
    fit = calibrate(answerable + unanswerable, [True] * 10 + [False] * 4)
    assert fit.false_abstention_rate <= 0.10 and fit.abstention_rate == 1.0, fit
    abstained = [decide(f, fit.thresholds)[0] for f in answerable + unanswerable]
    assert abstained[10:] == [True] * 4 and sum(abstained[:10]) <= 1, (fit, abstained)


def test_calibration_never_trades_answerable_questions():
    # Unanswerable features identical to answerable ones: the only admissible rule abstains on nothing.
    same = [Evidence(5, 0.03, 0.5, 1)] * 4
    fit = calibrate(same, [True, True, False, False], max_false_abstention=0.0)
    assert fit.false_abstention_rate == 0.0 and fit.abstention_rate == 0.0, fit


@pytest.mark.parametrize("features, labels, message", [
    ([Evidence(1, 0.1, 0.5, 1)], [True, False], "1 features but 2 labels"),
    ([Evidence(1, 0.1, 0.5, 1)] * 2, [True, True], "needs both answerable and unanswerable"),
])
def test_calibration_bad_input(features, labels, message):
    with pytest.raises(ValueError, match=message):
        calibrate(features, labels)


def test_calibration_is_quick_on_a_large_set():
    features = [Evidence(5, 0.001 * i, (i % 97) / 97, i % 12) for i in range(400)]
    start = time.perf_counter()
    calibrate(features, [i % 5 != 0 for i in range(400)])
    assert time.perf_counter() - start < 30, "400 questions fit in well under 30 s"


def test_collect_uses_the_search_function():
    questions = [SimpleNamespace(question=ON_TOPIC), SimpleNamespace(question=OFF_TOPIC)]
    found = collect(questions, lambda q: passages(FAQ, DON))
    assert found[0].coverage > found[1].coverage and found[0].passages == 2, found
