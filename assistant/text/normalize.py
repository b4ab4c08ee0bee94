"""Accent folding and the evaluation format's normalisation (../shared/evals/FORMAT.md).

`normalize` matches evidence strings against passages, quoted spans against their passage,
near-duplicate texts against each other and passages against injection patterns; `fold` is
the accent folding every stage shares (the analyser folds before stemming).

Example:
    >>> normalize("Fabrication : jusqu’à\u00a080 %")
    "fabrication : jusqu'a 80 %"
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"',
                         "\u00bb": '"'})
_HYPHEN_BREAK = re.compile(r"(\w)-\s*\n\s*(\w)")
_SPACES = re.compile(r"\s+")
# Latin letters folded by table (a per-character NFD loop costs ~0.5 ms a chunk, too much for
# the 100-200 candidates of a search); anything else left non-ASCII goes through NFD.
_FOLD = {c: "".join(ch for ch in unicodedata.normalize("NFD", chr(c)) if not unicodedata.combining(ch))
         for c in range(0xC0, 0x250)}


def fold(text: str) -> str:
    """Remove accents (combining marks after NFD decomposition).

    Example:
        >>> fold("réemploi à l'État")
        "reemploi a l'Etat"
    """
    text = text.translate(_FOLD)
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """NFKC, hyphenation joined, lower case, accents removed, quotes ASCII, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = fold(text.lower().translate(_QUOTES))
    return _SPACES.sub(" ", text).strip()


def contains(haystack: str, needle: str) -> bool:
    """True when `needle` occurs in `haystack` once both are normalised."""
    return normalize(needle) in normalize(haystack)
