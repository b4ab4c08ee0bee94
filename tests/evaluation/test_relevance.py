"""Relevance per FORMAT.md: evidence after normalisation, source base names, duplicates."""

from __future__ import annotations

import pytest

from assistant.evaluation.questions import Question
from assistant.evaluation.relevance import is_relevant
from assistant.records import Chunk, Passage


def _chunk(text: str, source: str = "/corpus/guide.pdf", cid: str = "c1", title: str = "Guide") -> Chunk:
    return Chunk(cid, text, source, title)


@pytest.mark.parametrize("evidence, text, expected", [
    pytest.param(("3,8 % des émissions",), "Le numérique : 3,8\u00a0% des émissions.", True, id="nbsp"),
    pytest.param(("3,8 % des émissions",), "LE NUMERIQUE : 3,8 % DES EMISSIONS", True, id="case-accents"),
    pytest.param(("n'excède pas 300",), "valeur qui n’excède pas 300 €", True, id="typographic-apostrophe"),
    pytest.param(("fabrication représente",), "la fabri-\ncation représente 80 %", True, id="pdf-hyphenation"),
    pytest.param(("gaz à effet\nde serre",), "gaz   à effet de\tserre", True, id="whitespace-runs"),
    pytest.param(("20 %", "proportion annuelle"), "une proportion annuelle minimale", True, id="second-evidence"),
    pytest.param(("20 %",), "une part de 25 %", False, id="no-evidence"),
    pytest.param(("300 €",), "plafond de 300€", False, id="space-is-significant"),
])
def test_evidence_matching_after_normalisation(evidence, text, expected):
    question = Question("q", "?", True, evidence)
    assert is_relevant(question, Passage(_chunk(text), 1.0)) is expected, f"{evidence} in {text!r}"


@pytest.mark.parametrize("sources, source, expected", [
    pytest.param((), "/corpus/any.md", True, id="no-source-constraint"),
    pytest.param(("guide.pdf",), "/corpus/sub/guide.pdf", True, id="base-name-matches"),
    pytest.param(("a.md", "guide.pdf"), "/corpus/guide.pdf", True, id="one-of-a-list"),
    pytest.param(("guide.md",), "/corpus/guide.pdf", False, id="other-file"),
    pytest.param(("guide.pdf",), "/corpus/guide.pdf.bak", False, id="not-a-prefix-match"),
])
def test_source_constraint_on_base_name(sources, source, expected):
    question = Question("q", "?", True, ("20 %",), sources)
    passage = Passage(_chunk("au moins 20 % de matériel", source=source), 1.0)
    assert is_relevant(question, passage) is expected, f"{sources} vs {source}"


@pytest.mark.parametrize("duplicate_text, duplicate_source, expected", [
    pytest.param("au moins 20 % de matériel", "/corpus/fiche.md", True, id="duplicate-from-right-source"),
    pytest.param("au moins 20 % de matériel", "/corpus/other.md", False, id="duplicate-from-wrong-source"),
    pytest.param("autre texte", "/corpus/fiche.md", False, id="duplicate-without-evidence"),
])
def test_collapsed_duplicates_count(duplicate_text, duplicate_source, expected):
    question = Question("q", "?", True, ("20 %",), ("fiche.md",))
    main = _chunk("au moins 20 % de matériel", source="/corpus/guide.pdf")
    duplicate = _chunk(duplicate_text, source=duplicate_source, cid="c2")
    assert is_relevant(question, Passage(main, 1.0, duplicates=(duplicate,))) is expected


def test_title_and_heading_are_not_matched():
    question = Question("q", "?", True, ("reconditionné",))
    chunk = Chunk("c1", "texte sans le mot", "/c/a.md", "Matériel reconditionné", section="Reconditionné")
    assert "reconditionné" in chunk.index_text, "precondition: index_text holds the word"
    assert not is_relevant(question, Passage(chunk, 1.0)), "only the chunk's own text counts"


def test_unanswerable_question_has_no_relevant_passage():
    question = Question("q", "?", False)
    assert not is_relevant(question, Passage(_chunk("n'importe quoi"), 1.0)), "no evidence, no relevance"
