"""The extractive draft: opening, 2-5 cited verbatim sentences, sources, further resources, closing."""

from __future__ import annotations

import re
from datetime import date

from pathlib import Path

import pytest

from assistant.drafting import texts
from assistant.drafting.base import Generator
from assistant.drafting.citations import parse_markers, verify
from assistant.drafting.extractive import ExtractiveGenerator
from assistant.drafting.render import display
from assistant.drafting.selection import MAX_SENTENCES, select_sentences
from assistant.errors import GuichetError
from assistant.evaluation.drafts import citations_valid
from assistant.evaluation.normalize import contains
from assistant.records import Chunk, Passage

from .helpers import md_chunk, paragraph, passages, pdf_chunk

GUIDE_PDF = "guide-achats-numeriques-responsables-2021.pdf"
FAQ = md_chunk("fin-usage--faq.md", paragraph("fin-usage--faq.md", "En dessous de 5 ans"), section="DEEE")
DON_STEPS = md_chunk("fin-usage--don.md", paragraph("fin-usage--don.md", "15 jours"),
                     section="Comment donner ?")
DON_RULES = md_chunk("fin-usage--don.md", paragraph("fin-usage--don.md", "La valeur unitaire des biens donnés"),
                     section="Les règles du don")
RECYCLING = md_chunk("fin-usage--enjeux-recyclage.md",
                     paragraph("fin-usage--enjeux-recyclage.md", "éco-organisme", following=1))
TODAY = date(2024, 6, 1)


@pytest.fixture
def generator() -> ExtractiveGenerator:
    return ExtractiveGenerator(today=TODAY)


def body_lines(text: str) -> list[str]:
    return [line for line in text.split("\n\n" + texts.SOURCES_HEADING)[0].splitlines()[1:] if line]


def test_is_a_generator(generator):
    assert isinstance(generator, Generator) and generator.name == "extractive"


def test_draft_layout(generator):
    draft = generator.draft("pc de 7 ans qui tourne encore : don ou DEEE ?", passages(FAQ, DON_RULES, RECYCLING))
    lines = draft.text.splitlines()
    assert lines[0] == texts.OPENING, lines[0]
    assert lines[-1] == texts.CLOSING.splitlines()[-1], lines[-1]
    body = body_lines(draft.text)
    assert 2 <= len(body) <= MAX_SENTENCES, body
    assert all(re.fullmatch(r"- .+ \[\d+\]", line) for line in body), body
    assert any("Entre 5 et 10 ans" in line for line in body), body
    assert texts.SOURCES_HEADING in lines
    assert not draft.abstained and draft.reason == "" and draft.generator == "extractive"
    assert draft.passages == tuple(passages(FAQ, DON_RULES, RECYCLING))


def test_markers_number_cited_passages_in_order_of_first_use(generator):
    draft = generator.draft("don de matériel : combien de jours de réservation et quelle valeur maximale ?",
                            passages(DON_STEPS, FAQ, DON_RULES))
    markers = parse_markers("\n".join(body_lines(draft.text)))
    assert markers == list(range(1, len(markers) + 1)), markers
    by_marker = {c.marker: c.chunk_id for c in draft.citations}
    assert len(set(by_marker.values())) == len(by_marker), "one marker per distinct passage"


def test_quotes_are_verbatim_and_citations_hold(generator):
    chosen = passages(FAQ, DON_RULES, DON_STEPS, RECYCLING)
    draft = generator.draft("plafond de valeur pour céder gratuitement du matériel à une asso ?", chosen)
    chunks = {p.chunk.id: p.chunk for p in chosen}
    for citation in draft.citations:
        assert citation.quote in chunks[citation.chunk_id].text, f"not verbatim: {citation.quote!r}"
        assert f"{display(citation.quote)} [{citation.marker}]" in draft.text
    assert verify(draft.text, draft.citations, chosen) == ()
    assert citations_valid(draft, chosen), "the evaluation's own check agrees"


def test_sources_list_has_title_place_date_and_file_name(generator):
    draft = generator.draft("pc de 7 ans : don ou DEEE ?", passages(FAQ))
    sources = draft.text.split(texts.SOURCES_HEADING + "\n")[1].split("\n\n")[0].splitlines()
    assert sources == [f"[1] Foire aux questions — DEEE — 2023-04-03 — {Path(FAQ.source).name}"], sources
    assert str(Path(FAQ.source).parent) not in draft.text, "a draft may reach a buyer: no server paths"


