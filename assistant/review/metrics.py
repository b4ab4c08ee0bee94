"""Review metrics as pure functions over plain samples: time to draft, time to validation,
share of drafts sent unedited, edit ratio, per advisor and overall.

Example:
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    >>> percentile([], 95) is None
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One question as the metrics see it (no personal data).

    Args:
        status: Workflow state.
        created_at: When the question was received.
        drafted_at: When its first draft was stored, if any.
        advisor: Who validated, rejected or escalated it.
        validated_at: When it was validated (sent).
        had_draft: Whether a draft existed when it was validated.
        edited: Whether the advisor changed the draft text before sending.
        edit_ratio: Normalised edit distance between draft and final text.
    """

    status: str
    created_at: datetime
    drafted_at: datetime | None = None
    advisor: str | None = None
    validated_at: datetime | None = None
    had_draft: bool = False
    edited: bool | None = None
    edit_ratio: float | None = None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile `q` (0-100) of `values`, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 3)


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95)}


def mean(values: Sequence[float]) -> float | None:
    """The mean rounded to 4 decimals, None for no value."""
    return round(fmean(values), 4) if values else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start).total_seconds())


def _answered(samples: Sequence[Sample]) -> dict[str, Any]:
    sent = [s for s in samples if s.status == "sent"]
    reviewed = [s for s in sent if s.had_draft]
    unedited = [s for s in reviewed if not s.edited]
    ratios = [s.edit_ratio for s in reviewed if s.edit_ratio is not None]
    to_validation = [t for s in reviewed if (t := _seconds(s.drafted_at, s.validated_at)) is not None]
    to_answer = [t for s in sent if (t := _seconds(s.created_at, s.validated_at)) is not None]
    return {
        "sent": len(sent),
        "sent_unedited": len(unedited),
        "acceptance_rate": round(len(unedited) / len(sent), 4) if sent else None,
        "edit_ratio_mean": mean(ratios),
        "time_to_validation_s": _spread(to_validation),
        "time_to_answer_s": _spread(to_answer),
    }


def summarise(samples: Iterable[Sample], ratings: Iterable[int] = ()) -> dict[str, Any]:
    """The `stats()` dictionary.

    `acceptance_rate` is drafts sent unedited / answers sent (None before the first answer);
    `edit_ratio_mean` averages over sent answers that had a draft. Times are in seconds.

    Args:
        samples: One per question.
        ratings: Buyer ratings (1-5).
    """
    samples = list(samples)
    ratings = list(ratings)
    by_status: dict[str, int] = {}
    for sample in samples:
        by_status[sample.status] = by_status.get(sample.status, 0) + 1
    to_draft = [t for s in samples if (t := _seconds(s.created_at, s.drafted_at)) is not None]
    advisors = sorted({s.advisor for s in samples if s.advisor})
    per_advisor = {}
    for name in advisors:
        own = [s for s in samples if s.advisor == name]
        per_advisor[name] = {
            **_answered(own),
            "rejected": sum(s.status == "rejected" for s in own),
            "escalated": sum(s.status == "escalated" for s in own),
        }
    return {
        "questions": len(samples),
        **_answered(samples),
        "by_status": by_status,
        "time_to_draft_s": _spread(to_draft),
        "feedback": {"count": len(ratings), "rating_mean": mean([float(r) for r in ratings])},
        "per_advisor": per_advisor,
    }
