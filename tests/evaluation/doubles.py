"""Test doubles for the evaluation tests: hand-made chunks and a keyword-overlap assistant.

The real pipeline (`assistant.pipeline.open_assistant`) is another stage's work; these doubles
stand in for it so the evaluation logic is tested on records whose relevance we know exactly.
"""

from __future__ import annotations

import re

from assistant.errors import InvalidQuery
from assistant.text.normalize import normalize
from assistant.records import Chunk, Citation, Draft, Passage

GUIDE = "/corpus/guide-achats-numeriques-responsables-2021.pdf"

CHUNKS = (
    Chunk("c-ges", "Le numérique représente 3,8\u00a0% des émissions de gaz à effet de serre mondiales.",
          GUIDE, "Guide des achats numériques responsables", page=12),
    Chunk("c-label", "L’acheteur peut exiger un label particulier si ses critères sont objectivement "
          "vérifiables (articles R2111-14 et R2111-15).", GUIDE,
          "Guide des achats numériques responsables", page=31),
    Chunk("c-don", "Le don est possible lorsque la valeur unitaire du bien n’excède pas 300\u00a0€ : "
          "les associations reçoivent le matériel gratuitement.", "/corpus/fin-usage--don.md",
          "Fin d'usage : le don", section="Conditions du don"),
    Chunk("c-deee", "Entre 5 et 10 ans, un ordinateur qui fonctionne encore part vers le réemploi, "
          "pas vers la filière DEEE.", "/corpus/fin-usage--faq.md", "Fin d'usage : FAQ",
          section="Ordinateurs anciens"),
    Chunk("c-bio", "Restauration collective : au moins 50 % de produits durables dont 20 % issus "
          "de l'agriculture biologique.", "/corpus/plan-transformation-ecologique-etat-2024.pdf",
          "Plan de transformation écologique", page=8),
)

QUESTIONS_YAML = """\
version: 1
questions:
  - id: ges
    question: "le numerique represente quel % des emissions de gaz ?"
    answerable: true
    evidence: ["3,8 % des émissions de gaz"]
    source: guide-achats-numeriques-responsables-2021.pdf
  - id: label
    question: "exiger un label particulier dans le DCE, criteres ?"
    answerable: true
    evidence: ["critères sont objectivement vérifiables"]
  - id: don
    question: "valeur unitaire maximale pour un don aux associations ?"
    answerable: true
    evidence: ["n'excède pas 300 €"]
    source: [fin-usage--don.md, autre-guide.md]
  - id: deee
    question: "ordinateur de 7 ans qui fonctionne encore : DEEE ?"
    answerable: true
    evidence: ["Entre 5 et 10 ans"]
    source: fin-usage--faq.md
  - id: meteo
    question: "Quel temps fera-t-il demain a Toulouse ?"
    answerable: false
"""

_WORD = re.compile(r"[a-z0-9]{4,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(normalize(text)))


class StubAssistant:
    """Test double for the pipeline's assistant: keyword overlap search, extractive drafts.

    Args:
        chunks: The whole "index".
        reverse: Return the ranking reversed (a deliberately weakened retriever).
        bad_citations: Cite a chunk id that was never retrieved.
        fail_on: A question text for which search raises InvalidQuery.
    """

    def __init__(self, chunks=CHUNKS, *, reverse=False, bad_citations=False, fail_on=None):
        self.chunks = chunks
        self.reverse = reverse
        self.bad_citations = bad_citations
        self.fail_on = fail_on

    def search(self, question: str) -> list[Passage]:
        if question == self.fail_on:
            raise InvalidQuery("question refused by the test double")
        words = _words(question)
        scored = [(len(words & _words(c.text)), c) for c in self.chunks]
        ranked = sorted(scored, key=lambda sc: (-sc[0], sc[1].id))
        if self.reverse:
            ranked.reverse()
        return [Passage(chunk, float(score)) for score, chunk in ranked]

    def ask(self, question: str, passages: list[Passage]) -> Draft:
        if not passages or passages[0].score == 0 or self.reverse:
            return Draft("Je ne trouve pas la réponse dans les documents.", abstained=True,
                         reason="no relevant passage")
        top = passages[0].chunk
        chunk_id = "never-retrieved" if self.bad_citations else top.id
        return Draft(f"{top.text} [1]", citations=(Citation(1, chunk_id, top.text[:40]),),
                     passages=tuple(passages[:3]))

    def index_fingerprint(self) -> dict:
        return {"documents": {c.source: "0" * 64 for c in self.chunks}}


class SearchOnlyAssistant:
    """Test double without `ask`: the drafting stage is absent."""

    def __init__(self, chunks=CHUNKS):
        self._inner = StubAssistant(chunks)

    def search(self, question: str) -> list[Passage]:
        return self._inner.search(question)
