"""Network indicators as pure functions: questions per week, time to answer, draft acceptance.

Example:
    >>> from datetime import datetime, timezone
    >>> monday = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> weekly_counts([monday, monday], monday, monday)
    [('2026-03-02', 2)]
    >>> time_bins([600.0, 7200.0])[:3]
    [('< 15 min', 1), ('15 min à 1 h', 0), ('1 h à 4 h', 1)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from assistant.review.metrics import percentile

#: Periods offered on the dashboard: label → number of days (None = since the beginning).
PERIODS: dict[str, int | None] = {
    "7 derniers jours": 7,
    "30 derniers jours": 30,
    "90 derniers jours": 90,
    "12 derniers mois": 365,
    "Depuis le début": None,
}
DEFAULT_PERIOD = "90 derniers jours"
#: Short names of the periods, for scripts (`guichet topics --period 30d`).
PERIOD_ALIASES: dict[str, str] = {"7d": "7 derniers jours", "30d": "30 derniers jours", "90d": "90 derniers jours",
                                  "12m": "12 derniers mois", "all": "Depuis le début"}

#: Upper bounds (seconds) and labels of the time-to-answer histogram.
TIME_BINS: tuple[tuple[float, str], ...] = (
    (15 * 60, "< 15 min"),
    (3600, "15 min à 1 h"),
    (4 * 3600, "1 h à 4 h"),
    (24 * 3600, "4 h à 24 h"),
    (3 * 86400, "1 à 3 jours"),
    (float("inf"), "> 3 jours"),
)


@dataclass(frozen=True)
class QuestionFacts:
    """What the dashboard needs of one question (no personal data).

    Args:
        id: Question id.
        text: The question (for topics and examples).
        status: Workflow state.
        created_at: When it was received (UTC).
        validated_at: When its answer was sent, if it was.
        had_draft: Whether a draft existed when it was validated.
        edited: Whether the advisor changed the draft before sending.
        edit_ratio: Share of the draft's words rewritten (0 = sent as drafted).
        outcome: What the latest draft did: "answer", "partial" or "abstain" (None: no draft).
        ratings: The buyers' ratings (1-5) of its answer.
        cited: The sections its latest draft cites ("Title — p. 12"), when it was rewritten
            (edit ratio at least `quality.REWRITTEN`), else empty.
    """

    id: int
    text: str
    status: str
    created_at: datetime
    validated_at: datetime | None = None
    had_draft: bool = False
    edited: bool | None = None
    edit_ratio: float | None = None
    outcome: str | None = None
    ratings: tuple[int, ...] = ()
    cited: tuple[str, ...] = ()


def utc(value: datetime) -> datetime:
    """The same instant, UTC-aware (a naive value is taken as UTC)."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def period_start(label: str, now: datetime) -> datetime | None:
    """Start of a period of `PERIODS` ending `now` (None: no lower bound).

    Raises:
        ValueError: an unknown period label.
    """
    if label not in PERIODS:
        raise ValueError(f"unknown period {label!r}: choose one of {', '.join(PERIODS)}")
    days = PERIODS[label]
    return None if days is None else utc(now) - timedelta(days=days)


def period_label(value: str) -> str:
    """The `PERIODS` label of a period given by its label or its short name (`PERIOD_ALIASES`).

    Raises:
        ValueError: an unknown period.

    Example:
        >>> period_label("30d"), period_label("Depuis le début")
        ('30 derniers jours', 'Depuis le début')
    """
    if value in PERIODS:
        return value
    if value.strip().lower() in PERIOD_ALIASES:
        return PERIOD_ALIASES[value.strip().lower()]
    raise ValueError(f"unknown period {value!r}: choose one of {', '.join(PERIOD_ALIASES)} "
                     f"or {', '.join(repr(p) for p in PERIODS)}")


def in_period(facts: Iterable[QuestionFacts], start: datetime | None, end: datetime) -> list[QuestionFacts]:
    """Questions received in [start, end]."""
    return [f for f in facts if (start is None or utc(f.created_at) >= start) and utc(f.created_at) <= end]


def week_of(value: datetime) -> str:
    """ISO date of the Monday starting the week of `value` (UTC)."""
    day = utc(value).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def weekly_counts(created: Sequence[datetime], start: datetime | None, end: datetime) -> list[tuple[str, int]]:
    """Questions per week from the week of `start` (or of the first question) to the week of `end`.

    Weeks without a question are listed with 0, so that a gap shows on the chart.
    """
    if not created and start is None:
        return []
    first = utc(start) if start is not None else min(utc(c) for c in created)
    counts: dict[str, int] = {}
    monday = datetime.fromisoformat(week_of(first)).replace(tzinfo=timezone.utc)
    last = week_of(end)
    while (label := monday.date().isoformat()) <= last:
        counts[label] = 0
        monday += timedelta(days=7)
    for value in created:
        week = week_of(value)
        if week in counts:
            counts[week] += 1
    return list(counts.items())


def time_bins(seconds: Iterable[float]) -> list[tuple[str, int]]:
    """Histogram of times to answer over `TIME_BINS`."""
    counts = [0] * len(TIME_BINS)
    for value in seconds:
        for i, (bound, _) in enumerate(TIME_BINS):
            if value < bound:
                counts[i] += 1
                break
    return [(label, count) for (_, label), count in zip(TIME_BINS, counts)]


def answer_seconds(facts: Iterable[QuestionFacts]) -> list[float]:
    """Seconds from reception to validated answer, for every answered question."""
    return [max(0.0, (utc(f.validated_at) - utc(f.created_at)).total_seconds())
            for f in facts if f.validated_at is not None]


def summary(facts: Sequence[QuestionFacts]) -> dict[str, float | int | None]:
    """Counts and rates of a period.

    `acceptance_rate`: drafts sent without any change / answers sent that had a draft;
    `edit_ratio_mean`: mean share of the draft rewritten; `answer_p50_s`/`answer_p95_s`: time to
    answer. Rates are None when nothing was answered.
    """
    sent = [f for f in facts if f.status == "sent"]
    drafted = [f for f in sent if f.had_draft]
    ratios = [f.edit_ratio for f in drafted if f.edit_ratio is not None]
    seconds = answer_seconds(sent)
    return {
        "questions": len(facts),
        "sent": len(sent),
        "rejected": sum(f.status == "rejected" for f in facts),
        "escalated": sum(f.status == "escalated" for f in facts),
        "waiting": sum(f.status in ("received", "drafted", "in_review") for f in facts),
        "acceptance_rate": round(sum(not f.edited for f in drafted) / len(drafted), 4) if drafted else None,
        "edited_rate": round(sum(bool(f.edited) for f in drafted) / len(drafted), 4) if drafted else None,
        "edit_ratio_mean": round(sum(ratios) / len(ratios), 4) if ratios else None,
        "answer_p50_s": percentile(seconds, 50),
        "answer_p95_s": percentile(seconds, 95),
    }
