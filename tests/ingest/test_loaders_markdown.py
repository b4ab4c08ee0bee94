"""Markdown loader on the shared Markdown (front matter, accordions, tables) and on files made here."""

from __future__ import annotations

import pytest

from assistant.errors import IngestError
from assistant.ingest.loaders.markdown import front_matter_metadata, split_front_matter
from assistant.ingest.loading import load_document

DEEE_QUESTION = "Un matériel âgé de plus de 5 ans est systématiquement considéré comme un DEEE ?"


def same(a: str, b: str) -> bool:
    """Equal but for non-breaking spaces (French typography puts one before '?')."""
    return a.replace("\xa0", " ") == b.replace("\xa0", " ")


def test_faq_accordion_question_is_the_heading(corpus_dir, limits, assert_offsets):
    (doc,) = load_document(corpus_dir / "md" / "fin-usage--faq.md", limits)
    matches = [s for s in doc.sections if any(same(part, DEEE_QUESTION) for part in s.heading)]
    assert len(matches) == 1, f"no section headed by the question; headings: {[s.heading for s in doc.sections][:5]}"
    section = matches[0]
    assert section.heading[0] == "DEEE", "the h2 above the accordion is in the path"
    assert "Entre 5 et 10 ans" in section.text
    assert doc.title == "Foire aux questions"
    assert doc.metadata["date"] == "2023-04-03"
    assert doc.metadata["url"] == "/publications/fin-usage/faq/"
    assert doc.kind == "guide"
    assert_offsets(doc)


def test_every_shared_markdown_loads_as_clean_text(corpus_dir, limits, assert_offsets):
    paths = sorted((corpus_dir / "md").glob("*.md"))
    assert len(paths) == 17
    for path in paths:
        (doc,) = load_document(path, limits)
        assert doc.sections, path.name
        assert doc.metadata.get("title") and doc.metadata.get("date"), f"{path.name}: front matter lost"
        for section in doc.sections:
            for tag in ("<div", "<button", "<section", "<h3", "<table", "<br"):
                assert tag not in section.text, f"{path.name} {section.heading}: {tag!r} left in the text"
        assert_offsets(doc)


def test_shared_markdown_with_tab_indented_front_matter_loads(corpus_dir, limits):
    """guide-achats-responsables--index.md indents a tag with a tab (not valid YAML, accepted by
    the site generator that publishes it)."""
    (doc,) = load_document(corpus_dir / "md" / "guide-achats-responsables--index.md", limits)
    assert doc.metadata["tags"] == "Document de référence"


def test_shared_markdown_table_becomes_rows(corpus_dir, limits):
    (doc,) = load_document(corpus_dir / "md" / "fin-usage--don.md", limits)
    text = "\n".join(s.text for s in doc.sections)
    assert "Nombre de biens publiés | 2547 | 8294 (+225%)" in text


def test_front_matter_becomes_metadata(tmp_path, limits):
    path = tmp_path / "fiche.md"
    path.write_text(
        "---\n"
        "title: Exiger un label\n"
        "date: 2025-03-01\n"
        "url: https://exemple.fr/label\n"
        "permalink: /label/\n"
        "tags: [label, ecolabel]\n"
        "draft: false\n"
        "references:\n  - CCP R2111-12\n"
        "---\n"
        "Avant le premier titre.\n\n"
        "# Le label\n\nUn paragraphe.\n\n"
        "## Preuves\n\n- une attestation\n- un rapport d'essai\n\n"
        "| Label | Type |\n|---|---|\n| EPEAT | I |\n",
        encoding="utf-8",
    )
    (doc,) = load_document(path, limits)
    assert doc.title == "Exiger un label"
    assert dict(doc.metadata) == {
        "title": "Exiger un label",
        "date": "2025-03-01",
        "url": "https://exemple.fr/label",
        "tags": "label, ecolabel",
        "draft": "false",
        "references": '["CCP R2111-12"]',
    }
    assert [(s.heading, s.text) for s in doc.sections] == [
        ((), "Avant le premier titre."),
        (("Le label",), "Un paragraphe."),
        (("Le label", "Preuves"), "- une attestation\n- un rapport d'essai\n\nLabel | Type\nEPEAT | I"),
    ]


def test_title_from_first_h1_without_front_matter(tmp_path, limits):
    path = tmp_path / "sans-entete.markdown"
    path.write_text("Intro.\n\n# Titre du document\n\nCorps.\n", encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.title == "Titre du document"
    assert doc.metadata == {}


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ("title: Bon\ndate: [2024\n", 3),  # unclosed list: the error is on the file's line 3
        ("title: Bon\ndate: 2024\n  tags: x\nurl: /a/\n", 4),  # "tags" indented under a scalar
    ],
)
def test_invalid_front_matter_names_the_line(tmp_path, limits, assert_one_line, front, line):
    path = tmp_path / "casse.md"
    path.write_text(f"---\n{front}---\nCorps\n", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, f"invalid front matter at line {line}:")


def test_unclosed_front_matter(tmp_path, limits, assert_one_line):
    path = tmp_path / "ouvert.md"
    path.write_text("---\ntitle: Bon\n\n# Corps\n", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "front matter", "line 1", "closing")


def test_binary_file_named_md(tmp_path, limits, assert_one_line):
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == "binary file, not text"


def test_windows_1252_markdown_is_decoded(tmp_path, limits):
    path = tmp_path / "ancien.md"
    path.write_bytes("# Réemploi\n\nÀ privilégier : le don.\n".encode("cp1252"))
    (doc,) = load_document(path, limits)
    assert doc.sections[0].text == "À privilégier : le don."


def test_markdown_without_text(tmp_path, limits, assert_one_line):
    path = tmp_path / "vide.md"
    path.write_text("---\ntitle: Rien\n---\n<div class='x'></div>\n", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "no text")


@pytest.mark.parametrize(
    ("text", "front", "body"),
    [
        ("# Sans\n", {}, "# Sans\n"),
        ("---\n---\ncorps", {}, "corps"),
        ("---\na: 1\n...\ncorps", {"a": 1}, "corps"),
    ],
)
def test_split_front_matter_edges(text, front, body):
    assert split_front_matter(text) == (front, body)


def test_front_matter_metadata_keeps_url_over_permalink():
    assert front_matter_metadata({"url": "https://a", "permalink": "/b/"})["url"] == "https://a"
    assert front_matter_metadata({"permalink": "/b/", "url": "https://a"})["url"] == "https://a"
