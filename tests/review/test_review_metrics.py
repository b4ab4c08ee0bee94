"""Pure functions: percentiles, metric summaries, edit ratio, diffs, cited sources, input checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.review.errors import InvalidInput
from assistant.review.metrics import Sample, percentile, summarise
from assistant.review.texts import (
    MAX_ANSWER_CHARS,
    check_answer_text,
    check_email,
    check_organisation,
    cited_sources,
    edit_ratio,
    text_diff,
)

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([], 50, None),
    ([3.0], 50, 3.0),
    ([3.0], 95, 3.0),
    ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
    ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
    ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
    (list(range(1, 101)), 95, 95.05),
])
def test_percentile(values, q, expected):
    assert percentile([float(v) for v in values], q) == expected, f"p{q} of {values}"


def test_summary_of_no_question_has_no_rates():
    stats = summarise([])
    assert stats["questions"] == 0 and stats["sent"] == 0
    assert stats["acceptance_rate"] is None and stats["edit_ratio_mean"] is None, "no division by zero"
    assert stats["time_to_answer_s"] == {"p50": None, "p95": None}
    assert stats["per_advisor"] == {} and stats["feedback"] == {"count": 0, "rating_mean": None}


def _sent(advisor, minutes, edited, ratio, had_draft=True):
    return Sample(status="sent", created_at=T0, drafted_at=T0 + timedelta(seconds=2) if had_draft else None,
                  advisor=advisor, validated_at=T0 + timedelta(minutes=minutes), had_draft=had_draft,
                  edited=edited, edit_ratio=ratio)


def test_summary_overall_and_per_advisor():
    samples = [
        _sent("alice", 10, False, 0.0),
        _sent("alice", 30, True, 0.4),
        _sent("bob", 60, True, 0.2),
        _sent("bob", 20, True, 1.0, had_draft=False),  # written from scratch: no draft to edit
        Sample(status="rejected", created_at=T0, advisor="bob"),
        Sample(status="drafted", created_at=T0, drafted_at=T0 + timedelta(seconds=4)),
        Sample(status="received", created_at=T0),
    ]
    stats = summarise(samples, ratings=[5, 3])
    assert stats["questions"] == 7 and stats["sent"] == 4, stats
    assert stats["acceptance_rate"] == 0.25, "1 of 4 answers was the draft sent unedited"
    assert stats["edit_ratio_mean"] == pytest.approx(0.2, abs=1e-4), "mean over answers that had a draft"
    assert stats["time_to_answer_s"]["p50"] == 1500.0, stats["time_to_answer_s"]
    assert stats["time_to_draft_s"]["p50"] == 2.0, stats["time_to_draft_s"]
    assert stats["by_status"] == {"sent": 4, "rejected": 1, "drafted": 1, "received": 1}
    assert stats["feedback"] == {"count": 2, "rating_mean": 4.0}
    alice, bob = stats["per_advisor"]["alice"], stats["per_advisor"]["bob"]
    assert (alice["sent"], alice["acceptance_rate"], alice["edit_ratio_mean"]) == (2, 0.5, 0.2), alice
    assert (bob["sent"], bob["sent_unedited"], bob["rejected"]) == (2, 0, 1), bob
    assert alice["time_to_validation_s"]["p50"] == pytest.approx(1198.0), alice


@pytest.mark.parametrize(("draft", "final", "expected"), [
    ("", "", 0.0),
    ("un deux trois", "un deux trois", 0.0),
    ("un deux trois", "  un   deux\ntrois ", 0.0),  # whitespace only: same words
    ("un deux trois", "quatre cinq six", 1.0),
    ("", "texte écrit de zéro", 1.0),
    ("un deux trois quatre", "un deux trois cinq", 0.25),
])
def test_edit_ratio(draft, final, expected):
    assert edit_ratio(draft, final) == pytest.approx(expected), f"{draft!r} → {final!r}"


def test_edit_ratio_is_fast_on_long_texts():
    import time

    long_text = " ".join(f"mot{i % 500}" for i in range(15_000))
    started = time.perf_counter()
    ratio = edit_ratio("Un court brouillon [1].", long_text)
    assert 0.99 < ratio <= 1.0 and time.perf_counter() - started < 2.0


def test_text_diff_shows_removed_and_added_lines():
    diff = text_diff("ligne 1\nligne 2", "ligne 1\nligne deux")
    assert "-ligne 2" in diff and "+ligne deux" in diff and diff.startswith("--- draft"), diff
    assert text_diff("même", "même") == ""


CITATIONS = [{"marker": 1, "chunk_id": "a", "quote": "q1"}, {"marker": 2, "chunk_id": "b", "quote": "q2"}]
PASSAGES = [
    {"chunk_id": "a", "title": "Guide", "page": 12, "section": "", "source": "/g.pdf", "url": "https://g"},
    {"chunk_id": "b", "title": "FAQ", "page": None, "section": "Labels", "source": "/f.md", "url": ""},
]


@pytest.mark.parametrize(("final", "markers"), [
    ("Oui [1].", [1]),
    ("Oui [2] et [1] et encore [2].", [1, 2]),
    ("Réécrit sans marqueur.", [1, 2]),  # no marker kept: the draft's sources still support it
    ("Seulement [7].", [1, 2]),  # an unknown marker is ignored
])
def test_cited_sources(final, markers):
    sources = cited_sources(CITATIONS, PASSAGES, final)
    assert [s["marker"] for s in sources] == markers, sources


def test_cited_sources_locations_and_empty_draft():
    sources = cited_sources(CITATIONS, PASSAGES, "[1] [2]")
    assert [s["location"] for s in sources] == ["p. 12", "Labels"], sources
    assert cited_sources([], [], "Texte [1].") == [], "a draft without citations has no sources"


@pytest.mark.parametrize(("text", "ok"), [
    ("x", True), ("  x  ", True), ("", False), ("\n\t", False), ("a\x00b", False),
    ("y" * MAX_ANSWER_CHARS, True), ("y" * (MAX_ANSWER_CHARS + 1), False),
])
def test_check_answer_text(text, ok):
    if ok:
        assert check_answer_text(text) == text.strip()
    else:
        with pytest.raises(InvalidInput):
            check_answer_text(text)


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), ("  ", None), (" a@ville.fr ", "a@ville.fr"), ("prenom.nom@sous.domaine.gouv.fr", "prenom.nom@sous.domaine.gouv.fr"),
])
def test_check_email_accepts(value, expected):
    assert check_email(value) == expected


def test_check_organisation_limits():
    assert check_organisation(None) is None and check_organisation(" CHU ") == "CHU"
    with pytest.raises(InvalidInput, match="over the limit of 200"):
        check_organisation("o" * 201)
