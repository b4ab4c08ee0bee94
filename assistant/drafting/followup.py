"""Follow-up questions: "et pour les imprimantes ?" is read with the thread's earlier question.

A question asked in an existing thread that leans on it (starts with "et", "aussi", "pareil",
a pronoun, or is a few words without a subject of its own) is expanded with the thread's
previous question for retrieval and for the evidence check. A self-contained question is left
as it is, so a new subject in an old thread is not polluted.

Example:
    >>> contextual_query("et pour les imprimantes ?", ["Quelle part de matériel reconditionné acheter ?"])
    'Quelle part de matériel reconditionné acheter ? — et pour les imprimantes ?'
    >>> contextual_query("Quel est le plafond d'un don de matériel informatique ?", ["Quelle part de reconditionné ?"])
    "Quel est le plafond d'un don de matériel informatique ?"
"""

from __future__ import annotations

import re
from typing import Sequence

from assistant.drafting.terms import own_terms
from assistant.text.normalize import fold

# Openings that only make sense after an earlier question.
_LEADS = re.compile(
    r"^(?:et|aussi|mais|sinon|pareil|idem|meme chose|dans ce cas|du coup|alors|ok|d'accord|"
    r"pour les|pour la|pour le|pour des|pour ceux|pour celles|combien pour|le meme|la meme|"
    r"les memes|dedans|la-dessus)\b")
# Pronouns that point back to the earlier question, unless impersonal ("il y a", "il faut").
_ANAPHORA = re.compile(r"^(?:il|elle|ils|elles|ca|cela|celui|celle|ceux|celles|lui|leur)\b"
                       r"(?! (?:y a|y avait|faut|fallait|existe|s'agit|est possible|est interdit))")
_WORD = re.compile(r"[\w'-]+")

#: A question with at most this many words and this many content terms has no subject of its own.
SHORT_WORDS = 5
SHORT_TERMS = 1


def is_follow_up(question: str) -> bool:
    """True when the question leans on an earlier one.

    Example:
        >>> is_follow_up("Aussi pour les écrans ?"), is_follow_up("Les écrans reconditionnés sont-ils garantis ?")
        (True, False)
    """
    text = fold(question.strip().lower()).replace("\u2019", "'")
    words = _WORD.findall(text)
    if not words:
        return False
    joined = " ".join(words)
    if _LEADS.match(joined) or _ANAPHORA.match(joined) or "aussi" in words[:3]:
        return True
    return len(words) <= SHORT_WORDS and len(own_terms(question)) <= SHORT_TERMS


def contextual_query(question: str, history: Sequence[str] = ()) -> str:
    """The question to search with: itself, or prefixed by the thread's earlier question.

    Args:
        question: The buyer's new question.
        history: The thread's earlier questions, oldest first.

    Returns:
        `question` unchanged when standalone or without history; else "PREVIOUS — question",
        where PREVIOUS is itself expanded when it was a follow-up too.
    """
    earlier = [h for h in history if h and h.strip()]
    if not earlier or not is_follow_up(question):
        return question
    previous = contextual_query(earlier[-1], earlier[:-1])
    return f"{previous} — {question}"
