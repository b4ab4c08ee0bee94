"""Choosing a PDF's title from its cover's layout and its running header (pure functions)."""

from __future__ import annotations

import pytest

from assistant.ingest.loaders.pdf_title import choose_title, cover_title, heading_title, running_header

KICKER_ABOVE = [(38.0, 636.0, "pour des achats"), (38.0, 594.0, "numériques"), (38.0, 552.0, "responsables"),
                (18.0, 674.0, "GUIDE PRATIQUE"), (9.0, 100.0, "Version bêta, avril 2021, direction des achats")]


def test_cover_block_is_read_top_to_bottom_and_tidied():
    assert cover_title(KICKER_ABOVE) == "Guide pratique pour des achats numériques responsables"


def test_cover_without_contrast_gives_no_title():
    runs = [(11.0, 700.0, "Note sur les labels"), (11.0, 686.0, "Un texte de corps assez long pour une phrase.")]
    assert cover_title(runs) is None, "body-size type: not a cover title"
    assert cover_title([(12.0, 700.0, "Titre seul")]) is None, "a lone small line is no display title"
    assert cover_title([]) is None


def test_cover_block_that_reads_like_prose_is_refused():
    runs = [(30.0, 700.0, "Ceci est une phrase complete."), (10.0, 300.0, "corps")]
    assert cover_title(runs) is None


@pytest.mark.parametrize("pages, expected", [
    ([f"Evaluation de l’impact I {n} I\nTexte {n}." for n in range(2, 8)], "Evaluation de l’impact"),
    ([f"Texte de la page {n}.\nGuide de l'achat | {n}" for n in range(1, 6)], "Guide de l'achat"),
    ([f"Page {n} - Rapport annuel\nTexte." for n in range(1, 6)], "Rapport annuel"),
    ([f"Titre {n}\nTexte." for n in range(1, 6)], "Titre"),
    ([f"Texte {n}.\nLa même phrase finale." for n in range(1, 6)], None),
    (["Un en-tête\nTexte.", "Un en-tête\nTexte."], None),
    ([f"Section {chr(65 + n)}\nTexte {n}." for n in range(1, 7)], None),
    (["En-tête\nTexte."] * 2 + [f"Section {chr(65 + n)}\nTexte {n}." for n in range(1, 5)], None),
])
def test_running_header(pages, expected):
    assert running_header(pages) == expected


def test_same_words_on_cover_and_header_keep_the_mixed_case_one():
    cover = [(32.0, 588.0, "EVALUATION DE L’IMPACT"), (32.0, 545.0, "DU NUMÉRIQUE"), (12.0, 200.0, "Rapport final")]
    pages = ["EVALUATION DE L’IMPACT\nDU NUMÉRIQUE"] + [f"Evaluation de l’impact du numérique I {n} I\nTexte."
                                                      for n in range(2, 8)]
    assert choose_title(cover, pages) == "Evaluation de l’impact du numérique"


def test_falls_back_to_the_first_heading_lines():
    assert choose_title([], ["Note sur les labels\nUn texte de corps assez long."]) == "Note sur les labels"
    assert heading_title("12\n\n") is None
