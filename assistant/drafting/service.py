"""The drafting entry point of the review stage.

Example:
    >>> from assistant.config import get_settings
    >>> draft = draft_for_review(get_settings(), "et pour les imprimantes ?",
    ...                          ["Quelle part de matériel reconditionné acheter ?"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Sequence

from assistant.records import Draft


def draft_for_review(settings, question: str, history: Sequence[str] = (),
                     passages: Sequence[Mapping[str, Any]] | None = None,
                     on_text: Callable[[str], None] | None = None) -> Draft:
    """Search (unless the job stored its passages) and draft an answer for the advisor's queue.

    Args:
        settings: The assistant's settings (index, retrieval, generator).
        question: The buyer's question.
        history: The thread's earlier questions, oldest first (follow-ups are read with them).
        passages: The draft job's stored passages (`drafting.refs`), if any.
        on_text: Called with each piece of the draft as it is written.

    Returns:
        A cited draft, or an abstention with its reason.
    """
    from assistant.pipeline import open_assistant

    assistant = open_assistant(settings)
    try:
        return assistant.draft_job(question, history, passages, on_text)
    finally:
        assistant.index.close()
