"""compare_runs: deltas, planted regression, tolerance, latency gate, bad run folders."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation.compare import RunFolderError, compare_runs, read_run
from assistant.evaluation.questions import parse_question_set
from assistant.evaluation.report import write_run
from assistant.evaluation.runner import EvalResult, run_eval

from .doubles import QUESTIONS_YAML, StubAssistant

QSET = parse_question_set(QUESTIONS_YAML)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    good = run_eval(StubAssistant(), QSET, progress=False)
    weak = run_eval(StubAssistant(reverse=True), QSET, progress=False)
    return {
        "good": write_run(root / "good", {"default": good}),
        "good2": write_run(root / "good2", {"default": good}),
        "weak": write_run(root / "weak", {"default": weak}),
    }


def _with_metrics(tmp_path, name, **changes):
    """A run folder holding hand-set metrics (details: none), for gate arithmetic."""
    metrics = {"n": 5, "hit@5": 0.80, "false_abstention_rate": 0.10,
               "latency_ms": {"retrieval_p50": 10.0, "retrieval_p95": 20.0}}
    for key, value in changes.items():
        if key.startswith("retrieval_"):
            metrics["latency_ms"][key] = value
        else:
            metrics[key] = value
    folder = tmp_path / name
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"format": 1}))
    (folder / "metrics.json").write_text(json.dumps({"default": metrics}))
    (folder / "details.jsonl").write_text("")
    return folder


def test_identical_runs_have_no_regression(runs):
    comparison = compare_runs(runs["good"], runs["good2"])
    assert not comparison.has_regression, f"regressions: {comparison.regressions}"
    assert all(d.delta in (0.0, None) or d.metric.startswith("latency") for d in comparison.metrics)
    assert comparison.newly_failing == () and comparison.newly_passing == ()


def test_planted_regression_is_flagged(runs):
    comparison = compare_runs(runs["good"], runs["weak"])
    flagged = {d.metric for d in comparison.regressions}
    assert {"hit@1", "hit@3", "mrr@10", "ndcg@10", "false_abstention_rate",
            "evidence_in_draft"} <= flagged, f"flagged: {flagged}"
    assert "hit@5" not in flagged, "hit@5 did not move"
    assert not any(m.startswith("latency") for m in flagged), "latency not gated by default"
    hit1 = next(d for d in comparison.metrics if d.metric == "hit@1")
    assert (hit1.a, hit1.b, hit1.delta) == (1.0, 0.0, -1.0), f"hit@1 delta: {hit1}"


def test_improvement_is_not_a_regression_and_questions_pass(runs):
    comparison = compare_runs(runs["weak"], runs["good"])
    assert not comparison.has_regression, f"improvement flagged: {comparison.regressions}"


@pytest.mark.parametrize("b_changes, tolerance, regression", [
    pytest.param({"hit@5": 0.79}, 0.02, False, id="drop-within-tolerance"),
    pytest.param({"hit@5": 0.78}, 0.02, False, id="drop-equal-to-tolerance"),
    pytest.param({"hit@5": 0.77}, 0.02, True, id="drop-beyond-tolerance"),
    pytest.param({"hit@5": 0.79}, 0.0, True, id="zero-tolerance"),
    pytest.param({"false_abstention_rate": 0.15}, 0.02, True, id="lower-is-better-rises"),
    pytest.param({"false_abstention_rate": 0.0}, 0.02, False, id="lower-is-better-falls"),
    pytest.param({"hit@5": None}, 0.02, False, id="metric-no-longer-measured"),
    pytest.param({"retrieval_p95": 200.0}, 0.02, False, id="latency-ungated-by-default"),
])
def test_tolerance_gate(tmp_path, b_changes, tolerance, regression):
    a, b = _with_metrics(tmp_path, "a"), _with_metrics(tmp_path, "b", **b_changes)
    comparison = compare_runs(a, b, tolerance)
    assert comparison.has_regression is regression, f"{b_changes}: {comparison.regressions}"


@pytest.mark.parametrize("p95, latency_tolerance, regression", [
    (29.0, 0.5, False), (31.0, 0.5, True), (20.0, 0.0, False),
])
def test_latency_gate_is_separate_and_relative(tmp_path, p95, latency_tolerance, regression):
    a, b = _with_metrics(tmp_path, "a"), _with_metrics(tmp_path, "b", retrieval_p95=p95)
    comparison = compare_runs(a, b, latency_tolerance=latency_tolerance)
    assert comparison.has_regression is regression, f"p95 20 -> {p95}, tolerance {latency_tolerance}"


def test_newly_failing_and_passing_questions(tmp_path):
    def result(rank_don):
        details = [{"id": "don", "question": "q", "answerable": True, "first_relevant_rank": rank_don},
                   {"id": "meteo", "question": "m", "answerable": False, "first_relevant_rank": None}]
        return EvalResult({"n": 2}, tuple(details))
    for name, rank in (("a", 2), ("b", 7), ("c", None)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps({"format": 1}))
        (folder / "metrics.json").write_text(json.dumps({"default": {"n": 2}}))
        (folder / "details.jsonl").write_text("\n".join(
            json.dumps({"config": "default", **d}) for d in result(rank).details))
    failing = compare_runs(tmp_path / "a", tmp_path / "b")
    assert [(c.id, c.rank_a, c.rank_b) for c in failing.newly_failing] == [("don", 2, 7)]
    passing = compare_runs(tmp_path / "c", tmp_path / "a")
    assert [(c.id, c.rank_a, c.rank_b) for c in passing.newly_passing] == [("don", None, 2)]
    assert compare_runs(tmp_path / "b", tmp_path / "c").newly_failing == (), "fail -> fail is no change"


def test_warnings_for_different_sets_and_configurations(tmp_path):
    a = _with_metrics(tmp_path, "a")
    b = _with_metrics(tmp_path, "b", n=7)
    comparison = compare_runs(a, b)
    assert any("5 and 7 questions" in w for w in comparison.warnings), comparison.warnings
    (b / "metrics.json").write_text(json.dumps({"lexical": {"n": 5}}))
    comparison = compare_runs(a, b)
    assert any("share no configuration" in w for w in comparison.warnings), comparison.warnings
    assert comparison.metrics == (), "nothing compared"


@pytest.mark.parametrize("breakage, message", [
    pytest.param("missing-folder", "no such run folder", id="missing-folder"),
    pytest.param("no-run-json", "run.json is missing", id="no-run-json"),
    pytest.param("no-details", "details.jsonl is missing", id="no-details"),
    pytest.param("format-2", "run folder format 2, this version reads format 1", id="format-2"),
    pytest.param("no-format", "run folder format None", id="no-format"),
    pytest.param("bad-json", "metrics.json: invalid JSON at line 1", id="bad-json"),
    pytest.param("bad-details", "details.jsonl: line 1", id="bad-details"),
])
def test_bad_run_folders_fail_clearly(runs, tmp_path, breakage, message):
    import shutil
    folder = tmp_path / "run"
    if breakage != "missing-folder":
        shutil.copytree(runs["good"], folder)
    if breakage == "no-run-json":
        (folder / "run.json").unlink()
    elif breakage == "no-details":
        (folder / "details.jsonl").unlink()
    elif breakage == "format-2":
        (folder / "run.json").write_text(json.dumps({"format": 2}))
    elif breakage == "no-format":
        (folder / "run.json").write_text(json.dumps({"version": "0.0.1"}))
    elif breakage == "bad-json":
        (folder / "metrics.json").write_text("{not json")
    elif breakage == "bad-details":
        (folder / "details.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(RunFolderError, match=message.replace("(", r"\(")):
        compare_runs(runs["good"], folder)


def test_negative_tolerance_is_refused(runs):
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        compare_runs(runs["good"], runs["good2"], -0.1)


def test_read_run_round_trips_details(runs):
    run = read_run(runs["good"])
    assert set(run.details["default"]) == {q.id for q in QSET.questions}, "every question read back"
    assert run.info["format"] == 1 and "default" in run.metrics


def test_to_dict_is_json_ready(runs):
    data = compare_runs(runs["good"], runs["weak"]).to_dict()
    assert json.loads(json.dumps(data))["regression"] is True, "JSON carries the gate result"


def test_nested_draft_metrics_are_compared_but_not_gated(tmp_path):
    a = _with_metrics(tmp_path, "a", cut_sentence_rate=0.0, bullets_per_draft=3.5,
                      outcomes={"unanswerable": {"abstain": 0.8, "partial": 0.1}})
    b = _with_metrics(tmp_path, "b", cut_sentence_rate=0.05, bullets_per_draft=2.0,
                      outcomes={"unanswerable": {"abstain": 0.8, "partial": 0.3}})
    comparison = compare_runs(a, b)
    by_metric = {d.metric: d for d in comparison.metrics}
    assert by_metric["outcomes.unanswerable.partial"].delta == pytest.approx(0.2), by_metric
    assert not by_metric["outcomes.unanswerable.partial"].regression, "a split has no better direction"
    assert not by_metric["bullets_per_draft"].regression, "fewer bullets is not worse"
    assert by_metric["cut_sentence_rate"].regression, "more cut sentences is worse"
