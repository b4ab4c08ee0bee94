"""Past answers, resource directories and peers (.yaml, .yml, .json, .csv): one document per record.

Accepted shapes:
- YAML/JSON: ``{"answers": [...], "notice": "..."}``, a bare list of answer records,
  ``{"resources": [...]}`` or ``{"peers": [...]}`` (the lists may appear in one file; peer
  records are described in `assistant.ingest.loaders.peers`).
- CSV: a header row with at least ``question`` and ``answer`` columns (past answers) or
  ``organisation`` and ``what`` columns (peers); ``sources`` separated by ";". The delimiter is
  "," or ";" (French spreadsheets export with ";").

An answer record has ``question`` and ``answer`` (required, text), ``sources`` (list, or text
separated by ";"), ``date`` (YYYY-MM-DD, or DD/MM/YYYY), ``tags`` and ``id`` (optional).
Types are checked, never coerced: ``answer: true`` (a YAML boolean) or ``date: 2026-13-45`` is
an error naming the record and its line, and every bad record of the file is listed; the file
is then indexed by none of its records until it is fixed (what was indexed before stays). It becomes an "answer" document
titled with the question, with one section "Question : ...\\n\\nRéponse : ..." so that the
question's words are searchable too. A resource record has ``name`` and ``offers`` (required),
``audience``, ``url`` and ``tags`` (optional) and becomes a "resource" document.

Example:
    >>> docs = load_answers(Path("answers.yaml"))             # doctest: +SKIP
    >>> docs[0].kind, docs[0].metadata["answer_id"]           # doctest: +SKIP
    ('answer', 'label-01')
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from assistant.errors import IngestError, UnsupportedFile
from assistant.ingest.loaders.common import (
    assemble_sections,
    decode_text,
    describe,
    one_line,
    read_bytes,
    short_hash,
    source_of,
)
from assistant.records import Document

ANSWER_FIELDS = ("question", "answer")
RESOURCE_FIELDS = ("name", "offers")
#: Columns a CSV of peers must have (their other required fields are checked row by row).
PEER_COLUMNS = ("organisation", "what")
_TAG_SPLIT = re.compile(r"\s*[,;]\s*")


def load_answers(path: Path) -> list[Document]:
    """Load a file of past answers or resources: one document per record, in file order.

    Returns:
        The documents; an empty list when the file's lists are empty.

    Raises:
        IngestError: invalid YAML/JSON/CSV (with the line), records that are not mappings, miss
            a required field, hold a value of the wrong type or an invalid date ("record 3
            (line 12): 'answer' must be text, got a boolean ..."), or repeat an id.
        UnsupportedFile: YAML/JSON that holds neither an 'answers' nor a 'resources' list.
    """
    path = Path(path)
    text = decode_text(read_bytes(path))
    suffix = path.suffix.lower()
    source = source_of(path)
    if suffix == ".csv":
        if _csv_is_peers(text):
            return _peers(source, _csv_records(text, PEER_COLUMNS))
        return _answers(source, _csv_records(text))
    kind = "JSON" if suffix == ".json" else "YAML"
    data = _parse_json(text) if kind == "JSON" else _parse_yaml(text)
    if isinstance(data, list):
        return _answers(source, _numbered(data))
    if isinstance(data, dict) and ("answers" in data or "resources" in data or "peers" in data):
        documents = []
        if "answers" in data:
            documents += _answers(source, _numbered(_list_of(data, "answers")))
        if "resources" in data:
            documents += _resources(source, _numbered(_list_of(data, "resources")))
        if "peers" in data:
            documents += _peers(source, _numbered(_list_of(data, "peers")))
        return documents
    raise UnsupportedFile(
        f"{kind} file is neither past answers, resources nor peers: expected a top-level 'answers', "
        "'resources' or 'peers' list"
    )


class _Record(dict):
    """A YAML mapping that remembers the line it starts on."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps each mapping's line and leaves impossible dates as text (to report)."""


def _mapping(loader: _Loader, node: yaml.MappingNode):
    record = _Record()
    record.line = node.start_mark.line + 1
    yield record
    record.update(loader.construct_mapping(node))


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:  # 2026-13-45 looks like a date to YAML but is none: checked per record
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise IngestError(f"invalid YAML{where}: {one_line(getattr(exc, 'problem', None) or describe(exc))}") from None


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _list_of(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data[key]
    if value is None:
        return []
    if not isinstance(value, list):
        raise IngestError(f"'{key}' must be a list of records, got {_kind(value)}")
    return value


def _numbered(records: list[Any]) -> Iterable[tuple[str, Any]]:
    for index, record in enumerate(records, start=1):
        line = getattr(record, "line", 0)
        yield (f"record {index} (line {line})" if line else f"record {index}"), record


def _csv_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _csv_is_peers(text: str) -> bool:
    """A CSV whose header names 'organisation' and no 'question' holds peers."""
    header = {name.strip().strip('"').lower() for name in text.split("\n", 1)[0].split(_csv_delimiter(text))}
    return "organisation" in header and "question" not in header


def _csv_records(text: str, required: tuple[str, ...] = ANSWER_FIELDS) -> Iterable[tuple[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_csv_delimiter(text))
    try:
        columns = [(name or "").strip().lower() for name in reader.fieldnames or []]
        missing = [name for name in required if name not in columns]
        if missing:
            found = ", ".join(name for name in columns if name) or "none"
            raise IngestError(f"CSV has no '{missing[0]}' column (columns: {found}); "
                              f"expected {', '.join(required)}")
        reader.fieldnames = columns
        rows = []
        for index, row in enumerate(reader, start=1):
            if any((value or "").strip() for key, value in row.items() if key is not None):
                rows.append((f"record {index} (line {reader.line_num})", row))
    except csv.Error as exc:
        raise IngestError(f"invalid CSV at line {reader.line_num}: {describe(exc)}") from None
    return rows


def _answers(source: str, records: Iterable[tuple[str, Any]]) -> list[Document]:
    documents: list[Document] = []
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for where, record in records:
        try:
            fields = _fields(where, record, ANSWER_FIELDS)
            question, answer = fields["question"], fields["answer"]
            given_id = _text(where, record, "id", numbers=True)
            answer_id = given_id or short_hash(question)
            if answer_id in seen and given_id:
                raise IngestError(f"{where}: duplicate id '{answer_id}' (also {seen[answer_id]})")
            seen[answer_id] = where
            metadata = {
                "answer_id": answer_id,
                "date": _date(where, record),
                "tags": _joined(where, record, "tags", ", ", _TAG_SPLIT),
                "sources": _joined(where, record, "sources", " ; ", re.compile(r"\s*;\s*")),
            }
        except IngestError as exc:
            problems.append((where, str(exc)))
            continue
        text = f"Question : {question}\n\nRéponse : {answer}"
        documents.append(_document(source, question, "answer", text, metadata))
    _raise_problems(problems)
    return documents


def _peers(source: str, records: Iterable[tuple[str, Any]]) -> list[Document]:
    # Imported here: the peers loader builds on this module's record helpers.
    from assistant.ingest.loaders.peers import peer_documents

    return peer_documents(source, records)


def _resources(source: str, records: Iterable[tuple[str, Any]]) -> list[Document]:
    documents = []
    problems: list[tuple[str, str]] = []
    for where, record in records:
        try:
            fields = _fields(where, record, RESOURCE_FIELDS)
            name, offers = fields["name"], fields["offers"]
            audience = _text(where, record, "audience")
            metadata = {
                "url": _text(where, record, "url"),
                "audience": audience,
                "tags": _joined(where, record, "tags", ", ", _TAG_SPLIT),
            }
        except IngestError as exc:
            problems.append((where, str(exc)))
            continue
        text = f"{name} — {offers}" + (f" ({audience})" if audience else "")
        documents.append(_document(source, name, "resource", text, metadata))
    _raise_problems(problems)
    return documents


def _raise_problems(problems: list[tuple[str, str]]) -> None:
    """One line for every bad record: the first in full, then where the others are."""
    if not problems:
        return
    message = problems[0][1]
    others = [where for where, _ in problems[1:]]
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        message += f"; {len(others)} more bad record(s): {shown}"
    raise IngestError(message)


def _document(source: str, title: str, kind: str, text: str, metadata: dict[str, str]) -> Document:
    return Document(
        source=source,
        title=title,
        kind=kind,
        sections=assemble_sections([(text, None, ())]),
        metadata={key: value for key, value in metadata.items() if value},
    )


def _fields(where: str, record: Any, required: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(record, dict):
        raise IngestError(f"{where}: expected a mapping with {' and '.join(map(repr, required))}, got {_kind(record)}")
    values = {}
    for name in required:
        value = _text(where, record, name)
        if not value:
            raise IngestError(f"{where}: missing '{name}'")
        values[name] = value
    return values


def _text(where: str, record: Mapping[str, Any], name: str, numbers: bool = False) -> str:
    """A text field; None is empty. Only an id may be a number: nothing else is coerced."""
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, str) or (numbers and isinstance(value, int) and not isinstance(value, bool)):
        return str(value).strip()
    raise IngestError(f"{where}: '{name}' must be text, got {_kind(value)}")


def _date(where: str, record: Mapping[str, Any]) -> str:
    """The record's date as YYYY-MM-DD: a YAML date, or text written YYYY-MM-DD or DD/MM/YYYY."""
    value = record.get("date")
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        raise IngestError(f"{where}: 'date' is not a valid date ({one_line(text, limit=40)!r}): write YYYY-MM-DD")
    raise IngestError(f"{where}: 'date' must be a date (YYYY-MM-DD), got {_kind(value)}")


def _joined(where: str, record: Mapping[str, Any], name: str, separator: str, split: re.Pattern[str]) -> str:
    value = record.get(name)
    if value is None:
        return ""
    items = value if isinstance(value, list) else [value]
    parts: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float, dt.date)):
            raise IngestError(f"{where}: '{name}' must be text or a list of texts, got {_kind(item)}")
        parts += split.split(str(item)) if not isinstance(value, list) else [str(item)]
    return separator.join(part for part in (one_line(item, limit=1000) for item in parts) if part)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()} (YAML reads yes/no/true/false so): put the text in quotes"
    if isinstance(value, (int, float)):
        return f"the number {value}: put the text in quotes"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"the date {value}: put the text in quotes"
    names = {dict: "a mapping", list: "a list", str: "a text", _Record: "a mapping", type(None): "nothing"}
    return names.get(type(value), f"a {type(value).__name__}")
