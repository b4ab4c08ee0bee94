"""The extractive draft: opening, 1-4 cited verbatim sentences best answer first, sources, further
resources, closing; whole sentences only, each fact once, past answers named as the desk's."""

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
from assistant.drafting.selection import MAX_BULLETS, select_sentences
from assistant.errors import GuichetError
from assistant.evaluation.drafts import citations_valid
from assistant.text.normalize import contains
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
    assert 1 <= len(body) <= MAX_BULLETS, body
    assert all(re.fullmatch(r"- .+ \[\d+\]", line) for line in body), body
    assert any("Entre 5 et 10 ans" in line for line in body), body
    assert texts.SOURCES_HEADING in lines
    assert not draft.abstained and draft.outcome in ("answer", "partial") and draft.generator == "extractive"
    assert draft.reason, "every outcome says why, for the advisor"
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


def test_the_answer_comes_first(generator):
    """The sentence that gives the asked figure leads, even when another passage ranks higher."""
    page = pdf_chunk(GUIDE_PDF, 17, title="Guide pratique pour des achats numériques responsables")
    question = "au dela de quel voltage un appareil electrique ne rentre plus dans la categorie D3E ?"
    draft = generator.draft(question, passages(RECYCLING, page))
    first = body_lines(draft.text)[0]
    assert "1000 volts en courant alternatif" in first, draft.text


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


def test_past_answer_quotes_its_answer_never_its_question_and_is_named_as_the_desk_s():
    answer = Chunk("a1", "Question : c quoi la limite de valeur pour faire un don de materiel ?\n\n"
                   "Réponse : Le don est possible si la valeur unitaire du bien ne dépasse pas 300 €. "
                   "Au-delà, il faut le vendre.", "/corpus/answers/reponses.yaml",
                   "c quoi la limite de valeur pour faire un don de materiel ?", "answer",
                   metadata={"date": "2026-11-28"})
    draft = ExtractiveGenerator(today=TODAY).draft("limite de valeur pour un don de materiel ?", passages(answer))
    assert "Question" not in "\n".join(body_lines(draft.text)) and "c quoi" not in draft.text, draft.text
    assert "- Le don est possible si la valeur unitaire du bien ne dépasse pas 300 €. [1]" in draft.text
    assert "[1] Réponse validée du guichet du 2026-11-28" in draft.text.splitlines(), draft.text


def test_same_fact_from_a_pdf_and_its_web_page_is_quoted_once(generator):
    web = md_chunk("fin-usage--don.md", "La valeur unitaire des biens donnés n'excède pas 300 € par bien. "
                   "Le don se fait par convention.")
    pdf = pdf_chunk(GUIDE_PDF, 60, "La valeur unitaire des biens don-\nnés n’excède pas 300 € par bien.",
                    title="Guide pratique pour des achats numériques responsables")
    draft = generator.draft("valeur maximale d'un bien donné ?", passages(web, pdf))
    assert draft.text.count("300 € par bien") == 1, draft.text


@pytest.mark.parametrize("text", [
    "Les étapes du don sont les suivantes :\n- publier l'offre\nLe don est libre.",
    "| Année | Part |\n| 2024 | 20 % du matériel acheté reconditionné |",
])
def test_cut_sentences_are_never_quoted(text):
    chunk = md_chunk("fin-usage--don.md", text)
    picked = select_sentences("étapes du don et part du matériel reconditionné ?", passages(chunk))
    assert all(not p.text.rstrip().endswith(":") and "|" not in p.text for p in picked), picked


def test_a_list_is_quoted_with_its_introduction(generator):
    chunk = md_chunk("fin-usage--don.md", "Le décret fixe la part de réemploi :\n- 20 % en 2024 ;\n- 30 % en 2030.")
    draft = generator.draft("part de réemploi fixée par le décret en 2030 ?", passages(chunk))
    assert "- Le décret fixe la part de réemploi : - 20 % en 2024 ; - 30 % en 2030. [1]" in draft.text, draft.text


def test_questions_to_ask_suppliers_are_quoted_when_asked_for(generator):
    chunk = md_chunk("fin-usage--don.md", "Interrogez les opérateurs lors du sourcing. "
                     "Où se trouvent vos centres de services clients ?")
    question = "sourcing telecom : quelles questions poser aux operateurs sur le service client ?"
    assert "Où se trouvent vos centres de services clients ?" in generator.draft(question, passages(chunk)).text
    other = generator.draft("où sont les centres de services clients des opérateurs ?", passages(chunk))
    assert "Où se trouvent vos centres" not in other.text, "otherwise a question is not an answer"


def test_off_topic_sentences_are_not_quoted(generator):
    chunk = md_chunk("fin-usage--don.md", "Le label numérique responsable comporte un audit. "
                     "Le forfait mobilités durables est de 300 € par agent et par an.")
    draft = generator.draft("le label numérique responsable pour 300 agents, ca coute combien ?", passages(chunk))
    assert "forfait mobilités" not in draft.text, draft.text


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="limit must be > 0, got 0"):
        select_sentences("don", [Passage(FAQ, 1.0)], limit=0)
