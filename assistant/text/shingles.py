"""Word shingles of a text and their containment, to tell near-duplicate texts.

Words are compared after the evaluation format's normalisation (case, accents, PDF
hyphenation; punctuation ignored).

Example:
    >>> round(containment(shingles("le don de PC est possible"), shingles("Le don de PC est possible, dit la FAQ")), 2)
    1.0
"""

from __future__ import annotations

import re

from assistant.text.normalize import normalize

#: Words per shingle.
SHINGLE = 4
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    """Words after the evaluation format's normalisation (case, accents, PDF hyphenation)."""
    return _WORD.findall(normalize(text))


def shingles(text: str, size: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    """Word `size`-grams of the normalised text (a shorter text gives its whole word tuple).

    Example:
        >>> shingles("Le don, le DON !", size=2) == shingles("le don le don", size=2)
        True
    """
    tokens = _words(text)
    if len(tokens) < size:
        return frozenset([tuple(tokens)]) if tokens else frozenset()
    return frozenset(zip(*(tokens[i:] for i in range(size))))


def containment(a: frozenset, b: frozenset) -> float:
    """Share of the smaller set found in the other one (0.0 when either is empty).

    Example:
        >>> containment(frozenset({1, 2}), frozenset({1, 2, 3, 4}))
        1.0
    """
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
