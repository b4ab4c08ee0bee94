"""`guichet tune` on a tiny real index and a tiny question set taken from the sample set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.evaluation.questions import load_question_set
from assistant.retrieval.ranker import LinearRanker

pytestmark = pytest.mark.slow  # ingests real documents with the real model

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ["don-materiel-informatique.md", "deee-recyclage.md", "exiger-un-label.md", "indice-reparabilite.md"]


def guichet(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          env={**env, "GUICHET_HOME": str(home)}, timeout=600)


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A GUICHET_HOME with four sample guides ingested, and a set of their sample questions."""
    root = tmp_path_factory.mktemp("tune")
    docs, home = root / "docs", root / "home"
    docs.mkdir()
    for name in GUIDES:
        (docs / name).write_bytes((ROOT / "corpus" / "guides" / name).read_bytes())
    done = guichet("ingest", str(docs), "--json", home=home)
    assert done.returncode == 0, done.stderr
    sample = load_question_set(ROOT / "evals" / "sample-questions.yaml")
    chosen = [q for q in sample.questions if set(q.sources) & set(GUIDES)]
    chosen += [q for q in sample.questions if not q.answerable][:2]
    rows = [{"id": q.id, "question": q.question, "answerable": q.answerable,
             **({"evidence": list(q.evidence), "source": list(q.sources)} if q.answerable else {})}
            for q in chosen]
    questions = root / "tiny.yaml"
    questions.write_text(yaml.safe_dump({"version": 1, "questions": rows}, allow_unicode=True), encoding="utf-8")
    return home, questions, len(rows)


def test_a_dry_run_reports_out_of_fold_figures_and_writes_nothing(desk):
    home, questions, n = desk
    done = guichet("tune", str(questions), "--folds", "2", "--dry-run", "--json", home=home)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    result = report["sets"]["tiny.yaml"]
    assert result["n"] == n and report["written"] is None, report
    assert 0 <= result["out_of_fold"]["hit@5"] <= 1 and result["candidate_recall"]["recall@100"] > 0, result
    assert result["before"] is not None, "the shipped parameters are reported beside"
    assert not (home / "ranker.json").exists(), "a dry run writes nothing"


def test_tuning_writes_the_desk_parameters_then_reset_goes_back(desk):
    home, questions, n = desk
    done = guichet("tune", str(questions), "--folds", "2", "--json", home=home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["written"] == str(home / "ranker.json")
    tuned = LinearRanker.load(home / "ranker.json")
    assert tuned.fitted["questions"] == n and "tiny.yaml" in tuned.fitted["sets"], tuned.fitted
    found = guichet("search", "don de matériel informatique à une association", "--json", home=home)
    assert found.returncode == 0 and json.loads(found.stdout), found.stderr
    reset = guichet("tune", "--reset", home=home)
    assert reset.returncode == 0 and "shipped parameters" in reset.stdout, reset.stderr
    assert not (home / "ranker.json").exists()


@pytest.mark.parametrize("args, message", [
    ((), "give at least one QUESTIONS.yaml"),
    (("--reset", "x.yaml"), "--reset takes no question set"),
    (("{questions}", "--folds", "60"), "Error: cannot fit the ranker: .* distinct groups cannot fill 60 folds"),
    (("missing.yaml",), "Error: missing.yaml: no such question set file"),
])
def test_bad_calls_fail_in_one_line(desk, args, message):
    home, questions, _ = desk
    done = guichet("tune", *(a.format(questions=questions) for a in args), home=home)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert re.search(message, done.stderr), done.stderr
    assert "Traceback" not in done.stderr
