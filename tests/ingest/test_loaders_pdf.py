"""PDF loader on the real 142-page guide and on real PDFs built here (reportlab, pypdf)."""

from __future__ import annotations

import io
import logging
import re
import time
import zlib

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

from assistant.compose import ingest_config
from assistant.config import Settings
from assistant.errors import IngestError
from assistant.ingest.loaders.isolation import ChildError, run_all_with_time_limit, run_with_time_limit
from assistant.ingest.loaders.pdf import load_pdf
from assistant.ingest.loading import load_document


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def page_of(doc, phrase: str) -> list[int]:
    return [section.page for section in doc.sections if phrase in squash(section.text)]


# --- the shared guide -----------------------------------------------------------------------


def test_guide_has_one_section_per_page_with_real_page_numbers(guide, assert_offsets):
    doc = guide.doc
    pages = [section.page for section in doc.sections]
    assert pages == list(range(1, 143)), f"expected pages 1..142 (all have text), got {pages[:5]}...{pages[-5:]}"
    assert doc.kind == "guide"
    assert doc.metadata["pages"] == "142"
    assert doc.metadata["date"] == "2021-04-28", doc.metadata
    assert doc.source.endswith("/pdf/guide-achats-numeriques-responsables-2021.pdf") and doc.source.startswith("/")
    assert_offsets(doc)


def test_guide_phrases_are_found_on_their_real_page(guide):
    # Page numbers checked by hand in the PDF viewer: the preface figures, the manufacturing share.
    assert page_of(guide.doc, "3,8 % des émissions de gaz à effet de serre") == [4]
    assert page_of(guide.doc, "La fabrication représente jusqu’à 80 % des impacts") == [10]


def test_guide_text_is_verbatim_and_title_comes_from_the_cover(guide):
    page4 = guide.doc.sections[3].text
    assert "3,8 %\ndes émissions" in page4, "line breaks of the extracted text must be kept"
    assert not any(line != line.rstrip() for line in page4.split("\n")), "trailing spaces must be stripped"
    # The PDF has no /Title: the cover's layout gives it, read top to bottom (the small
    # "GUIDE PRATIQUE" above the large lines), the line in capitals in sentence case.
    assert guide.doc.title == "Guide pratique pour des achats numériques responsables"


def test_guide_leaves_no_fonttools_warning(guide):
    """fontTools is installed, so pypdf reads the CFF fonts of the guide without complaint.

    `test_missing_fonttools_warning_is_relayed` shows that such a warning would reach this log.
    """
    font_messages = [r.getMessage() for r in guide.log if "fonttools" in r.getMessage().lower()]
    assert font_messages == [], font_messages
    print(f"\n142-page guide loaded in {guide.seconds:.2f} s")


@pytest.mark.slow
def test_missing_fonttools_warning_is_relayed(corpus_dir, monkeypatch, caplog):
    """Without fontTools (simulated: pypdf's own flag, inherited by the forked child), pypdf warns
    about the guide's CFF fonts; the warning crosses the process boundary at WARNING level."""
    import pypdf.generic._font as pypdf_font

    monkeypatch.setattr(pypdf_font, "HAS_FONTTOOLS", False)
    with caplog.at_level(logging.INFO, logger="assistant.ingest.loaders.pdf"):
        load_pdf(corpus_dir / "pdf" / "guide-achats-numeriques-responsables-2021.pdf")
    warned = [r for r in caplog.records if "fontTools" in r.getMessage() and r.levelno == logging.WARNING]
    assert warned, "the child's pypdf warning about fontTools was not relayed"


@pytest.mark.parametrize("name, title", [
    ("etude-ademe-impacts-numerique-2024.pdf", "Evaluation de l’impact environnemental du numérique en France"),
    ("plan-transformation-ecologique-etat-2024.pdf", "PLAN DE TRANSFORMATION ÉCOLOGIQUE DE L’ÉTAT"),
])
def test_shared_pdf_titles_come_from_cover_or_running_header(corpus_dir, limits, name, title):
    """Neither PDF has a /Title. The study's cover title in capitals is also its running header
    in mixed case, which wins; the press kit's cover only says "Dossier de Presse" in body-size
    type, so its running header gives the title."""
    (doc,) = load_document(corpus_dir / "pdf" / name, limits)
    assert doc.title == title


def test_cover_title_is_read_top_to_bottom_from_the_largest_type(tmp_path, limits):
    from reportlab.pdfgen import canvas

    path = tmp_path / "couverture.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 14)
    pdf.drawString(60, 700, "FICHE PRATIQUE")
    pdf.setFont("Helvetica-Bold", 30)
    pdf.drawString(60, 665, "Le don de materiel")
    pdf.drawString(60, 632, "informatique reforme")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(60, 300, "Version du 3 mars 2025, a faire valider par votre reseau.")
    pdf.showPage()
    pdf.setFont("Helvetica", 10)
    pdf.drawString(60, 700, "Le corps du texte commence ici.")
    pdf.save()
    (doc,) = load_document(path, limits)
    assert doc.title == "Fiche pratique Le don de materiel informatique reforme", doc.title


