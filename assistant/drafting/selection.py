"""Pick the few sentences of the passages that best answer a question. Pure functions.

Each sentence of each passage is scored by its overlap with the question's content terms (the
French analyser's stems; domain expansions count half), plus a bonus for the passage's rank and,
when the question asks for a figure or a date ("combien", "quel %", "quand", "seuil"...), for
sentences holding a number. Questions, headings, fragments and sentences that give orders to an
assistant (prompt injection) are never picked; near-duplicates (the same sentence in two
passages) are picked once. A picked sentence that starts by pointing back ("Il", "Cette",
"En effet"...) brings its preceding sentence along, so the quote reads on its own.

Example:
    >>> from assistant.records import Chunk, Passage
    >>> text = ("Le don de matériel se fait par convention. Le plafond est de 300 € par bien donné. "
    ...         "Une attestation suffit.")
    >>> picked = select_sentences("plafond d'un don ?", [Passage(Chunk("c1", text, "/d.md", "Don"), 1.0)])
    >>> [p.text for p in picked]
    ['Le don de matériel se fait par convention.', 'Le plafond est de 300 € par bien donné.']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from assistant.drafting.injection import looks_like_instruction
from assistant.drafting.sentences import sentence_spans
from assistant.drafting.terms import question_terms, sentence_terms
from assistant.records import Passage
from assistant.retrieval.analysis import fold

MAX_SENTENCES = 5
MIN_SENTENCES = 2
#: After MIN_SENTENCES, a sentence is added only if its score is at least this share of the best.
RELATIVE_FLOOR = 0.6
#: A sentence must hold at least this share of the question's terms (weighted) to be quoted;
#: in the first passage, the most reliable, one term is enough.
MIN_OVERLAP = 0.2
RANK_BONUS = 0.3
FIGURE_BONUS = 0.25
#: Two sentences are near-duplicates when this share of the shorter one's terms is in the other.
DUPLICATE_CONTAINMENT = 0.8
#: Score multiplier of a sentence without final punctuation (often a heading or a caption).
UNPUNCTUATED = 0.85
MIN_CHARS, MAX_CHARS, MIN_WORDS = 25, 600, 5

_FIGURE_QUESTION = re.compile(
    r"\b(?:combien|quand|depuis quand|a partir de quand|jusqu'a quand|quelle? date|delai|duree|seuil|"
    r"plafond|montant|taux|part|pourcentage|proportion|chiffre|ordre de grandeur|objectif|prix|cout|"
    r"age|ans)\b|%")
_FIGURE = re.compile(r"\d")
_FINAL = re.compile(r"[.!?…:;»\")\]]$")
_ANAPHORA = re.compile(r"^(?:il|elle|ils|elles|ce|cet|cette|ces|cela|ceci|celui|celle|ceux|celles|"
                       r"son|sa|ses|leur|leurs|en effet|ainsi|de plus|par ailleurs|toutefois|"
                       r"cependant|mais|or|donc|dans ce cas|a cet effet)\b")


@dataclass(frozen=True)
class Selected:
    """A sentence picked for the draft.

    Args:
        passage: Index of its passage in the list given to the generator.
        start: Offset of the sentence in the chunk text.
        text: The sentence, verbatim from the chunk.
        score: Its score (context sentences get their own score, maybe 0).
    """

    passage: int
    start: int
    text: str
    score: float


def select_sentences(question: str, passages: Sequence[Passage], limit: int = MAX_SENTENCES) -> list[Selected]:
    """The sentences to quote, grouped by passage (best group first) in reading order.

    Args:
        question: The question (after follow-up expansion).
        passages: Retrieved passages, best first.
        limit: Most sentences to return.

    Returns:
        Up to `limit` sentences; empty when no sentence shares a term with the question.
    """
    if limit <= 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    terms = question_terms(question)
    own = sum(w for w in terms.values() if w >= 1.0) or sum(terms.values())
    if not own:
        return []
    wants_figure = bool(_FIGURE_QUESTION.search(fold(question.lower())))
    candidates = [c for rank, passage in enumerate(passages)
                  for c in _candidates(rank, passage, terms, own, wants_figure)]
    candidates.sort(key=lambda c: (-c[0].score, c[0].passage, c[0].start))
    picked: list[tuple[Selected, frozenset[str]]] = []
    for candidate, words in candidates:
        if len(picked) >= limit:
            break
        if len(picked) >= MIN_SENTENCES and candidate.score < RELATIVE_FLOOR * picked[0][0].score:
            break
        if any(_near_duplicate(words, other) for _, other in picked):
            continue
        picked.append((candidate, words))
    chosen = _with_context([c for c, _ in picked], passages, limit)
    return _reading_order(chosen)


def _candidates(rank: int, passage: Passage, terms: dict[str, float], own: float, wants_figure: bool):
    text = passage.chunk.text
    spans = sentence_spans(text)
    for i, (start, end) in enumerate(spans):
        sentence = text[start:end]
        if _fragment(text, start, end, last=i == len(spans) - 1) or not _quotable(sentence):
            continue
        words = sentence_terms(sentence)
        overlap = sum(w for t, w in terms.items() if t in words) / own
        if overlap <= 0 or (rank > 0 and overlap < MIN_OVERLAP):
            continue
        score = overlap + RANK_BONUS / (1 + rank)
        if wants_figure and _FIGURE.search(sentence):
            score += FIGURE_BONUS
        if not _FINAL.search(sentence):
            score *= UNPUNCTUATED
        if len(sentence) > MAX_CHARS * 0.75:
            score *= 0.8  # long PDF run-ons read badly as quotes
        yield Selected(rank, start, sentence, round(score, 6)), words


def _fragment(text: str, start: int, end: int, last: bool) -> bool:
    """A piece of a sentence cut by chunking: the chunk starts or ends in its middle."""
    if start == 0 and text[0].islower():
        return True
    return last and (text[end - 1] == "-" or (not _FINAL.search(text[start:end]) and end - start > 120))


def _quotable(sentence: str) -> bool:
    stripped = sentence.strip()
    return (MIN_CHARS <= len(stripped) <= MAX_CHARS and len(stripped.split()) >= MIN_WORDS
            and not stripped.rstrip("»\"”’') ").endswith("?") and any(c.islower() for c in stripped)
            and stripped.count("|") < 2 and not looks_like_instruction(stripped))


def _near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / min(len(a), len(b)) >= DUPLICATE_CONTAINMENT


def _with_context(chosen: list[Selected], passages: Sequence[Passage], limit: int) -> list[Selected]:
    """Add the sentence before each chosen one that starts by pointing back, while room remains."""
    out = list(chosen)
    taken = {(c.passage, c.start) for c in out}
    for c in chosen:
        if len(out) >= limit or not _ANAPHORA.match(fold(c.text.lower())):
            continue
        spans = sentence_spans(passages[c.passage].chunk.text)
        before = [s for s in spans if s[1] <= c.start]
        if not before:
            continue
        start, end = before[-1]
        text = passages[c.passage].chunk.text[start:end]
        if (c.passage, start) not in taken and _quotable(text):
            out.append(Selected(c.passage, start, text, 0.0))
            taken.add((c.passage, start))
    return out


def _reading_order(chosen: list[Selected]) -> list[Selected]:
    best: dict[int, float] = {}
    for c in chosen:
        best[c.passage] = max(best.get(c.passage, 0.0), c.score)
    return sorted(chosen, key=lambda c: (-best[c.passage], c.passage, c.start))
