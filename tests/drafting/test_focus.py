"""What a question asks for, and whether a sentence gives it."""

from __future__ import annotations

import pytest

from assistant.drafting.focus import Focus, question_focus, satisfies


@pytest.mark.parametrize("question, kind", [
    ("le label nordique, il est valable combien de temps ?", "duration"),
    ("les sites publics sont obliges d'etre accessibles depuis quand ?", "date"),
    ("un audit RGAA complet, ca coute combien ?", "amount"),
    ("le numerique ca represente quel % des GES ?", "share"),
    ("au dela de quel voltage un appareil ne rentre plus dans les D3E ?", "figure"),
    ("sourcing telecom : quelles questions poser aux operateurs ?", "ask"),
    ("qui verifie la note de reparabilite affichee ?", "who"),
    ("un ESAT c'est quoi exactement ?", "definition"),
    ("quels labels je peux demander aux constructeurs ?", "list"),
    ("pas de declaration publiee : on risque quelle amende ?", "which"),
    ("on peut donner un pc sans son disque dur ?", "yesno"),
    ("pourquoi les PC sont remplaces si tot ?", "open"),
    # a figure the question gives, or "quand même", does not make it a figure or date question
    ("les 20 % imposes par AGEC, ca vaut aussi pour un marche de services ?", "yesno"),
    ("faut quand meme tenir compte de l'indice de repa ?", "yesno"),
    ("je peux fixer des exigences tres hautes ? y a une limite ?", "yesno"),
])
def test_question_focus(question, kind):
    assert question_focus(question).kind == kind


@pytest.mark.parametrize("question, sentence, expected", [
    ("valable combien de temps ?", "Il est délivré pour une durée de 3 ans.", True),
    ("valable combien de temps ?", "Il est délivré par un organisme indépendant.", False),
    ("délai de livraison en combien de jours ?", "Le titulaire dispose de dix (10) jours ouvrés.", True),
    ("ca coute combien pour 300 agents ?", "Le forfait est de 300 € par agent.", False),
    ("ca coute combien pour 300 agents ?", "L'audit coûte 1 500 € HT.", True),
    ("depuis quand ?", "Depuis 2012, tous les sites publics doivent être accessibles.", True),
    ("combien de cycles de charge minimum ?", "La batterie tient 500 cycles de charge.", True),
    ("combien de cycles de charge minimum ?", "La batterie est garantie 2 ans.", False),
    ("quel voltage maximum ?", "Les DEEE ou D3E sont des déchets électriques.", False),
    ("quel voltage maximum ?", "Une tension ne dépassant pas 1000 volts.", True),
    ("quelles questions poser ?", "Où se trouvent vos centres de services clients ?", True),
    ("on risque quelle amende ?", "Le défaut de déclaration est puni d'une amende.", True),
    ("on risque quelle amende ?", "Un agent publie la déclaration.", False),
    ("pourquoi ?", "N'importe quelle phrase.", True),
])
def test_satisfies(question, sentence, expected):
    assert satisfies(question_focus(question), sentence, question) is expected


def test_labels_name_what_a_partial_draft_lacks():
    assert Focus("figure").label == "ce chiffre" and Focus("date").label == "cette date"
    assert Focus("amount").wants_figure and not Focus("yesno").wants_figure
