"""The abstention fit and `guichet ask` over a real index (real embedder, real retriever)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.drafting.abstention import load_model

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


@pytest.mark.slow
def test_fit_writes_a_parameter_file_and_an_out_of_fold_report(indexed, tmp_path):
    home, env = indexed
    qset = tmp_path / "questions.yaml"
    qset.write_text(yaml.safe_dump({"version": 1, "questions": [
        {"id": i, "question": q, "answerable": e is not None, **({"evidence": e, "source": s} if e else {})}
        for i, q, e, s in QUESTIONS]}, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "abstention.json"
    done = run("-m", "assistant.drafting.calibration", f"{qset}@{home}", "--folds", "2", "--drafts",
               "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 8 and report["n_unanswerable"] == 3, report
    drafts = report["sets"]["questions.yaml"]["drafts"]
    assert drafts["citation_validity"] == 1.0 and drafts["cut_sentence_rate"] == 0.0, drafts
    assert set(drafts["outcomes"]["unanswerable"]) == {"answer", "partial", "abstain"}
    assert load_model(out.parent).features == tuple(report["weights"]), "the written file loads"


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
