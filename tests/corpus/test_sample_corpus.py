"""Checks of the bundled sample knowledge base (corpus/) and its question set (evals/).

The sample corpus is content, not code: these tests keep it consistent with the
evaluation contract (../shared/evals/FORMAT.md) and with the project's rules
(front matter, "Contenu d'exemple" notice, unique answer ids, evidence that
really occurs in the file a question points to).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from assistant.text.normalize import contains

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
GUIDES = CORPUS / "guides"
ANSWERS = CORPUS / "answers"
RESOURCES = CORPUS / "resources"
QUESTIONS = ROOT / "evals" / "sample-questions.yaml"
NOTICE = "Contenu d'exemple"

GUIDE_FILES = sorted(GUIDES.glob("*.md"))
ANSWER_FILES = sorted(ANSWERS.glob("*.yaml"))
CORPUS_YAML_FILES = sorted(CORPUS.rglob("*.yaml"))


def _front_matter(path: Path) -> tuple[dict, str]:
    """Split a Markdown file into (front matter mapping, body)."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: no front matter"
    end = text.index("\n---\n", 4)
    meta = yaml.safe_load(text[4:end]) or {}
    return meta, text[end + 5:]


def _yaml_texts(node) -> list[str]:
    """Every string value of a YAML document (answers: question/answer; resources: all fields)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for value in node.values() for t in _yaml_texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in _yaml_texts(value)]
    return []


def _texts_of(name: str) -> list[str]:
    """The texts a retrieved passage of the file `name` (a base name) can come from."""
    matches = [p for p in CORPUS.rglob(name) if p.is_file()]
    assert len(matches) == 1, f"source {name!r} matches {len(matches)} files in corpus/"
    path = matches[0]
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "answers" in data:
        return [f"{a['question']}\n{a['answer']}" for a in data["answers"]]
    return _yaml_texts(data)


def _questions() -> list[dict]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return data["questions"]


# --- question set -------------------------------------------------------------------------


def test_question_set_follows_format():
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    assert data["version"] == 1
    questions = data["questions"]
    assert isinstance(questions, list) and len(questions) >= 34
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), "duplicate question ids"
    for q in questions:
        qid = q.get("id")
        assert isinstance(qid, str) and qid, q
        assert isinstance(q.get("question"), str) and q["question"].strip(), qid
        assert isinstance(q.get("answerable"), bool), f"{qid}: answerable must be a bool"
        if q["answerable"]:
            evidence = q.get("evidence")
            assert isinstance(evidence, list) and evidence, f"{qid}: answerable without evidence"
            assert all(isinstance(e, str) and e.strip() for e in evidence), qid
            source = q.get("source")
            if source is not None:
                names = source if isinstance(source, list) else [source]
                assert names and all(isinstance(n, str) and "/" not in n for n in names), qid
    assert sum(not q["answerable"] for q in questions) >= 6


@pytest.mark.parametrize("question", [q for q in _questions() if q["answerable"]],
                         ids=lambda q: q["id"])
def test_evidence_occurs_in_source(question):
    qid = question["id"]
    source = question.get("source")
    assert source, f"{qid}: sample questions always name their source"
    names = source if isinstance(source, list) else [source]
    texts = [t for name in names for t in _texts_of(name)]
    for evidence in question["evidence"]:
        assert any(contains(t, evidence) for t in texts), (
            f"{qid}: evidence {evidence!r} not found in {names}")


def test_unanswerable_questions_have_no_evidence():
    for q in _questions():
        if not q["answerable"]:
            assert not q.get("evidence"), f"{q['id']}: unanswerable with evidence"


# --- guides ----------------------------------------------------------------------------------


def test_guide_count():
    assert 18 <= len(GUIDE_FILES) <= 22


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: p.name)
def test_guide_front_matter_and_notice(path):
    meta, body = _front_matter(path)
    assert isinstance(meta.get("title"), str) and meta["title"].strip(), path.name
    assert isinstance(meta.get("date"), (dt.date, str)) and str(meta["date"]), path.name
    refs = meta.get("references")
    assert isinstance(refs, list) and refs and all(isinstance(r, str) and r for r in refs), path.name
    tags = meta.get("tags")
    assert isinstance(tags, list) and tags, path.name
    first_line = body.strip().splitlines()[0]
    assert first_line.startswith(">") and NOTICE in first_line, f"{path.name}: notice missing"
    headings = [line for line in body.splitlines() if line.startswith("## ")]
    assert len(headings) >= 3, f"{path.name}: needs sections"
    assert headings[-1].strip() == "## Références", f"{path.name}: last section must be Références"


# --- answers and resources -----------------------------------------------------------------


@pytest.mark.parametrize("path", CORPUS_YAML_FILES, ids=lambda p: p.name)
def test_yaml_files_carry_notice(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert NOTICE in str(data.get("notice", "")), f"{path.name}: notice missing"


def test_answers():
    assert 3 <= len(ANSWER_FILES) <= 5
    seen: dict[str, str] = {}
    total = 0
    for path in ANSWER_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for answer in data["answers"]:
            total += 1
            aid = answer.get("id")
            assert isinstance(aid, str) and aid, path.name
            assert aid not in seen, f"{aid} in both {seen.get(aid)} and {path.name}"
            seen[aid] = path.name
            for key in ("question", "answer"):
                assert isinstance(answer.get(key), str) and answer[key].strip(), f"{aid}: {key}"
            assert isinstance(answer.get("sources"), list) and answer["sources"], f"{aid}: sources"
            assert answer.get("date"), f"{aid}: date"
            assert isinstance(answer.get("tags"), list) and answer["tags"], f"{aid}: tags"
            for source in answer["sources"]:
                if source.startswith("guides/"):
                    assert (CORPUS / source).is_file(), f"{aid}: {source} does not exist"
    assert total >= 28


def test_resources():
    data = yaml.safe_load((RESOURCES / "ressources.yaml").read_text(encoding="utf-8"))
    resources = data["resources"]
    assert 8 <= len(resources) <= 15
    for r in resources:
        for key in ("name", "offers", "audience"):
            assert isinstance(r.get(key), str) and r[key].strip(), f"{r.get('name')}: {key}"
        assert isinstance(r.get("tags"), list) and r["tags"], r["name"]
        if "url" in r:
            assert r["url"].startswith(("http://", "https://")), r["name"]
