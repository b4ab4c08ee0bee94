"""Buyer page (open to anyone): ask, get an acknowledgement at once, come back for the answer.

The thread lives at `/?fil=TOKEN` (an unguessable token made by the review service); the page
polls it every `POLL_SECONDS` and has a refresh button. A buyer never sees a draft: only the
acknowledgement (relevant resources and expected delay), then what an advisor validated.

Example:
    >>> app = build(desk)     # doctest: +SKIP  (mounted by `assistant.ui.server.create_app`)
"""

from __future__ import annotations

import logging

import gradio as gr

from assistant.errors import GuichetError
from assistant.review.texts import MAX_NOTE_CHARS, MAX_ORGANISATION_CHARS, MAX_QUESTION_CHARS
from assistant.ui import render
from assistant.ui.desk import Desk

log = logging.getLogger(__name__)

#: How often an open buyer page looks for a validated answer (seconds).
POLL_SECONDS = 20.0
#: Questions acknowledged at the same time (retrieval releases the GIL in its native parts; the
#: drafts are written in the background).
ASK_CONCURRENCY = 8
#: The query parameter that carries the thread token.
THREAD_PARAM = "fil"

WELCOME = """# Guichet vert — achats publics responsables
Posez votre question sur l'achat durable (réemploi, labels, clauses, critères, seuils…).
Vous recevez tout de suite des ressources utiles ; un conseiller vous répond ensuite dans ce fil.
"""

# Keeps the address bar on the thread's own link, so that a bookmark or a copied address
# brings the buyer back to this thread.
PUSH_LINK_JS = """(token) => {
  if (token) {
    const url = new URL(window.location.href);
    if (url.searchParams.get("fil") !== token) {
      url.searchParams.set("fil", token);
      window.history.replaceState(null, "", url.toString());
    }
  }
  return token;
}"""


NO_LINK_YET = "Votre fil aura son propre lien dès votre première question : vous pourrez y revenir lire la réponse."


def _thread_link(token: str) -> str:
    if not token:
        return ""
    return (f"**Lien de votre fil** : [?{THREAD_PARAM}={token}](?{THREAD_PARAM}={token}) — gardez-le "
            "(ou ajoutez cette page à vos favoris) pour revenir lire la réponse. Ne le partagez pas : "
            "il donne accès à vos questions.")


def _error(exc: Exception) -> str:
    if not isinstance(exc, GuichetError):
        log.exception("buyer page error")
    return f"**Attention :** {render.french_error(exc)}"


