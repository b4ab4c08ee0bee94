"""run_eval over a test double assistant with known relevance."""

from __future__ import annotations

import pytest

from assistant.evaluation.questions import parse_question_set
from assistant.evaluation.runner import (LATENCY_KEYS, METRIC_KEYS, run_eval, select_questions,
                                         summarize)
from assistant.records import Chunk

from .doubles import QUESTIONS_YAML, SearchOnlyAssistant, StubAssistant

QSET = parse_question_set(QUESTIONS_YAML)


def test_metrics_have_exactly_the_contract_keys():
    metrics = run_eval(StubAssistant(), QSET, progress=False).metrics
    assert tuple(metrics) == METRIC_KEYS, f"keys: {list(metrics)}"
    assert tuple(metrics["latency_ms"]) == LATENCY_KEYS, f"latency keys: {list(metrics['latency_ms'])}"


def test_good_assistant_scores():
    metrics = run_eval(StubAssistant(), QSET, progress=False).metrics
    assert metrics["n"] == 5, "n counts answerable and unanswerable questions"
    for key in ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10"):
        assert metrics[key] == 1.0, f"{key}: every answerable question is found first: {metrics}"
    assert metrics["abstention_rate"] == 1.0, "the weather question gets an abstention"
    assert metrics["false_abstention_rate"] == 0.0, "no answerable question abstained"
    assert metrics["citation_validity"] == 1.0, "citations point at retrieved passages"
    assert metrics["evidence_in_draft"] == 1.0, "drafts quote the evidence"
    for key in LATENCY_KEYS:
        assert metrics["latency_ms"][key] >= 0.0, f"{key} measured"


def test_weakened_assistant_scores_lower():
    metrics = run_eval(StubAssistant(reverse=True), QSET, progress=False).metrics
    assert metrics["hit@1"] == 0.0, f"reversed ranking puts relevant passages last: {metrics}"
    assert metrics["hit@5"] == 1.0, "five chunks only: all still in the top 5"
    assert 0 < metrics["mrr@10"] < 0.5, f"mrr drops: {metrics['mrr@10']}"
    assert metrics["false_abstention_rate"] == 1.0, "this double abstains when weakened"
    assert metrics["evidence_in_draft"] == 0.0, "abstentions hold no evidence"


def test_invalid_citations_are_counted():
    metrics = run_eval(StubAssistant(bad_citations=True), QSET, progress=False).metrics
    assert metrics["citation_validity"] == pytest.approx(1 / 5), \
        "only the abstention (no citation) is valid; 4 drafts cite a chunk never retrieved"


def test_without_ask_the_drafting_metrics_are_none():
    metrics = run_eval(SearchOnlyAssistant(), QSET, progress=False).metrics
    for key in ("abstention_rate", "false_abstention_rate", "citation_validity", "evidence_in_draft"):
        assert metrics[key] is None, f"{key} should be None without a drafting stage"
    assert metrics["latency_ms"]["draft_p50"] is None, "no draft latency"
    assert metrics["hit@1"] == 1.0, "retrieval still measured"


def test_details_record_each_question():
    result = run_eval(StubAssistant(), QSET, progress=False)
    by_id = {d["id"]: d for d in result.details}
    assert list(by_id) == ["ges", "label", "don", "deee", "meteo"], "file order kept"
    ges = by_id["ges"]
    assert ges["first_relevant_rank"] == 1, "c-ges ranks first"
    top = ges["retrieved"][0]
    assert set(top) >= {"rank", "chunk_id", "source", "page", "section", "score", "relevant", "text"}
    assert (top["rank"], top["chunk_id"], top["page"], top["relevant"]) == (1, "c-ges", 12, True)
    assert [r["relevant"] for r in ges["retrieved"]].count(True) == 1, "one relevant chunk only"
    assert ges["citations"][0]["valid"] is True and ges["abstained"] is False
    assert ges["retrieval_ms"] >= 0 and ges["draft_ms"] >= 0, "latencies recorded"
    meteo = by_id["meteo"]
    assert meteo["first_relevant_rank"] is None and meteo["abstained"] is True, "unanswerable abstains"
    assert meteo["evidence_in_draft"] is None, "evidence_in_draft is for answerable questions"


def test_retrieved_list_and_text_are_truncated():
    chunks = tuple(Chunk(f"c{i:02d}", "numerique " + "x" * 500, "/c/a.md", "A") for i in range(15))
    result = run_eval(StubAssistant(chunks), QSET, limit=1, progress=False)
    retrieved = result.details[0]["retrieved"]
    assert len(retrieved) == 10, f"metrics judge the top 10 only, got {len(retrieved)}"
    assert all(len(r["text"]) == 300 for r in retrieved), "text is cut to 300 characters"


def test_search_error_is_recorded_and_counted_as_not_found():
    failing = QSET.questions[0].question
    result = run_eval(StubAssistant(fail_on=failing), QSET, progress=False)
    first = result.details[0]
    assert first["error"] == "question refused by the test double", f"error: {first['error']}"
    assert first["retrieved"] == [] and first["draft"] is None, "no passages, no draft"
    assert result.metrics["hit@1"] == 0.75, "3 of the 4 answerable questions still found"


@pytest.mark.parametrize("limit, sample, seed, expected", [
    (None, None, 0, ["ges", "label", "don", "deee", "meteo"]),
    (2, None, 0, ["ges", "label"]),
    (10, None, 0, ["ges", "label", "don", "deee", "meteo"]),
    (None, 9, 0, ["ges", "label", "don", "deee", "meteo"]),
])
def test_select_questions(limit, sample, seed, expected):
    chosen = select_questions(QSET.questions, limit=limit, sample=sample, seed=seed)
    assert [q.id for q in chosen] == expected, f"limit={limit} sample={sample}"


