"""Content terms of questions and sentences, through the French analyser of the lexical index.

Drafting scores sentences with the same tokens retrieval uses (elisions removed, accents
folded, stop words out, Snowball stems), so "réparabilité" in a question matches "reparabilite"
in a passage, and "ordi" matches "ordinateur" through the domain table.

Example:
    >>> sorted(sentence_terms("Les DEEE d'un PC reconditionné"))
    ['dee', 'pc', 'recondition']
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable, Mapping, Sequence

from assistant.text.analysis import FrenchAnalyzer

#: `(terms) -> {term: rarity}`: how specific each term is in the indexed corpus, from 0 (in every
#: chunk) to 1 (in none). Drafting and abstention take it from the lexical index.
Rarity = Callable[[Sequence[str]], Mapping[str, float]]
#: A clipped word ("recond") stands for the indexed words it starts, from this length.
MIN_PREFIX = 4


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


def rarities(terms: Sequence[str], document_frequency: Callable[[str], int],
             completions: Callable[[str, int], list[str]], size: int) -> dict[str, float]:
    """Rarity of each term in a corpus of `size` chunks: log((size + 1) / (df + 1)) / log(size + 1).

    A clipped word the index does not know takes the frequency of the most frequent word it
    starts ("recond" -> "recondition"); a word of no indexed chunk has rarity 1.

    Example:
        >>> df = {"don": 40, "recondition": 4}.get
        >>> r = rarities(["don", "recond", "blanquet"], lambda t: df(t, 0), lambda p, n: ["recondition"][:n]
        ...              if "recondition".startswith(p) else [], 100)
        >>> [round(r[t], 2) for t in ("don", "recond", "blanquet")]
        [0.2, 0.65, 1.0]
    """
    out = {}
    scale = math.log(size + 1) if size > 0 else 1.0
    for term in terms:
        df = document_frequency(term)
        if not df and len(term) >= MIN_PREFIX and term.isalpha():
            found = completions(term, 1)
            df = document_frequency(found[0]) if found else 0
        out[term] = min(1.0, math.log((size + 1) / (df + 1)) / scale) if size > 0 else 1.0
    return out
