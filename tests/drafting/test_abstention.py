"""Calibrated abstention: evidence features, the three outcomes, the model file and the fit."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import pytest

from assistant.drafting import texts
from assistant.drafting.abstention import (SHIPPED, Evidence, Model, decide, evidence, load_model)
from assistant.evaluation.calibration import collect, cross_fit, fit_abstention
from assistant.drafting.extractive import ExtractiveGenerator
from assistant.errors import ConfigError
from assistant.evaluation.drafts import citations_valid
from assistant.evaluation.folds import grouped_folds
from assistant.params import save_params
from assistant.records import Chunk, Passage

from .helpers import md_chunk, paragraph, passages

FAQ = md_chunk("fin-usage--faq.md", paragraph("fin-usage--faq.md", "En dessous de 5 ans"), section="DEEE")
DON = md_chunk("fin-usage--don.md", paragraph("fin-usage--don.md", "15 jours"), section="Comment donner")
ON_TOPIC = "pc de 7 ans qui tourne encore : don ou DEEE ?"
OFF_TOPIC = "c'est quoi la recette de la blanquette de veau ?"
NAMES = Evidence.names()


def model(weights: dict[str, float], bias: float = 0.0, abstain_below: float = 0.3,
          answer_from: float = 0.7) -> Model:
    """A model on raw (unstandardised) features with the given weights."""
    return Model(NAMES, (0.0,) * len(NAMES), (1.0,) * len(NAMES),
                 tuple(weights.get(n, 0.0) for n in NAMES), bias, abstain_below, answer_from)


def features(**values: float) -> Evidence:
    base = dict.fromkeys(NAMES, 0.0) | {"coverage_sentence": 0.5, "passages": 5}
    return Evidence(**(base | values))


def test_features_of_an_answerable_and_an_off_topic_question():
    on, off = evidence(passages(FAQ, DON), ON_TOPIC), evidence(passages(FAQ, DON), OFF_TOPIC)
    assert on.coverage_passage > 0.4 and off.coverage_passage < 0.2, (on, off)
    assert on.agreement == 1.0, "the first passage is first in both lists"
    assert off.coverage_sentence == 0.0, "no sentence speaks of blanquette"
    alone = evidence(passages(FAQ, DON, agree=False), ON_TOPIC)
    assert alone.agreement == 0.0 and alone.dense_top == 0.0, alone


def test_features_do_not_depend_on_the_score_scale():
    scaled = [replace(p, score=p.score * 1000 - 7) for p in passages(FAQ, DON)]
    assert evidence(scaled, ON_TOPIC) == evidence(passages(FAQ, DON), ON_TOPIC), \
        "a ranker with another score scale gives the same evidence"


def test_rarity_features_name_terms_the_corpus_never_uses():
    def rarity(terms):
        return {t: 1.0 if t in ("blanquet", "veau") else 0.2 for t in terms}

    found = evidence(passages(FAQ, DON), OFF_TOPIC, rarity)
    assert found.unknown_terms > 0.5 and found.missing_rare == 1.0, found
    known = evidence(passages(FAQ, DON), ON_TOPIC, rarity)
    assert known.unknown_terms == 0.0 and known.rare_coverage > 0.4 and known.missing_rare < 1.0, known


def test_figure_asked_and_missing_is_a_feature():
    found = evidence(passages(DON), "combien coûte l'audit du label numérique responsable ?")
    assert found.focus_missing == 1.0 and found.focus_found == 0.0, found
    given = evidence(passages(DON), "la réservation aux autres administrations dure combien de jours ?")
    assert given.focus_missing == 0.0 and given.focus_found == 1.0, given


@pytest.mark.parametrize("values, outcome, words", [
    ({"coverage_passage": 0.1}, "abstain", "preuves faibles : probabilité de réponse"),
    ({"coverage_passage": 0.5}, "partial", "réponse partielle : preuves moyennes"),
    ({"coverage_passage": 0.9}, "answer", "réponse : probabilité"),
    ({"coverage_passage": 0.9, "focus_missing": 1.0}, "partial", "aucune phrase des sources ne donne ce chiffre"),
])
def test_three_outcomes_with_their_reason_in_french(values, outcome, words):
    fitted = model({"coverage_passage": 10.0}, bias=-5.0)  # p = 0.5 at coverage 0.5
    decision = decide(features(**values), fitted, "il en faut combien ?")
    assert decision.outcome == outcome and words in decision.reason, decision


@pytest.mark.parametrize("values, reason", [
    ({"passages": 0}, "aucun passage trouvé"),
    ({"coverage_sentence": 0.0, "coverage_passage": 1.0}, "aucune phrase des passages ne traite de la question"),
])
def test_nothing_to_quote_abstains_whatever_the_model(values, reason):
    decision = decide(features(**values), model({}, bias=10.0))
    assert (decision.outcome, decision.reason) == ("abstain", reason)


def test_shipped_model_answers_on_topic_and_abstains_off_topic():
    shipped = load_model()
    assert decide(evidence(passages(FAQ, DON), ON_TOPIC), shipped).outcome != "abstain"
    assert decide(evidence(passages(FAQ, DON), OFF_TOPIC), shipped).outcome == "abstain"
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert data["kind"] == "abstention" and data["fitted"]["n_unanswerable"] >= 30, \
        "the shipped fit pools sets with the validation set's unanswerable questions"


def test_model_file_round_trip_and_desk_fit_precedence(tmp_path):
    own = model({"coverage_passage": 3.0}, bias=-1.0, abstain_below=0.25, answer_from=0.8)
    save_params(tmp_path / "abstention.json", "abstention", 1, own.to_params(), {"n": 3})
    assert load_model(tmp_path) == own, "GUICHET_HOME's own fit is used"
    assert load_model(tmp_path / "elsewhere") == load_model(), "without one, the shipped fit"


@pytest.mark.parametrize("params, message", [
    ({"features": ["coverage_passage"]}, "incomplete"),
    ({"features": ["no_such"], "mean": [0], "scale": [1], "weights": [1], "bias": 0,
      "abstain_below": 0.2, "answer_from": 0.5}, "do not match this version's features"),
    ({"features": ["coverage_passage"], "mean": [0, 1], "scale": [1], "weights": [1], "bias": 0,
      "abstain_below": 0.2, "answer_from": 0.5}, "do not match"),
])
def test_bad_model_file_fails_in_one_line(tmp_path, params, message):
    save_params(tmp_path / "abstention.json", "abstention", 1, params, {})
    with pytest.raises(ConfigError, match=message) as info:
        load_model(tmp_path)
    assert "\n" not in str(info.value)


def test_abstention_draft_says_whom_to_ask_from_the_resources_directory():
    network = Chunk("r1", "Réseau régional des acheteurs publics responsables.", "/res/ressources.yaml",
                    "RAN COPER (Normandie)", "resource", metadata={"url": "https://example.org/ran-coper"})
    generator = ExtractiveGenerator(related_resources=lambda q: [network], today=date(2024, 1, 1))
    draft = generator.draft(OFF_TOPIC, passages(FAQ, DON))
    assert draft.abstained and draft.outcome == "abstain" and draft.citations == ()
    assert draft.text.startswith(texts.ABSTENTION), draft.text
    assert f"{texts.ASK_RESOURCES}\n- RAN COPER (Normandie) (https://example.org/ran-coper)" in draft.text
    assert citations_valid(draft, passages(FAQ, DON)), "an abstention is a valid draft for the eval"


def test_abstention_without_resources_points_to_the_network_and_legal_experts():
    draft = ExtractiveGenerator(model=model({}, bias=-10.0)).draft(
        "délai de standstill mini entre la lettre de rejet et la signature ?", passages(FAQ, DON))
    assert draft.abstained, draft.reason
    assert texts.ASK_NETWORK in draft.text and texts.ASK_LEGAL in draft.text, draft.text


def test_partial_draft_says_what_is_missing_and_is_flagged():
    partial = model({"coverage_passage": 10.0}, bias=-2.0)
    draft = ExtractiveGenerator(model=partial).draft("combien coûte le don de matériel à une association ?",
                                                     passages(DON, FAQ))
    assert draft.outcome == "partial" and not draft.abstained, draft.reason
    assert draft.text.startswith(texts.PARTIAL_OPENING.format(missing="ce montant")), draft.text
    assert any(f.reason.startswith("réponse partielle") for f in draft.flags), draft.flags
    assert draft.citations and citations_valid(draft, passages(DON, FAQ)), "what was found is cited"


# --- the fit ---------------------------------------------------------------------------------


def separable(n: int = 60, seed: int = 0):
    rng = random.Random(seed)
    feats, labels, groups = [], [], []
    for i in range(n):
        answerable = i % 3 != 0
        c = rng.uniform(0.55, 1.0) if answerable else rng.uniform(0.0, 0.45)
        feats.append(features(coverage_passage=c, rare_coverage=c))
        labels.append(answerable)
        groups.append(f"doc{i % 15}" if answerable else f"#q{i}")
    return feats, labels, groups


def test_fit_separates_and_reports_out_of_fold():
    feats, labels, groups = separable()
    params, report = fit_abstention(feats, labels, groups, sets=["a"] * 30 + ["b"] * 30)
    assert report["abstention_rate"] >= 0.9 and report["false_abstention_rate"] <= 0.1, report
    assert set(report["sets"]) == {"a", "b"} and report["sets"]["a"]["n"] == 30
    assert params["features"] == list(NAMES) and 0 <= params["abstain_below"] <= params["answer_from"] <= 1
    outcomes = report["outcomes"]["unanswerable"]
    assert abs(sum(outcomes.values()) - 1) < 1e-6, "the split covers every unanswerable question"


def test_fit_is_out_of_fold_on_noise():
    """Labels unrelated to the features: an in-sample fit would still "abstain" on unanswerable
    questions more than on answerable ones; out of fold it cannot."""
    rng = random.Random(3)
    feats = [features(coverage_passage=rng.random(), agreement=rng.random(), terms=rng.random())
             for _ in range(200)]
    labels = [rng.random() < 0.7 for _ in range(200)]
    groups = [f"g{i}" for i in range(200)]
    _, report = fit_abstention(feats, labels, groups)
    assert report["abstention_rate"] - report["false_abstention_rate"] < 0.15, report


def test_folds_are_grouped_by_document():
    feats, labels, groups = separable()
    fit = cross_fit(feats, labels, groups)
    assert list(fit.folds) == grouped_folds(groups, 5)
    by_group = {}
    for group, fold in zip(groups, fit.folds):
        by_group.setdefault(group, set()).add(fold)
    assert all(len(folds) == 1 for folds in by_group.values()), "a document's questions share one fold"
    assert len(fit.fold_models) == 5 and all(m.features == NAMES for m in fit.fold_models)


@pytest.mark.parametrize("args, kwargs, message", [
    (([features()], [True, False], ["a", "b"]), {}, "1 features, 2 labels and 2 groups"),
    (([features()] * 6, [True] * 6, list("abcdef")), {}, "both answerable and unanswerable"),
    (([features()] * 6, [True, False] * 3, list("aabbcc")), {}, "3 distinct groups cannot fill 5 folds"),
    (([features()] * 6, [True, False] * 3, list("abcdef")), {"max_false_abstention": 2}, r"must be in \[0, 1\]"),
])
def test_fit_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_abstention(*args, **kwargs)


def test_collect_uses_the_search_function():
    questions = [SimpleNamespace(question=ON_TOPIC), SimpleNamespace(question=OFF_TOPIC)]
    found = collect(questions, lambda q: passages(FAQ, DON))
    assert found[0][1].coverage_passage > found[1][1].coverage_passage and len(found[0][0]) == 2, found


def test_passage_records_of_an_abstention_are_kept():
    draft = ExtractiveGenerator().draft(OFF_TOPIC, passages(FAQ, DON))
    assert draft.passages == tuple(passages(FAQ, DON)) and isinstance(draft.passages[0], Passage)
