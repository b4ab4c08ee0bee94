"""Citation markers and verification: valid drafts pass, every defect is flagged with its reason."""

from __future__ import annotations

import pytest

from assistant.drafting import texts
from assistant.drafting.citations import body_sentences, cite_markers, parse_markers, strip_markers, verify
from assistant.records import Citation, Passage

from .helpers import md_chunk, paragraph, passages

DEEE = paragraph("fin-usage--faq.md", "En dessous de 5 ans")
DON = paragraph("fin-usage--don.md", "15 jours")
FIVE_TEN = ("Entre 5 et 10 ans, c’est le don et le transfert aux autres administrations du matériel "
            "fonctionnel qu’il faut privilégier.")
RESERVATION = ("Définir la durée de réservation du don aux autres administrations (15 jours) puis la date "
               "limite de validité de l’offre")


@pytest.fixture
def two() -> list[Passage]:
    return passages(md_chunk("fin-usage--faq.md", DEEE, section="DEEE"), md_chunk("fin-usage--don.md", DON))


def draft_text(*body: str) -> str:
    return "\n".join([texts.OPENING, *body, "", texts.SOURCES_HEADING, "[1] Foire aux questions — DEEE",
                      "", "Pour aller plus loin : Réseau (https://example.org).", "", texts.CLOSING])


@pytest.mark.parametrize("text, expected", [
    ("Oui [2]. Et non [1, 3] [2] [4-5].", [2, 1, 3, 4, 5]),
    ("[1][2]", [1, 2]),
    ("Sans marqueur.", []),
    ("Année [2021] ?", [2021]),
    ("Liste [1; 2]", [1, 2]),
    ("", []),
])
def test_parse_markers(text, expected):
    assert parse_markers(text) == expected


def test_strip_markers():
    assert strip_markers("Le seuil est de 300 €. [1][2]") == "Le seuil est de 300 €."


def test_valid_draft_has_no_flag(two):
    text = draft_text(f"- {FIVE_TEN} [1]", f"- {RESERVATION} [2]")
    cites = [Citation(1, two[0].chunk.id, FIVE_TEN), Citation(2, two[1].chunk.id, RESERVATION)]
    assert verify(text, cites, two) == (), "a draft of verbatim cited sentences is clean"


def test_frame_lines_are_not_claims():
    assert body_sentences(draft_text("- Une phrase qui affirme. [1]")) == ["Une phrase qui affirme. [1]"]


def test_marker_without_passage_is_flagged(two):
    text = draft_text(f"- {FIVE_TEN} [1]", "- Tout matériel peut être jeté. [7]")
    flags = verify(text, [Citation(1, two[0].chunk.id, FIVE_TEN)], two)
    assert [(f.sentence, f.reason) for f in flags] == [("Tout matériel peut être jeté.", "[7] points to no passage")]


def test_citation_to_a_chunk_not_given_is_flagged(two):
    flags = verify(draft_text(f"- {FIVE_TEN} [1]"), [Citation(1, "not-retrieved", FIVE_TEN)], two)
    reasons = [f.reason for f in flags]
    assert "[1] points to no passage" in reasons, reasons


def test_quote_not_in_its_passage_is_flagged(two):
    made_up = "Entre 5 et 10 ans, le matériel doit être détruit."
    flags = verify(draft_text(f"- {made_up} [1]"), [Citation(1, two[0].chunk.id, made_up)], two)
    assert [(f.sentence, f.reason) for f in flags] == [(made_up, "quote not found in [1]")]


def test_empty_quote_is_flagged(two):
    flags = verify(draft_text(f"- {FIVE_TEN} [1]"), [Citation(1, two[0].chunk.id, "  ")], two)
    assert [f.reason for f in flags] == ["quote not found in [1]"]


def test_quoted_span_must_occur_in_the_cited_passage(two):
    good = "La FAQ dit « c’est le don et le transfert aux autres administrations » qu’il faut privilégier. [1]"
    bad = "La FAQ dit « le matériel doit être détruit » après 5 ans. [1]"
    cites = [Citation(1, two[0].chunk.id, FIVE_TEN)]
    assert verify(draft_text(good), cites, two) == ()
    flags = verify(draft_text(bad), cites, two)
    assert [f.reason for f in flags] == ["quote not found in [1]"], flags


def test_quote_matches_after_format_normalisation(two):
    # Typographic apostrophe, accents and case differ: FORMAT.md normalisation makes them equal.
    loose = "ENTRE 5 ET 10 ANS, C'EST LE DON ET LE TRANSFERT AUX AUTRES ADMINISTRATIONS"
    assert verify(draft_text(f"- {loose} [1]"), [Citation(1, two[0].chunk.id, loose)], two) == ()


def test_uncited_sentence_is_flagged_and_kept(two):
    uncited = "Pensez aussi à effacer les données."
    text = draft_text(f"- {FIVE_TEN} [1] {uncited}")
    flags = verify(text, [Citation(1, two[0].chunk.id, FIVE_TEN)], two)
    assert [(f.sentence, f.reason) for f in flags] == [(uncited, "no citation")]
    assert uncited in text, "verification never edits the draft"


def test_citation_of_a_collapsed_duplicate_is_valid(two):
    copy = md_chunk("fin-usage--don.md", DEEE)  # same text, other file: collapsed by retrieval
    merged = [Passage(two[0].chunk, 0.03, (copy,), 1, 1)]
    assert verify(draft_text(f"- {FIVE_TEN} [1]"), [Citation(1, copy.id, FIVE_TEN)], merged) == ()


def test_cite_markers_builds_quotes_and_flags_paraphrases(two):
    text = f"{FIVE_TEN} [1] Les autres administrations ont 15 jours pour réserver [2]. Inventé [9]."
    cites, flags = cite_markers(text, two)
    assert cites[0] == Citation(1, two[0].chunk.id, FIVE_TEN.rstrip(".")), "a verbatim claim is its own quote"
    assert cites[1].marker == 2 and "15 jours" in cites[1].quote, "a paraphrase gets the closest passage sentence"
    assert [f.reason for f in flags] == ["not a verbatim quote of [2]: check the claim against the passage"]
    assert all(c.marker != 9 for c in cites), "a marker out of range gives no citation"
    reasons = [f.reason for f in verify(text, cites, two)]
    assert "[9] points to no passage" in reasons, reasons


def test_verify_over_nothing():
    assert verify("", [], []) == ()
    assert [f.reason for f in verify("Une affirmation.", [], [])] == ["no citation"]
