"""export_reviewed: validated answers become a question set that loads and evaluates."""

from __future__ import annotations

import re

import pytest

from assistant.errors import QuestionSetError
from assistant.evaluation.export import evidence_span, export_reviewed, reviewed_question
from assistant.text.normalize import contains
from assistant.evaluation.questions import load_question_set
from assistant.evaluation.runner import run_eval
from assistant.records import Chunk

from .doubles import StubAssistant

LONG_QUOTE = ("Les équipements informatiques fonctionnels de moins de 10 ans sont proposés en priorité "
              "au réemploi ou à la réutilisation, dans le respect de l'article L2111-3 du code.")


@pytest.mark.parametrize("quote, expected", [
    pytest.param("n’excède pas 300\u00a0€", "n’excède pas 300\u00a0€", id="short-kept-whole"),
    pytest.param("« dans un délai de 15 jours. »", "dans un délai de 15 jours", id="edge-punctuation"),
    pytest.param("20 %", "20 %", id="shorter-than-3-words"),
])
def test_evidence_span_short_quotes(quote, expected):
    assert evidence_span(quote) == expected, f"span of {quote!r}"


@pytest.mark.parametrize("quote", [
    LONG_QUOTE,
    "a b c d e f g h i j k l m n o p q r s t",
    "Le titulaire s'engage à reprendre les équipements usagés et à fournir un bordereau de suivi "
    "des déchets (BSD) via Trackdéchets, obligatoire depuis le 1er janvier 2022 pour les DEEE.",
])
def test_evidence_span_of_long_quotes(quote):
    span = evidence_span(quote)
    words = len(span.split())
    assert 3 <= words <= 12, f"{words} words: {span!r}"
    assert span in quote, f"span must occur verbatim in the quote: {span!r}"


def test_evidence_span_prefers_numbers_and_references():
    span = evidence_span(LONG_QUOTE)
    assert re.search(r"\d", span), f"the distinctive span holds a number: {span!r}"


RECORDS = [
    {"id": 1, "question": "Plafond pour donner un ordinateur à une association ?",
     "final_text": "Le don est possible jusqu'à 300 € [1].",
     "citations": [{"source": "/corpus/fin-usage--don.md",
                    "quote": "Le don est possible lorsque la valeur unitaire du bien n’excède pas 300\u00a0€"}]},
    {"id": 2, "question": "Ordinateur de 7 ans qui fonctionne : DEEE ?",
     "final_text": "Non, réemploi [1] [2].",
     "citations": [{"source": "/corpus/fin-usage--faq.md", "quote": "Entre 5 et 10 ans, un ordinateur qui "
                    "fonctionne encore part vers le réemploi, pas vers la filière DEEE"},
                   {"source": "/corpus/guide.pdf", "quote": "réemploi"}]},
    {"id": 3, "question": "Sans citation", "final_text": "Texte", "citations": []},
    {"id": 4, "question": "", "final_text": "Texte", "citations": [{"source": "/c/a.md", "quote": "x y z"}]},
]


def test_reviewed_question_shape():
    item = reviewed_question(RECORDS[1])
    assert item["id"] == "reviewed-2" and item["answerable"] is True
    assert item["source"] == ["fin-usage--faq.md", "guide.pdf"], "base names of every cited source"
    assert len(item["evidence"]) == 1, f"the one-word quote is dropped: {item['evidence']}"
    short_only = {"id": 5, "question": "q", "citations": [{"source": "a.md", "quote": "20 %"}]}
    assert reviewed_question(short_only)["evidence"] == ["20 %"], "kept when it is all there is"
    assert reviewed_question(RECORDS[0])["source"] == "fin-usage--don.md", "a single source is a string"


def test_export_round_trip_loads_and_evaluates(tmp_path):
    out = tmp_path / "evals" / "reviewed.yaml"
    result = export_reviewed(RECORDS, out)
    assert result.written == 2, f"written: {result.written}"
    assert [qid for qid, _ in result.skipped] == ["reviewed-3", "reviewed-4"], result.skipped
    qset = load_question_set(out)
    assert [q.id for q in qset.questions] == ["reviewed-1", "reviewed-2"]
    for record, question in zip(RECORDS, qset.questions):
        for evidence in question.evidence:
            assert any(contains(c["quote"], evidence) for c in record["citations"]), \
                f"{evidence!r} comes from a quote"
    chunks = (
        Chunk("don", RECORDS[0]["citations"][0]["quote"] + ".", "/corpus/fin-usage--don.md", "Don"),
        Chunk("faq", RECORDS[1]["citations"][0]["quote"] + ".", "/corpus/fin-usage--faq.md", "FAQ"),
    )
    metrics = run_eval(StubAssistant(chunks), qset, progress=False).metrics
    assert metrics["n"] == 2 and metrics["hit@5"] == 1.0, f"exported set evaluates: {metrics}"


def test_export_nothing_is_an_error(tmp_path):
    with pytest.raises(QuestionSetError, match="no validated answer with a cited quote"):
        export_reviewed(RECORDS[2:], tmp_path / "x.yaml")
    assert not (tmp_path / "x.yaml").exists(), "no empty file left behind"


def test_export_duplicate_ids_is_an_error(tmp_path):
    with pytest.raises(QuestionSetError, match="'reviewed-1' appears twice"):
        export_reviewed([RECORDS[0], RECORDS[0]], tmp_path / "x.yaml")