def test_every_shared_pdf_loads(corpus_dir, limits, assert_offsets):
    for path in sorted((corpus_dir / "pdf").glob("*.pdf")):
        if path.name.startswith("guide-achats-numeriques"):
            continue  # covered by the session fixture
        (doc,) = load_document(path, limits)
        assert doc.sections and all(s.page for s in doc.sections), path.name
        assert doc.title and doc.title != path.stem, f"{path.name}: no title found"
        assert_offsets(doc)


# --- PDFs made here -----------------------------------------------------------------------------


def test_generated_pdf_gives_pages_title_and_offsets(make_pdf, limits, assert_offsets):
    path = make_pdf(
        "achats.pdf",
        [
            ["Achats durables", "Premiere page : le PNAD."],
            ["Deuxieme page : les labels."],
            ["Troisieme page : le SPASER."],
        ],
        title="Guide des achats durables",
    )
    (doc,) = load_document(path, limits)
    assert doc.title == "Guide des achats durables", "the /Title metadata wins when meaningful"
    assert [(s.page, s.text) for s in doc.sections] == [
        (1, "Achats durables\nPremiere page : le PNAD."),
        (2, "Deuxieme page : les labels."),
        (3, "Troisieme page : le SPASER."),
    ]
    assert doc.source == str(path.resolve())
    assert_offsets(doc)


def test_placeholder_metadata_title_falls_back_to_first_heading(make_pdf, limits):
    path = make_pdf(
        "note.pdf",
        [["Note sur les labels", "Un texte de corps assez long pour une phrase."]],
        title="Microsoft Word - note.docx",
    )
    (doc,) = load_document(path, limits)
    assert doc.title == "Note sur les labels"


def test_blank_pages_are_skipped_but_keep_numbering(make_pdf, limits):
    path = make_pdf("trous.pdf", [["Page un"], [], ["Page trois"]])
    (doc,) = load_document(path, limits)
    assert [(s.page, s.text) for s in doc.sections] == [(1, "Page un"), (3, "Page trois")]


def test_pdf_with_empty_user_password_opens(tmp_path, pdf_bytes, limits):
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes([["Texte chiffre mais lisible"]])))
    writer.encrypt(user_password="", owner_password="proprietaire", algorithm="AES-256")
    path = tmp_path / "ouvert.pdf"
    writer.write(path)
    (doc,) = load_document(path, limits)
    assert doc.sections[0].text == "Texte chiffre mais lisible"


def test_pdf_with_user_password_fails_clearly(tmp_path, pdf_bytes, limits, assert_one_line):
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes([["Secret"]])))
    writer.encrypt(user_password="secret", owner_password="proprietaire", algorithm="AES-256")
    path = tmp_path / "ferme.pdf"
    writer.write(path)
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == "encrypted PDF: password required"


def test_truncated_pdf_is_not_valid(make_pdf, tmp_path, limits, assert_one_line):
    whole = make_pdf("entier.pdf", [["Page un"], ["Page deux"]]).read_bytes()
    path = tmp_path / "coupe.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "not a valid PDF", "truncated")


def test_truncated_guide_is_refused_although_pypdf_would_recover(corpus_dir, tmp_path, limits, assert_one_line):
    """Cut at 95 %, the guide still gives pypdf its 142 pages; a copy that lost its end is still refused,
    because what was lost cannot be known in general."""
    data = (corpus_dir / "pdf" / "guide-achats-numeriques-responsables-2021.pdf").read_bytes()
    path = tmp_path / "guide-coupe.pdf"
    path.write_bytes(data[: int(len(data) * 0.95)])
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "not a valid PDF", "truncated")


def test_non_pdf_named_pdf(tmp_path, limits, assert_one_line):
    path = tmp_path / "page.pdf"
    path.write_text("<html><body>Ceci est une page web</body></html>", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "not a valid PDF", "%PDF")


def test_pdf_with_garbage_body_is_not_valid(tmp_path, limits, assert_one_line):
    path = tmp_path / "faux.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(1, 256)) * 40 + b"\n%%EOF\n")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "not a valid PDF")


