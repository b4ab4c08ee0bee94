"""Where the desk struggles: per recurring topic, how well its questions were answered.

For each topic of a period: its volume; the share of its drafts that abstained or answered only
in part; how much advisors rewrote the drafts that did answer before sending them; the median
time to answer; the buyers' mean rating; and the guide sections most cited by the drafts that
advisors rewrote most (more than half, `REWRITTEN`), which is where a guide is missing or
misleading. A topic with many questions and a poor score is flagged "à approfondir": the signal
that a working group should take the subject up.

The score is the mean of what is known of a topic, each from 0 (bad) to 1 (good): the share
of its drafts that answered (a partial answer counts half), one minus the mean edit ratio, and
the mean rating on a 0-1 scale ((rating - 1) / 4). It is written, not fitted: each part reads
as a plain figure, and the flag says which parts are poor.

Example:
    >>> from datetime import datetime, timezone
    >>> from assistant.insights.indicators import QuestionFacts
    >>> from assistant.insights.topics import group_questions
    >>> t0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> facts = [QuestionFacts(i, "exiger un écolabel ?", "drafted", t0, outcome="abstain") for i in range(4)]
    >>> [(t.subject, t.abstention_share, t.to_deepen) for t in topic_quality(group_questions(
    ...     [(f.id, f.text) for f in facts]), facts)]
    [('Labels et écolabels', 1.0, True)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from assistant.insights.indicators import QuestionFacts, answer_seconds
from assistant.insights.topics import OTHER, Group
from assistant.review.metrics import mean, percentile

#: A draft more than this share rewritten by the advisor counts as rewritten.
REWRITTEN = 0.5
#: A topic is flagged when it has at least this many questions...
FLAG_MIN_QUESTIONS = 3
#: ... and at least this share of the period's questions...
FLAG_MIN_SHARE = 0.1
#: ... and a score below this.
POOR_SCORE = 0.5
#: Sections listed per topic.
MAX_SECTIONS = 3


@dataclass(frozen=True)
class TopicQuality:
    """How well the desk did on one topic of a period (shares and ratios from 0 to 1; None: no data).

    Args:
        subject: The topic's label.
        questions: Its number of questions in the period.
        question_ids: Their ids.
        examples: A few of its questions, oldest first.
        drafted: Questions that have a draft.
        abstention_share: Drafted questions whose draft abstained.
        partial_share: Drafted questions whose draft answered only in part.
        sent: Questions answered.
        edit_ratio_mean: Mean share rewritten of the answered drafts that were sent.
        rewritten: Sent drafts more than `REWRITTEN` rewritten.
        answer_p50_s: Median seconds from question to answer.
        rating_mean: Buyers' mean rating (1-5).
        ratings: Number of ratings.
        cited_sections: (section, drafts) most cited by the rewritten drafts, most cited first.
        score: See the module docstring.
        to_deepen: The "à approfondir" flag.
        reasons: Why the score is poor, in French, when it is.
    """

    subject: str
    questions: int
    question_ids: tuple[int, ...]
    examples: tuple[str, ...]
    drafted: int
    abstention_share: float | None
    partial_share: float | None
    sent: int
    edit_ratio_mean: float | None
    rewritten: int
    answer_p50_s: float | None
    rating_mean: float | None
    ratings: int
    cited_sections: tuple[tuple[str, int], ...]
    score: float | None
    to_deepen: bool
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON values (the contract of `guichet topics --json`)."""
        return {
            "subject": self.subject, "questions": self.questions, "question_ids": list(self.question_ids),
            "examples": list(self.examples), "drafted": self.drafted, "abstention_share": self.abstention_share,
            "partial_share": self.partial_share, "sent": self.sent, "edit_ratio_mean": self.edit_ratio_mean,
            "rewritten_drafts": self.rewritten, "answer_p50_s": self.answer_p50_s, "rating_mean": self.rating_mean,
            "ratings": self.ratings,
            "cited_sections": [{"section": s, "drafts": n} for s, n in self.cited_sections],
            "score": self.score, "to_deepen": self.to_deepen, "reasons": list(self.reasons),
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def _score(abstention: float | None, partial: float | None, edit_ratio: float | None,
           rating: float | None) -> tuple[float | None, tuple[str, ...]]:
    parts: list[tuple[float, str]] = []
    if abstention is not None:
        missing = abstention + (partial or 0.0)
        parts.append((1 - abstention - (partial or 0.0) / 2,
                      f"abstentions et réponses partielles : {_percent(missing)} des brouillons"))
    if edit_ratio is not None:
        parts.append((1 - edit_ratio, f"brouillons réécrits à {_percent(edit_ratio)} en moyenne"))
    if rating is not None:
        parts.append(((rating - 1) / 4, f"note moyenne {rating:.1f} / 5".replace(".", ",")))
    if not parts:
        return None, ()
    return round(fmean(p for p, _ in parts), 4), tuple(reason for p, reason in parts if p < POOR_SCORE)


def topic_quality(groups: Sequence[Group], facts: Sequence[QuestionFacts]) -> list[TopicQuality]:
    """Each group's figures, in the groups' order.

    Args:
        groups: Topics of the period (`topics.group_questions`).
        facts: The period's questions (every id of `groups` among them).
    """
    by_id = {f.id: f for f in facts}
    total = sum(g.size for g in groups)
    result = []
    for group in groups:
        own = [by_id[i] for i in group.question_ids if i in by_id]
        drafted = [f for f in own if f.outcome is not None]
        sent = [f for f in own if f.status == "sent"]
        answered_drafts = [f for f in sent if f.had_draft and f.outcome in ("answer", "partial")
                           and f.edit_ratio is not None]
        rewritten = [f for f in answered_drafts if f.edit_ratio >= REWRITTEN]
        ratings = [r for f in own for r in f.ratings]
        sections = Counter(s for f in rewritten for s in f.cited)
        abstention = _share(sum(f.outcome == "abstain" for f in drafted), len(drafted))
        partial = _share(sum(f.outcome == "partial" for f in drafted), len(drafted))
        edit_ratio = mean([f.edit_ratio for f in answered_drafts])
        rating = mean([float(r) for r in ratings])
        score, reasons = _score(abstention, partial, edit_ratio, rating)
        flagged = (group.label != OTHER and group.size >= FLAG_MIN_QUESTIONS and total > 0
                   and group.size >= FLAG_MIN_SHARE * total and score is not None and score < POOR_SCORE)
        result.append(TopicQuality(
            subject=group.label, questions=group.size, question_ids=group.question_ids, examples=group.examples,
            drafted=len(drafted), abstention_share=abstention, partial_share=partial, sent=len(sent),
            edit_ratio_mean=edit_ratio, rewritten=len(rewritten), answer_p50_s=percentile(answer_seconds(sent), 50),
            rating_mean=rating, ratings=len(ratings),
            cited_sections=tuple(sorted(sections.items(), key=lambda item: (-item[1], item[0]))[:MAX_SECTIONS]),
            score=score, to_deepen=flagged, reasons=reasons if flagged else (),
        ))
    return result


def _last(value: float | None, worst_first: bool) -> tuple[bool, float]:
    """Sort key that puts None last whatever the direction."""
    if value is None:
        return True, 0.0
    return False, -value if worst_first else value


#: Orders offered on the dashboard and by `guichet topics --sort`: name → (label, key).
SORTS: dict[str, tuple[str, Callable[[TopicQuality], Any]]] = {
    "flag": ("À approfondir d'abord", lambda t: (not t.to_deepen, -t.questions, t.subject)),
    "questions": ("Questions (les plus nombreuses d'abord)", lambda t: (-t.questions, t.subject)),
    "score": ("Score (le plus faible d'abord)", lambda t: (_last(t.score, False), t.subject)),
    "abstentions": ("Abstentions et réponses partielles (les plus fréquentes d'abord)",
                    lambda t: (_last(None if t.abstention_share is None
                                     else t.abstention_share + (t.partial_share or 0.0), True), t.subject)),
    "rewriting": ("Réécriture (la plus forte d'abord)", lambda t: (_last(t.edit_ratio_mean, True), t.subject)),
    "rating": ("Note (la plus basse d'abord)", lambda t: (_last(t.rating_mean, False), t.subject)),
    "delay": ("Délai médian (le plus long d'abord)", lambda t: (_last(t.answer_p50_s, True), t.subject)),
}
DEFAULT_SORT = "flag"


def sort_topics(topics: Sequence[TopicQuality], by: str = DEFAULT_SORT) -> list[TopicQuality]:
    """The topics in one of the `SORTS` orders.

    Raises:
        ValueError: an unknown order.
    """
    if by not in SORTS:
        raise ValueError(f"unknown order {by!r}: choose one of {', '.join(SORTS)}")
    return sorted(topics, key=SORTS[by][1])
