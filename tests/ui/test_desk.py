"""The web app's service layer on real components: real index and model, real review database."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from ui_fixtures import PASSWORD, ROOT, drafted, settings_for

from assistant import compose
from assistant.records import Draft
from assistant.review.errors import Conflict, InvalidInput, RateLimited, UnknownThread
from assistant.review.limits import Limits
from assistant.review.store import utcnow
from assistant.ui import render
from assistant.ui.desk import Desk, resources_of
from assistant.ui.start import first_start

LABEL_QUESTION = "Puis-je exiger un label précis dans mon marché ?"
DON_QUESTION = "Peut-on donner nos vieux ordinateurs réformés à une association ?"
HERAULT_PCS = "On est une commune de l'Hérault : on voudrait acheter des PC reconditionnés, quelqu'un l'a déjà fait ?"
NO_PEER = "Quel délai de standstill après le rejet des offres ?"
PEERS_FILE = ROOT / "corpus" / "peers" / "retours-experience.yaml"


def test_ask_acknowledges_with_resources_and_a_private_thread(desk):
    ack = desk.ask(LABEL_QUESTION, email="acheteur@ville.fr", organisation="Ville de Test", session="s1")
    assert len(ack.thread) >= 32, "the thread token must be unguessable"
    assert ack.resources, "an acknowledgement lists the resources that look relevant"
    assert "label" in ack.resources[0].title.lower(), f"first resource: {ack.resources[0]}"
    assert len({r.title for r in ack.resources}) == len(ack.resources), "one line per document"
    assert ack.delay, "the expected delay is given"
    view = desk.thread(ack.thread)
    assert [(m.question, m.status, m.answer) for m in view.messages] == [(LABEL_QUESTION, "pending", None)], \
        "the buyer sees the question as pending, never the draft"
    follow = desk.ask("Et pour un écolabel ?", thread=ack.thread, session="s1")
    assert follow.thread == ack.thread
    assert [m.question_id for m in desk.thread(ack.thread).messages] == [ack.question_id, follow.question_id]
    assert desk.show(follow.question_id).history == (LABEL_QUESTION,), "the follow-up is drafted with its context"


def test_the_acknowledgement_comes_from_retrieval_and_never_waits_for_the_draft(desk, monkeypatch):
    started, release = threading.Event(), threading.Event()
    searches = []
    search, draft_job = desk.assistant.search, desk.assistant.draft_job

    def slow_draft(*args, **kwargs):
        started.set()
        release.wait(timeout=60)
        return draft_job(*args, **kwargs)

    monkeypatch.setattr(desk.assistant, "search", lambda *a, **k: searches.append(k.get("mode")) or search(*a, **k))
    monkeypatch.setattr(desk.assistant, "draft_job", slow_draft)
    ack = desk.ask(LABEL_QUESTION, session="s1")
    assert started.wait(timeout=30), "the draft job starts in the background"
    assert ack.resources and desk.show(ack.question_id).drafting, \
        "the buyer has the resources while the draft is still being written"
    release.set()
    detail = drafted(desk, ack.question_id)
    assert detail.status == "drafted" and detail.draft.citations, detail
    assert searches == ["lexical", None], "a lexical search for the buyer, the hybrid one in the draft job"
    assert {r.title for r in ack.resources} & {r.title for r in resources_of(detail.draft.passages)}, \
        "the resources shown are among what the draft quotes"


def test_a_retried_question_is_the_same_question_in_the_same_thread(desk):
    first = desk.ask(LABEL_QUESTION, session="tab-1")
    again = desk.ask(LABEL_QUESTION, session="tab-1")
    assert (again.question_id, again.thread) == (first.question_id, first.thread)
    other_tab = desk.ask(LABEL_QUESTION, session="tab-2")
    assert other_tab.thread != first.thread, "another page is another buyer"
    follow = desk.ask("Et pour un écolabel ?", thread=first.thread, session="tab-1")
    assert follow.question_id != first.question_id
    assert len(desk.review.list_questions()) == 3


def test_unknown_and_foreign_tokens_are_refused_the_same_way(desk):
    mine = desk.ask(LABEL_QUESTION, session="a")
    theirs = desk.ask(DON_QUESTION, session="b")
    with pytest.raises(UnknownThread) as unknown:
        desk.thread("x" * 32)
    with pytest.raises(UnknownThread) as malformed:
        desk.thread("../../etc/passwd")
    detail = drafted(desk, theirs.question_id) and desk.open(theirs.question_id, "alice").detail
    desk.validate(theirs.question_id, "alice", "Oui, sous conditions.", False, detail.version)
    with pytest.raises(UnknownThread) as foreign:
        desk.rate(mine.thread, theirs.question_id, 5)
    assert str(unknown.value) == str(malformed.value) == str(foreign.value), \
        "a caller must not learn whether a token or a question exists"
    assert all(m.question_id != theirs.question_id for m in desk.thread(mine.thread).messages)


def test_rate_limit_per_session_and_per_address(desk):
    limited = Desk(desk.assistant, desk.review, limits=Limits(per_session=2, per_address=3))
    with pytest.raises(InvalidInput):
        limited.ask("   ", session="s1", address="10.0.0.1")  # refused input uses no quota
    limited.ask(LABEL_QUESTION, session="s1", address="10.0.0.1")
    limited.ask(DON_QUESTION, session="s1", address="10.0.0.1")
    with pytest.raises(RateLimited) as per_session:
        limited.ask("Et l'indice de réparabilité ?", session="s1", address="10.0.0.1")
    assert per_session.value.retry_after > 0
    limited.ask("Et l'indice de réparabilité ?", session="s2", address="10.0.0.1")
    with pytest.raises(RateLimited):
        limited.ask("Une autre question ?", session="s3", address="10.0.0.1")  # the address is spent
    limited.ask("Une autre question ?", session="s3", address="10.0.0.2")
    assert len(desk.review.list_questions()) == 4, "refused questions are not recorded"


def test_queue_filters_by_status_age_and_subject(desk):
    first = desk.ask(LABEL_QUESTION)
    second = desk.ask(DON_QUESTION)
    drafted(desk, first.question_id), drafted(desk, second.question_id)
    queue = desk.queue()
    assert [r.id for r in queue.rows] == [first.question_id, second.question_id], "oldest first"
    assert queue.counts == {"drafted": 2}, f"{queue.counts}"
    assert [r.id for r in desk.queue(subject="Labels et écolabels").rows] == [first.question_id]
    assert [r.subject for r in queue.rows] == ["Labels et écolabels", "Matériel réformé : don, cession, recyclage (DEEE)"]
    assert desk.queue(age="Plus d'un jour").rows == ()
    later = Desk(desk.assistant, desk.review,
                 clock=lambda: utcnow() + timedelta(days=2))
    assert len(later.queue(age="Plus d'un jour").rows) == 2
    assert later.queue(age="Moins d'une heure").rows == ()
    detail = desk.open(first.question_id, "alice").detail
    desk.validate(first.question_id, "alice", detail.draft.text, False, detail.version)
    assert [r.id for r in desk.queue("Envoyées").rows] == [first.question_id]
    assert [r.id for r in desk.queue().rows] == [second.question_id]
    with pytest.raises(ValueError, match="unknown filter"):
        desk.queue("Archivées")


def test_claims_conflicts_and_stale_versions(desk):
    ack = desk.ask(LABEL_QUESTION)
    drafted(desk, ack.question_id)
    opened = desk.open(ack.question_id, "alice")
    assert opened.claimed and opened.detail.claimed_by == "alice"
    seen_by_bob = desk.open(ack.question_id, "bob")
    assert not seen_by_bob.claimed and isinstance(seen_by_bob.error, Conflict), "bob sees it read-only"
    with pytest.raises(Conflict, match="claimed by alice"):
        desk.validate(ack.question_id, "bob", "Texte de bob.", False, seen_by_bob.detail.version)
    asked = desk.redraft(ack.question_id, "alice", (), opened.detail.version)
    assert asked.drafting, "the new draft is written in the background"
    redrafted = drafted(desk, ack.question_id)
    assert redrafted.drafts == 2
    with pytest.raises(Conflict, match="changed since you opened it"):
        desk.validate(ack.question_id, "alice", "Texte édité.", False, opened.detail.version)
    sent = desk.validate(ack.question_id, "alice", "Oui, sous conditions [1].", False, redrafted.version)
    assert sent.status == "sent" and sent.answer.edited
    message = desk.thread(ack.thread).messages[0]
    assert message.status == "answered" and message.answer == "Oui, sous conditions [1]."
    assert message.sources and "label" in message.sources[0].title.lower(), f"sources: {message.sources}"
    desk.rate(ack.thread, ack.question_id, 4, "Utile.")
    assert desk.review.stats()["feedback"] == {"count": 1, "rating_mean": 4.0}
    # Issue #15, item 5: 25 one-star ratings of one answer from one thread were all counted.
    for _ in range(25):
        desk.rate(ack.thread, ack.question_id, 1, "Nul.")
    assert desk.review.stats()["feedback"] == {"count": 1, "rating_mean": 1.0}, "one rating per answer"
    desk.rate(ack.thread, ack.question_id, 5)
    assert desk.review.stats()["feedback"] == {"count": 1, "rating_mean": 5.0}, "the new rating replaces the old"


def test_redraft_from_passages_the_advisor_picks(desk):
    ack = desk.ask(LABEL_QUESTION)
    drafted(desk, ack.question_id)
    opened = desk.open(ack.question_id, "alice")
    picked = desk.search("don de matériel informatique à une association", k=3)
    assert picked and ("don" in picked[0].title.lower() or "matériel" in picked[0].title.lower()), \
        f"picked: {[p.title for p in picked]}"
    desk.redraft(ack.question_id, "alice", [picked[0].chunk_id], opened.detail.version)
    detail = drafted(desk, ack.question_id)
    assert [p.chunk_id for p in detail.draft.passages] == [picked[0].chunk_id], "only the picked passage is used"
    assert all(c.chunk_id == picked[0].chunk_id for c in detail.draft.citations)
    with pytest.raises(Exception, match="no longer in the index"):
        desk.redraft(ack.question_id, "alice", ["nope"], detail.version)


def test_similar_answers_are_past_answers_only(desk):
    similar = desk.similar_answers("où peut-on exiger un label dans le marché ?")
    assert similar, "the sample answers file holds a close past answer"
    assert {p.chunk.kind for p in similar} == {"answer"}


def test_reusable_answer_joins_the_knowledge_base(desk):
    ack = desk.ask("Quelle est la durée de garantie des pompes à chaleur reconditionnées ?")
    drafted(desk, ack.question_id)
    before = desk.assistant.index.catalog.count()
    detail = desk.open(ack.question_id, "alice").detail
    desk.validate(ack.question_id, "alice", "La garantie des pompes à chaleur reconditionnées est de deux ans.",
                  True, detail.version)
    assert desk.assistant.index.catalog.count() > before, "the reusable answer is ingested at once"
    found = desk.similar_answers("garantie des pompes à chaleur reconditionnées")
    assert found and "deux ans" in found[0].chunk.text, f"found: {[p.chunk.text[:80] for p in found]}"


def test_network_view(desk):
    for question in (LABEL_QUESTION, "Un label équivalent doit-il être accepté ?", DON_QUESTION):
        drafted(desk, desk.ask(question).question_id)
    first = desk.review.list_questions()[0]
    detail = desk.open(first.id, "alice").detail
    desk.validate(first.id, "alice", detail.draft.text, False, detail.version)
    view = desk.network("7 derniers jours")
    assert view.summary["questions"] == 3 and view.summary["sent"] == 1
    assert view.summary["acceptance_rate"] == 1.0, "sent unedited"
    assert sum(c for _, c in view.weekly) == 3 and len(view.weekly) in (1, 2)
    assert sum(c for _, c in view.answer_times) == 1
    assert view.groups[0].label == "Labels et écolabels" and view.groups[0].size == 2


def test_authenticate(desk):
    assert desk.authenticate("alice", PASSWORD)
    assert not desk.authenticate("alice", "mauvais mot de passe")
    assert not desk.authenticate("mallory", PASSWORD)


def test_retrieval_and_drafting_failures_still_acknowledge_and_the_draft_comes_later(desk, monkeypatch):
    def broken_search(*args, **kwargs):
        raise RuntimeError("index down")

    def broken_draft(*args, **kwargs) -> Draft:
        raise RuntimeError("generator down")

    # the shared Assistant (buyers' search and the review stage's drafts) fails, then recovers
    monkeypatch.setattr(desk.assistant, "search", broken_search)
    monkeypatch.setattr(desk.assistant, "draft_job", broken_draft)
    try:
        ack = desk.ask(LABEL_QUESTION)
        assert ack.resources == () and desk.thread(ack.thread).messages[0].question == LABEL_QUESTION, \
            "the question is recorded and acknowledged even when retrieval fails"
        deadline = time.monotonic() + 30
        while (job := desk.show(ack.question_id).job).status != "failed":
            assert time.monotonic() < deadline, f"the draft job never ran: {job}"
            time.sleep(0.05)
        detail = desk.show(ack.question_id)
        assert detail.status == "received" and detail.draft_error == "RuntimeError: generator down", detail
        assert detail.drafting and job.next_attempt_at is not None, "a failed draft is retried"
    finally:
        monkeypatch.undo()
    detail = drafted(desk, ack.question_id, timeout_s=60)  # the retry, 10 s later, finds it
    assert (detail.status, detail.drafts, detail.draft_error) == ("drafted", 1, None), detail


def test_first_start_ingests_only_an_empty_index(tmp_path):
    desk = compose.open_desk(settings_for(tmp_path / "fresh"))
    out = io.StringIO()
    small = ROOT / "corpus" / "guides" / "variantes-offres-anormalement-basses.md"
    report = first_start(desk, [small], out=out)
    assert report is not None and report.files == 1 and desk.assistant.index.catalog.count() > 0
    assert "Premier démarrage" in out.getvalue() and "Index prêt : 1 fichier(s)" in out.getvalue()
    assert first_start(desk, [small], out=io.StringIO()) is None, "a second start ingests nothing"
    assert first_start(compose.open_desk(settings_for(tmp_path / "empty")), [], out=out) is None
    assert "aucun corpus" in out.getvalue()
    desk.close()


def test_an_answer_whose_mail_failed_stays_in_the_queue_until_it_is_delivered(desk):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink
    from support import free_port

    from assistant.review.mailer import SmtpMailer
    from assistant.compose import review_service
    from assistant.ui import render
    from assistant.ui.desk import MAIL_FILTER

    port = free_port()  # a real refused connection: the mail server is down
    settings = settings_for(desk.home)
    review = review_service(settings, compose.AssistantHooks(settings, desk.assistant), on_reusable=None,
                            mailer=SmtpMailer("127.0.0.1", port, "none"))
    mailing = Desk(desk.assistant, review, limits=Limits(per_session=0, per_address=0))
    ack = mailing.ask(LABEL_QUESTION, email="acheteur@ville.fr", session="m")
    drafted(desk, ack.question_id)  # by the fixture desk's threads: opened before, its version would move
    detail = mailing.open(ack.question_id, "alice").detail
    detail = mailing.validate(ack.question_id, "alice", "Oui, sous conditions.", False, detail.version)
    note = render.closing_note(detail, "Réponse validée")
    assert "courriel : échec, nouvel essai à " in note and "Connection refused" in note, \
        f"the advisor is told the mail failed, and when it is tried again: {note}"
    assert "Courriel au demandeur : **échec, nouvel essai à" in render.question_header(detail, utcnow())
    for label in ("À traiter", MAIL_FILTER, "Envoyées"):
        (row,) = [r for r in mailing.queue(label).rows if r.id == ack.question_id]
        assert (row.status, row.mail) == ("sent", "failed"), (label, row)

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)  # a real server that accepts everything
    controller.start()
    try:
        assert review.retry_outbox().sent == 1
    finally:
        controller.stop()
    assert [r.id for r in mailing.queue(MAIL_FILTER).rows] == []
    assert ack.question_id not in [r.id for r in mailing.queue("À traiter").rows], "delivered: off the to-do list"
    note = render.closing_note(mailing.show(ack.question_id), "Réponse validée")
    assert note == "Réponse validée : le demandeur le lit dans son fil et l'a reçu par courriel.", note
    no_mail = desk.ask(DON_QUESTION, session="n")
    detail = drafted(desk, no_mail.question_id) and desk.open(no_mail.question_id, "alice").detail
    note = render.closing_note(desk.validate(no_mail.question_id, "alice", "Oui.", False, detail.version),
                               "Réponse validée")
    assert note.endswith("(pas de courriel : le demandeur n'a pas laissé d'adresse)."), note


def test_peers_in_the_acknowledgement_and_in_the_draft(desk):
    ack = desk.ask(HERAULT_PCS, session="peers")
    assert 1 <= len(ack.peers) <= 3, f"one to three peers: {[p.organisation for p in ack.peers]}"
    assert ack.peers[0].metadata["region"] == "Occitanie", "the buyer's région first"
    shown = render.acknowledgement(ack.question_id, ack.resources, ack.delay, ack.peers)
    assert "Des acheteurs qui l'ont fait" in shown and render.plain(ack.peers[0].organisation) in shown
    assert f"]({ack.peers[0].metadata['url']})" in shown, "the buyer gets a link to the public source"
    draft = drafted(desk, ack.question_id).draft
    assert [p.chunk_id for p in draft.peers] == [p.chunk_id for p in ack.peers], "the advisor sees the same peers"
    assert "Des acheteurs qui l'ont fait" in draft.text
    for peer in draft.peers:
        assert peer.metadata["reference"] in draft.text and peer.organisation in draft.text
    assert desk.search(HERAULT_PCS, k=5) and all(p.source != str(PEERS_FILE) for p in desk.search(HERAULT_PCS, k=5)), \
        "passages never come from the peers file"


def test_no_peer_for_a_subject_no_peer_covers(desk):
    ack = desk.ask(NO_PEER, session="nopeer")
    assert ack.peers == (), [p.organisation for p in ack.peers]
    draft = drafted(desk, ack.question_id).draft
    assert draft.peers == () and "Des acheteurs qui l'ont fait" not in draft.text
    assert "Des acheteurs qui l'ont fait" not in render.acknowledgement(ack.question_id, ack.resources, ack.delay,
                                                                       ack.peers)


def test_the_organisation_field_ranks_peers(desk):
    question = "On voudrait acheter des PC reconditionnés, quelqu'un l'a déjà fait ?"
    paris = desk.ask(question, organisation="Mairie de Champigny-sur-Marne (Val-de-Marne)", session="o1")
    sete = desk.ask(question, organisation="Mairie de Sète (Hérault)", session="o2")
    assert paris.peers[0].metadata["region"] == "Île-de-France"
    assert sete.peers[0].metadata["region"] == "Occitanie"
    assert drafted(desk, sete.question_id).draft.peers[0].metadata["region"] == "Occitanie", \
        "the draft is ranked with the organisation too"


def test_the_advisor_keeps_removes_and_adds_peers_before_sending(desk):
    ack = desk.ask(HERAULT_PCS, session="adv")
    drafted(desk, ack.question_id)
    detail = desk.open(ack.question_id, "alice").detail
    proposed = detail.draft.peers
    assert len(proposed) >= 2, "this test needs two proposed peers"
    kept = desk.with_peers(detail.draft.text, proposed[:1])
    assert proposed[0].organisation in kept and proposed[1].organisation not in kept, "one removed, one kept"
    added = desk.search_peers("cantine bio restauration collective")
    assert added and all(p.metadata.get("organisation") for p in added)
    text = desk.with_peers(kept, [proposed[0], added[0]])
    assert added[0].organisation in text and text.count("Des acheteurs qui l'ont fait") == 1, "one block, rewritten"
    before, after = detail.draft.text.split("Des acheteurs qui l'ont fait")[0], text.split("Des acheteurs")[0]
    assert before == after, "the rest of the advisor's text is untouched"
    desk.validate(ack.question_id, "alice", text, False, detail.version)
    answer = desk.thread(ack.thread).messages[0].answer
    assert added[0].organisation in answer and proposed[0].metadata["reference"] in answer, \
        "the buyer gets the peers the advisor kept, with their sources"
    assert "Des acheteurs qui l'ont fait" not in desk.with_peers(text, []), "removing every peer removes the block"
