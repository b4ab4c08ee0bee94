"""Accent folding and the evaluation format's normalisation, shared by every stage."""

from __future__ import annotations

import unicodedata

from assistant.text.normalize import contains, fold, normalize
from assistant.text.shingles import containment, shingles


def _nfd_fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def test_fold_by_table_equals_folding_by_decomposition():
    text = "".join(chr(c) for c in range(0x20, 0x2000)) + "e\u0301te\u0301 ạ Ω € œ"
    assert fold(text) == _nfd_fold(text)


def test_fold_keeps_ascii_and_removes_french_accents():
    assert fold("Élève à l'hôpital, où ça coûte") == "Eleve a l'hopital, ou ca coute"
    assert fold("plain ascii 42 %") == "plain ascii 42 %"


def test_normalize_joins_pdf_hyphenation_quotes_and_spaces():
    assert normalize("Le  RÉEMPLOI des équi-\n  pements « reconditionnés »\u00a0!") == \
        'le reemploi des equipements " reconditionnes " !'


def test_contains_ignores_case_accents_and_quotes():
    assert contains("Jusqu’à 80 % des émissions", "jusqu'a 80 % des EMISSIONS")
    assert not contains("Jusqu’à 80 % des émissions", "jusqu'a 90 %")


def test_shingles_see_the_same_text_through_case_accents_and_punctuation():
    pdf = shingles("Entre 5 et 10 ans, c'est le don qu'il faut privilégier.")
    web = shingles("Entre 5 et 10 ans, c’est le DON qu’il faut privilegier ! Suite du texte.")
    assert containment(pdf, web) == 1.0
    assert containment(pdf, shingles("Un tout autre texte sur les labels du numérique.")) == 0.0
