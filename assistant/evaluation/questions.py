"""Question sets in the evaluation format (../shared/evals/FORMAT.md).

A malformed set fails with one `QuestionSetError` line naming the file, the question (id or
index) and the field, so whoever wrote the set can fix it without reading code.

Example:
    >>> qset = load_question_set("evals/dev-questions.yaml")  # doctest: +SKIP
    >>> qset.questions[0].evidence  # doctest: +SKIP
    ('3,8 % des émissions de gaz',)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from assistant.errors import QuestionSetError
from assistant.text.normalize import normalize

#: The only format version this module reads.
FORMAT_VERSION = 1
_TOP_KEYS = ("version", "questions")
_QUESTION_KEYS = ("id", "question", "answerable", "evidence", "source")


@dataclass(frozen=True)
class Question:
    """One question of a set.

    Args:
        id: Unique, stable identifier.
        question: The question as a buyer would write it.
        answerable: True when the corpus holds the answer.
        evidence: Strings of which at least one must occur in a relevant passage.
        sources: Base names of the files a relevant passage may come from; empty = any file.

    Example:
        >>> Question("q1", "Label dans un DCE ?", True, ("R2111-14",), ("guide.pdf",)).sources
        ('guide.pdf',)
    """

    id: str
    question: str
    answerable: bool
    evidence: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionSet:
    """A loaded question set.

    Example:
        >>> QuestionSet(1, (Question("q1", "Bio en restauration ?", False),)).questions[0].id
        'q1'
    """

    version: int
    questions: tuple[Question, ...]

    @property
    def answerable(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.answerable)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_question_set(path: str | Path) -> QuestionSet:
    """Read and validate a question set file.

    Args:
        path: A YAML file in FORMAT.md's format.

    Returns:
        The validated set, questions in file order.

    Raises:
        QuestionSetError: unreadable file, bad YAML (with its line), or any format violation.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: no such question set file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}: cannot read question set: {exc}") from None
    return parse_question_set(text, name=str(path))


def parse_question_set(text: str, name: str = "<string>") -> QuestionSet:
    """Validate a question set given as YAML text; `name` is used in error messages.

    Example:
        >>> parse_question_set("version: 1\\nquestions:\\n- {id: a, question: x, answerable: false}")
        QuestionSet(version=1, questions=(Question(id='a', question='x', answerable=False, evidence=(), sources=()),))
    """
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise QuestionSetError(f"{name}:{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise QuestionSetError(f"{name}: expected a mapping with 'version' and 'questions', "
                               f"got {_type(data)}")
    unknown = [key for key in data if key not in _TOP_KEYS]
    if unknown:
        raise QuestionSetError(f"{name}: unknown top-level key {unknown[0]!r} "
                               f"(allowed: {', '.join(_TOP_KEYS)})")
    version = data.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise QuestionSetError(f"{name}: field 'version': expected {FORMAT_VERSION}, got {version!r}")
    raw = data.get("questions")
    if raw is None or raw == []:
        raise QuestionSetError(f"{name}: field 'questions': the set is empty")
    if not isinstance(raw, list):
        raise QuestionSetError(f"{name}: field 'questions': expected a list, got {_type(raw)}")
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw, start=1):
        question = _parse_question(item, index, name)
        if question.id in seen:
            raise QuestionSetError(f"{name}: question {question.id!r} (#{index}): field 'id': "
                                   f"duplicate of question #{seen[question.id]}")
        seen[question.id] = index
        questions.append(question)
    return QuestionSet(version=FORMAT_VERSION, questions=tuple(questions))


def _parse_question(item: Any, index: int, name: str) -> Question:
    where = f"{name}: question #{index}"
    if not isinstance(item, dict):
        raise QuestionSetError(f"{where}: expected a mapping, got {_type(item)}")
    qid = item.get("id")
    if "id" not in item:
        raise QuestionSetError(f"{where}: field 'id': missing")
    if not isinstance(qid, str) or not qid.strip():
        hint = ": quote it" if isinstance(qid, (int, float)) and not isinstance(qid, bool) else ""
        raise QuestionSetError(f"{where}: field 'id': expected a non-empty string, "
                               f"got {_type(qid)} {qid!r}{hint}")
    where = f"{name}: question {qid!r} (#{index})"

    def fail(field: str, message: str) -> QuestionSetError:
        return QuestionSetError(f"{where}: field '{field}': {message}")

    unknown = [key for key in item if key not in _QUESTION_KEYS]
    if unknown:
        raise fail(str(unknown[0]), f"unknown key (allowed: {', '.join(_QUESTION_KEYS)})")
    for field in ("question", "answerable"):
        if field not in item:
            raise fail(field, "missing")
    text = item["question"]
    if not isinstance(text, str) or not text.strip():
        raise fail("question", f"expected a non-empty string, got {_type(text)} {text!r}")
    answerable = item["answerable"]
    if not isinstance(answerable, bool):
        raise fail("answerable", f"expected true or false, got {_type(answerable)} {answerable!r}")
    evidence = _strings(item.get("evidence"), lambda msg: fail("evidence", msg))
    if answerable and not evidence:
        raise fail("evidence", "missing: an answerable question needs at least one evidence string")
    sources = _strings(item.get("source"), lambda msg: fail("source", msg))
    for source in sources:
        if Path(source).name != source:
            raise fail("source", f"expected a file base name, got the path {source!r}")
    return Question(id=qid, question=text, answerable=answerable, evidence=evidence, sources=sources)


def _strings(value: Any, fail) -> tuple[str, ...]:
    """A string or a list of strings as a tuple; None as ()."""
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        raise fail(f"expected a string or a list of strings, got {_type(value)}")
    for item in values:
        if not isinstance(item, str):
            raise fail(f"expected a string or a list of strings, got an item of type {_type(item)}")
        if not normalize(item):
            raise fail("empty string (it would match every passage)")
    return tuple(values)


def unknown_sources(qset: QuestionSet, documents: Iterable[str]) -> list[str]:
    """Source base names of the set that name no ingested document, sorted.

    Args:
        qset: A loaded set.
        documents: Paths (or base names) of the ingested documents.

    Example:
        >>> qs = QuestionSet(1, (Question("a", "x", True, ("e",), ("b.pdf",)),))
        >>> unknown_sources(qs, ["/corpus/a.pdf"])
        ['b.pdf']
    """
    known = {Path(doc).name for doc in documents}
    return sorted({s for q in qset.questions for s in q.sources} - known)


def documents_of(fingerprint: Mapping[str, Any] | None) -> list[str]:
    """Document paths listed in an index fingerprint `{"documents": {path: sha256}}`."""
    if not fingerprint:
        return []
    return list((fingerprint.get("documents") or {}).keys())


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