def build(desk: Desk, poll_seconds: float = POLL_SECONDS) -> gr.Blocks:
    """The buyer page as a Blocks app (mounted at "/")."""

    def view_updates(token: str, acks: dict):
        view = desk.thread(token)
        choices = render.rateable(view)
        return (render.chat_messages(view, {int(k): v for k, v in acks.items()}),
                gr.update(visible=bool(choices)), gr.update(choices=choices, value=choices[-1][1] if choices else None))

    def on_load(request: gr.Request):
        token = (request.query_params.get(THREAD_PARAM) or "").strip() if request else ""
        if not token:
            return "", [], gr.skip(), gr.skip(), NO_LINK_YET, ""
        try:
            chat, box, picker = view_updates(token, {})
        except Exception as exc:  # noqa: BLE001 - unknown, malformed and foreign tokens look the same
            return "", [], gr.update(visible=False), gr.skip(), "", _error(exc)
        return token, chat, box, picker, _thread_link(token), ""

    def on_ask(question: str, email: str, organisation: str, token: str, acks: dict, request: gr.Request):
        session = request.session_hash if request else ""
        address = request.client.host if request and request.client else ""
        try:
            ack = desk.ask(question, email=email, organisation=organisation, thread=token or None,
                           session=session or "", address=address)
        except Exception as exc:  # noqa: BLE001 - shown as one French line; the question stays typed
            return (gr.skip(),) * 8 + (_error(exc),)
        text = render.acknowledgement(ack.question_id, ack.resources, ack.delay, ack.peers)
        acks = {**acks, str(ack.question_id): text}
        # A new thread holds this question only: no need to read it back.
        chat, box, picker = [{"role": "user", "content": render.plain(question)},
                             {"role": "assistant", "content": text}], gr.skip(), gr.skip()
        if token:
            try:
                chat, box, picker = view_updates(ack.thread, acks)
            except Exception:  # noqa: BLE001 - the question is stored: the buyer keeps its thread and link
                log.exception("thread of question %s not readable after it was stored", ack.question_id)
        return "", ack.thread, ack.thread, acks, chat, box, picker, _thread_link(ack.thread), ""

    def on_refresh(token: str, acks: dict):
        if not token:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            chat, box, picker = view_updates(token, acks)
        except Exception as exc:  # noqa: BLE001
            return gr.skip(), gr.skip(), gr.skip(), _error(exc)
        return chat, box, picker, ""

    def on_rate(token: str, question_id, stars: str, comment: str):
        if not token or question_id is None:
            return gr.skip(), "**Attention :** Choisissez la réponse à noter."
        if not stars:
            return gr.skip(), "**Attention :** Choisissez une note de 1 à 5."
        try:
            desk.rate(token, int(question_id), int(stars), comment or "")
        except Exception as exc:  # noqa: BLE001
            return gr.skip(), _error(exc)
        return "", "Merci pour votre avis : il aide le réseau à améliorer ses réponses."

    with gr.Blocks(title="Guichet vert — votre question") as app:
        token = gr.State("")
        acks = gr.State({})
        # The same token, in the page, for the script that puts it in the address bar.
        token_box = gr.Textbox(visible="hidden", elem_id="jeton", show_label=False)
        gr.Markdown(WELCOME)
        chat = gr.Chatbot(label="Votre fil", height=460, elem_id="fil", latex_delimiters=[],
                          feedback_options=None, buttons=["copy"], group_consecutive_messages=False, placeholder="Votre fil de questions apparaîtra ici.")
        with gr.Row(equal_height=True):
            question = gr.Textbox(label="Votre question", placeholder="Ex. : que faire de nos PC de 7 ans ?",
                                  lines=2, max_length=MAX_QUESTION_CHARS, scale=5, elem_id="question")
            ask = gr.Button("Envoyer", variant="primary", scale=1, elem_id="envoyer")
        with gr.Accordion("Vos coordonnées (facultatif)", open=False, elem_id="coordonnees"):
            email = gr.Textbox(label="E-mail : pour recevoir aussi la réponse par courriel", max_length=320,
                               elem_id="email")
            organisation = gr.Textbox(label="Organisation (collectivité, établissement…)",
                                      max_length=MAX_ORGANISATION_CHARS, elem_id="organisation")
        notice = gr.Markdown(elem_id="avis")
        link = gr.Markdown(elem_id="lien-fil")
        refresh = gr.Button("Actualiser le fil", size="sm", elem_id="actualiser")
        with gr.Accordion("Noter une réponse", open=True, visible=False, elem_id="noter") as rating_box:
            picker = gr.Dropdown(label="Réponse à noter", choices=[], elem_id="reponse-notee")
            stars = gr.Radio(["1", "2", "3", "4", "5"], label="Votre note (1 = pas utile, 5 = très utile)",
                             elem_id="note")
            comment = gr.Textbox(label="Commentaire (facultatif)", max_length=MAX_NOTE_CHARS, elem_id="commentaire")
            rate = gr.Button("Envoyer mon avis", elem_id="envoyer-avis")
        gr.Markdown("<small>Espace des conseillers : [connexion](/conseiller/)</small>")
        timer = gr.Timer(poll_seconds)

        app.load(on_load, None, [token_box, chat, rating_box, picker, link, notice], api_visibility="private",
                 show_progress="hidden")
        ask_outputs = [question, token, token_box, acks, chat, rating_box, picker, link, notice]
        gr.on([ask.click, question.submit], on_ask, [question, email, organisation, token, acks], ask_outputs,
              api_name="poser", concurrency_id="poser", concurrency_limit=ASK_CONCURRENCY)
        token_box.change(lambda value: value, [token_box], [token], js=PUSH_LINK_JS, api_visibility="private",
                         show_progress="hidden")
        refresh.click(on_refresh, [token, acks], [chat, rating_box, picker, notice], api_visibility="private")
        timer.tick(on_refresh, [token, acks], [chat, rating_box, picker, notice], api_visibility="private",
                   show_progress="hidden")
        rate.click(on_rate, [token, picker, stars, comment], [comment, notice], api_visibility="private")
    return app
