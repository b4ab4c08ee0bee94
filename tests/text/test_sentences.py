"""Sentence splitting keeps verbatim spans and knows French abbreviations, lists and headings."""

from __future__ import annotations

import re

import pytest

from assistant.text.sentences import sentence_spans, split_sentences

from drafting.helpers import MINUMECO, paragraph, pdf_page


@pytest.mark.parametrize("text, expected", [
    ("Voir l'art. L. 2111-1 du code. Puis la suite.", ["Voir l'art. L. 2111-1 du code.", "Puis la suite."]),
    ("Le guide, p. 12, le dit. Fin.", ["Le guide, p. 12, le dit.", "Fin."]),
    ("M. Martin a signé. Mme Durand aussi.", ["M. Martin a signé.", "Mme Durand aussi."]),
    ("Le décret n° 2021-254 du 9 mars 2021 s'applique. Il vise la fourniture.",
     ["Le décret n° 2021-254 du 9 mars 2021 s'applique.", "Il vise la fourniture."]),
    ("Écrans, tablettes, etc. sont concernés. Oui.", ["Écrans, tablettes, etc. sont concernés.", "Oui."]),
    ("Le numérique pèse 3,8 % des GES. Et 3.8 reste un nombre.", ["Le numérique pèse 3,8 % des GES.", "Et 3.8 reste un nombre."]),
    ("Le 1er janv. 2022 au plus tard. Ensuite non.", ["Le 1er janv. 2022 au plus tard.", "Ensuite non."]),
    ("Les critères sont :\n- le prix\n- la durabilité du produit", ["Les critères sont :", "le prix", "la durabilité du produit"]),
    ("1. Créer son compte\n2. Rédiger son offre", ["Créer son compte", "Rédiger son offre"]),
    ("Le taux est de 3,8 %. [2] Le reste suit. [1][3]", ["Le taux est de 3,8 %. [2]", "Le reste suit. [1][3]"]),
    ("Est-ce un DEEE ? Non, pas avant 10 ans !", ["Est-ce un DEEE ?", "Non, pas avant 10 ans !"]),
    ("Il dit « oui. » Puis il part.", ["Il dit « oui. »", "Puis il part."]),
    ("Premier paragraphe\n\nSecond paragraphe.", ["Premier paragraphe", "Second paragraphe."]),
    ("", []),
    ("   \n\n  ", []),
])
def test_split_sentences_cases(text, expected):
    assert split_sentences(text) == expected, f"split of {text!r}"


def test_spans_are_verbatim_offsets():
    text = "  M. Martin signe, art. 35 et p. 4.\n- Un point de liste\n\nFin du texte.  "
    for start, end in sentence_spans(text):
        assert text[start:end] == text[start:end].strip(), "spans are stripped"
        assert text[start:end], "no empty span"
    assert [text[a:b] for a, b in sentence_spans(text)] == split_sentences(text)


def test_real_faq_answer_is_split_into_its_four_sentences():
    text = paragraph("fin-usage--faq.md", "En dessous de 5 ans")
    sentences = split_sentences(text)
    assert len(sentences) == 4, sentences
    assert sentences[1] == ("Entre 5 et 10 ans, c’est le don et le transfert aux autres administrations "
                            "du matériel fonctionnel qu’il faut privilégier."), sentences[1]


def test_real_pdf_page_keeps_headings_apart_and_sentences_verbatim():
    text = pdf_page("guide-achats-numeriques-responsables-2021.pdf", 10)
    sentences = split_sentences(text)
    assert "RÉDUIRE L’IMPACT ENVIRONNEMENTAL" in [s.replace("→ ", "") for s in sentences], \
        "an all-capital PDF heading is its own span, not glued to the next sentence"
    wanted = [s for s in sentences if s.startswith("La fabrication représente jusqu’à 80 %")]
    assert wanted and wanted[0].endswith("indicateurs environnementaux."), sentences
    assert all(s in text for s in sentences), "every sentence is a substring of the page"


@pytest.mark.parametrize("path", sorted((MINUMECO / "md").glob("*.md")), ids=lambda p: p.name)
def test_every_sentence_of_the_corpus_is_a_substring(path):
    text = path.read_text(encoding="utf-8")
    sentences = split_sentences(text)
    assert sentences, f"{path.name} gave no sentence"
    missing = [s for s in sentences if s not in text]
    assert not missing, f"not verbatim: {missing[:2]}"
    assert not [s for s in sentences if re.fullmatch(r"\s*", s)], "no blank sentence"
