"""Per-topic quality: shares, rewriting, ratings, cited sections, the "à approfondir" flag, orders."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.insights import quality
from assistant.insights.indicators import QuestionFacts
from assistant.insights.topics import OTHER, Group

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)


def _sent(qid: int, ratio: float, outcome: str = "answer", hours: float = 1.0, ratings=(), cited=()) -> QuestionFacts:
    return QuestionFacts(qid, f"q{qid}", "sent", T0, T0 + timedelta(hours=hours), True, ratio > 0, ratio,
                         outcome, tuple(ratings), tuple(cited))


def _group(label: str, ids) -> Group:
    return Group(label, len(ids), tuple(f"q{i}" for i in ids[:3]), tuple(ids))


def test_a_frequent_topic_that_goes_badly_is_flagged_with_its_reasons():
    facts = [
        _sent(1, 0.9, ratings=(1,), cited=("Guide A — p. 3", "Guide B — p. 7")),
        _sent(2, 0.6, ratings=(2,), cited=("Guide A — p. 3",)),
        _sent(3, 0.1, cited=("Guide C — p. 1",), hours=3),
        QuestionFacts(4, "q4", "drafted", T0, outcome="abstain"),
        QuestionFacts(5, "q5", "drafted", T0, outcome="partial"),
    ]
    (topic,) = quality.topic_quality([_group("Indice de réparabilité et durabilité", [1, 2, 3, 4, 5])], facts)
    assert topic.drafted == 5 and topic.abstention_share == 0.2 and topic.partial_share == 0.2
    assert topic.edit_ratio_mean == pytest.approx(0.5333, abs=1e-4) and topic.rewritten == 2
    assert topic.answer_p50_s == 3600.0 and topic.rating_mean == 1.5 and topic.ratings == 2
    assert topic.cited_sections == (("Guide A — p. 3", 2), ("Guide B — p. 7", 1)), \
        "only the rewritten drafts' sections count (Guide C's draft was kept)"
    # answered 1 - 0.2 - 0.1 = 0.7; kept 1 - 0.5333 = 0.4667; rating (1.5 - 1) / 4 = 0.125
    assert topic.score == pytest.approx((0.7 + 0.4667 + 0.125) / 3, abs=1e-3)
    assert topic.to_deepen and len(topic.reasons) == 2, topic.reasons
    assert any("53 %" in r for r in topic.reasons) and any("1,5 / 5" in r for r in topic.reasons)


@pytest.mark.parametrize("size, total, label, flagged", [
    (3, 10, "Labels et écolabels", True),     # 3 questions, 30 % of the period
    (2, 3, "Labels et écolabels", False),     # too few questions
    (3, 40, "Labels et écolabels", False),    # under 10 % of the period
    (3, 10, OTHER, False),                    # a pool of unrelated questions is no subject
])
def test_the_flag_needs_volume_and_share(size, total, label, flagged):
    facts = [QuestionFacts(i, f"q{i}", "drafted", T0, outcome="abstain") for i in range(total)]
    groups = [_group(label, list(range(size)))] + [_group(f"g{i}", [i]) for i in range(size, total)]
    assert quality.topic_quality(groups, facts)[0].to_deepen is flagged


def test_no_data_gives_no_score_and_no_flag():
    facts = [QuestionFacts(i, f"q{i}", "received", T0) for i in range(5)]
    (topic,) = quality.topic_quality([_group("Labels et écolabels", list(range(5)))], facts)
    assert topic.score is None and not topic.to_deepen and topic.abstention_share is None
    assert topic.edit_ratio_mean is None and topic.rating_mean is None and topic.answer_p50_s is None


def test_abstained_drafts_do_not_count_as_rewriting():
    abstained_then_written = _sent(1, 1.0, outcome="abstain")
    (topic,) = quality.topic_quality([_group("x", [1])], [abstained_then_written])
    assert topic.abstention_share == 1.0 and topic.edit_ratio_mean is None and topic.rewritten == 0


def test_sorts():
    facts = [_sent(1, 0.9, ratings=(1,)), _sent(2, 0.0, ratings=(5,), hours=30), _sent(3, 0.2), _sent(4, 0.3)]
    topics = quality.topic_quality([_group("a", [1]), _group("b", [2]), _group("c", [3, 4])], facts)
    order = {name: [t.subject for t in quality.sort_topics(topics, name)] for name in quality.SORTS}
    assert order["questions"][0] == "c" and order["rating"][:2] == ["a", "b"] and order["rating"][2] == "c", order
    assert order["rewriting"][0] == "a" and order["delay"][0] == "b" and order["score"][0] == "a", order
    with pytest.raises(ValueError, match="unknown order"):
        quality.sort_topics(topics, "random")


def test_the_cli_offers_every_order():
    from assistant.cli.topics import topics

    choices = next(p for p in topics.params if p.name == "order").type.choices
    assert list(choices) == list(quality.SORTS), "guichet topics --sort lists the dashboard's orders"


def test_as_dict_is_the_json_contract():
    (topic,) = quality.topic_quality([_group("a", [1])], [_sent(1, 0.7, cited=("G — p. 1",))])
    data = topic.as_dict()
    assert set(data) == {"subject", "questions", "question_ids", "examples", "drafted", "abstention_share",
                         "partial_share", "sent", "edit_ratio_mean", "rewritten_drafts", "answer_p50_s",
                         "rating_mean", "ratings", "cited_sections", "score", "to_deepen", "reasons"}
    assert data["cited_sections"] == [{"section": "G — p. 1", "drafts": 1}] and data["question_ids"] == [1]
