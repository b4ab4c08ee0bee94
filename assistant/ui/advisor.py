"""Advisor page (login required): the queue, one question with its draft and evidence, actions.

The advisor's name is the logged-in user (`gr.Request.username`, set by the server's session
check), never a form field. Opening a question claims it; every action sends back the version
the advisor saw, so a change made meanwhile by someone else is refused (review `Conflict`) and
shown plainly, and the advisor's edited text stays in the editor. A draft still being written
("brouillon en cours") is streamed into the editor as the generator writes it, then shown
with its citations and checks.

Example:
    >>> app = build(desk)     # doctest: +SKIP  (mounted at /conseiller by `assistant.ui.server`)
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timezone

import gradio as gr
import pandas as pd

from assistant.errors import GuichetError
from assistant.review.texts import MAX_ANSWER_CHARS, MAX_NOTE_CHARS
from assistant.insights import topics
from assistant.review.views import QuestionDetail, ShownPeer
from assistant.ui import render
from assistant.ui.desk import AGE_FILTERS, ALL_SUBJECTS, STATUS_FILTERS, Desk

log = logging.getLogger(__name__)

QUEUE_COLUMNS = ["N°", "Reçue le", "Attente", "Statut", "Thème", "Question", "Prise par"]
#: Queue refresh period of an open advisor page (seconds).
QUEUE_POLL_SECONDS = 60.0
#: Advisors' pages following a draft being written at the same time.
FOLLOW_CONCURRENCY = 32


def _advisor(request: gr.Request | None) -> str:
    name = getattr(request, "username", None)
    if not name:
        # Unreachable through the server (its session check refuses first); kept as a last guard.
        raise gr.Error("Session expirée : reconnectez-vous.", title="Connexion requise")
    return name


def _error(exc: Exception) -> str:
    if not isinstance(exc, GuichetError):
        log.exception("advisor page error")
    return f"**Attention :** {render.french_error(exc)}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _queue_status(row) -> str:
    shown = render.queue_status(row.status, row.drafting)
    return f"{shown} · courriel : {render.mail_state(row.mail, row.mail_retry_at)}" if row.mail else shown


def queue_frame(desk: Desk, status: str, age: str, subject: str) -> tuple[pd.DataFrame, str]:
    queue = desk.queue(status, age, subject)
    now = _now()
    rows = [[r.id, render.local(r.created_at), render.waited(r.created_at, now), _queue_status(r),
             r.subject, " ".join(r.text.split())[:160], r.claimed_by or ""] for r in queue.rows]
    counts = render.queue_counts(queue.counts) + f" — {len(rows)} affichée(s) avec ces filtres"
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS), counts


def build(desk: Desk) -> gr.Blocks:
    """The advisor page as a Blocks app (mounted behind the login)."""

    def item(detail: QuestionDetail, note: str, editor_text=None):
        """Outputs that show one question; `editor_text=gr.skip()` keeps what the advisor typed."""
        draft = detail.draft
        if editor_text is None:
            if detail.answer is not None:
                editor_text = detail.answer.text
            else:
                editor_text = draft.text if draft is not None and not draft.abstained else ""
        if detail.drafting and not note.startswith("**Attention"):
            note = f"{note} {render.DRAFTING_NOTE}".strip()
        shown = list(draft.passages) if draft is not None else []
        choices = render.passage_choices(shown)
        try:
            similar = render.similar_answers(desk.similar_answers(detail.text))
        except Exception as exc:  # noqa: BLE001 - similar answers are a help, not a blocker
            similar = _error(exc)
        return (render.question_header(detail, _now()), editor_text, render.flags(detail), render.citations(detail),
                gr.update(choices=choices, value=[c for _, c in choices]), similar,
                {"id": detail.id, "version": detail.version}, note, {c: label for label, c in choices})

    def on_load(status, age, subject, request: gr.Request):
        name = _advisor(request)
        frame, counts = queue_frame(desk, status, age, subject)
        return f"Connecté(e) : **{render.plain(name)}** · [Tableau de bord du réseau](/reseau/) · " \
               f"[Se déconnecter](/deconnexion)", frame, counts

    def on_queue(status, age, subject, request: gr.Request):
        _advisor(request)
        return queue_frame(desk, status, age, subject)

    def on_open(number, request: gr.Request):
        name = _advisor(request)
        if not number:
            return (gr.skip(),) * 8 + ("**Attention :** Indiquez le numéro de la question.",) + (gr.skip(),)
        try:
            opened = desk.open(int(number), name)
        except Exception as exc:  # noqa: BLE001
            return (gr.skip(),) * 8 + (_error(exc),) + (gr.skip(),)
        note = f"**Lecture seule :** {render.read_only(opened.error)}" if not opened.claimed else \
            "Question prise en charge : vous pouvez la modifier et la valider."
        header, editor, flags, cites, picks, similar, current, note, candidates = item(opened.detail, note)
        return number, header, editor, flags, cites, picks, similar, current, note, candidates

    def on_select(frame: pd.DataFrame, evt: gr.SelectData, request: gr.Request):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        try:
            number = int(frame.iloc[row, 0])
        except (IndexError, ValueError, TypeError):
            return (gr.skip(),) * 10
        return on_open(number, request)

    def act(run, success, current, request: gr.Request | None):
        """Run an action, then show the question again with the note `success` (a text, or made
        from the question shown); the editor keeps what the advisor typed."""
        name = _advisor(request)
        if not current:
            return (gr.skip(),) * 8 + ("**Attention :** Ouvrez d'abord une question.",) + (gr.skip(),)
        try:
            detail = run(name, current["id"], current["version"])
        except Exception as exc:  # noqa: BLE001 - Conflict & co. are shown; nothing typed is lost
            return (gr.skip(),) * 8 + (_error(exc),) + (gr.skip(),)
        header, editor, flags, cites, picks, similar, state, note, candidates = item(
            detail, success(detail) if callable(success) else success, gr.skip())
        return gr.skip(), header, editor, flags, cites, picks, similar, state, note, candidates

    def on_validate(current, text, reusable, request: gr.Request):
        return act(lambda name, qid, version: desk.validate(qid, name, text, bool(reusable), version),
                   lambda detail: render.closing_note(detail, "Réponse validée"), current, request)

    def on_reject(current, reason, message, request: gr.Request):
        return act(lambda name, qid, version: desk.reject(qid, name, reason, message, version),
                   lambda detail: render.closing_note(detail, "Question rejetée, avec votre message"), current,
                   request)

    def on_escalate(current, reason, request: gr.Request):
        return act(lambda name, qid, version: desk.escalate(qid, name, reason, version),
                   "Question escaladée.", current, request)

    def on_release(current, request: gr.Request):
        return act(lambda name, qid, version: desk.release(qid, name, version),
                   "Question relâchée : elle retourne dans la file.", current, request)

    def on_redraft(current, picked, request: gr.Request):
        outputs = act(lambda name, qid, version: desk.redraft(qid, name, list(picked or ()), version),
                      "Nouveau brouillon demandé à partir des passages cochés.", current, request)
        if isinstance(outputs[7], dict):  # accepted: show the new draft even if it is finished already
            outputs = (*outputs[:7], {**outputs[7], "follow": True}, *outputs[8:])
        return outputs

    def on_follow(current, typed, request: gr.Request):
        """Stream the draft being written into the editor, then show it with its evidence."""
        _advisor(request)
        skip = (gr.skip(),) * 10
        detail = desk.show(current["id"]) if current else None
        requested = bool(current and current.get("follow"))  # the advisor just asked for it
        if detail is None or not (detail.drafting or requested or detail.version != current["version"]):
            yield skip  # nothing being written, and no draft landed since the page showed it
            return
        header = None
        for text in desk.follow_draft(current["id"]):
            if header is None:  # the header said "en attente": now it is being written
                header = render.question_header(desk.show(current["id"]), _now())
                yield (gr.skip(), header, gr.update(value=text, interactive=False), *skip[:5],
                       render.DRAFTING_NOTE, gr.skip())
                continue
            yield (gr.skip(), gr.skip(), gr.update(value=text, interactive=False), *skip[:5],
                   render.DRAFTING_NOTE, gr.skip())
        detail = desk.show(current["id"])
        draft = detail.draft
        if detail.drafting:
            note = "Le brouillon n'est pas encore prêt : rechargez la question dans un moment."
            editor = gr.update(value=typed, interactive=True)
        elif draft is not None and draft.abstained:
            note = (f"**Attention :** le brouillon s'abstient ({render.plain(draft.reason)}) ; "
                    "le texte de l'éditeur est conservé.")
            editor = gr.update(value=typed, interactive=True)
        else:
            note = "Brouillon prêt : relisez-le avec ses citations avant de valider."
            editor = gr.update(value=draft.text if draft is not None else typed, interactive=True)
        header, _, flags, cites, picks, similar, state, note, candidates = item(detail, note, gr.skip())
        yield gr.skip(), header, editor, flags, cites, picks, similar, state, note, candidates

    def on_reload(current, request: gr.Request):
        """Show the current version again (claiming it if possible) without touching the editor."""
        name = _advisor(request)
        if not current:
            return (gr.skip(),) * 8 + ("**Attention :** Ouvrez d'abord une question.",) + (gr.skip(),)
        try:
            opened = desk.open(current["id"], name)
        except Exception as exc:  # noqa: BLE001
            return (gr.skip(),) * 8 + (_error(exc),) + (gr.skip(),)
        note = ("Version actuelle rechargée ; votre texte est resté dans l'éditeur." if opened.claimed else
                f"**Lecture seule :** {render.read_only(opened.error)}")
        header, _, flags, cites, picks, similar, state, note, candidates = item(opened.detail, note, gr.skip())
        return gr.skip(), header, gr.skip(), flags, cites, picks, similar, state, note, candidates

    def on_peers(current, request: gr.Request):
        """The peers proposed with the question's draft, all kept until the advisor unticks one."""
        _advisor(request)
        try:
            draft = desk.show(current["id"]).draft if current else None
        except Exception:  # noqa: BLE001 - the notice already says what went wrong with the question
            draft = None
        peers = list(draft.peers) if draft is not None else []
        choices = gr.update(choices=render.peer_choices(peers), value=[p.chunk_id for p in peers])
        return render.peers_panel(peers), choices, {p.chunk_id: asdict(p) for p in peers}

    def on_peer_search(query, known, picked, request: gr.Request):
        _advisor(request)
        try:
            found = desk.search_peers(query or "")
        except Exception as exc:  # noqa: BLE001
            return gr.skip(), gr.skip(), gr.skip(), _error(exc)
        known = {**(known or {}), **{p.chunk_id: asdict(p) for p in found}}
        peers = [ShownPeer.from_json(p) for p in known.values()]
        choices = gr.update(choices=render.peer_choices(peers), value=list(picked or ()))
        return (render.peers_panel(peers), choices, known,
                f"{len(found)} pair(s) ajouté(s) à la liste : cochez ceux à citer, puis mettez la réponse à jour.")

    def on_peer_apply(text, picked, known, request: gr.Request):
        _advisor(request)
        chosen = [ShownPeer.from_json(known[c]) for c in picked or () if c in (known or {})]
        return desk.with_peers(text or "", chosen), \
            f"Réponse mise à jour : {len(chosen)} pair(s) dans « Des acheteurs qui l'ont fait »."

    def on_search(query, candidates, picked, request: gr.Request):
        _advisor(request)
        try:
            found = desk.search(query or "", k=5)
        except Exception as exc:  # noqa: BLE001
            return gr.skip(), gr.skip(), _error(exc)
        merged = dict(candidates or {})
        merged.update({c: label for label, c in render.passage_choices(found)})
        choices = [(label, c) for c, label in merged.items()]
        return gr.update(choices=choices, value=list(picked or ())), merged, \
            f"{len(found)} passage(s) ajouté(s) à la liste : cochez ceux à utiliser."

    with gr.Blocks(title="Guichet vert — conseillers") as app:
        current = gr.State(None)
        candidates = gr.State({})
        known_peers = gr.State({})
        gr.Markdown("# Espace conseillers")
        whoami = gr.Markdown(elem_id="connecte")
        with gr.Row():
            status = gr.Dropdown(list(STATUS_FILTERS), value="À traiter", label="Statut", elem_id="filtre-statut")
            age = gr.Dropdown(list(AGE_FILTERS), value="Toutes", label="Ancienneté", elem_id="filtre-age")
            subject = gr.Dropdown([ALL_SUBJECTS, *topics.SUBJECTS, topics.OTHER], value=ALL_SUBJECTS,
                                  label="Thème", elem_id="filtre-theme")
            refresh = gr.Button("Actualiser la file", elem_id="actualiser-file")
        counts = gr.Markdown(elem_id="compteurs")
        table = gr.Dataframe(headers=QUEUE_COLUMNS, datatype="str", interactive=False, wrap=True,
                             column_widths=["6%", "14%", "8%", "11%", "17%", "34%", "10%"],
                             label="File des questions (les plus anciennes d'abord) : cliquez une ligne pour l'ouvrir",
                             elem_id="file", max_height=340)
        with gr.Row(equal_height=True):
            number = gr.Number(label="N° de la question", value=None, precision=0, minimum=1, elem_id="numero")
            open_btn = gr.Button("Ouvrir", variant="primary", elem_id="ouvrir")
        notice = gr.Markdown(elem_id="avis")
        header = gr.Markdown(elem_id="question")
        with gr.Row():
            with gr.Column(scale=3):
                editor = gr.Textbox(label="Réponse au demandeur (brouillon modifiable)", lines=16,
                                    max_length=MAX_ANSWER_CHARS, elem_id="editeur")
                flags = gr.Markdown(elem_id="verifications")
                reusable = gr.Checkbox(label="Réutilisable : ajouter cette réponse à la base de connaissances",
                                       elem_id="reutilisable")
                with gr.Row():
                    validate_btn = gr.Button("Valider et envoyer", variant="primary", elem_id="valider")
                    reload_btn = gr.Button("Recharger la question (garder mon texte)", elem_id="recharger")
                    release_btn = gr.Button("Relâcher", elem_id="relacher")
            with gr.Column(scale=2):
                gr.Markdown("### Citations et passages cités")
                cites = gr.Markdown(elem_id="citations", sanitize_html=True, latex_delimiters=[])
                gr.Markdown("### Des acheteurs qui l'ont fait")
                peer_panel = gr.Markdown(elem_id="pairs", latex_delimiters=[])
                peer_picks = gr.CheckboxGroup(label="Pairs à citer dans la réponse", choices=[],
                                              elem_id="pairs-choisis")
                with gr.Row(equal_height=True):
                    peer_query = gr.Textbox(label="Chercher un autre pair", scale=3, elem_id="recherche-pairs")
                    peer_search_btn = gr.Button("Chercher", scale=1, elem_id="chercher-pairs")
                peer_apply_btn = gr.Button("Mettre à jour « Des acheteurs qui l'ont fait » dans la réponse",
                                           elem_id="appliquer-pairs")
        with gr.Accordion("Rejeter ou escalader", open=False, elem_id="rejeter-escalader"):
            reason = gr.Textbox(label="Motif (pour les conseillers, jamais montré au demandeur)",
                                max_length=MAX_NOTE_CHARS, elem_id="motif")
            message = gr.Textbox(label="Message au demandeur en cas de rejet (facultatif)", lines=3,
                                 max_length=MAX_NOTE_CHARS, elem_id="message")
            with gr.Row():
                reject_btn = gr.Button("Rejeter", variant="stop", elem_id="rejeter")
                escalate_btn = gr.Button("Escalader", elem_id="escalader")
        with gr.Accordion("Re-rédiger à partir d'autres passages", open=False, elem_id="re-rediger"):
            picks = gr.CheckboxGroup(label="Passages à utiliser (dans l'ordre de la liste)", choices=[],
                                     elem_id="passages")
            with gr.Row(equal_height=True):
                query = gr.Textbox(label="Chercher d'autres passages", scale=4, elem_id="recherche")
                search_btn = gr.Button("Chercher", scale=1, elem_id="chercher")
            redraft_btn = gr.Button("Re-rédiger avec les passages cochés (remplace le texte de l'éditeur)",
                                    elem_id="rediger")
        with gr.Accordion("Réponses passées similaires", open=False, elem_id="similaires"):
            similar = gr.Markdown(latex_delimiters=[])
        timer = gr.Timer(QUEUE_POLL_SECONDS)

        filters = [status, age, subject]
        item_outputs = [number, header, editor, flags, cites, picks, similar, current, notice, candidates]
        app.load(on_load, filters, [whoami, table, counts], api_visibility="private")
        gr.on([refresh.click, status.change, age.change, subject.change, timer.tick], on_queue, filters,
              [table, counts], api_visibility="private", show_progress="hidden")
        # Opening another question clears what belonged to the previous one (reuse box, reasons).
        fresh = dict(fn=lambda: (False, "", ""), inputs=None, outputs=[reusable, reason, message],
                     api_visibility="private", show_progress="hidden")
        # Then, when the draft is still being written, it is streamed into the editor; the peers
        # panel follows the opened question's draft (and its new draft after a re-draft).
        followed = dict(fn=on_follow, inputs=[current, editor], outputs=item_outputs, api_visibility="private",
                      show_progress="hidden", concurrency_id="suivi", concurrency_limit=FOLLOW_CONCURRENCY)
        peers_of_item = dict(fn=on_peers, inputs=[current], outputs=[peer_panel, peer_picks, known_peers],
                             api_visibility="private", show_progress="hidden")
        open_btn.click(on_open, [number], item_outputs, api_visibility="private").then(**fresh).then(
            **followed).then(**peers_of_item)
        table.select(on_select, [table], item_outputs, api_visibility="private").then(**fresh).then(
            **followed).then(**peers_of_item)
        refresh_queue = dict(fn=on_queue, inputs=filters, outputs=[table, counts], api_visibility="private",
                             show_progress="hidden")
        validate_btn.click(on_validate, [current, editor, reusable], item_outputs,
                           api_visibility="private").then(**refresh_queue)
        reject_btn.click(on_reject, [current, reason, message], item_outputs,
                         api_visibility="private").then(**refresh_queue)
        escalate_btn.click(on_escalate, [current, reason], item_outputs, api_visibility="private").then(**refresh_queue)
        release_btn.click(on_release, [current], item_outputs, api_visibility="private").then(**refresh_queue)
        redraft_btn.click(on_redraft, [current, picks], item_outputs, api_visibility="private").then(
            **followed).then(**peers_of_item)
        reload_btn.click(on_reload, [current], item_outputs, api_visibility="private")
        search_btn.click(on_search, [query, candidates, picks], [picks, candidates, notice], api_visibility="private")
        peer_search_btn.click(on_peer_search, [peer_query, known_peers, peer_picks],
                              [peer_panel, peer_picks, known_peers, notice], api_visibility="private")
        peer_apply_btn.click(on_peer_apply, [editor, peer_picks, known_peers], [editor, notice],
                             api_visibility="private")
    return app
