"""Plain-text and Word loaders, on real files written here (python-docx builds the .docx)."""

from __future__ import annotations

import datetime as dt
import zipfile

import docx
import pytest

from assistant.errors import IngestError
from assistant.ingest.loading import load_document

# --- plain text ---------------------------------------------------------------------------------


def test_text_file_is_one_section_titled_by_its_first_line(tmp_path, limits, assert_offsets):
    path = tmp_path / "note.txt"
    path.write_bytes("\r\nNote sur le PNAD   \r\n\r\nObjectif : 100 % des contrats.\t\r\n".encode("utf-8"))
    (doc,) = load_document(path, limits)
    assert doc.title == "Note sur le PNAD"
    assert [(s.text, s.page, s.heading, s.start) for s in doc.sections] == [
        ("Note sur le PNAD\n\nObjectif : 100 % des contrats.", None, (), 0)
    ]
    assert doc.kind == "guide"
    assert_offsets(doc)


def test_text_file_with_long_first_line_is_titled_by_its_name(tmp_path, limits):
    path = tmp_path / "compte-rendu.txt"
    path.write_text("Une très longue phrase " * 10 + "\nSuite.\n", encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.title == "compte-rendu"


def test_text_file_of_blank_lines(tmp_path, limits, assert_one_line):
    path = tmp_path / "blanc.txt"
    path.write_text(" \n\t\n  \n", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "no text")


def test_binary_file_named_txt(tmp_path, limits, assert_one_line):
    path = tmp_path / "programme.txt"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(200))
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == "binary file, not text"


# --- Word -----------------------------------------------------------------------------------------


def _word_file(path, *, title: str | None = None):
    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.core_properties.author = "Réseau achats"
    document.core_properties.modified = dt.datetime(2025, 6, 30, 12, 0)
    document.add_paragraph("Fiche pratique", style="Title")
    document.add_paragraph("Introduction avant tout titre.")
    document.add_heading("Critères d'attribution", level=1)
    document.add_paragraph("Au moins un critère environnemental.")
    document.add_paragraph("Prix", style="List Bullet")
    document.add_paragraph("Valeur technique", style="List Bullet")
    document.add_heading("Notation", level=2)
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Critère", "Poids", "Preuve")):
        cell.text = text
    row = table.rows[1].cells
    row[0].text = "Durabilité"
    row[1].merge(row[2]).text = "20 % (fiche technique)"
    document.add_paragraph("Après le tableau.")
    document.add_heading("Annexe", level=1)
    document.add_paragraph("Texte d'annexe.")
    document.save(path)
    return path


def test_word_file_headings_lists_and_tables(tmp_path, limits, assert_offsets):
    path = _word_file(tmp_path / "fiche.docx")
    (doc,) = load_document(path, limits)
    assert doc.title == "Fiche pratique", "the 'Title' paragraph, as the core title is empty"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ((), "Introduction avant tout titre."),
        (("Critères d'attribution",), "Au moins un critère environnemental.\n\n- Prix\n- Valeur technique"),
        (
            ("Critères d'attribution", "Notation"),
            "Critère | Poids | Preuve\nDurabilité | 20 % (fiche technique)\n\nAprès le tableau.",
        ),
        (("Annexe",), "Texte d'annexe."),
    ]
    assert doc.metadata == {"author": "Réseau achats", "date": "2025-06-30"}
    assert_offsets(doc)


def test_word_core_title_wins(tmp_path, limits):
    (doc,) = load_document(_word_file(tmp_path / "t.docx", title="Guide des critères"), limits)
    assert doc.title == "Guide des critères"


def test_french_heading_styles(tmp_path, limits):
    document = docx.Document()
    styles = document.styles
    for level in (1, 2):
        styles.add_style(f"Titre {level}", 1).base_style = styles[f"Heading {level}"]
    document.add_paragraph("Marchés réservés", style="Titre 1")
    document.add_paragraph("ESAT", style="Titre 2")
    document.add_paragraph("Établissements et services d'aide par le travail.")
    path = tmp_path / "fr.docx"
    document.save(path)
    (doc,) = load_document(path, limits)
    assert [(s.heading, s.text) for s in doc.sections] == [
        (("Marchés réservés", "ESAT"), "Établissements et services d'aide par le travail.")
    ]
    assert doc.title == "Marchés réservés", "no core title and no Title paragraph: the first heading"


def test_corrupt_word_file(tmp_path, limits, assert_one_line):
    path = tmp_path / "casse.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip archive " * 10)
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "not a valid Word file")


def test_zip_that_is_not_a_word_file(tmp_path, limits, assert_one_line):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "bonjour")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "not a valid Word file")


def test_truncated_word_file(tmp_path, limits, assert_one_line):
    whole = _word_file(tmp_path / "entier.docx").read_bytes()
    path = tmp_path / "coupe.docx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "not a valid Word file")