def test_scanned_pdf_has_no_extractable_text(tmp_path, limits, assert_one_line):
    """A page that is only an image, as a scanner makes it."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    scan = Image.new("L", (200, 100), color=255)
    for x in range(20, 180):
        scan.putpixel((x, 50), 0)  # a "line of text" as pixels
    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.drawImage(ImageReader(scan), 72, 600, width=400, height=200)
    pdf.showPage()
    pdf.save()
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == "no extractable text (scanned PDF?): run OCR first"


def _break_page(data: bytes, index: int) -> PdfWriter:
    """Replace a page's content stream with corrupt LZW data, on which pypdf's extract_text raises."""
    writer = PdfWriter(clone_from=io.BytesIO(data))
    broken = StreamObject()
    broken.set_data(b"\x00\xff garbage, not LZW \x01\x02")
    broken[NameObject("/Filter")] = NameObject("/LZWDecode")
    writer.pages[index][NameObject("/Contents")] = writer._add_object(broken)
    return writer


def test_one_broken_page_does_not_lose_the_others(tmp_path, pdf_bytes, limits, caplog):
    writer = _break_page(pdf_bytes([["Page un"], ["Page deux"], ["Page trois"]]), 1)
    path = tmp_path / "abime.pdf"
    writer.write(path)
    with caplog.at_level(logging.WARNING, logger="assistant.ingest.loaders.pdf"):
        (doc,) = load_document(path, limits)
    assert [(s.page, s.text) for s in doc.sections] == [(1, "Page un"), (3, "Page trois")]
    assert doc.metadata["unreadable_pages"] == "2"
    assert any("page 2 skipped" in r.getMessage() for r in caplog.records), "the skipped page is logged"


def test_pages_shared_among_children_come_back_in_order(tmp_path, pdf_bytes, limits, monkeypatch):
    """Large files are split among children (pages 1, 4, 7... in the first of three); a small
    file is forced through that path here so that the merge is checked on known pages."""
    from assistant.ingest.loaders import pdf

    monkeypatch.setattr(pdf, "_parallelism", lambda size: 3)
    writer = _break_page(pdf_bytes([[f"Page {n}"] for n in range(1, 8)]), 4)
    path = tmp_path / "sept.pdf"
    writer.write(path)
    (doc,) = load_document(path, limits)
    assert [(s.page, s.text) for s in doc.sections] == [(n, f"Page {n}") for n in (1, 2, 3, 4, 6, 7)]
    assert doc.metadata["pages"] == "7" and doc.metadata["unreadable_pages"] == "5"


def test_every_page_broken_is_an_error(tmp_path, pdf_bytes, limits, assert_one_line):
    data = pdf_bytes([["Page un"]])
    writer = _break_page(data, 0)
    path = tmp_path / "detruit.pdf"
    writer.write(path)
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "text extraction failed on every page", "page 1")


def test_slow_pdf_is_stopped_at_the_time_limit(tmp_path, pdf_bytes, assert_one_line):
    """A genuinely expensive PDF rather than a patched sleep: a 15 KB file whose one page holds a
    compressed content stream of 400,000 text operators. pypdf needs about 11 s for it on the
    2-core CI machine (measured: 5.6 s for 200,000); with a 0.5 s limit the child is killed."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes([["Page lente"]])))
    operators = b"BT /F1 12 Tf 72 720 Td " + b"(a) Tj 0 0 Td " * 400_000 + b"ET\n"
    heavy = StreamObject()
    heavy.set_data(zlib.compress(operators, 9))
    heavy[NameObject("/Filter")] = NameObject("/FlateDecode")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(heavy)
    path = tmp_path / "lent.pdf"
    writer.write(path)
    assert path.stat().st_size < 50_000, "the file itself is small"

    started = time.perf_counter()
    with pytest.raises(IngestError) as exc:
        load_document(path, ingest_config(Settings(file_timeout_s=0.5)).files)
    elapsed = time.perf_counter() - started
    assert assert_one_line(exc) == "text extraction took over 0.5 s (GUICHET_FILE_TIMEOUT_S)"
    assert elapsed < 4, f"the child was not killed at the limit: {elapsed:.1f} s"


# --- the child process --------------------------------------------------------------------------


def _explode() -> None:
    raise ValueError("bad\nthing")


def _die() -> None:
    import os

    os._exit(3)


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_children_run_in_parallel_under_one_deadline(assert_one_line):
    started = time.perf_counter()
    assert run_all_with_time_limit([(_nap, (1.0,)), (_nap, (1.0,))], timeout_s=10, what="naps") == [1.0, 1.0]
    assert time.perf_counter() - started < 1.9, "one after the other they would take 2 s"
    with pytest.raises(IngestError) as exc:
        run_all_with_time_limit([(_nap, (0.1,)), (_nap, (30,))], timeout_s=0.5, what="naps")
    assert assert_one_line(exc) == "naps took over 0.5 s (GUICHET_FILE_TIMEOUT_S)"


def test_time_limited_child_returns_result_error_and_crash(assert_one_line):
    assert run_with_time_limit(sum, ([1, 2, 3],), timeout_s=10, what="sum") == 6
    with pytest.raises(ChildError, match="^bad thing$"):
        run_with_time_limit(_explode, (), timeout_s=10, what="explosion")
    with pytest.raises(IngestError) as exc:
        run_with_time_limit(_die, (), timeout_s=10, what="text extraction")
    assert_one_line(exc, "text extraction crashed", "exit code 3")
