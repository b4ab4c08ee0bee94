"""Relevance of a retrieved passage to a question, per ../shared/evals/FORMAT.md.

A passage is relevant when one of its chunks (the chunk itself or a collapsed duplicate from
another file) contains an evidence string after normalisation and, if the question names
sources, comes from a file with one of those base names. Matching uses the chunk's original
`text`, never `index_text` (the title and heading prefix would create false matches).

Example:
    >>> from assistant.records import Chunk, Passage
    >>> from assistant.evaluation.questions import Question
    >>> q = Question("q1", "Part du bio ?", True, ("50 %",), ("plan.pdf",))
    >>> p = Passage(Chunk("c1", "au moins 50\u00a0% de produits", "/corpus/plan.pdf", "Plan"), 1.0)
    >>> is_relevant(q, p)
    True
"""

from __future__ import annotations

from pathlib import Path

from assistant.text.normalize import normalize
from assistant.evaluation.questions import Question
from assistant.records import Chunk, Passage


def is_relevant(question: Question, passage: Passage) -> bool:
    """True when the passage (or one of its duplicates) answers the question per FORMAT.md.

    Args:
        question: A question; without evidence (unanswerable) nothing is relevant.
        passage: A retrieved passage.
    """
    evidence = [normalize(e) for e in question.evidence]
    return any(_chunk_matches(chunk, evidence, question.sources)
               for chunk in (passage.chunk, *passage.duplicates))


def evidence_label(question: Question, chunk: Chunk) -> int:
    """1 when the chunk itself answers the question per FORMAT.md, 0 when it holds no evidence
    string, -1 when it holds one but comes from a file the question does not name (often the
    same text in another format: neither a hit nor a miss, for fitting and candidate recall).

    Example:
        >>> from assistant.evaluation.questions import Question
        >>> q = Question("q1", "Part du bio ?", True, ("50 %",), ("plan.pdf",))
        >>> [evidence_label(q, Chunk("c", t, s, "T")) for t, s in
        ...  (("50 % de bio", "/c/plan.pdf"), ("50 % de bio", "/c/plan.md"), ("bio", "/c/plan.pdf"))]
        [1, -1, 0]
    """
    text = normalize(chunk.text)
    if not any(e and e in text for e in (normalize(e) for e in question.evidence)):
        return 0
    return 1 if not question.sources or Path(chunk.source).name in question.sources else -1


def _chunk_matches(chunk: Chunk, evidence: list[str], sources: tuple[str, ...]) -> bool:
    if sources and Path(chunk.source).name not in sources:
        return False
    text = normalize(chunk.text)
    return any(e and e in text for e in evidence)
