"""`guichet eval` end to end through click, with the pipeline replaced by test doubles."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import assistant.cli.eval as eval_cli
from assistant.cli import cli
from assistant.evaluation.questions import load_question_set
from assistant.evaluation.runner import METRIC_KEYS

from .doubles import QUESTIONS_YAML, StubAssistant
from .test_export import RECORDS

# Test double of assistant.pipeline.CONFIGS: configuration names and their setting overrides.
CONFIGS = {"default": {}, "weak": {"lexical_weight": 0.0}}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """GUICHET_HOME in tmp_path, a question file, and the pipeline seams replaced by doubles."""
    monkeypatch.setenv("GUICHET_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(eval_cli, "_config_overrides", lambda: CONFIGS)
    monkeypatch.setattr(eval_cli, "_open_assistant",
                        lambda settings, name: StubAssistant(reverse=(name == "weak")))
    monkeypatch.setattr(eval_cli, "_reviewed_records", lambda settings: RECORDS)
    questions = tmp_path / "questions.yaml"
    questions.write_text(QUESTIONS_YAML, encoding="utf-8")
    return tmp_path, questions


def _run(*args: str):
    return CliRunner().invoke(cli, ["eval", *args], catch_exceptions=False)


def test_eval_json_prints_the_contract(env):
    tmp_path, questions = env
    result = _run(str(questions), "--json", "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert tuple(metrics) == METRIC_KEYS, f"contract keys: {list(metrics)}"
    assert metrics["n"] == 5 and metrics["hit@1"] == 1.0, metrics
    assert (tmp_path / "run" / "report.md").exists(), "run folder written"


def test_default_run_folder_is_dated_under_home(env):
    tmp_path, questions = env
    result = _run(str(questions), "--limit", "2")
    assert result.exit_code == 0, result.output
    runs = list((tmp_path / "home" / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "metrics.json").exists(), f"runs: {runs}"
    assert json.loads((runs[0] / "metrics.json").read_text())["default"]["n"] == 2, "--limit applied"
    assert "hit@1" in result.stdout and "Run folder:" in result.stderr, "table and folder shown"


def test_explicit_run_subcommand_and_sample(env):
    tmp_path, questions = env
    result = _run("run", str(questions), "--sample", "3", "--seed", "1", "--json", "-q",
                  "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 3, "three sampled questions"


def test_several_configurations_side_by_side(env):
    tmp_path, questions = env
    result = _run(str(questions), "--config", "default", "--config", "weak", "--json", "-q",
                  "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload["configs"]) == ["default", "weak"], payload
    assert payload["configs"]["weak"]["hit@1"] < payload["configs"]["default"]["hit@1"]
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "| metric | default | weak |" in report, "report shows both configurations"
    table = _run(str(questions), "--config", "default", "--config", "weak", "-q",
                 "--out", str(tmp_path / "run2"))
    assert "default" in table.stdout and "weak" in table.stdout, "comparison table printed"


def test_the_naive_baseline_runs_beside_the_default_unless_asked_otherwise(env, monkeypatch):
    tmp_path, questions = env
    monkeypatch.setattr(eval_cli, "_config_overrides", lambda: {**CONFIGS, "naive": {}})
    result = _run(str(questions), "--json", "-q", "--out", str(tmp_path / "both"))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert tuple(k for k in payload if k != "baseline") == METRIC_KEYS, "the contract stays at the top level"
    assert set(payload["baseline"]) == {"naive"} and payload["baseline"]["naive"]["n"] == 5, payload
    assert "| metric | default | naive |" in (tmp_path / "both" / "report.md").read_text(encoding="utf-8")
    alone = json.loads(_run(str(questions), "--json", "-q", "--no-baseline", "--out", str(tmp_path / "one")).stdout)
    assert "baseline" not in alone and tuple(alone) == METRIC_KEYS


def test_unknown_configuration_is_one_line_error(env):
    _, questions = env
    result = _run(str(questions), "--config", "nope")
    assert result.exit_code == 2, result.output
    assert "Error: unknown configuration 'nope': choose from default, weak" in result.stderr
    assert "Traceback" not in result.output


def test_malformed_question_set_is_one_line_error(env):
    tmp_path, _ = env
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: maybe\n")
    result = _run(str(bad), "--json")
    assert result.exit_code == 2, result.output
    assert f"{bad}: question 'a' (#1): field 'answerable'" in result.stderr, result.stderr
    assert result.stdout == "", "nothing on stdout for a failed run"


def test_unknown_source_is_warned(env):
    tmp_path, questions = env
    result = _run(str(questions), "-q", "--json", "--out", str(tmp_path / "run"))
    assert "Warning: source 'autre-guide.md'" in result.stderr, result.stderr
    assert result.exit_code == 0, "a warning, not a failure"


def test_compare_exits_1_on_planted_regression(env, monkeypatch):
    tmp_path, questions = env
    for name in ("base", "same"):
        assert _run(str(questions), "-q", "--out", str(tmp_path / name)).exit_code == 0
    # The planted regression: the candidate run uses a deliberately weakened assistant under the
    # same configuration name.
    monkeypatch.setattr(eval_cli, "_open_assistant", lambda settings, name: StubAssistant(reverse=True))
    assert _run(str(questions), "-q", "--out", str(tmp_path / "worse")).exit_code == 0
    same = _run("--compare", str(tmp_path / "base"), str(tmp_path / "same"))
    assert same.exit_code == 0, same.output
    assert "No regression beyond tolerance 0.02" in same.stdout
    worse = _run("--compare", str(tmp_path / "base"), str(tmp_path / "worse"))
    assert worse.exit_code == 1, worse.output
    assert "REGRESSION" in worse.stdout and "hit@1" in worse.stdout, worse.stdout
    as_json = _run("--compare", str(tmp_path / "base"), str(tmp_path / "worse"), "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["regression"] is True
    lenient = _run("--compare", str(tmp_path / "base"), str(tmp_path / "worse"), "--tolerance", "1")
    assert lenient.exit_code == 0, "every drop is within a tolerance of 1"


def test_compare_incompatible_folder_is_one_line_error(env):
    tmp_path, _ = env
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "run.json").write_text('{"format": 0}')
    (tmp_path / "old" / "metrics.json").write_text("{}")
    (tmp_path / "old" / "details.jsonl").write_text("")
    result = _run("--compare", str(tmp_path / "old"), str(tmp_path / "old"))
    assert result.exit_code == 2, result.output
    assert "run folder format 0, this version reads format 1" in result.stderr, result.stderr


@pytest.mark.parametrize("args, message", [
    pytest.param(["q.yaml", "--compare", "a", "b"], "either QUESTIONS.yaml or --compare", id="both"),
    pytest.param(["--json"], "missing QUESTIONS.yaml", id="neither"),
    pytest.param(["q.yaml", "--limit", "0"], "--limit", id="limit-zero"),
    pytest.param(["--compare", "a"], "--compare", id="compare-one-folder"),
])
def test_usage_errors(env, args, message):
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output


def test_help_lists_every_form(env):
    result = _run("--help")
    assert result.exit_code == 0, result.output
    for text in ("guichet eval QUESTIONS.yaml", "--compare RUN_A RUN_B", "export-reviewed"):
        assert text in result.stdout, f"{text!r} missing from help"
    assert "--tolerance" in _run("run", "--help").stdout, "run's own help"


def test_no_arguments_shows_help(env):
    result = _run()
    assert "export-reviewed" in result.output, result.output


def test_export_reviewed_round_trip(env):
    tmp_path, _ = env
    out = tmp_path / "reviewed.yaml"
    result = _run("export-reviewed", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote 2 questions to {out}" in result.stdout
    assert "Skipped reviewed-3" in result.stderr, "skipped records are reported"
    assert len(load_question_set(out).questions) == 2, "the export loads"
    again = _run("export-reviewed", "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.stderr, "no silent overwrite"
    forced = _run("export-reviewed", "--out", str(out), "--force", "--json")
    assert forced.exit_code == 0 and json.loads(forced.stdout)["written"] == 2
    evaluated = _run(str(out), "--json", "-q", "--out", str(tmp_path / "run"))
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["n"] == 2, "the exported set evaluates without error"
