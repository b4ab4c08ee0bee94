"""`guichet calibrate` and `guichet ask` over a real index (real embedder, real retriever), and
the command's bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from assistant.cli import cli
from assistant.cli import commands  # noqa: F401  (registers the subcommands)
from assistant.drafting.abstention import OWN_FILE, load_model

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ["don-materiel-informatique.md", "deee-recyclage.md", "exiger-un-label.md", "indice-reparabilite.md"]
RESOURCES = ROOT / "corpus" / "resources" / "ressources.yaml"

QUESTIONS = [
    ("don-1", "valeur maximale d'un ordinateur donné à une association ?", ["300"], "don-materiel-informatique.md"),
    ("don-2", "qui paie le transport quand on donne des ordis ?", ["bénéficiaire"], "don-materiel-informatique.md"),
    ("deee-1", "un pc de plus de 10 ans part en DEEE ?", ["DEEE"], "deee-recyclage.md"),
    ("label-1", "je peux exiger un label précis dans mon marché ?", ["label"], "exiger-un-label.md"),
    ("repa-1", "l'indice de réparabilité est noté sur combien ?", ["10"], "indice-reparabilite.md"),
    ("no-1", "quelle est la recette de la blanquette de veau ?", None, None),
    ("no-2", "qui a gagné la coupe du monde de rugby 2023 ?", None, None),
    ("no-3", "combien de jours de congé pour un mariage dans la fonction publique ?", None, None),
]


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("home")
    docs = tmp_path_factory.mktemp("docs")
    for name in GUIDES:
        (docs / name).write_bytes((ROOT / "corpus" / "guides" / name).read_bytes())
    (docs / RESOURCES.name).write_bytes(RESOURCES.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")} | {"GUICHET_HOME": str(home)}
    done = run("-m", "assistant", "ingest", str(docs), "--json", env=env)
    assert done.returncode == 0, done.stderr
    return home, env


def write_set(path: Path) -> Path:
    path.write_text(yaml.safe_dump({"version": 1, "questions": [
        {"id": i, "question": q, "answerable": e is not None, **({"evidence": e, "source": s} if e else {})}
        for i, q, e, s in QUESTIONS]}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_calibrate_writes_the_desk_model_that_drafts_use_then_reset_removes_it(indexed, tmp_path):
    home, env = indexed
    qset = write_set(tmp_path / "questions.yaml")
    done = run("-m", "assistant", "calibrate", str(qset), "--folds", "2", "--drafts", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 8 and report["n_unanswerable"] == 3, report
    assert report["written"] == str(home / OWN_FILE) and "questions" not in report, report
    drafts = report["sets"]["questions.yaml"]["drafts"]
    assert drafts["citation_validity"] == 1.0 and drafts["cut_sentence_rate"] == 0.0, drafts
    assert set(drafts["outcomes"]["unanswerable"]) == {"answer", "partial", "abstain"}
    assert load_model(home).features == tuple(report["weights"]), "the desk's file is the one drafts load"
    assert json.loads((home / OWN_FILE).read_text(encoding="utf-8"))["fitted"]["n"] == 8
    table = run("-m", "assistant", "calibrate", str(qset), "--folds", "2", "--dry-run", env=env)
    assert table.returncode == 0 and "out of fold" in table.stdout and "Dry run" in table.stderr, table
    reset = run("-m", "assistant", "calibrate", "--reset", env=env)
    assert reset.returncode == 0 and not (home / OWN_FILE).exists(), reset


@pytest.mark.slow
def test_calibrate_pools_a_set_over_another_index_and_writes_where_told(indexed, tmp_path):
    home, env = indexed
    qset = write_set(tmp_path / "questions.yaml")
    out = tmp_path / "shipped" / "abstention.json"
    empty = {**env, "GUICHET_HOME": str(tmp_path / "other")}
    done = run("-m", "assistant", "calibrate", "--also-index", str(home), str(qset), "--folds", "2",
               "--details", "--json", "--out", str(out), env=empty)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [q["id"] for q in report["questions"]] == [q[0] for q in QUESTIONS], report["questions"]
    assert {"coverage_passage", "outcome", "probability", "answerable"} <= set(report["questions"][0])
    assert load_model(out.parent).features == tuple(report["weights"]) and not (tmp_path / "other" / OWN_FILE).exists()


def calibrate(*args: str, home: Path):
    return CliRunner().invoke(cli, ["calibrate", *args], env={"GUICHET_HOME": str(home)})


@pytest.mark.parametrize("args, message", [
    ((), "give at least one QUESTIONS.yaml"),
    (("--reset", "x.yaml"), "--reset takes no question set"),
    (("--max-answered", "1.5", "x.yaml"), "--max-answered"),
    (("--folds", "1", "x.yaml"), "--folds"),
])
def test_calibrate_usage_errors(tmp_path, args, message):
    result = calibrate(*args, home=tmp_path)
    assert result.exit_code == 2 and message in result.output, result.output


def test_calibrate_fails_in_one_line_on_a_bad_set_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nquestions: 3\n", encoding="utf-8")
    result = calibrate(str(bad), home=tmp_path)
    assert result.exit_code == 2 and result.output.startswith("Error: "), result.output
    assert result.output.count("\n") == 1 and not (tmp_path / OWN_FILE).exists(), result.output


def test_calibrate_refuses_two_sets_of_one_name(tmp_path):
    for folder in ("a", "b"):
        write_set(Path(tmp_path, folder).mkdir() or tmp_path / folder / "q.yaml")
    result = calibrate(str(tmp_path / "a" / "q.yaml"), "--also-index", str(tmp_path), str(tmp_path / "b" / "q.yaml"),
                       home=tmp_path)
    assert result.exit_code == 2 and "share the name 'q.yaml'" in result.output, result.output


def test_calibrate_reset_without_a_desk_model_says_so(tmp_path):
    result = calibrate("--reset", home=tmp_path)
    assert result.exit_code == 0 and "already use the shipped" in result.output, result.output


@pytest.mark.slow
def test_ask_gives_the_outcome_and_its_reason(indexed):
    _, env = indexed
    answered = json.loads(run("-m", "assistant", "ask", "valeur maximale d'un ordinateur donné à une association ?",
                              "--json", env=env).stdout)
    assert answered["outcome"] in ("answer", "partial") and answered["reason"], answered
    assert answered["citations"] and not answered["abstained"], answered
    off = run("-m", "assistant", "ask", "quelle est la recette de la blanquette de veau ?", env=env)
    assert off.returncode == 0 and "[abstention] " in off.stdout, off.stdout
    assert "Ces interlocuteurs peuvent vous orienter" in off.stdout or "réseau régional" in off.stdout, off.stdout
