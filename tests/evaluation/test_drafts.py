"""Citation validity and evidence in draft text."""

from __future__ import annotations

import pytest

from assistant.evaluation.drafts import citation_valid, citations_valid, evidence_in_text
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