def test_sample_is_seeded_and_keeps_file_order():
    ids = [q.id for q in QSET.questions]
    first = [q.id for q in select_questions(QSET.questions, sample=3, seed=7)]
    again = [q.id for q in select_questions(QSET.questions, sample=3, seed=7)]
    assert first == again, "same seed, same sample"
    assert len(first) == 3 and first == sorted(first, key=ids.index), f"file order kept: {first}"
    run = run_eval(StubAssistant(), QSET, sample=3, seed=7, limit=2, progress=False)
    assert [d["id"] for d in run.details] == first[:2], "sample, then limit"


@pytest.mark.parametrize("kwargs, message", [({"limit": 0}, "limit must be > 0"),
                                             ({"sample": -1}, "sample must be > 0")])
def test_select_questions_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        select_questions(QSET.questions, **kwargs)


def test_progress_is_silent_when_not_a_terminal(capsys):
    run_eval(StubAssistant(), QSET, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "", "no progress output outside a terminal"


def test_summarize_over_nothing_gives_none():
    metrics = summarize([])
    assert metrics["n"] == 0 and metrics["hit@5"] is None and metrics["citation_validity"] is None
    assert metrics["latency_ms"]["retrieval_p95"] is None, "no latency without questions"


def test_candidate_recall_counts_a_relevant_chunk_in_either_first_stage_list():
    import numpy as np

    from assistant.evaluation.questions import Question
    from assistant.evaluation.runner import candidate_rank, question_details, summarize
    from assistant.records import Chunk
    from assistant.retrieval.hybrid import FirstStage
    from assistant.retrieval.ranker import Candidate, profile

    def candidate(text, source, lexical, dense):
        chunk = Chunk(text[:8], text, source, "T")
        return Candidate(chunk, profile(chunk, []), 1.0, lexical, dense, np.ones((1, 3)))

    found = Question("q1", "?", True, ("300 €",), ("don.md",))
    missed = Question("q2", "?", True, ("absent",))
    stage = FirstStage("?", (candidate("plafond 300 € par bien", "/c/don.md", None, 42),
                             candidate("plafond 300 € par bien (copie)", "/c/don.pdf", 3, 1),
                             candidate("autre chose", "/c/x.md", 1, 2)), np.zeros((3, 1)))
    assert candidate_rank(found, stage) == 42, "the copy in another file does not count"
    assert candidate_rank(missed, stage) is None
    details = [question_details(q, [], None, retrieval_ms=1.0, stage=stage) for q in (found, missed)]
    metrics = summarize(details, drafting=False)
    assert (metrics["candidate_recall@20"], metrics["candidate_recall@50"]) == (0.0, 0.5), metrics
    no_stage = summarize([question_details(found, [], None, retrieval_ms=1.0)], drafting=False)
    assert no_stage["candidate_recall@100"] is None, "no first stage known: not measured"


def _record(qid, answerable, outcome, evidence=None, first=None, bullets=0, cut=(), rank=1):
    return {"id": qid, "answerable": answerable, "retrieved": [], "first_relevant_rank": rank,
            "draft": "x", "abstained": outcome == "abstain", "outcome": outcome, "citations_valid": True,
            "evidence_in_draft": evidence, "evidence_first": first, "bullets": bullets,
            "cut_bullets": [{"bullet": b, "reason": "introduces a list"} for b in cut],
            "retrieval_ms": 1.0, "draft_ms": 1.0}


def test_draft_metrics_from_records():
    records = [
        _record("a1", True, "answer", True, True, bullets=3),
        _record("a2", True, "partial", True, False, bullets=2, cut=["Les étapes :"]),
        _record("a3", True, "answer", False, False, bullets=3, rank=2),     # selection miss
        _record("a4", True, "abstain", False, False, rank=None),            # retrieval miss
        _record("a5", True, "abstain", False, False, rank=1),               # abstention miss
        _record("u1", False, "abstain"), _record("u2", False, "partial", bullets=2),
    ]
    metrics = summarize(records)
    assert metrics["evidence_first"] == 1 / 5 and metrics["evidence_in_draft"] == 2 / 5, metrics
    assert metrics["bullets_per_draft"] == (3 + 2 + 3 + 2) / 4, "over drafts that do not abstain"
    assert metrics["cut_sentence_rate"] == 1 / 10, "one cut bullet of ten"
    assert metrics["outcomes"]["answerable"] == {"answer": 0.4, "partial": 0.2, "abstain": 0.4}
    assert metrics["outcomes"]["unanswerable"] == {"answer": 0.0, "partial": 0.5, "abstain": 0.5}
    assert metrics["abstention_rate"] == 0.5, "a partial draft is not an abstention"
    assert metrics["evidence_misses"] == {"retrieval": 1, "abstention": 1, "selection": 1}, metrics


def test_details_record_the_outcome_bullets_and_cut_sentences():
    details = {d["id"]: d for d in run_eval(StubAssistant(), QSET, progress=False).details}
    assert details["ges"]["outcome"] == "answer" and details["meteo"]["outcome"] == "abstain"
    assert details["ges"]["bullets"] == 1 and details["ges"]["evidence_first"] is True, details["ges"]
    assert details["meteo"]["bullets"] == 0 and details["meteo"]["evidence_first"] is None
