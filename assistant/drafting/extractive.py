"""The default generator: a short French answer made of verbatim sentences of the passages.

Offline and deterministic. The draft has a one-line opening, the two to five sentences that best
answer the question (each followed by its marker [n], n numbering the distinct passages cited
in order), a "Sources" list, a "Pour aller plus loin" line when related resources exist and a
closing line inviting a follow-up. Quotes are verbatim, so their citations hold by
construction; `citations.verify` still runs, and old sources are flagged for the advisor.

Example:
    >>> from assistant.records import Chunk, Passage
    >>> chunk = Chunk("c1", "Entre 5 et 10 ans, c'est le don du matériel fonctionnel qu'il faut privilégier.",
    ...               "/c/faq.md", "Foire aux questions", section="DEEE", metadata={"date": "2023-04-03"})
    >>> draft = ExtractiveGenerator().draft("PC de 7 ans : don ou DEEE ?", [Passage(chunk, 0.03, (), 1, 1)])
    >>> print(draft.text.splitlines()[1])
    - Entre 5 et 10 ans, c'est le don du matériel fonctionnel qu'il faut privilégier. [1]
    >>> draft.citations[0].chunk_id, draft.abstained
    ('c1', False)
"""

from __future__ import annotations

from datetime import date
from typing import Callable, Sequence

from assistant.drafting import texts
from assistant.drafting.abstention import Thresholds, should_abstain
from assistant.drafting.base import DraftStream, whole
from assistant.drafting.citations import verify
from assistant.drafting.dates import age_flags
from assistant.drafting.followup import contextual_query
from assistant.drafting.render import abstention_text, display, further_line, sources_block
from assistant.drafting.selection import select_sentences
from assistant.errors import GuichetError
from assistant.records import Chunk, Citation, Draft, Flag, Passage

#: Default `max_source_age_days` when no settings are given (same as `Settings`).
DEFAULT_MAX_AGE_DAYS = 730

RelatedResources = Callable[[str], Sequence[Chunk]]


class ExtractiveGenerator:
    """Drafts by quoting the passages' best sentences, or abstains when the evidence is weak.

    Args:
        settings: Reads `max_source_age_days`; None = the defaults.
        related_resources: Optional lookup `(question) -> resource chunks` (peer networks, guides)
            for the "Pour aller plus loin" line, besides retrieved passages of kind "resource".
        thresholds: Abstention rule parameters (default: the calibrated constants).
        today: Reference day for source ages (default: today).
    """

    name = "extractive"

    def __init__(self, settings=None, related_resources: RelatedResources | None = None,
                 thresholds: Thresholds = Thresholds(), today: date | None = None) -> None:
        self.max_age_days = getattr(settings, "max_source_age_days", DEFAULT_MAX_AGE_DAYS)
        self.related_resources = related_resources
        self.thresholds = thresholds
        self.today = today

    def draft(self, question: str, passages: Sequence[Passage], history: Sequence[str] = ()) -> Draft:
        """Draft an answer from `passages` (best first), or an abstention with its reason."""
        passages = tuple(passages)
        query = contextual_query(question, history)
        further, notes = self.further(query, passages)
        abstain, reason = should_abstain(passages, query, self.thresholds)
        selected = [] if abstain else select_sentences(query, passages)
        if not selected:
            reason = reason or "no sentence of the passages shares a term with the question"
            return Draft(abstention_text(query, further), passages=passages, abstained=True,
                         reason=reason, flags=notes, generator=self.name)
        markers: dict[int, int] = {}
        lines, citations = [texts.OPENING], []
        for sentence in selected:
            marker = markers.setdefault(sentence.passage, len(markers) + 1)
            lines.append(f"- {display(sentence.text)} [{marker}]")
            citations.append(Citation(marker, passages[sentence.passage].chunk.id, sentence.text))
        cited = [(m, passages[i]) for i, m in markers.items()]
        text = "\n".join(lines) + "\n\n" + sources_block(cited)
        text += "\n\n" + "\n\n".join(p for p in (further, texts.CLOSING) if p)
        flags = verify(text, citations, passages) + age_flags(
            {m: p.chunk for m, p in cited}, self.max_age_days, self.today) + notes
        return Draft(text, tuple(citations), passages, False, "", flags, self.name)

    def stream(self, question: str, passages: Sequence[Passage], history: Sequence[str] = ()) -> DraftStream:
        """The whole draft at once (the extractive draft takes milliseconds)."""
        return whole(self.draft(question, passages, history))

    def further(self, question: str, passages: Sequence[Passage]) -> tuple[str, tuple[Flag, ...]]:
        """The "Pour aller plus loin" line (or "") and a note if the resources lookup failed."""
        resources = [p.chunk for p in passages if p.chunk.kind == "resource"]
        notes: tuple[Flag, ...] = ()
        if self.related_resources is not None:
            try:
                resources.extend(self.related_resources(question))
            except GuichetError as exc:
                notes = (Flag("", f"related resources lookup failed: {exc}"),)
        return further_line(resources), notes
