"""Run folders: files, secrets left out, valid PNGs referenced from report.md."""

from __future__ import annotations

import json

import matplotlib.image
import pytest

from assistant.config import Settings
from assistant.errors import GuichetError
from assistant.evaluation.questions import parse_question_set
from assistant.evaluation.report import (RUN_FORMAT, default_run_dir, hit_rate_by_source,
                                         safe_settings, write_run)
from assistant.evaluation.runner import EvalResult, run_eval

from .doubles import QUESTIONS_YAML, SearchOnlyAssistant, StubAssistant

QSET = parse_question_set(QUESTIONS_YAML)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results():
    return {"default": run_eval(StubAssistant(), QSET, progress=False),
            "weak": run_eval(StubAssistant(reverse=True), QSET, progress=False)}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, results):
    tmp_path = tmp_path_factory.mktemp("report")
    settings = Settings(home=tmp_path, llm_api_key="sk-secret-value", smtp_password="hunter2",
                        database_url="postgresql://guichet:pg-pass@db:5432/guichet")
    fingerprints = {name: StubAssistant().index_fingerprint() for name in results}
    return write_run(tmp_path / "run", results, settings=settings, fingerprints=fingerprints,
                     review_metrics={"acceptance_rate": 0.8, "edit_ratio_mean": 0.15,
                                     "time_to_answer_s": 640.0},
                     question_set="evals/test.yaml", config_overrides={"weak": {"top_k": 1}})


