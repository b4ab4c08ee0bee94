"""Pure helpers on texts: input checks with their limits, edit ratio, diff, cited sources.

Example:
    >>> edit_ratio("Le label est exigible.", "Le label est exigible.")
    0.0
    >>> check_answer_text("  Réponse.  ")
    'Réponse.'
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.review.errors import InvalidInput

#: Longest final answer accepted (characters). A longer text is refused, not truncated:
#: an answer that long belongs in a document the answer links to.
MAX_ANSWER_CHARS = 100_000
#: Longest buyer question accepted (characters).
MAX_QUESTION_CHARS = 10_000
#: Longest reason, buyer message or feedback comment (characters).
MAX_NOTE_CHARS = 5_000
MAX_ORGANISATION_CHARS = 200

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_MARKER = re.compile(r"\[(\d+)\]")


#: Control characters a typed text may hold (the others, NUL first, are refused).
_TYPED_CONTROLS = frozenset("\t\n\r")


def visible(text: str) -> str:
    """The text without Unicode format characters (category Cf): zero-width spaces and joiners,
    the BOM, soft hyphens, and the bidi marks, embeddings, overrides and isolates that would
    show the text around them reversed on an advisor's screen.

    >>> visible("\u202edemande\u200b\ufeff")
    'demande'
    """
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _control(text: str) -> str | None:
    return next((c for c in text if unicodedata.category(c) == "Cc" and c not in _TYPED_CONTROLS), None)


def _check(text: str | None, what: str, limit: int) -> str:
    text = visible(str(text)).strip() if text is not None else ""
    if not text:
        raise InvalidInput(f"the {what} is empty (nothing visible): write the text")
    if (control := _control(text)) is not None:
        name = "a NUL character" if control == "\x00" else f"a control character (U+{ord(control):04X})"
        raise InvalidInput(f"the {what} contains {name}: remove it")
    if len(text) > limit:
        raise InvalidInput(
            f"the {what} is {len(text)} characters long, over the limit of {limit}: shorten it"
        )
    return text


def check_answer_text(text: str | None) -> str:
    """The final answer, stripped; refuses an empty text or one over `MAX_ANSWER_CHARS`.

    Every typed text (answer, question, note, organisation) loses its invisible format
    characters (`visible`) and is refused when nothing visible is left or when it holds a
    control character other than a tab or a line break.

    HTML is kept as typed: answers are stored and mailed as plain text, never rendered.
    """
    return _check(text, "final answer", MAX_ANSWER_CHARS)


def check_question(text: str | None) -> str:
    """The buyer's question, stripped; refuses an empty text or one over `MAX_QUESTION_CHARS`."""
    return _check(text, "question", MAX_QUESTION_CHARS)


def check_note(text: str | None, what: str) -> str:
    """A reason, buyer message or comment, stripped and limited to `MAX_NOTE_CHARS`."""
    return _check(text, what, MAX_NOTE_CHARS)


def check_email(email: str | None) -> str | None:
    """A plausible single address, or None when not given."""
    if email is None or not email.strip():
        return None
    email = email.strip()
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in email):
        raise InvalidInput("the e-mail address contains an invisible or control character: type it again")
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidInput(f"'{email[:80]}' is not an e-mail address: give one like nom@exemple.fr")
    return email


def check_organisation(organisation: str | None) -> str | None:
    """The buyer's organisation, or None when not given."""
    if organisation is None or not organisation.strip():
        return None
    return _check(organisation, "organisation", MAX_ORGANISATION_CHARS)


def submission_key(session: str, thread: str | None, question: str) -> str:
    """The key of one buyer submission: the same question sent again from the same page session
    (a retry after an error or a lost response) has the same key.

    Example:
        >>> submission_key("s1", None, "Puis-je  exiger un label ?") == submission_key("s1", None, "Puis-je exiger un label ?")
        True
    """
    parts = (session, thread or "", " ".join(question.split()))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def edit_ratio(draft: str, final: str) -> float:
    """Normalised edit distance between two texts, from 0.0 (same) to 1.0 (nothing kept).

    Computed on words (`1 - SequenceMatcher.ratio()`), which measures what an advisor rewrote
    and stays fast on long answers.
    """
    a, b = draft.split(), final.split()
    if not a and not b:
        return 0.0
    return round(1.0 - difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), 6)


def text_diff(before: str, after: str, before_name: str = "draft", after_name: str = "final") -> str:
    """Unified diff of two texts, line by line ('' when equal)."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), before_name, after_name, lineterm=""
    )
    return "\n".join(lines)


def cited_sources(
    citations: Sequence[Mapping[str, Any]], passages: Sequence[Mapping[str, Any]], final: str
) -> list[dict[str, Any]]:
    """Sources of a final answer: the draft's cited passages whose `[n]` marker it still has.

    When the final text keeps no marker at all, every passage the draft cited is listed: the
    advisor rewrote the prose but the answer still rests on those sources.

    Args:
        citations: The draft's citations as stored (`marker`, `chunk_id`, `quote`).
        passages: The passages shown with the draft, as stored.
        final: The validated text.

    Returns:
        Source dicts (`marker`, `title`, `location`, `source`, `url`) in marker order.
    """
    by_chunk = {p["chunk_id"]: p for p in passages}
    kept = {int(m) for m in _MARKER.findall(final)}
    chosen = [c for c in citations if c["marker"] in kept] or list(citations)
    sources: list[dict[str, Any]] = []
    seen: set[int] = set()
    for citation in sorted(chosen, key=lambda c: c["marker"]):
        passage = by_chunk.get(citation["chunk_id"])
        if passage is None or citation["marker"] in seen:
            continue
        seen.add(citation["marker"])
        page = passage.get("page")
        location = f"p. {page}" if page is not None else (passage.get("section") or "document entier")
        sources.append({
            "marker": citation["marker"], "title": passage.get("title", ""), "location": location,
            "source": passage.get("source", ""), "url": passage.get("url", ""),
        })
    return sources