def test_pdf_passage_is_cited_by_page_and_hyphenation_is_joined(generator):
    page = pdf_chunk(GUIDE_PDF, 10, title="Guide pratique pour des achats numériques responsables", date="2021-04-28")
    draft = generator.draft("pour un ordi, la fabrication ou l'usage pèse le plus sur l'environnement ?",
                            passages(page))
    assert "La fabrication représente jusqu’à 80 % des impacts en tenant compte" in draft.text, draft.text
    assert "— p. 10 — 2021-04-28 —" in draft.text
    assert "\n" not in "".join(c.quote for c in draft.citations if "équipe-" in c.quote) or \
        "équipements" in draft.text
    assert all(contains(page.text, c.quote) for c in draft.citations)


def test_figures_are_preferred_for_how_many_questions(generator):
    draft = generator.draft("les autres administrations sont prioritaires combien de jours ?",
                            passages(DON_STEPS, DON_RULES))
    assert "(15 jours)" in body_lines(draft.text)[0], draft.text


def test_near_duplicates_are_quoted_once(generator):
    copy = md_chunk("fin-usage--retour-experience.md", FAQ.text)  # same text in another file
    draft = generator.draft("pc de 7 ans : don ou DEEE ?", passages(FAQ, copy))
    assert draft.text.count("Entre 5 et 10 ans") == 1, draft.text


def test_fragments_cut_by_chunking_are_not_quoted(generator):
    cut = md_chunk("fin-usage--faq.md", FAQ.text[FAQ.text.index("possible de vendre"):])
    picked = select_sentences("vendre le matériel de moins de 5 ans ?", passages(cut))
    assert all(not p.text.startswith("possible de vendre") for p in picked), picked


def test_resources_give_a_further_line(generator):
    network = Chunk("r1", "Réseau régional des acheteurs publics responsables de Normandie.", "/res/ran-coper.yaml",
                    "RAN COPER (Normandie)", "resource", metadata={"url": "https://example.org/ran-coper"})
    with_resource = generator.draft("pc de 7 ans : don ou DEEE ?", passages(FAQ, network))
    assert "Pour aller plus loin : RAN COPER (Normandie) (https://example.org/ran-coper)." in with_resource.text
    looked_up = ExtractiveGenerator(related_resources=lambda q: [network], today=TODAY)
    assert "Pour aller plus loin : RAN COPER" in looked_up.draft("pc de 7 ans : don ou DEEE ?", passages(FAQ)).text
    assert texts.FURTHER_PREFIX not in generator.draft("pc de 7 ans : don ou DEEE ?", passages(FAQ)).text


def test_failing_resources_lookup_is_a_note_not_a_crash():
    def broken(question: str) -> list[Chunk]:
        raise GuichetError("resources catalog is locked")

    draft = ExtractiveGenerator(related_resources=broken, today=TODAY).draft("pc de 7 ans : don ou DEEE ?", passages(FAQ))
    assert not draft.abstained
    assert [f.reason for f in draft.flags] == ["related resources lookup failed: resources catalog is locked"]


def test_deterministic(generator):
    question, chosen = "pc de 7 ans : don ou DEEE ?", passages(FAQ, DON_RULES, RECYCLING)
    assert generator.draft(question, chosen) == generator.draft(question, chosen)


def test_stream_yields_the_whole_draft(generator):
    question, chosen = "pc de 7 ans : don ou DEEE ?", passages(FAQ)
    stream = generator.stream(question, chosen)
    assert list(stream) == [generator.draft(question, chosen).text]
    assert stream.draft == generator.draft(question, chosen)


def test_question_without_content_terms_abstains(generator):
    draft = generator.draft("et alors ?", passages(FAQ))
    assert draft.abstained and draft.citations == (), draft


@pytest.mark.parametrize("chosen", [[], passages(FAQ)[:0]])
def test_no_passage_abstains(generator, chosen):
    draft = generator.draft("pc de 7 ans : don ou DEEE ?", chosen)
    assert draft.abstained and draft.reason == "aucun passage trouvé"


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="limit must be > 0, got 0"):
        select_sentences("don", [Passage(FAQ, 1.0)], limit=0)
