"""The default generator: a short French answer made of verbatim sentences of the passages.

Offline and deterministic. The calibrated abstention model (`abstention`) decides the outcome:
- answer: a one-line opening, the sentences that best answer the question, best first (at most
  four, each followed by its marker [n], n numbering the distinct passages cited in order), a
  "Sources" list, a "Pour aller plus loin" line when related resources exist and a closing line;
- partial: the same, opened by "Les sources consultées ne donnent pas ce chiffre ; voici ce
  qu'elles disent sur le sujet :" and flagged for the advisor;
- abstain: no reliable source, and whom to ask (from the resources directory).
The reason of the outcome, in French, is in `Draft.reason`. Quotes are verbatim, so their
citations hold by construction; `citations.verify` still runs, and old sources are flagged.

Example:
    >>> from assistant.records import Chunk, Passage
    >>> chunk = Chunk("c1", "Entre 5 et 10 ans, c'est le don du matériel fonctionnel qu'il faut privilégier.",
    ...               "/c/faq.md", "Foire aux questions", section="DEEE", metadata={"date": "2023-04-03"})
    >>> draft = ExtractiveGenerator().draft("PC de 7 ans : don ou DEEE ?", [Passage(chunk, 0.03, (), 1, 1)])
    >>> print(draft.text.splitlines()[1])
    - Entre 5 et 10 ans, c'est le don du matériel fonctionnel qu'il faut privilégier. [1]
    >>> draft.citations[0].chunk_id, draft.outcome
    ('c1', 'answer')
"""

from __future__ import annotations

from datetime import date
from typing import Callable, Sequence

from assistant.drafting import texts
from assistant.drafting.abstention import Decision, Model, decide, evidence, load_model
from assistant.drafting.base import DraftStream, whole
from assistant.drafting.citations import verify
from assistant.drafting.dates import MAX_SOURCE_AGE_DAYS, age_flags
from assistant.drafting.followup import contextual_query
from assistant.drafting.render import abstention_text, display, further_line, sources_block
from assistant.drafting.selection import select_sentences
from assistant.drafting.terms import Rarity
from assistant.errors import ConfigError, GuichetError
from assistant.records import Chunk, Citation, Draft, Flag, Passage

RelatedResources = Callable[[str], Sequence[Chunk]]


class ExtractiveGenerator:
    """Drafts by quoting the passages' best sentences, partially, or abstains (see the module).

    Args:
        related_resources: Optional lookup `(question) -> resource chunks` (peer networks, guides)
            for "Pour aller plus loin" and for whom to ask in an abstention, besides retrieved
            passages of kind "resource".
        model: The abstention model (default: the shipped one; `assistant.compose` passes a
            desk's own fit).
        today: Reference day for source ages (default: today).
        rarity: Rarity of terms in the indexed corpus (`Assistant.term_rarity`), an input of the
            abstention model; None when unknown.
        max_age_days: Sources older than this many days are flagged for the advisor (> 0).

    Raises:
        ConfigError: max_age_days <= 0.
    """

    name = "extractive"

    def __init__(self, related_resources: RelatedResources | None = None, model: Model | None = None,
                 today: date | None = None, rarity: Rarity | None = None,
                 max_age_days: int = MAX_SOURCE_AGE_DAYS) -> None:
        if max_age_days <= 0:
            raise ConfigError(f"max_source_age_days must be > 0, got {max_age_days}")
        self.max_age_days = max_age_days
        self.related_resources = related_resources
        self.model = model or load_model()
        self.today = today
        self.rarity = rarity

    def draft(self, question: str, passages: Sequence[Passage], history: Sequence[str] = ()) -> Draft:
        """Draft an answer from `passages` (best first), a partial answer, or an abstention."""
        passages = tuple(passages)
        query = contextual_query(question, history)
        resources, notes = self.resources(query, passages)
        decision = self.decision(query, passages)
        selected = [] if decision.outcome == "abstain" else select_sentences(query, passages)
        if not selected:
            reason = decision.reason if decision.outcome == "abstain" else \
                "aucune phrase des passages ne traite de la question"
            return Draft(abstention_text(query, resources), passages=passages, abstained=True,
                         reason=reason, flags=notes, generator=self.name, outcome="abstain")
        markers: dict[int, int] = {}
        opening = texts.OPENING
        if decision.outcome == "partial":
            opening = texts.PARTIAL_OPENING.format(missing=decision.missing)
            notes = (Flag("", texts.PARTIAL_FLAG.format(missing=decision.missing)), *notes)
        lines, citations = [opening], []
        for sentence in selected:
            marker = markers.setdefault(sentence.passage, len(markers) + 1)
            lines.append(f"- {display(sentence.text)} [{marker}]")
            citations.append(Citation(marker, passages[sentence.passage].chunk.id, sentence.text))
        cited = [(m, passages[i]) for i, m in markers.items()]
        further = further_line(resources)
        text = "\n".join(lines) + "\n\n" + sources_block(cited)
        text += "\n\n" + "\n\n".join(p for p in (further, texts.CLOSING) if p)
        flags = verify(text, citations, passages) + age_flags(
            {m: p.chunk for m, p in cited}, self.max_age_days, self.today) + notes
        return Draft(text, tuple(citations), passages, False, decision.reason, flags, self.name,
                     decision.outcome)

    def decision(self, question: str, passages: Sequence[Passage]) -> Decision:
        """The outcome the abstention model gives for the (expanded) question and its passages."""
        return decide(evidence(passages, question, self.rarity), self.model, question)

    def stream(self, question: str, passages: Sequence[Passage], history: Sequence[str] = ()) -> DraftStream:
        """The whole draft at once (the extractive draft takes milliseconds)."""
        return whole(self.draft(question, passages, history))

    def resources(self, question: str, passages: Sequence[Passage]) -> tuple[list[Chunk], tuple[Flag, ...]]:
        """Related resources (retrieved ones, then the lookup's) and a note if the lookup failed."""
        resources = [p.chunk for p in passages if p.chunk.kind == "resource"]
        notes: tuple[Flag, ...] = ()
        if self.related_resources is not None:
            try:
                resources.extend(self.related_resources(question))
            except GuichetError as exc:
                notes = (Flag("", f"related resources lookup failed: {exc}"),)
        return resources, notes

    def further(self, question: str, passages: Sequence[Passage]) -> tuple[str, tuple[Flag, ...]]:
        """The "Pour aller plus loin" line (or "") and a note if the resources lookup failed."""
        resources, notes = self.resources(question, passages)
        return further_line(resources), notes

