"""Citation validity, evidence in draft text, bullets, cut sentences and evidence first."""

from __future__ import annotations

import pytest

from assistant.text.sentences import cut_reason
from assistant.evaluation.drafts import (bullets, citation_valid, citations_valid, cut_bullets, evidence_first,
                                         evidence_in_text, first_cited_sentence)
from assistant.records import Chunk, Citation, Draft, Passage

MAIN = Chunk("c1", "Le don est possible si la valeur n’excède pas 300\u00a0€.", "/c/don.md", "Don")
DUP = Chunk("c2", "Le don est possible si la valeur n’excède pas 300\u00a0€.", "/c/don.pdf", "Don", page=3)
PASSAGES = [Passage(MAIN, 1.0, duplicates=(DUP,))]


@pytest.mark.parametrize("citation, expected", [
    pytest.param(Citation(1, "c1", "n'excède pas 300 €"), True, id="normalised-quote"),
    pytest.param(Citation(1, "c2", "valeur n’excède"), True, id="cites-collapsed-duplicate"),
    pytest.param(Citation(1, "c9", "n'excède pas 300 €"), False, id="chunk-not-retrieved"),
    pytest.param(Citation(1, "c1", "n'excède pas 500 €"), False, id="quote-not-in-chunk"),
    pytest.param(Citation(1, "c1", "  "), False, id="empty-quote"),
])
def test_citation_valid(citation, expected):
    assert citation_valid(citation, PASSAGES) is expected, f"{citation}"


@pytest.mark.parametrize("draft, expected", [
    pytest.param(Draft("Je ne sais pas.", abstained=True), True, id="abstained-without-citation"),
    pytest.param(Draft("Affirmation sans source."), False, id="answer-without-citation"),
    pytest.param(Draft("ok [1] [2]", (Citation(1, "c1", "300"), Citation(2, "c1", "don"))), True,
                 id="all-valid"),
    pytest.param(Draft("ok [1] [2]", (Citation(1, "c1", "300"), Citation(2, "zz", "don"))), False,
                 id="one-invalid"),
])
def test_citations_valid(draft, expected):
    assert citations_valid(draft, PASSAGES) is expected, f"{draft}"


def test_citations_valid_with_no_passages():
    assert not citations_valid(Draft("x [1]", (Citation(1, "c1", "x"),)), []), "nothing was retrieved"


@pytest.mark.parametrize("evidence, text, expected", [
    (["300 €"], "Le plafond est de 300\u00a0€.", True),
    (["Entre 5 et 10 ans", "DEEE"], "Orientez vers la filière deee.", True),
    (["300 €"], "Le plafond est de 500 €.", False),
    ([], "anything", False),
])
def test_evidence_in_text(evidence, text, expected):
    assert evidence_in_text(evidence, text) is expected, f"{evidence} in {text!r}"


# --- bullets, cut sentences, evidence first ---------------------------------------------------

DRAFT = ("D'après les documents de la base, voici les éléments qui répondent à votre question :\n"
         "- Le don est possible si la valeur n’excède pas 300 €. [1]\n"
         "- Les étapes du don sont les suivantes : [2]\n"
         "- et la convention est signée par les deux parties. [1]\n\n"
         "Sources :\n[1] Don — p. 3 — 2023-04-03 — don.pdf\n[2] FAQ — DEEE — 2023-04-03 — faq.md\n\n"
         "Pour aller plus loin : Réseau (https://example.org).\n\n"
         "Une précision à apporter ou une autre question ? Répondez simplement à ce message.")


def test_bullets_are_the_claim_lines_only():
    assert bullets(DRAFT) == ["Le don est possible si la valeur n’excède pas 300 €. [1]",
                              "Les étapes du don sont les suivantes : [2]",
                              "et la convention est signée par les deux parties. [1]"]


def test_prose_draft_counts_its_cited_sentences_as_bullets():
    prose = "Oui, le don est possible jusqu'à 300 € [1]. Une convention est signée [2].\n\nSources :\n[1] Don"
    assert bullets(prose) == ["Oui, le don est possible jusqu'à 300 € [1].", "Une convention est signée [2]."]


def test_cut_bullets_with_their_reason():
    assert cut_bullets(DRAFT) == [("Les étapes du don sont les suivantes :", "introduces a list"),
                                  ("et la convention est signée par les deux parties.", "starts mid-sentence")]


@pytest.mark.parametrize("sentence, reason", [
    ("Le don est plafonné à 300 € par bien.", None),
    ("Définir la durée de réservation du don aux autres administrations (15 jours)", None),
    ("Epeat Silver (au moins 50 % des critères optionnels respectés) ;", None),
    ("« Les administrations promeuvent le recours à des logiciels sobres. »", None),
    ("Les obligations sont les suivantes :", "introduces a list"),
    ("| 2024 | 20 % | 25 % |", "table row"),
    ("Année\t2024\t2027", "table row"),
    ("DÉFINITION DES DEEE", "heading"),
    ("des équipements de production conçus pour être utilisés à une tension", "starts mid-sentence"),
    (", soit 49 % des équipements mis sur le marché.", "starts mid-sentence"),
    ("Le titulaire transmet chaque année le bilan de", "ends mid-sentence"),
    ("Le montant de l’éco-contribution doit être répercuté en toute transpa-", "ends mid-sentence"),
    ("Les distributeurs reprennent les DEEE, ", "ends mid-sentence"),
    ("[1]", "empty"),
])
def test_cut_reason(sentence, reason):
    assert cut_reason(sentence) == reason


def test_evidence_first_looks_at_the_first_cited_sentence_only():
    assert first_cited_sentence(DRAFT) == "Le don est possible si la valeur n’excède pas 300 €. [1]"
    assert evidence_first(["300 €"], DRAFT)
    assert not evidence_first(["convention est signée"], DRAFT), "in the draft, but not first"
    assert evidence_in_text(["convention est signée"], DRAFT)
    assert not evidence_first(["300 €"], "Je n'ai pas trouvé de source fiable."), "an abstention cites nothing"
