"""What the buyer receives lists the sources once, and names past answers as the desk's."""

from __future__ import annotations

from datetime import date

from assistant.drafting import texts
from assistant.drafting.extractive import ExtractiveGenerator
from assistant.records import Chunk, Passage
from review_fixtures import open_service

PAST_ANSWER = Chunk("a1", "Question : c quoi la limite pour donner un pc ?\n\nRéponse : Le don est possible si la "
                    "valeur unitaire du bien ne dépasse pas 300 €.", "/corpus/answers/reponses.yaml",
                    "c quoi la limite pour donner un pc ?", "answer", metadata={"date": "2026-11-28"})
GUIDE = Chunk("g1", "Au-delà de 300 €, le bien est vendu avec publicité et mise en concurrence.", "/corpus/don.md",
              "Focus sur le don", section="Les règles du don", metadata={"date": "2022-03-22"})


def real_drafter(question, history):
    """The real extractive generator on two fixed passages (the retrieval is not under test)."""
    return ExtractiveGenerator(today=date(2026, 12, 1)).draft(
        question, [Passage(PAST_ANSWER, 0.9, (), 1, 1), Passage(GUIDE, 0.5, (), 2, 2)])


def test_unedited_draft_reaches_the_buyer_with_one_sources_list(home):
    service = open_service(drafter=real_drafter)
    service.add_advisor("alice", "correct horse battery")
    submitted = service.submit("limite de valeur pour donner un pc à une asso ?")
    detail = service.show(submitted.id)
    assert texts.SOURCES_HEADING in detail.draft.text, "the advisor's draft has its sources block"
    sent = service.validate(submitted.id, "alice")
    assert texts.SOURCES_HEADING not in sent.answer.text, sent.answer.text
    assert sent.answer.edited is False and sent.answer.edit_ratio == 0.0, "the block is not an edit"
    message = service.thread(submitted.thread).messages[0]
    assert [s.title for s in message.sources][:1] == ["Réponse validée du guichet du 2026-11-28"], message.sources
    assert "c quoi" not in message.answer and all("c quoi" not in s.title for s in message.sources)
    service.close()


def test_advisor_sees_past_answers_named_as_the_desk_s(home):
    service = open_service(drafter=real_drafter)
    submitted = service.submit("limite de valeur pour donner un pc à une asso ?")
    shown = service.show(submitted.id).draft.passages
    assert shown[0].title == "Réponse validée du guichet du 2026-11-28", shown[0]
    assert shown[1].title == "Focus sur le don"
    service.close()
