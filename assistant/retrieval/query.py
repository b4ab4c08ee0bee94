"""Checking a buyer's question and turning it into weighted lexical query terms. Pure functions.

Example:
    >>> prepare_question("  <b>label</b> ; DROP TABLE chunks;--  ")
    '<b>label</b> ; DROP TABLE chunks;--'
"""

from __future__ import annotations

import re
from typing import Sequence

from assistant.errors import InvalidQuery
from assistant.text.normalize import fold

#: Longer questions are cut (at a word boundary) to this many characters for retrieval: the
#: embedder reads at most 512 tokens anyway, and BM25 over a pasted document is only noise.
MAX_QUERY_CHARS = 2000

#: Weight of the completions of a clipped word the index does not know ("recond" -> "recondition").
COMPLETION_WEIGHT = 0.3
_WORD = re.compile(r"\w", re.UNICODE)
#: Words of a question that asks for a figure, a date or a duration (accents folded, lower case).
_FIGURE = re.compile(
    r"\b(?:combien|quand|depuis quand|a partir de quand|jusqu'a quand|quelle? date|delai|duree|seuil|"
    r"plafond|montant|taux|part|pourcentage|proportion|chiffre|ordre de grandeur|objectif|prix|cout|"
    r"age|ans|numero)\b|%")
_SHARE = re.compile(r"\b(?:taux|part|pourcentage|proportion)\b|%")


def prepare_question(question: str) -> str:
    """The question ready for retrieval: stripped and cut to MAX_QUERY_CHARS.

    HTML, SQL or any other text is kept as it is: it is only ever searched, never run.

    Raises:
        InvalidQuery: an empty question, or one without any letter or digit (punctuation, emoji).

    Example:
        >>> len(prepare_question("label " * 1000)) <= MAX_QUERY_CHARS
        True
    """
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuery("empty question")
    text = question.strip()
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS + 1)
        text = text[:cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS].rstrip()
    if not _WORD.search(text):
        raise InvalidQuery("question has no searchable words")
    return text


def asks_figure(question: str) -> bool:
    """True when the question asks for a number: a figure, a date, a duration, a threshold.

    Example:
        >>> asks_figure("Depuis quand les sites publics doivent-ils être accessibles ?"), asks_figure("Qui ?")
        (True, False)
    """
    return bool(_FIGURE.search(fold(question.lower())))


def asks_share(question: str) -> bool:
    """True when the question asks for a share (a percentage, a rate, a proportion).

    Example:
        >>> asks_share("quelle part de reconditionné ?"), asks_share("combien de PC ?")
        (True, False)
    """
    return bool(_SHARE.search(fold(question.lower())))


def with_completions(terms: Sequence[tuple[str, float]], words: Sequence[str], known,
                     complete, weight: float = COMPLETION_WEIGHT) -> list[tuple[str, float]]:
    """Add the completions of the question's clipped words ("fab", "recond", "repa").

    A word of the question (before stemming) that is not itself an indexed token is looked up
    as a prefix of indexed tokens. Full words rarely prefix a stem; clipped words do. The
    unstemmed word is used because Snowball may cut a clipped word into another stem ("repa"
    -> "rep", the stem of "repas").

    Args:
        terms: (token, weight) pairs from `FrenchAnalyzer.query_terms`.
        words: The question's content words, from `FrenchAnalyzer.content_words`.
        known: Container of indexed tokens (`token in known`).
        complete: Function word -> indexed tokens that start with it.
        weight: Weight of each completion.

    Example:
        >>> with_completions([("recond", 1.0)], ["recond"], {"recondition"}, lambda w: ["recondition"])
        [('recond', 1.0), ('recondition', 0.3)]
    """
    out = dict(terms)
    for word in words:
        plural_of_known = word.endswith("s") and word[:-1] in known  # "ans", "ges": not clipped
        if word.isalpha() and len(word) >= 3 and word not in known and not plural_of_known:
            for completion in complete(word):
                out.setdefault(completion, weight)
    return list(out.items())
