"""What the pages show: typed text stays text, errors are one French line, threads never leak drafts."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from markdown_it import MarkdownIt

from assistant.errors import ConfigError, InvalidQuery
from assistant.records import Citation, Flag
from assistant.review import errors
from assistant.review.views import (
    DraftJob,
    QuestionDetail,
    ShownPassage,
    ShownPeer,
    Source,
    StoredDraft,
    ThreadMessage,
    ThreadView,
)
from assistant.ui import render
from assistant.ui.desk import Resource

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "<svg onload=alert(3)>",
    "[clic](javascript:alert(4))",
    '"><iframe src="javascript:alert(5)">',
    "![x](x\" onerror=\"alert(6))",
    "<a href='javascript:alert(7)'>lien</a>",
    "**gras** _italique_ # titre\n> citation\n- liste",
    "$$x^2$$ et &amp; et R&D",
]
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)


def _rendered(markdown: str) -> str:
    # CommonMark with raw HTML allowed, like a chat renderer: only escaping keeps the payload inert.
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_text_renders_as_the_same_text_and_no_markup(payload):
    html = _rendered(render.plain(payload))
    for tag in ("<img", "<script", "<svg", "<iframe", "<a ", "<strong", "<em", "<h1", "<blockquote", "<ul"):
        assert tag not in html, f"{payload!r} produced {tag}: {html}"
    visible = MarkdownIt("commonmark", {"html": True}).render(render.plain(payload))
    import html as htmllib
    import re

    text = htmllib.unescape(re.sub(r"<[^>]+>", "", visible)).strip()
    assert " ".join(text.split()) == " ".join(payload.split()), f"{payload!r} shown as {text!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_highlighted_passage_escapes_everything_but_its_marks(payload):
    html = render.highlighted(f"avant {payload} après", [payload])
    assert html.count("<mark>") == 1 and "<img" not in html and "<script" not in html and "<svg" not in html


@pytest.mark.parametrize("url, linked", [
    ("https://www.ecologie.gouv.fr/achats", True), ("http://exemple.fr/a", True),
    ("javascript:alert(1)", False), ("data:text/html,x", False), ("/etc/passwd", False), ("", False),
    ("https://x.fr/a)(javascript:alert(1)", False),
])
def test_links_only_to_web_addresses(url, linked):
    out = render.link("Guide", url)
    assert (out.startswith("[Guide](") is linked), f"{url!r} gave {out!r}"


def test_acknowledgement_lists_resources_and_delay_not_the_draft():
    resources = [Resource("Exiger un label", "Où l'exiger ?", "https://exemple.fr/label"),
                 Resource("<b>Titre</b>", "document entier", "javascript:alert(1)"),
                 Resource("quelle part de reconditionné ?", "document entier", "", kind="answer")]
    text = render.acknowledgement(12, resources, "environ 40 min")
    assert "n° 12" in text and "environ 40 min" in text
    assert "[Exiger un label](https://exemple.fr/label) — Où l'exiger ?" in text.replace("\\", "")
    assert "javascript" not in text and "<b>" not in text
    assert "Réponse déjà donnée à une question proche" in text


def _thread() -> ThreadView:
    return ThreadView("tok", (
        ThreadMessage(1, "<img src=x onerror=alert(1)>", "answered", T0, answer="Oui [1].",
                      sources=(Source(1, "Guide", "p. 3", url="https://exemple.fr/g"),), answered_at=T0),
        ThreadMessage(2, "Deuxième ?", "pending", T0),
        ThreadMessage(3, "Troisième ?", "rejected", T0, answered_at=T0, message="Hors champ."),
    ))


def test_chat_messages_show_answers_sources_and_status():
    messages = render.chat_messages(_thread(), {2: "ACK"})
    roles = [m["role"] for m in messages]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"], f"{roles}"
    assert "<img" not in messages[0]["content"], "the buyer's own text is escaped too"
    assert "Réponse du guichet vert" in messages[1]["content"] and "[1] [Guide](https://exemple.fr/g)" in messages[1]["content"]
    assert messages[3]["content"] == "ACK", "a pending question shows its acknowledgement"
    assert "Hors champ" in messages[5]["content"]
    assert render.rateable(_thread()) == [("n° 1 — <img src=x onerror=alert(1)>", 1)]


@pytest.mark.parametrize("exc, expected", [
    (errors.RateLimited(12.4), "réessayez dans 12 s"),
    (errors.UnknownThread("unknown thread or question"), "lien de suivi n'est pas valide"),
    (errors.Conflict("question 3 is claimed by bob until 14:05 UTC: wait"), "prise par bob jusqu'à 14:05 UTC"),
    (errors.Conflict("question 3 changed since you opened it (version 4, now 5): reload it"), "version 4, maintenant 5"),
    (errors.IllegalTransition("question 3 is 'sent': cannot reject it"), "« Envoyée »"),
    (errors.InvalidInput("the question is empty: write the text"), "Le texte est vide"),
    (errors.InvalidInput("the question is 20000 characters long, over the limit of 10000: shorten it"), "10000 caractères"),
    (errors.InvalidInput("'x' is not an e-mail address: give one like nom@exemple.fr"), "adresse e-mail"),
    (errors.InvalidInput("rating must be an integer from 1 to 5, got 9"), "de 1 à 5"),
    (errors.DatabaseBusy("locked"), "occupée"),
    (InvalidQuery("the question has no letter"), "Recherche impossible"),
    (ConfigError("bad"), "Erreur : bad"),
    (RuntimeError("secret internals"), "erreur inattendue"),
])
def test_french_errors(exc, expected):
    message = render.french_error(exc)
    assert expected in message, f"{exc!r} → {message!r}"
    assert "secret internals" not in message and "Traceback" not in message


def _detail(**changes) -> QuestionDetail:
    passage = ShownPassage("c1", "/corpus/g.md", "Guide <script>", None, "Section > A",
                           "Avant. L'acheteur peut exiger un label. Après <img src=x onerror=alert(1)>.",
                           url="https://exemple.fr/g")
    draft = StoredDraft(1, "Oui [1].", (Citation(1, "c1", "L'acheteur peut exiger un label."),),
                        (Flag("Oui [1].", "source ancienne"),), (passage,), False, "", "extractive", T0)
    values = dict(id=7, thread="t", status="in_review", version=3, text="Question <svg onload=alert(1)>",
                  created_at=T0, drafted_at=T0, claimed_by="alice", claim_expires_at=T0, organisation="<b>Ville</b>",
                  has_email=True, history=("avant <script>",), draft=draft, drafts=1, answer=None, reason=None,
                  buyer_message=None, draft_error=None, events=(), outbox=())
    values.update(changes)
    return QuestionDetail(**values)


def test_advisor_views_escape_typed_and_document_text():
    detail = _detail()
    header = _rendered(render.question_header(detail, T0))
    cites = render.citations(detail)
    for html in (header, cites, _rendered(render.flags(detail))):
        assert "<svg" not in html and "<script" not in html and "<img" not in html and "<b>Ville" not in html, html
    assert "<mark>L'acheteur peut exiger un label.</mark>" in cites.replace("&#x27;", "'"), cites
    assert "<details><summary>Passage entier</summary>" in cites
    assert 'href="https://exemple.fr/g"' in cites and 'rel="noopener noreferrer"' in cites
    assert "source ancienne" in render.flags(detail)


def test_citation_to_a_missing_passage_is_said():
    broken = _detail(draft=StoredDraft(1, "x [1]", (Citation(1, "gone", "q"),), (), (), False, "", "extractive", T0))
    assert "passage introuvable" in render.citations(broken)
    assert "passage introuvable" not in render.citations(_detail()), "a cited passage that is there is shown"
    assert render.citations(_detail(draft=None)).startswith("*Aucune citation")


def _job(status: str, retry_at=None) -> DraftJob:
    return DraftJob(1, 7, status, 1, "", "", T0, T0, None, retry_at)


@pytest.mark.parametrize(("job", "expected"), [
    (_job("queued"), "Brouillon en cours (en attente de rédaction)"),
    (_job("running"), "Brouillon en cours de rédaction"),
    (_job("failed", T0), "nouvel essai le 04/03/2026 à 11:00"),
    (_job("failed"), ""),
    (_job("done"), ""),
    (_job("cancelled"), ""),
    (None, ""),
], ids=["queued", "running", "retry planned", "given up", "done", "cancelled", "no job"])
def test_the_advisor_sees_a_draft_being_written(job, expected):
    detail = _detail(draft=None, job=job)
    assert expected in render.drafting(detail) and bool(render.drafting(detail)) == bool(expected)
    assert (expected in render.question_header(detail, T0)) if expected else "Brouillon en cours" not in \
        render.question_header(detail, T0)


@pytest.mark.parametrize(("status", "job", "label"), [
    ("received", "queued", "Brouillon en cours (en attente de rédaction)"),
    ("received", "running", "Brouillon en cours de rédaction"),
    ("received", None, "Reçue (sans brouillon)"),
    ("in_review", "running", "En relecture"),
])
def test_queue_status_shows_drafts_being_written(status, job, label):
    assert render.queue_status(status, job) == label


def test_a_note_on_the_whole_draft_is_shown_without_an_empty_quote():
    note = "le générateur LLM n'a pas répondu (délai de 60 s dépassé) : brouillon extractif"
    detail = _detail(draft=StoredDraft(1, "Oui [1].", (), (Flag("", note), Flag("Oui [1].", "source ancienne")),
                                       (), False, "", "llm", T0))
    shown = render.flags(detail)
    assert f"- **{render.plain(note)}**" in shown and "«  »" not in shown, shown
    assert "source ancienne — « Oui \\[1\\]\\. »" in shown, shown


@pytest.mark.parametrize("abstained, reason, shown", [
    (False, "réponse partielle : aucune phrase des sources ne donne ce chiffre",
     "Décision de la rédaction : réponse partielle"),
    (True, "preuves faibles : probabilité de réponse 12 %", "le brouillon s'abstient : preuves faibles"),
    (False, "réponse : probabilité 97 % <b>que</b>", "Décision de la rédaction : réponse : probabilité 97 %"),
])
def test_advisor_sees_the_reason_of_every_outcome(abstained, reason, shown):
    draft = StoredDraft(1, "Texte [1].", (), (), (), abstained, reason, "extractive", T0)
    html = _rendered(render.question_header(_detail(draft=draft), T0))
    assert shown in html and "<b>que" not in html, html


@pytest.mark.parametrize(
    ("status", "retry_at", "sent_at", "expected"),
    [
        ("pending", None, None, "en attente d'envoi"),
        ("failed", datetime(2026, 7, 1, 12, 32, tzinfo=timezone.utc), None, "échec, nouvel essai à 14:32"),
        ("failed", None, None, "échec, nouvel essai dès que possible"),
        ("sent", None, datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc), "envoyé le 05/01/2026 à 10:00"),
        ("cancelled", None, None, "annulé (coordonnées du demandeur effacées)"),
    ],
)
def test_mail_state_in_paris_time(status, retry_at, sent_at, expected):
    assert render.mail_state(status, retry_at, sent_at) == expected


def _peer(**changes) -> ShownPeer:
    meta = {"organisation": "Ville de Champigny-sur-Marne", "org_type": "commune", "region": "Île-de-France",
            "year": "2021", "subject": "Ordinateurs portables reconditionnés",
            "reference": "https://example.org/champigny (page non datée)", "url": "https://example.org/champigny",
            "date": "2026-12-01", "reliability": "source unique, à vérifier", "contact": "DSI de la ville"}
    meta.update(changes)
    return ShownPeer("p1", meta, 2.6, "Ville (commune) — Ordinateurs.\nAchat de 50 portables reconditionnés.")


def test_peers_in_the_acknowledgement_and_beside_the_draft():
    ack = render.acknowledgement(3, [], "environ une heure", [_peer()])
    assert "**Des acheteurs qui l'ont fait**" in ack and "](https://example.org/champigny)" in ack
    assert ack.index("Des acheteurs") < ack.index("seule la réponse du conseiller fait foi"), "before the caveat"
    assert "Des acheteurs" not in render.acknowledgement(3, [], "environ une heure")
    panel = render.peers_panel([_peer()])
    for shown in ("Ville de Champigny\\-sur\\-Marne", "à jour au 01/12/2026", "source unique, à vérifier",
                  "Contact : DSI de la ville", "Achat de 50 portables reconditionnés"):
        assert shown in panel, f"{shown!r} missing from the advisor's panel: {panel}"
    assert "Aucun pair" in render.peers_panel([])
    assert render.peer_choices([_peer()]) == [("Ville de Champigny-sur-Marne — Ordinateurs portables reconditionnés",
                                                "p1")]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_peer_record_is_shown_as_text(payload):
    peer = _peer(organisation=payload, subject=payload, contact=payload, url="javascript:alert(8)",
                 reference=payload)
    for markdown in (render.peers_panel([peer]), render.acknowledgement(1, [], "1 h", [peer])):
        html = _rendered(markdown)
        for tag in ("<img", "<script", "<svg", "<iframe", 'href="javascript'):
            assert tag not in html, f"a peer record rendered as markup ({tag}): {html}"
