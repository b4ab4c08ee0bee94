"""The network's view of a period, read from the review database: the dashboard and the CLI call it.

Example:
    >>> view = network_view(review, "30 derniers jours", utcnow())     # doctest: +SKIP
    >>> view.summary["questions"], [g.label for g in view.groups][:1]     # doctest: +SKIP
    (12, ['Labels et écolabels'])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from assistant.insights import indicators, topics
from assistant.review.models import AnswerRow, QuestionRow


@dataclass(frozen=True)
class NetworkView:
    """Everything the network dashboard shows for one period."""

    period: str
    start: datetime | None
    end: datetime
    summary: dict[str, Any]
    weekly: list[tuple[str, int]]
    answer_times: list[tuple[str, int]]
    groups: list[topics.Group]
    rating_mean: float | None
    ratings: int


def load_facts(review: Any) -> list[indicators.QuestionFacts]:
    """Every question as the network sees it, in one query (questions joined with their answer).

    Args:
        review: An `assistant.review.service.ReviewService`.
    """
    query = (select(QuestionRow, AnswerRow).outerjoin(AnswerRow, AnswerRow.question_id == QuestionRow.id)
             .order_by(QuestionRow.created_at, QuestionRow.id))
    facts = []
    with review.store.read() as session:
        for question, answer in session.execute(query):
            extra = () if answer is None else (answer.validated_at, answer.draft_id is not None, answer.edited,
                                               answer.edit_ratio)
            facts.append(indicators.QuestionFacts(question.id, question.text, question.status,
                                                  question.created_at, *extra))
    return facts


def network_view(review: Any, period: str, now: datetime) -> NetworkView:
    """Indicators and recurring subjects of the questions received in a period ending `now`.

    Raises:
        ValueError: an unknown period label (see `indicators.PERIODS`).
    """
    end = indicators.utc(now)
    start = indicators.period_start(period, end)
    facts = indicators.in_period(load_facts(review), start, end)
    feedback = review.stats().get("feedback", {})
    return NetworkView(
        period=period, start=start, end=end, summary=indicators.summary(facts),
        weekly=indicators.weekly_counts([f.created_at for f in facts], start, end),
        answer_times=indicators.time_bins(indicators.answer_seconds(facts)),
        groups=topics.group_questions([(f.id, f.text) for f in facts]),
        rating_mean=feedback.get("rating_mean"), ratings=feedback.get("count", 0),
    )
