"""Content terms of questions and sentences, through the French analyser of the lexical index.

Drafting scores sentences with the same tokens retrieval uses (elisions removed, accents
folded, stop words out, Snowball stems), so "réparabilité" in a question matches "reparabilite"
in a passage, and "ordi" matches "ordinateur" through the domain table.

Example:
    >>> sorted(sentence_terms("Les DEEE d'un PC reconditionné"))
    ['dee', 'pc', 'recondition']
"""

from __future__ import annotations

from functools import lru_cache

from assistant.retrieval.analysis import FrenchAnalyzer


@lru_cache(maxsize=1)
def analyzer() -> FrenchAnalyzer:
    """The shared analyser with the built-in domain table."""
    return FrenchAnalyzer()


def sentence_terms(text: str) -> frozenset[str]:
    """Document-side stems of `text`.

    Example:
        >>> {"5", "10", "an", "don"} <= sentence_terms("Entre 5 et 10 ans, c'est le don qu'il faut privilégier.")
        True
    """
    return frozenset(analyzer().analyze(text))


@lru_cache(maxsize=256)
def _query_terms(question: str) -> tuple[tuple[str, float], ...]:
    return tuple(analyzer().query_terms(question))


def question_terms(question: str) -> dict[str, float]:
    """Query-side stems with weights: 1.0 for the buyer's words, less for domain expansions.

    Example:
        >>> terms = question_terms("ordi")
        >>> terms["ordi"], 0 < terms["ordin"] < 1
        (1.0, True)
    """
    return dict(_query_terms(question))


def own_terms(question: str) -> frozenset[str]:
    """The stems of the question's own words (no expansion).

    Example:
        >>> sorted(own_terms("plafond de valeur pour un don ?"))
        ['don', 'plafond', 'valeur']
    """
    return frozenset(analyzer().analyze(question))
