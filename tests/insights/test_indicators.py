"""Network indicators: weeks, time-to-answer histogram, acceptance and edit rates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.insights import indicators
from assistant.insights.indicators import QuestionFacts

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)  # a Wednesday


def test_weekly_counts_lists_empty_weeks():
    created = [T0, T0 + timedelta(hours=1), T0 + timedelta(days=14)]
    weeks = indicators.weekly_counts(created, None, T0 + timedelta(days=15))
    assert weeks == [("2026-03-02", 2), ("2026-03-09", 0), ("2026-03-16", 1)], f"{weeks}"


def test_weekly_counts_from_the_period_start_and_naive_times():
    weeks = indicators.weekly_counts([T0.replace(tzinfo=None)], T0 - timedelta(days=7), T0)
    assert weeks == [("2026-02-23", 0), ("2026-03-02", 1)], f"naive times are UTC: {weeks}"
    assert indicators.weekly_counts([], None, T0) == []


def test_time_bins_cover_every_value():
    bins = indicators.time_bins([0, 899, 900, 3599, 3600, 86400 * 5])
    assert dict(bins) == {"< 15 min": 2, "15 min à 1 h": 2, "1 h à 4 h": 1, "4 h à 24 h": 0,
                          "1 à 3 jours": 0, "> 3 jours": 1}, f"{bins}"
    assert sum(c for _, c in indicators.time_bins([])) == 0


def _facts() -> list[QuestionFacts]:
    return [
        QuestionFacts(1, "a", "sent", T0, T0 + timedelta(minutes=30), True, False, 0.0),
        QuestionFacts(2, "b", "sent", T0, T0 + timedelta(hours=2), True, True, 0.5),
        QuestionFacts(3, "c", "sent", T0, T0 + timedelta(hours=3), False, True, 1.0),
        QuestionFacts(4, "d", "drafted", T0),
        QuestionFacts(5, "e", "rejected", T0),
        QuestionFacts(6, "f", "escalated", T0),
    ]


def test_summary_rates():
    s = indicators.summary(_facts())
    assert s["questions"] == 6 and s["sent"] == 3 and s["waiting"] == 1
    assert s["rejected"] == 1 and s["escalated"] == 1
    assert s["acceptance_rate"] == 0.5, "1 of the 2 drafted answers was sent unedited"
    assert s["edited_rate"] == 0.5
    assert s["edit_ratio_mean"] == 0.25, "mean over answers that had a draft"
    assert s["answer_p50_s"] == 7200.0


def test_summary_of_nothing():
    s = indicators.summary([])
    assert s["questions"] == 0 and s["acceptance_rate"] is None and s["answer_p50_s"] is None


def test_period_filter():
    facts = _facts() + [QuestionFacts(7, "old", "sent", T0 - timedelta(days=40), T0 - timedelta(days=39))]
    start = indicators.period_start("30 derniers jours", T0)
    assert [f.id for f in indicators.in_period(facts, start, T0)] == [1, 2, 3, 4, 5, 6]
    assert indicators.period_start("Depuis le début", T0) is None
    with pytest.raises(ValueError, match="unknown period"):
        indicators.period_start("hier", T0)
