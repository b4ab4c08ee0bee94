"""Near-duplicate passages (the PDF and the web page of one guide) collapse into one result."""

from __future__ import annotations

import pytest

from assistant.records import Chunk, Passage
from assistant.retrieval.dedup import THRESHOLD, collapse
from assistant.text.shingles import containment, shingles

PARAGRAPH = ("En dessous de 5 ans, il est possible de vendre le matériel. Entre 5 et 10 ans, c’est le "
             "don et le transfert aux autres administrations du matériel fonctionnel qu’il faut "
             "privilégier. Au-delà de 10 ans, il est considéré que le matériel n’est peu ou plus "
             "fonctionnel.")
PDF_COPY = ("GUIDE | FIN D'USAGE\nEn dessous de 5 ans, il est possible de vendre le maté-\nriel. Entre 5 et "
            "10 ans, c'est le don et le transfert aux autres administrations du matériel fonction-\nnel "
            "qu'il faut privilégier. Au-delà de 10 ans, il est considéré que le matériel n'est peu "
            "ou plus fonctionnel. Il devient un DEEE.")
OTHER = ("Les éco-organismes agréés ne répondent pas aux appels d'offre. Ils proposent des solutions "
         "gratuites au titre de la REP, la responsabilité élargie du producteur.")


def passage(id_, text, source, score, lexical=None, dense=None):
    return Passage(Chunk(id_, text, source, "Guide"), score, lexical_rank=lexical, dense_rank=dense)


def test_pdf_and_markdown_copies_collapse():
    result = collapse([passage("md", PARAGRAPH, "/g.md", 0.9, lexical=3),
                       passage("other", OTHER, "/g.md", 0.8, lexical=1),
                       passage("pdf", PDF_COPY, "/g.pdf", 0.7, dense=1)])
    assert [p.chunk.id for p in result] == ["md", "other"], "the copy goes, order stays"
    kept = result[0]
    assert [d.source for d in kept.duplicates] == ["/g.pdf"], "the copy's source is kept"
    assert (kept.lexical_rank, kept.dense_rank) == (3, 1), "best ranks of the group"
    assert kept.score == 0.9


def test_different_texts_stay_apart():
    result = collapse([passage("a", PARAGRAPH, "/a.md", 1.0), passage("b", OTHER, "/b.md", 0.5)])
    assert [p.duplicates for p in result] == [(), ()]


def test_neighbouring_chunks_sharing_an_overlap_stay_apart():
    words = (PARAGRAPH + " " + OTHER).split()
    first, second = " ".join(words[:45]), " ".join(words[35:])  # 10 words of overlap
    assert len(collapse([passage("a", first, "/a.md", 1.0), passage("b", second, "/a.md", 0.9)])) == 2


def test_merged_groups_keep_every_source():
    result = collapse([passage("a", PARAGRAPH, "/a.md", 1.0), passage("b", PDF_COPY, "/a.pdf", 0.9),
                       passage("c", PARAGRAPH, "/copy.md", 0.8)])
    assert len(result) == 1 and [d.id for d in result[0].duplicates] == ["b", "c"]


def test_already_collapsed_duplicates_are_carried():
    inner = Passage(Chunk("b", PDF_COPY, "/a.pdf", "G"), 0.5,
                    duplicates=(Chunk("z", PARAGRAPH, "/z.md", "G"),))
    result = collapse([passage("a", PARAGRAPH, "/a.md", 1.0), inner])
    assert [d.id for d in result[0].duplicates] == ["b", "z"]


@pytest.mark.parametrize("passages", [[], [passage("a", "", "/a.md", 1.0)]])
def test_edges(passages):
    assert collapse(passages) == passages


def test_empty_texts_are_not_duplicates_of_each_other():
    assert len(collapse([passage("a", "", "/a.md", 1.0), passage("b", "", "/b.md", 0.5)])) == 2


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5])
def test_bad_threshold(threshold):
    with pytest.raises(ValueError, match="threshold must be in \\(0, 1\\]"):
        collapse([], threshold=threshold)


def test_threshold_decides():
    edited = PARAGRAPH.replace("transfert", "versement")  # one word differs
    assert THRESHOLD <= containment(shingles(PARAGRAPH), shingles(edited)) < 1.0
    pair = [passage("a", PARAGRAPH, "/a", 1), passage("b", edited, "/b", 1)]
    assert len(collapse(pair)) == 1, "the default threshold merges a lightly edited copy"
    assert len(collapse(pair, threshold=1.0)) == 2, "a strict threshold keeps imperfect copies apart"


@pytest.mark.parametrize("a, b, expected", [
    (frozenset(), frozenset({1}), 0.0), (frozenset({1, 2}), frozenset({2, 3}), 0.5),
    (frozenset({1}), frozenset({1, 2, 3}), 1.0),
])
def test_containment(a, b, expected):
    assert containment(a, b) == expected


def test_shingles_ignore_case_accents_quotes_and_hyphenation():
    assert shingles("Le maté-\nriel qu’il faut") == shingles("le materiel qu'il faut")


def test_a_pdf_page_cut_across_its_web_section_still_collapses_with_it(minumeco):
    """Page 104 of the 2021 PDF guide starts inside the web fiche's section "2. Échanges
    préalables": the two chunks share only about half their word 4-grams, yet are one text."""
    from pathlib import Path

    from assistant.compose import ingest_config
    from assistant.config import Settings
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.loading import load_document

    config = ingest_config(Settings())

    def chunks(path: Path):
        return [c for doc in load_document(path, config.files)
                for c in chunk_document(doc, config.chunk_size, config.chunk_overlap)]

    page = next(c for c in chunks(minumeco / "pdf" / "guide-achats-numeriques-responsables-2021.pdf")
                if c.page == 104 and "labellisés ?" in c.text)
    web = chunks(minumeco / "md" / "guide-achats-responsables--fiches-pratiques--impression.md")
    section = max(web, key=lambda c: containment(shingles(page.text), shingles(c.text)))
    assert section.section.startswith("2. Échanges préalables")
    assert THRESHOLD <= containment(shingles(page.text), shingles(section.text)) < 0.6
    result = collapse([Passage(section, 1.0), Passage(page, 0.9)])
    assert len(result) == 1 and result[0].duplicates == (page,)
