"""Drafts being written, as they are written: token by token in this process, from the job row otherwise.

The worker that runs a draft job publishes each piece of text here (`begin`, `add`, `end`);
an advisor's page follows it with `follow`, which yields the growing text. A job run by
another app process is followed through its row, whose `partial` text the running attempt
renews every second or so (see `review.runner`).

Example:
    >>> live = LiveDrafts()
    >>> live.begin(7); live.add(7, "Oui, "); live.add(7, "sous conditions."); live.end(7)
    >>> live.text(7) is None
    True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

#: How often a draft written by another process is read again (seconds).
POLL_S = 0.5


@dataclass
class _Writing:
    pieces: list[str] = field(default_factory=list)
    done: bool = False


class LiveDrafts:
    """Texts of the drafts this process is writing now, by question id."""

    def __init__(self) -> None:
        self._writing: dict[int, _Writing] = {}
        self._changed = threading.Condition()

    def begin(self, question_id: int) -> None:
        with self._changed:
            self._writing[question_id] = _Writing()
            self._changed.notify_all()

    def add(self, question_id: int, piece: str) -> None:
        with self._changed:
            writing = self._writing.get(question_id)
            if writing is not None:
                writing.pieces.append(piece)
                self._changed.notify_all()

    def end(self, question_id: int) -> None:
        with self._changed:
            writing = self._writing.pop(question_id, None)
            if writing is not None:
                writing.done = True
            self._changed.notify_all()

    def text(self, question_id: int) -> str | None:
        """The text written so far, or None when this process is not drafting the question."""
        with self._changed:
            writing = self._writing.get(question_id)
            return "".join(writing.pieces) if writing is not None else None

    def follow(self, question_id: int, still_open: Callable[[], tuple[bool, str]],
               timeout_s: float = 600.0) -> Iterator[str]:
        """Yield the growing text of the question's draft (each time it changed) until its job ends.

        Args:
            question_id: The question.
            still_open: Reads the job row: (whether it is queued or running, its partial text).
                Called when this process is not the one writing the draft.
            timeout_s: Stop following after this long (the page can be reloaded).
        """
        deadline = time.monotonic() + timeout_s
        shown = ""
        while time.monotonic() < deadline:
            with self._changed:
                writing = self._writing.get(question_id)
                if writing is not None:
                    text = "".join(writing.pieces)
                    if text == shown:
                        self._changed.wait(timeout=POLL_S)
                        continue
            if writing is None:
                is_open, text = still_open()
                if not is_open:
                    return
                if text == shown:
                    with self._changed:  # woken at once if this process starts writing it
                        self._changed.wait(timeout=POLL_S)
                    continue
            shown = text
            yield text