def test_run_folder_holds_every_file(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    expected = {"run.json", "settings.json", "index.json", "metrics.json", "details.jsonl",
                "review.json", "report.md", "metrics.png", "hit_at_k.png", "latency.png",
                "hit_by_source.png"}
    assert expected <= names, f"missing: {expected - names}"


def test_run_json_records_format_version_and_configs(run_dir):
    info = json.loads((run_dir / "run.json").read_text())
    assert info["format"] == RUN_FORMAT, "format version for --compare"
    assert info["configs"] == ["default", "weak"], "configuration order kept"
    assert info["version"] == "0.1.0" or info["version"] is None, f"version: {info['version']}"
    assert info["git_commit"] is None or len(info["git_commit"]) >= 40, "full commit hash or null"
    assert info["config_overrides"] == {"default": {}, "weak": {"top_k": 1}}


def test_settings_json_has_no_secret(run_dir):
    text = (run_dir / "settings.json").read_text()
    for secret in ("sk-secret-value", "hunter2", "pg-pass", "llm_api_key", "smtp_password", "chroma_token"):
        assert secret not in text, f"{secret!r} leaked into settings.json"
    data = json.loads(text)
    assert data["database_url"] == "postgresql://guichet:***@db:5432/guichet", "URL password redacted"
    assert data["top_k"] == 5, "ordinary settings kept"


@pytest.mark.parametrize("data, expected", [
    ({"x_key": "a", "x_token": "b", "x_password": "c", "keep": 1}, {"keep": 1}),
    ({"url": "http://user@host/x"}, {"url": "http://user@host/x"}),
    ({"url": "https://u:p@h:8000"}, {"url": "https://u:***@h:8000"}),
])
def test_safe_settings(data, expected):
    assert safe_settings(data) == expected, f"safe_settings({data})"


def test_metrics_details_and_index(run_dir, results):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics == {name: r.metrics for name, r in results.items()}, "metrics per configuration"
    lines = (run_dir / "details.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 * len(QSET.questions), "one line per question and configuration"
    first = json.loads(lines[0])
    assert (first["config"], first["id"]) == ("default", "ges"), f"first record: {first['id']}"
    index = json.loads((run_dir / "index.json").read_text())
    assert "/corpus/fin-usage--don.md" in index["default"]["documents"], "fingerprint written"


def test_pngs_are_valid_and_referenced(run_dir):
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    for name in ("metrics.png", "hit_at_k.png", "latency.png", "hit_by_source.png"):
        data = (run_dir / name).read_bytes()
        assert data.startswith(PNG_MAGIC), f"{name} is not a PNG"
        height, width = matplotlib.image.imread(run_dir / name).shape[:2]
        assert width > 300 and height > 200, f"{name} is {width}x{height}"
        assert f"]({name})" in report, f"report.md does not show {name}"


def test_report_sections(run_dir):
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    for heading in ("## Metrics", "## hit@k", "## Latency", "## hit@5 per source document",
                    "## Draft quality (review database)", "## Failed questions: default",
                    "## Failed questions: weak"):
        assert heading in report, f"missing section {heading}"
    assert "| acceptance rate | 0.800 |" in report, "review metrics shown"
    assert "| metric | default | weak |" in report, "configurations side by side"


def test_failed_questions_show_what_was_retrieved_instead(tmp_path):
    # A double that never finds the 'don' passage: it drops that chunk from its index.
    from .doubles import CHUNKS
    result = run_eval(StubAssistant(tuple(c for c in CHUNKS if c.id != "c-don")), QSET, progress=False)
    folder = write_run(tmp_path / "run", {"default": result})
    report = (folder / "report.md").read_text(encoding="utf-8")
    section = report.split("## Failed questions: default")[1]
    assert "**don**" in section, "the failed question is listed"
    assert "**ges**" not in section, "found questions are not listed"
    assert "no relevant passage in the top 10" in section
    assert section.count("  1. ") >= 1 and "  3. " in section, "top 3 retrieved passages listed"
    assert "`fin-usage--faq.md`, Ordinateurs anciens" in section or "p. " in section, "locations shown"


def test_search_only_run_reports_na_and_draws_empty_latency(tmp_path):
    folder = write_run(tmp_path / "run", {"default": run_eval(SearchOnlyAssistant(), QSET, progress=False)})
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "| citation_validity | n/a |" in report, "missing drafting shown as n/a"
    assert not (folder / "review.json").exists(), "no review data, no review.json"
    assert (folder / "latency.png").read_bytes().startswith(PNG_MAGIC), "plot drawn anyway"


def test_refuses_to_overwrite_a_run(run_dir, results):
    with pytest.raises(GuichetError, match="already holds a run"):
        write_run(run_dir, results)


def test_refuses_no_result(tmp_path):
    with pytest.raises(GuichetError, match="no evaluation result"):
        write_run(tmp_path / "x", {})


def test_default_run_dir_is_dated_under_home(tmp_path):
    from datetime import datetime, timezone
    path = default_run_dir(tmp_path, datetime(2025, 3, 14, 10, 15, 0, tzinfo=timezone.utc))
    assert path == tmp_path / "runs" / "20250314T101500Z", f"got {path}"
    path.mkdir(parents=True)
    again = default_run_dir(tmp_path, datetime(2025, 3, 14, 10, 15, 0, tzinfo=timezone.utc))
    assert again.name == "20250314T101500Z-2", f"same second, new folder: {again}"


def test_hit_rate_by_source():
    details = [
        {"answerable": True, "sources": ["a.md", "b.pdf"], "first_relevant_rank": 2},
        {"answerable": True, "sources": ["a.md"], "first_relevant_rank": 6},
        {"answerable": True, "sources": [], "first_relevant_rank": None},
        {"answerable": False, "sources": [], "first_relevant_rank": None},
    ]
    assert hit_rate_by_source(details) == {"(any)": (0, 1), "a.md": (1, 2), "b.pdf": (1, 1)}
    assert hit_rate_by_source([]) == {}, "no question, no source"


def test_report_shows_outcomes_evidence_misses_and_cut_bullets(tmp_path):
    result = run_eval(StubAssistant(), QSET, progress=False)
    details = list(result.details)
    details[0] = {**details[0], "cut_bullets": [{"bullet": "Les étapes :", "reason": "introduces a list"}]}
    folder = write_run(tmp_path / "run", {"default": EvalResult(result.metrics, tuple(details))})
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Draft outcomes" in report and "| unanswerable: abstain | 1.000 |" in report, report
    assert "## Answerable drafts without their evidence" in report and "| retrieval | 0 |" in report
    assert "- **ges** (introduces a list): Les étapes :" in report
    assert "| evidence_first | 1.000 |" in report and "| bullets_per_draft | 1.000 |" in report
    search_only = write_run(tmp_path / "search", {"default": run_eval(SearchOnlyAssistant(), QSET, progress=False)})
    assert "## Draft outcomes" not in (search_only / "report.md").read_text(encoding="utf-8")
