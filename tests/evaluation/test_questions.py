"""Question-set parser: every malformed case fails with the file, the question and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import QuestionSetError
from assistant.evaluation.questions import (Question, QuestionSet, documents_of,
                                            load_question_set, parse_question_set, unknown_sources)

SHARED_EVALS = Path(__file__).resolve().parents[3] / "shared" / "evals"

VALID_QUESTION = "  - id: a\n    question: Label ?\n    answerable: true\n    evidence: [R2111-14]\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, expected", [
    pytest.param("version: 1\nquestions:\n  - id: a\n   question: [\n", ["invalid YAML", "line "],
                 id="bad-yaml"),
    pytest.param("version: 1\nquestions: [\n", ["invalid YAML", "line "], id="unclosed-list"),
    pytest.param("- a\n- b\n", ["expected a mapping"], id="top-level-list"),
    pytest.param("", ["expected a mapping", "nothing"], id="empty-file"),
    pytest.param("version: 2\nquestions:\n" + VALID_QUESTION, ["field 'version'", "got 2"],
                 id="wrong-version"),
    pytest.param("version: '1'\nquestions:\n" + VALID_QUESTION, ["field 'version'", "'1'"],
                 id="version-as-string"),
    pytest.param("questions:\n" + VALID_QUESTION, ["field 'version'", "None"], id="no-version"),
    pytest.param("version: 1\nquestion:\n" + VALID_QUESTION, ["unknown top-level key 'question'"],
                 id="unknown-top-key"),
    pytest.param("version: 1\nquestions: []\n", ["field 'questions'", "empty"], id="empty-set"),
    pytest.param("version: 1\n", ["field 'questions'", "empty"], id="no-questions"),
    pytest.param("version: 1\nquestions: {a: 1}\n", ["field 'questions'", "expected a list"],
                 id="questions-not-list"),
    pytest.param("version: 1\nquestions:\n  - just a string\n", ["question #1", "expected a mapping"],
                 id="question-not-mapping"),
    pytest.param("version: 1\nquestions:\n  - question: x\n    answerable: false\n",
                 ["question #1", "field 'id'", "missing"], id="missing-id"),
    pytest.param("version: 1\nquestions:\n  - id: 12\n    question: x\n    answerable: false\n",
                 ["question #1", "field 'id'", "int", "quote it"], id="id-int"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    answerable: false\n",
                 ["question 'a' (#1)", "field 'question'", "missing"], id="missing-question"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: [x]\n    answerable: false\n",
                 ["question 'a' (#1)", "field 'question'", "list"], id="question-list"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: '  '\n    answerable: false\n",
                 ["question 'a' (#1)", "field 'question'", "non-empty"], id="question-blank"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n",
                 ["question 'a' (#1)", "field 'answerable'", "missing"], id="missing-answerable"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: oui\n",
                 ["question 'a' (#1)", "field 'answerable'", "'oui'"], id="answerable-not-bool"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n",
                 ["question 'a' (#1)", "field 'evidence'", "answerable question needs"],
                 id="answerable-without-evidence"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n"
                 "    evidence: []\n", ["field 'evidence'", "answerable question needs"],
                 id="answerable-empty-evidence"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n"
                 "    evidence: 12\n", ["question 'a' (#1)", "field 'evidence'", "int"],
                 id="evidence-int"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n"
                 "    evidence: [ok, 3]\n", ["field 'evidence'", "item of type int"],
                 id="evidence-item-int"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n"
                 "    evidence: ['  ']\n", ["field 'evidence'", "empty string"],
                 id="evidence-blank"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n"
                 "    evidence: [e]\n    source: 3\n", ["question 'a' (#1)", "field 'source'", "int"],
                 id="source-int"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n"
                 "    evidence: [e]\n    source: [a.md, {b: 1}]\n", ["field 'source'", "dict"],
                 id="source-list-with-mapping"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: true\n"
                 "    evidence: [e]\n    source: corpus/a.md\n", ["field 'source'", "base name"],
                 id="source-path"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: false\n"
                 "    sources: [a.md]\n", ["question 'a' (#1)", "field 'sources'", "unknown key"],
                 id="unknown-question-key"),
    pytest.param("version: 1\nquestions:\n" + VALID_QUESTION + VALID_QUESTION,
                 ["question 'a' (#2)", "field 'id'", "duplicate of question #1"], id="duplicate-id"),
    pytest.param("version: 1\nquestions:\n  - id: a\n    question: x\n    question: y\n"
                 "    answerable: false\n", ["invalid YAML", "line 5", "duplicate key 'question'"],
                 id="duplicate-yaml-key"),
])
def test_malformed_sets_name_file_question_and_field(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(QuestionSetError) as caught:
        load_question_set(path)
    message = str(caught.value)
    assert str(path) in message, f"file missing from: {message}"
    for part in expected:
        assert part in message, f"{part!r} missing from: {message}"
    assert "\n" not in message, f"error should be one line: {message!r}"


def test_bad_yaml_reports_the_line_of_the_error(tmp_path):
    text = "version: 1\nquestions:\n  - id: a\n    question: x\n    answerable: false\n  - id: [\n"
    with pytest.raises(QuestionSetError, match=r"line \d+") as caught:
        load_question_set(_write(tmp_path, text))
    line = int(str(caught.value).split("line ")[1].split(":")[0])
    assert line >= 6, f"the error is on line 6 or after, message says {line}"


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(QuestionSetError, match="no such question set file"):
        load_question_set(tmp_path / "absent.yaml")


def test_valid_set_with_every_form_of_source():
    qset = parse_question_set(
        "version: 1\nquestions:\n"
        "  - {id: a, question: x, answerable: true, evidence: [e1, e2], source: a.md}\n"
        "  - {id: b, question: y, answerable: true, evidence: e3, source: [a.md, b.pdf]}\n"
        "  - {id: c, question: z, answerable: false}\n")
    assert qset == QuestionSet(1, (
        Question("a", "x", True, ("e1", "e2"), ("a.md",)),
        Question("b", "y", True, ("e3",), ("a.md", "b.pdf")),
        Question("c", "z", False, (), ()),
    )), f"unexpected parse: {qset}"
    assert [q.id for q in qset.answerable] == ["a", "b"], "answerable filter"


def test_unknown_sources_lists_names_absent_from_the_index():
    qset = parse_question_set("version: 1\nquestions:\n"
                              "  - {id: a, question: x, answerable: true, evidence: [e], source: [a.md, b.md]}\n")
    fingerprint = {"documents": {"/corpus/a.md": "ff"}}
    assert unknown_sources(qset, documents_of(fingerprint)) == ["b.md"], "b.md is not ingested"
    assert documents_of(None) == [], "no fingerprint, no documents"


def test_real_dev_question_set_loads():
    path = SHARED_EVALS / "dev-questions.yaml"
    if not path.exists():
        pytest.skip(f"shared evaluation folder absent: {SHARED_EVALS}")
    qset = load_question_set(path)
    assert len(qset.questions) >= 10, f"dev set looks truncated: {len(qset.questions)} questions"
    assert any(not q.answerable for q in qset.questions), "dev set has unanswerable questions"
    assert any(len(q.sources) > 1 for q in qset.questions), "dev set has multi-source questions"
    assert all(q.evidence for q in qset.answerable), "every answerable question has evidence"
