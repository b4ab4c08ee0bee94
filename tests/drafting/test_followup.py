"""Follow-ups in a thread are read with the earlier question; standalone questions are not."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.drafting.extractive import ExtractiveGenerator
from assistant.drafting.followup import contextual_query, is_follow_up

from .helpers import md_chunk, paragraph, passages

FIRST = "Quelle part de matériel reconditionné doit-on acheter ?"


@pytest.mark.parametrize("question", [
    "et pour les imprimantes ?", "Et si le PC a 12 ans ?", "aussi pour les écrans ?",
    "pareil pour les serveurs ?", "elle s'applique aux tablettes ?", "les écrans ?",
])
def test_follow_ups(question):
    assert is_follow_up(question), question
    assert contextual_query(question, [FIRST]) == f"{FIRST} — {question}"


@pytest.mark.parametrize("question", [
    "Quel est le plafond de valeur d'un don de matériel informatique ?",
    "il y a un seuil pour donner du matériel à une association ?",
    "c'est quoi la recette de la blanquette de veau ?",
    "epeat silver vs gold, ca change quoi concretement ?",
])
def test_standalone_questions_are_unchanged(question):
    assert not is_follow_up(question), question
    assert contextual_query(question, [FIRST]) == question


def test_no_history_no_change():
    assert contextual_query("et pour les imprimantes ?", []) == "et pour les imprimantes ?"
    assert contextual_query("et pour les imprimantes ?", ["", "  "]) == "et pour les imprimantes ?"
    assert not is_follow_up("")


def test_chained_follow_ups_reach_the_first_question():
    query = contextual_query("et les écrans ?", [FIRST, "et pour les imprimantes ?"])
    assert query == f"{FIRST} — et pour les imprimantes ? — et les écrans ?"


def test_follow_up_is_answered_with_the_thread_context():
    text = paragraph("guide-achats-responsables--fiches-pratiques--impression.md",
                     "obligation d’achat de produits reconditionnés")
    chunk = md_chunk("guide-achats-responsables--fiches-pratiques--impression.md", text,
                     section="La réglementation existante")
    generator = ExtractiveGenerator(today=date(2022, 1, 1))
    alone = generator.draft("et pour les imprimantes ?", passages(chunk))
    threaded = generator.draft("et pour les imprimantes ?", passages(chunk), history=[FIRST])
    assert alone.abstained, "without the thread the question names nothing the passage answers"
    assert not threaded.abstained, threaded.reason
    assert "proportion annuelle minimale de 20%" in threaded.text, threaded.text
