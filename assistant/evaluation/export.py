"""Turn advisors' validated answers into a question set, so real questions grow the evaluation.

Each validated answer becomes an answerable question: its evidence strings are short,
distinctive spans of the quotes the answer cites (3 to 12 words, copied verbatim from the
quote so they occur in the cited passage), its `source` the base names of the cited files.

Example:
    >>> records = [{"id": 7, "question": "Plafond pour un don ?", "final_text": "300 € [1]",
    ...             "citations": [{"source": "/corpus/fin-usage--don.md",
    ...                            "quote": "la valeur unitaire n'excède pas 300€ par bien"}]}]
    >>> export_reviewed(records, Path("evals/reviewed.yaml")).written  # doctest: +SKIP
    1
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from assistant.errors import QuestionSetError
from assistant.text.normalize import normalize
from assistant.text.stopwords import UNINFORMATIVE
from assistant.evaluation.questions import FORMAT_VERSION, load_question_set

MIN_WORDS, MAX_WORDS = 3, 12
#: Preferred evidence length: long enough to be distinctive, short enough to survive re-chunking.
TARGET_WORDS = 8
_WORD = re.compile(r"\S+")
_EDGE = ".,;:!?…\"'«»()[]{}“”‘’–—- \t\r\n\u00a0\u202f"


@dataclass(frozen=True)
class ExportResult:
    """What `export_reviewed` wrote: the file, the question count and the skipped records."""

    path: Path
    written: int
    skipped: tuple[tuple[str, str], ...]


def evidence_span(quote: str) -> str:
    """A distinctive run of 3-12 words copied verbatim from the quote.

    A quote of at most 12 words is kept whole (edge punctuation trimmed). From a longer one,
    the window of `TARGET_WORDS` words with the most informative words wins: numbers,
    percentages and article references first, then long words; stop words count for nothing.
    Ties go to the earliest window.

    Example:
        >>> evidence_span("Les équipements de moins de 10 ans encore fonctionnels sont orientés vers le réemploi ou la réutilisation solidaire en priorité.")
        'équipements de moins de 10 ans encore fonctionnels'
    """
    words = [(m.start(), m.end()) for m in _WORD.finditer(quote)]
    if len(words) <= MAX_WORDS:
        return quote.strip(_EDGE)
    scores = [_informativeness(quote[s:e]) for s, e in words]
    size = TARGET_WORDS
    best = max(range(len(words) - size + 1),
               key=lambda i: (sum(scores[i:i + size]), -i))
    first, last = best, best + size - 1
    while last - first + 1 > MIN_WORDS and scores[first] == 0.0:  # no stop word at the edges
        first += 1
    while last - first + 1 > MIN_WORDS and scores[last] == 0.0:
        last -= 1
    start, end = words[first][0], words[last][1]
    span = quote[start:end].strip(_EDGE)
    if len(_WORD.findall(span)) >= MIN_WORDS:
        return span
    return quote[start:end].strip()


def _informativeness(word: str) -> float:
    token = normalize(word).strip(_EDGE)
    if not token or token in UNINFORMATIVE:
        return 0.0
    if any(c.isdigit() for c in token) or "%" in token or "€" in word:
        return 3.0
    return 2.0 if len(token) >= 7 else 1.0 if len(token) >= 4 else 0.25


def reviewed_question(record: Mapping[str, Any]) -> dict[str, Any]:
    """One FORMAT.md question (as a dict ready for YAML) from one validated answer.

    Raises:
        ValueError: no question text, or no citation with a usable quote.
    """
    question = str(record.get("question") or "").strip()
    if not question:
        raise ValueError("no question text")
    evidence: list[str] = []
    seen: set[str] = set()
    sources: list[str] = []
    for citation in record.get("citations") or ():
        span = evidence_span(str(citation.get("quote") or ""))
        if not normalize(span):
            continue
        if normalize(span) not in seen:
            seen.add(normalize(span))
            evidence.append(span)
        name = Path(str(citation.get("source") or "")).name
        if name and name not in sources:
            sources.append(name)
    if not evidence:
        raise ValueError("no citation with a quote to take evidence from")
    # A one- or two-word quote ("réemploi") matches too many passages: keep it only when it is
    # all there is.
    long_enough = [e for e in evidence if len(_WORD.findall(e)) >= MIN_WORDS]
    evidence = long_enough or evidence
    item: dict[str, Any] = {"id": _question_id(record.get("id")), "question": question,
                            "answerable": True, "evidence": evidence}
    if sources:
        item["source"] = sources[0] if len(sources) == 1 else sources
    return item


def export_reviewed(records: Iterable[Mapping[str, Any]], out_path: str | Path) -> ExportResult:
    """Write validated answers as a question set in FORMAT.md's format.

    Args:
        records: Dicts {id, question, final_text, citations: [{source, quote}]}.
        out_path: YAML file to write (parent folders are created).

    Returns:
        The path, the number of questions written and the (id, reason) of skipped records.

    Raises:
        QuestionSetError: no record could be exported, or two records share an id.
    """
    out_path = Path(out_path)
    questions, skipped, seen = [], [], set()
    for record in records:
        try:
            item = reviewed_question(record)
        except ValueError as exc:
            skipped.append((_question_id(record.get("id")), str(exc)))
            continue
        if item["id"] in seen:
            raise QuestionSetError(f"validated answers: id {item['id']!r} appears twice")
        seen.add(item["id"])
        questions.append(item)
    if not questions:
        raise QuestionSetError("no validated answer with a cited quote to export: validate "
                               "answers with citations in the review queue first")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Questions exported from validated answers (guichet eval export-reviewed).\n"
              "# Format: ../shared/evals/FORMAT.md. Evidence = spans of the quoted passages.\n")
    body = yaml.safe_dump({"version": FORMAT_VERSION, "questions": questions},
                          allow_unicode=True, sort_keys=False, width=100)
    out_path.write_text(header + body, encoding="utf-8")
    load_question_set(out_path)  # what we write must be what we read
    return ExportResult(path=out_path, written=len(questions), skipped=tuple(skipped))


def _question_id(raw: Any) -> str:
    return f"reviewed-{raw}"
