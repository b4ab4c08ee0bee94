"""Document dates: parsed from what loaders give, old sources flagged, undated ones said so."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.drafting.dates import age_flags, date_label, document_date, parse_date
from assistant.drafting.extractive import ExtractiveGenerator
from assistant.drafting.render import source_line
from assistant.records import Chunk

from .helpers import front_matter, md_chunk, paragraph, passages

FAQ = paragraph("fin-usage--faq.md", "En dessous de 5 ans")


@pytest.mark.parametrize("value, expected", [
    ("2023-04-03", date(2023, 4, 3)),
    ("2023-04-03T10:12:00+02:00", date(2023, 4, 3)),
    ("D:20210428120709+02'00'", date(2021, 4, 28)),
    ("03/04/2023", date(2023, 4, 3)),
    ("à jour au 1er mars 2025", date(2025, 3, 1)),
    ("12 décembre 2024", date(2024, 12, 12)),
    ("2021", date(2021, 1, 1)),
    ("2023-02-30", None),
    ("bientôt", None),
    ("", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected, value


def test_front_matter_date_of_a_real_file():
    chunk = md_chunk("fin-usage--faq.md", FAQ)
    assert front_matter("fin-usage--faq.md")["date"] == "2023-04-03"
    assert document_date(chunk) == date(2023, 4, 3)
    assert date_label(chunk) == "2023-04-03"


def test_old_source_is_flagged_recent_one_is_not():
    chunk = md_chunk("fin-usage--faq.md", FAQ)
    flags = age_flags({1: chunk}, 730, today=date(2026, 1, 1))
    assert [(f.sentence, f.reason) for f in flags] == [
        ("[1] Foire aux questions", "source dated 2023-04-03, older than 730 days: check it is still current")]
    assert age_flags({1: chunk}, 730, today=date(2024, 1, 1)) == ()


def test_undated_source_is_not_flagged_but_said_undated():
    chunk = Chunk("c1", FAQ, "/corpus/faq-sans-date.md", "FAQ sans date")
    assert age_flags({1: chunk}, 1, today=date(2030, 1, 1)) == ()
    assert "date inconnue" in source_line(1, chunk)


def test_one_flag_per_document_naming_all_its_markers():
    one = md_chunk("fin-usage--faq.md", FAQ)
    two = md_chunk("fin-usage--faq.md", paragraph("fin-usage--faq.md", "Les éco-organismes agréés ne répondent pas"))
    flags = age_flags({2: two, 1: one}, 30, today=date(2026, 1, 1))
    assert [f.sentence for f in flags] == ["[1], [2] Foire aux questions"]


def test_bad_age_is_refused():
    with pytest.raises(ValueError, match="max_age_days must be > 0, got 0"):
        age_flags({}, 0)


def test_generator_uses_the_configured_age():
    chunk = md_chunk("fin-usage--faq.md", FAQ, section="DEEE")
    question = "PC de 7 ans : don ou DEEE ?"
    strict = ExtractiveGenerator(today=date(2024, 1, 1), max_age_days=30)
    lenient = ExtractiveGenerator(today=date(2024, 1, 1), max_age_days=3650)
    assert [f.reason for f in strict.draft(question, passages(chunk)).flags] == [
        "source dated 2023-04-03, older than 30 days: check it is still current"]
    assert lenient.draft(question, passages(chunk)).flags == ()
