import pytest

from assistant.ingest.chunking import chunk_document
from assistant.records import Document, Section

LONG = " ".join(f"Phrase numéro {i} sur le réemploi du matériel informatique." for i in range(60))


def test_chunks_stay_within_sections_and_keep_offsets():
    doc = Document("/g.md", "Guide", "guide", (
        Section(LONG, heading=("Fin de vie", "Don"), start=0),
        Section("Le BSD est dématérialisé depuis 2022 via Trackdéchets.", heading=("DEEE",), start=len(LONG) + 2),
    ))
    full = LONG + "\n\n" + doc.sections[1].text
    chunks = chunk_document(doc, size=400, overlap=80)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 400, "chunks respect the size"
        assert full[chunk.start:chunk.start + len(chunk.text)] == chunk.text, "offsets point at the quoted text"
    assert chunks[-1].section == "DEEE" and chunks[0].section == "Fin de vie > Don"
    assert chunks[0].index_text.startswith("Guide > Fin de vie > Don\n"), "title and headings are indexed"
    assert chunks[0].text.startswith("Phrase numéro 0"), "the chunk keeps its original text for quoting"


def test_consecutive_chunks_overlap():
    chunks = chunk_document(Document("/g.md", "G", "guide", (Section(LONG),)), size=300, overlap=100)
    assert chunks[1].start < chunks[0].start + len(chunks[0].text), "consecutive chunks share text"


def test_ids_are_stable_and_position_dependent():
    doc = Document("/g.md", "G", "guide", (Section(LONG),))
    assert [c.id for c in chunk_document(doc, 300, 50)] == [c.id for c in chunk_document(doc, 300, 50)]
    moved = Document("/other.md", "G", "guide", (Section(LONG),))
    assert chunk_document(doc, 300, 50)[0].id != chunk_document(moved, 300, 50)[0].id


@pytest.mark.parametrize("kind", ["answer", "resource"])
def test_past_answers_stay_one_chunk(kind):
    doc = Document("/r.yaml", "Question ?", kind, (Section(LONG),))
    assert len(chunk_document(doc, 300, 50)) == 1, "one chunk per record"


def test_tiny_fragments_are_dropped():
    doc = Document("/g.pdf", "G", "guide", (Section("12", page=3), Section("Un vrai paragraphe de texte utile.", page=4)))
    assert [c.page for c in chunk_document(doc, 300, 50)] == [4]


def test_short_tail_of_a_section_joins_the_previous_chunk():
    body = " ".join(f"Phrase {i} du rapport sur le numérique." for i in range(30))
    text = body + "\n\nRapport ADEME I 13 I"
    chunks = chunk_document(Document("/r.pdf", "R", "guide", (Section(text, page=13),)), size=400, overlap=50)
    assert not any(c.text.strip() == "Rapport ADEME I 13 I" for c in chunks), "a footer is no chunk of its own"
    assert chunks[-1].text.endswith("Rapport ADEME I 13 I") and len(chunks[-1].text) <= 500
    assert text[chunks[-1].start:chunks[-1].start + len(chunks[-1].text)] == chunks[-1].text, "still verbatim"
