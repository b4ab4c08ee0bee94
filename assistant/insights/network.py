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

from assistant.insights import indicators, quality, topics
from assistant.review.metrics import mean
from assistant.review.models import AnswerRow, DraftRow, FeedbackRow, QuestionRow


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
    topics: list[quality.TopicQuality]


def outcome(draft: Any) -> str:
    """What a stored draft did: "abstain" or "answer" (and "partial" once drafts record it)."""
    return "abstain" if draft.abstained else "answer"


def cited_sections(draft: Any) -> tuple[str, ...]:
    """The distinct sections a stored draft cites, "Title — place", in marker order."""
    passages = {p.get("chunk_id"): p for p in draft.passages or ()}
    sections: dict[str, None] = {}
    for citation in sorted(draft.citations or (), key=lambda c: c.get("marker", 0)):
        passage = passages.get(citation.get("chunk_id"))
        if passage is None:
            continue
        page = passage.get("page")
        place = f"p. {page}" if page is not None else passage.get("section") or "document entier"
        sections[f"{passage.get('title') or passage.get('source', '')} — {place}"] = None
    return tuple(sections)


def load_facts(review: Any) -> list[indicators.QuestionFacts]:
    """Every question as the network sees it, in four queries whatever their number.

    Questions with their answer; the outcome of each question's latest draft; the citations of
    the drafts advisors rewrote (edit ratio at least `quality.REWRITTEN`), the only ones whose
    sections are counted; the buyers' ratings.

    Args:
        review: An `assistant.review.service.ReviewService`.
    """
    latest = review.store.latest_drafts()
    latest_draft = DraftRow.__table__.join(latest, (DraftRow.question_id == latest.c.question_id)
                                           & (DraftRow.number == latest.c.number))
    questions = (select(QuestionRow, AnswerRow).outerjoin(AnswerRow, AnswerRow.question_id == QuestionRow.id)
                 .order_by(QuestionRow.created_at, QuestionRow.id))
    facts = []
    with review.store.read() as session:
        outcomes = {row.question_id: outcome(row) for row in session.execute(
            select(DraftRow.question_id, DraftRow.abstained).select_from(latest_draft))}
        rewritten = session.execute(
            select(DraftRow.question_id, DraftRow.citations, DraftRow.passages).select_from(latest_draft)
            .join(AnswerRow, AnswerRow.question_id == DraftRow.question_id)
            .where(AnswerRow.edit_ratio >= quality.REWRITTEN, DraftRow.abstained.is_(False)))
        cited = {row.question_id: cited_sections(row) for row in rewritten}
        ratings: dict[int, list[int]] = {}
        for question_id, rating in session.execute(
                select(FeedbackRow.question_id, FeedbackRow.rating).order_by(FeedbackRow.id)):
            ratings.setdefault(question_id, []).append(rating)
        for question, answer in session.execute(questions):
            extra = (None, False, None, None) if answer is None else (
                answer.validated_at, answer.draft_id is not None, answer.edited, answer.edit_ratio)
            facts.append(indicators.QuestionFacts(
                question.id, question.text, question.status, question.created_at, *extra,
                outcome=outcomes.get(question.id), ratings=tuple(ratings.get(question.id, ())),
                cited=cited.get(question.id, ())))
    return facts


def network_view(review: Any, period: str, now: datetime) -> NetworkView:
    """Indicators and recurring subjects of the questions received in a period ending `now`.

    Raises:
        ValueError: an unknown period label (see `indicators.PERIODS`).
    """
    end = indicators.utc(now)
    start = indicators.period_start(period, end)
    every = load_facts(review)
    ratings = [rating for fact in every for rating in fact.ratings]  # since the beginning, as before
    facts = indicators.in_period(every, start, end)
    groups = topics.group_questions([(f.id, f.text) for f in facts])
    return NetworkView(
        period=period, start=start, end=end, summary=indicators.summary(facts),
        weekly=indicators.weekly_counts([f.created_at for f in facts], start, end),
        answer_times=indicators.time_bins(indicators.answer_seconds(facts)),
        groups=groups, rating_mean=mean([float(r) for r in ratings]), ratings=len(ratings),
        topics=quality.topic_quality(groups, facts),
    )
