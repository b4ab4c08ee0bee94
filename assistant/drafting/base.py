"""The `Generator` protocol every drafting backend follows, and the stream it returns.

Example:
    >>> from assistant.drafting.extractive import ExtractiveGenerator
    >>> isinstance(ExtractiveGenerator(), Generator)
    True
"""

from __future__ import annotations

import collections.abc as abc
from typing import Iterator, Protocol, Sequence, runtime_checkable

from assistant.records import Draft, Passage


@runtime_checkable
class Generator(Protocol):
    """Drafts a first-level answer from retrieved passages, or abstains.

    `draft` returns the whole `Draft`; `stream` yields its text in pieces for the UI and, once
    exhausted, exposes the same `Draft` as `.draft`.
    """

    name: str

    def draft(self, question: str, passages: Sequence[Passage], history: Sequence[str] = ()) -> Draft:
        """Draft an answer to `question` (asked after `history` in the thread) from `passages`."""
        ...

    def stream(self, question: str, passages: Sequence[Passage],
               history: Sequence[str] = ()) -> "DraftStream":
        """Like `draft`, yielding the text as it is written."""
        ...


class DraftStream(Iterator[str]):
    """Text pieces of a draft; `.draft` holds the finished `Draft` once the stream is exhausted.

    Args:
        pieces: A Python generator that yields text and returns the `Draft`.

    Example:
        >>> def write():
        ...     yield "Bonjour"
        ...     return Draft("Bonjour")
        >>> stream = DraftStream(write())
        >>> "".join(stream), stream.draft.text
        ('Bonjour', 'Bonjour')
    """

    def __init__(self, pieces: abc.Generator[str, None, Draft]) -> None:
        self._pieces = pieces
        self.draft: Draft | None = None

    def __iter__(self) -> "DraftStream":
        return self

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration as stop:
            self.draft = stop.value
            raise StopIteration from None


def whole(draft: Draft) -> DraftStream:
    """A stream that yields a finished draft's text at once (generators that do not stream)."""

    def pieces() -> abc.Generator[str, None, Draft]:
        yield draft.text
        return draft

    return DraftStream(pieces())
