"""Text normalisation of the evaluation format (../shared/evals/FORMAT.md).

Used to match evidence strings against passages and quoted spans against their passage.

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


def normalize(text: str) -> str:
    """NFKC, hyphenation joined, lower case, accents removed, quotes ASCII, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = text.lower().translate(_QUOTES)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip()


def contains(haystack: str, needle: str) -> bool:
    """True when `needle` occurs in `haystack` once both are normalised."""
    return normalize(needle) in normalize(haystack)
