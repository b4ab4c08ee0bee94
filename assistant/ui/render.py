r"""What the pages show, as pure functions from service records to French Markdown.

Everything a person typed (questions, answers, comments, reasons, organisation names) and
everything read from a document goes through `plain` (or `html_text` inside HTML), so that
it is shown as text: a question containing `<img src=x onerror=alert(1)>` is displayed, never
rendered. Gradio's own sanitiser stays on as a second line of defence.

Example:
    >>> print(plain("<img src=x onerror=alert(1)> *gras*"))
    &lt;img src\=x onerror\=alert\(1\)&gt; \*gras\*
    >>> status_label("in_review")
    'En relecture'
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from assistant.errors import DiskFull, GuichetError, InvalidQuery
from assistant.records import Citation
from assistant.review import errors as review_errors
from assistant.review.views import QuestionDetail, ShownPassage, ShownPeer, Source, ThreadMessage, ThreadView

PARIS = ZoneInfo("Europe/Paris")

# "<", ">" and "&" are not here: HTML escaping turns them into entities, which Markdown shows as
# the characters and never parses (a backslash before an entity would show the entity's name).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=:])")

STATUS_LABELS = {
    "received": "Reçue (sans brouillon)",
    "drafted": "Brouillon prêt",
    "in_review": "En relecture",
    "escalated": "Escaladée",
    "sent": "Envoyée",
    "rejected": "Rejetée",
}

#: What the advisor reads while a question's draft job is open.
DRAFTING_LABELS = {
    "queued": "Brouillon en cours (en attente de rédaction)",
    "running": "Brouillon en cours de rédaction",
    "failed": "Brouillon en cours (nouvel essai prévu)",
}
#: Shown beside the editor while the draft is written into it.
DRAFTING_NOTE = "Brouillon en cours : il s'écrit dans l'éditeur ; vous pourrez le modifier une fois terminé."

BUYER_STATUS = {
    "pending": "en cours de traitement par un conseiller",
    "escalated": "transmise à un expert du réseau",
    "answered": "réponse validée par un conseiller",
    "rejected": "clôturée sans réponse",
}


def plain(text: str | None) -> str:
    """Text shown literally in Markdown: HTML escaped, Markdown punctuation backslash-escaped."""
    if not text:
        return ""
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", str(text)), quote=False)


def html_text(text: str | None) -> str:
    """Text shown literally inside an HTML fragment."""
    return html.escape(str(text or ""), quote=True)


def quoted(text: str | None) -> str:
    """A typed text as a Markdown block quote, line breaks kept."""
    lines = str(text or "").strip().splitlines() or [""]
    return "\n".join(f"> {plain(line)}" if line.strip() else ">" for line in lines)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def local(value: datetime | None) -> str:
    """A UTC time as Paris time: "12/03/2026 à 14:05"."""
    if value is None:
        return "-"
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def waited(since: datetime, now: datetime) -> str:
    """Time elapsed in French: "5 min", "3 h", "2 j"."""
    since = since.replace(tzinfo=timezone.utc) if since.tzinfo is None else since
    seconds = max(0.0, (now - since).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} j"


def link(title: str, url: str) -> str:
    """A Markdown link to an http(s) address, or the plain title for anything else."""
    if url and re.match(r"^https?://[^\s<>()\[\]]+$", url):
        return f"[{plain(title)}]({url})"
    return plain(title)


# ---------------------------------------------------------------------- errors


def _reword(message: str) -> str:
    message = re.sub(r"question (\d+) is claimed by (\S+) until (\S+) UTC.*",
                     r"la question \1 est prise par \2 jusqu'à \3 UTC", message)
    message = re.sub(r"question (\d+) changed since you opened it \(version (\d+), now (\d+)\).*",
                     r"la question \1 a été modifiée depuis que vous l'avez ouverte (version \2, "
                     r"maintenant \3)", message)
    return message


def french_error(exc: Exception) -> str:
    """One clear French line for an error raised by the service layer."""
    text = str(exc)
    if isinstance(exc, review_errors.RateLimited):
        return (f"Vous avez posé beaucoup de questions en peu de temps : réessayez dans "
                f"{max(1, round(exc.retry_after))} s.")
    if isinstance(exc, review_errors.UnknownThread):
        return "Ce lien de suivi n'est pas valide. Vérifiez l'adresse qui vous a été donnée."
    if isinstance(exc, review_errors.Conflict):
        return (f"Conflit : {_reword(text)}. Rien n'a été écrasé et votre texte reste dans l'éditeur ; "
                "rechargez la question pour voir la version actuelle.")
    if isinstance(exc, review_errors.IllegalTransition):
        match = re.search(r"is '(\w+)'", text)
        state = status_label(match.group(1)) if match else "dans un autre état"
        return f"Action impossible : la question est « {state} »."
    if isinstance(exc, review_errors.DatabaseBusy):
        return "La base est occupée : réessayez dans un instant."
    if isinstance(exc, DiskFull):
        return "Le serveur n'a plus de place sur son disque : rien n'a été perdu, réessayez plus tard."
    if isinstance(exc, review_errors.NotFound):
        return "Cette question n'existe pas."
    if isinstance(exc, review_errors.InvalidInput):
        if "is empty" in text:
            return "Le texte est vide : écrivez-le."
        if match := re.search(r"over the limit of (\d+)", text):
            return f"Le texte est trop long ({match.group(1)} caractères au plus)."
        if "e-mail" in text:
            return "L'adresse e-mail n'est pas valide (exemple : nom@ville.fr)."
        if "rating" in text:
            return "La note doit être un nombre de 1 à 5."
        if "no answer yet" in text:
            return "Cette question n'a pas encore de réponse à noter."
        if "no draft text" in text:
            return "Il n'y a pas de brouillon à envoyer : écrivez la réponse dans l'éditeur."
        if "NUL" in text or "control character" in text:
            return "Le texte contient un caractère de contrôle invalide : retirez-le."
        return f"Saisie refusée : {text}"
    if isinstance(exc, InvalidQuery):
        return f"Recherche impossible : {text}"
    if isinstance(exc, GuichetError):
        return f"Erreur : {text}"
    return "Une erreur inattendue est survenue ; elle a été consignée. Réessayez plus tard."


def read_only(exc: Exception | None) -> str:
    """Why a question opened without its claim is read-only."""
    if isinstance(exc, review_errors.Conflict):
        return f"{_reword(str(exc))}."
    if isinstance(exc, review_errors.IllegalTransition):
        return french_error(exc)
    return french_error(exc) if exc is not None else ""


# ---------------------------------------------------------------------- buyer page


def acknowledgement(question_id: int, resources: Sequence, delay: str, peers: Sequence[ShownPeer] = ()) -> str:
    """The immediate answer to a buyer: received, where to look meanwhile, when to expect more,
    and the peers who did it (`ack_peers`)."""
    lines = [f"**Votre question est bien reçue** (n° {question_id}). Un conseiller du guichet vert la "
             f"relit et vous répond dans ce fil ; délai habituel : {plain(delay)}."]
    if resources:
        lines.append("\nEn attendant, ces ressources semblent correspondre à votre question :")
        for r in resources:
            if getattr(r, "kind", "guide") == "answer":
                lines.append(f"- Réponse déjà donnée à une question proche : « {plain(r.title)} »")
                continue
            where = f" — {plain(r.location)}" if r.location and r.location != "document entier" else ""
            lines.append(f"- {link(r.title, r.url)}{where}")
    if peers:
        lines.append(ack_peers(peers))
    lines.append("\n*Ces pistes sont proposées automatiquement ; seule la réponse du conseiller fait foi.*")
    return "\n".join(lines)


def _peer_place(peer: ShownPeer) -> str:
    meta = peer.metadata
    region = meta.get("region", "")
    return ", ".join(p for p in (meta.get("org_type", ""), region if region != "national" else "",
                                 meta.get("year", "")) if p)


def _peer_source(peer: ShownPeer) -> str:
    """The public source as a link named by its site ("territorial.zepros.fr"), else as written."""
    url = peer.metadata.get("url", "")
    if url:
        return link(urlparse(url).netloc.removeprefix("www.") or url, url)
    return plain(peer.metadata.get("reference", ""))


def ack_peers(peers: Sequence[ShownPeer]) -> str:
    """ "Des acheteurs qui l'ont fait" in a buyer's acknowledgement: who, what, the public source."""
    lines = ["\n**Des acheteurs qui l'ont fait** (retours d'expérience publics) :"]
    for peer in peers:
        lines.append(f"- {plain(peer.organisation)} ({plain(_peer_place(peer))}) : "
                     f"{plain(peer.metadata.get('subject', ''))} — source : {_peer_source(peer)}")
    return "\n".join(lines)


def source_line(source: Source) -> str:
    where = f", {plain(source.location)}" if source.location else ""
    return f"- [{source.marker}] {link(source.title, source.url)}{where}"


def buyer_reply(message: ThreadMessage) -> str:
    """The desk's side of one question in the buyer's thread."""
    if message.status == "answered" and message.answer is not None:
        parts = [f"**Réponse du guichet vert** ({local(message.answered_at)})\n", plain(message.answer)]
        if message.sources:
            parts.append("\n**Sources**")
            parts.extend(source_line(s) for s in message.sources)
        parts.append(f"\n*Question n° {message.question_id} : vous pouvez noter cette réponse ci-dessous.*")
        return "\n".join(parts)
    if message.status == "rejected":
        return f"**Question clôturée** ({local(message.answered_at)})\n\n{plain(message.message)}"
    return f"*Question n° {message.question_id} reçue le {local(message.asked_at)} : " \
           f"{BUYER_STATUS.get(message.status, message.status)}.*"


def chat_messages(view: ThreadView, acknowledgements: Mapping[int, str] | None = None) -> list[dict]:
    """The thread as chat messages: each question, its acknowledgement, then its answer or status."""
    acknowledgements = acknowledgements or {}
    messages: list[dict] = []
    for message in view.messages:
        messages.append({"role": "user", "content": plain(message.question)})
        ack = acknowledgements.get(message.question_id)
        if ack:
            messages.append({"role": "assistant", "content": ack})
        if ack is None or message.status != "pending":
            messages.append({"role": "assistant", "content": buyer_reply(message)})
    return messages


def rateable(view: ThreadView) -> list[tuple[str, int]]:
    """(label, question id) of the answered questions of a thread."""
    return [(f"n° {m.question_id} — {m.question[:60]}", m.question_id)
            for m in view.messages if m.status == "answered"]


# ---------------------------------------------------------------------- advisor page


def hour(value: datetime) -> str:
    """A UTC time as Paris hours and minutes: "14:05"."""
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    return value.astimezone(PARIS).strftime("%H:%M")


def mail_state(status: str, retry_at: datetime | None = None, sent_at: datetime | None = None) -> str:
    """Where a mail to the buyer stands, as the advisor reads it.

    Example:
        >>> mail_state("failed", datetime(2026, 3, 12, 13, 5, tzinfo=timezone.utc))
        'échec, nouvel essai à 14:05'
    """
    if status == "pending":
        return "en attente d'envoi"
    if status == "failed":
        return f"échec, nouvel essai à {hour(retry_at)}" if retry_at else "échec, nouvel essai dès que possible"
    if status == "sent":
        return f"envoyé le {local(sent_at)}"
    if status == "cancelled":
        return "annulé (coordonnées du demandeur effacées)"
    return status


def closing_note(detail: QuestionDetail, done: str) -> str:
    """What the advisor reads after validating or rejecting: the thread, and the mail as it really is."""
    if not detail.outbox:
        reason = "le demandeur n'a pas laissé d'adresse" if not detail.has_email else "l'envoi n'est pas configuré"
        return f"{done} : le demandeur le lit dans son fil (pas de courriel : {reason})."
    mail = detail.outbox[-1]
    if mail.status == "sent":
        return f"{done} : le demandeur le lit dans son fil et l'a reçu par courriel."
    text = f"{done} : le demandeur le lit dans son fil ; courriel : {mail_state(mail.status, mail.next_attempt_at)}"
    return f"**{text}** ({plain(mail.last_error)})." if mail.status == "failed" else f"{text}."


def question_header(detail: QuestionDetail, now: datetime) -> str:
    lines = [f"### Question n° {detail.id} — {status_label(detail.status)}",
             f"Reçue le {local(detail.created_at)} (il y a {waited(detail.created_at, now)}) · "
             f"organisation : {plain(detail.organisation) or '-'} · "
             f"e-mail : {'oui' if detail.has_email else 'non'} · version {detail.version}"]
    if detail.claimed_by:
        lines.append(f"Prise par **{plain(detail.claimed_by)}** jusqu'à {local(detail.claim_expires_at)}.")
    lines.append("")
    lines.append(quoted(detail.text))
    if detail.history:
        lines.append("\n**Plus tôt dans ce fil :**")
        lines.extend(f"- {plain(h)}" for h in detail.history)
    if detail.drafting:
        lines.append(f"\n**{drafting(detail)}**")
    if detail.draft_error:
        lines.append(f"\n**Attention :** la rédaction automatique a échoué : {plain(detail.draft_error)}")
    if detail.draft is not None and detail.draft.abstained:
        lines.append(f"\n**Attention :** le brouillon s'abstient : {plain(detail.draft.reason)}")
    elif detail.draft is not None and detail.draft.reason:
        lines.append(f"\nDécision de la rédaction : {plain(detail.draft.reason)}")
    if detail.answer is not None:
        lines.append(f"\n**Envoyée** par {plain(detail.answer.advisor)} le {local(detail.answer.validated_at)}.")
    if detail.outbox:
        mail = detail.outbox[-1]
        state = mail_state(mail.status, mail.next_attempt_at, mail.sent_at)
        lines.append(f"\nCourriel au demandeur : **{state}**" +
                     (f" ({plain(mail.last_error)})." if mail.status == "failed" else "."))
    if detail.reason:
        lines.append(f"\nMotif : {plain(detail.reason)}")
    return "\n".join(lines)


def drafting(detail: QuestionDetail) -> str:
    """The state of the question's open draft job, in words ("" when none is open)."""
    job = detail.job
    if job is None or not job.open:
        return ""
    label = DRAFTING_LABELS.get(job.status, "Brouillon en cours")
    if job.status == "failed" and job.next_attempt_at is not None:
        label += f" : nouvel essai le {local(job.next_attempt_at)}"
    return label


def queue_status(status: str, drafting_state: str | None) -> str:
    """A queue row's status: the workflow state, or the draft job's when the draft is not there yet."""
    if status == "received" and drafting_state:
        return DRAFTING_LABELS.get(drafting_state, status_label(status))
    return status_label(status)


def flags(detail: QuestionDetail) -> str:
    draft = detail.draft
    if draft is None:
        return "Aucun brouillon."
    if not draft.flags:
        return "Aucun point de vérification signalé par la rédaction automatique."
    lines = ["**Points à vérifier avant d'envoyer :**"]
    # A flag without a sentence is a note on the whole draft (e.g. the LLM fell back to extractive).
    lines.extend(f"- {plain(f.reason)} — « {plain(f.sentence)} »" if f.sentence else f"- **{plain(f.reason)}**"
                 for f in draft.flags)
    return "\n".join(lines)


def highlighted(text: str, quotes: Sequence[str]) -> str:
    """A passage as HTML with its quoted spans in <mark> (everything else escaped)."""
    spans: list[tuple[int, int]] = []
    for quote in quotes:
        start = text.find(quote.strip()) if quote.strip() else -1
        if start >= 0:
            spans.append((start, start + len(quote.strip())))
    spans.sort()
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(html_text(text[pos:start]))
        out.append(f"<mark>{html_text(text[start:end])}</mark>")
        pos = end
    out.append(html_text(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def citations(detail: QuestionDetail) -> str:
    """Each citation marker beside the passage it cites: document, place, highlighted quote,
    and the full passage behind a "Passage entier" toggle."""
    draft = detail.draft
    if draft is None or not draft.citations:
        return "*Aucune citation dans ce brouillon.*"
    by_chunk = {p.chunk_id: p for p in draft.passages}
    grouped: dict[int, list[Citation]] = {}
    for citation in draft.citations:
        grouped.setdefault(citation.marker, []).append(citation)
    blocks = []
    for marker, cites in sorted(grouped.items()):
        passage = by_chunk.get(cites[0].chunk_id)
        quotes = [c.quote for c in cites]
        if passage is None:
            blocks.append(f"<p><b>[{marker}]</b> passage introuvable ({html_text(cites[0].chunk_id)})</p>")
            continue
        title = html_text(passage.title)
        if passage.url and re.match(r"^https?://", passage.url):
            title = f'<a href="{html_text(passage.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        quote_html = "".join(f"<blockquote><mark>{html_text(q)}</mark></blockquote>" for q in quotes)
        blocks.append(
            f'<div class="citation"><p><b>[{marker}]</b> {title} — {html_text(passage.location)}</p>'
            f"{quote_html}"
            f"<details><summary>Passage entier</summary><p>{highlighted(passage.text, quotes)}</p></details></div>"
        )
    return "\n\n".join(blocks)


def passage_choices(passages: Sequence[ShownPassage]) -> list[tuple[str, str]]:
    """(label, chunk id) of passages an advisor can pick for a re-draft."""
    choices = []
    for p in passages:
        excerpt = " ".join(p.text.split())[:90]
        choices.append((f"{p.title} — {p.location} : {excerpt}…", p.chunk_id))
    return choices


def peers_panel(peers: Sequence[ShownPeer]) -> str:
    """The peers beside the draft: who did what, where and when, the source, its date, the contact."""
    if not peers:
        return "*Aucun pair ne correspond bien à cette question : cherchez-en un ci-dessous si besoin.*"
    blocks = []
    for peer in peers:
        meta = peer.metadata
        checked = local_date(meta.get("date", ""))
        notes = " · ".join(n for n in (plain(meta.get("reference", "")), f"à jour au {checked}" if checked else "",
                                       plain(meta.get("reliability", ""))) if n)
        blocks.append("\n".join([
            f"**{plain(peer.organisation)}** — {plain(_peer_place(peer))}",
            f"*{plain(meta.get('subject', ''))}*", "",
            quoted(peer.text.split("\n", 1)[-1]) if peer.text else "", "",
            f"Source : {_peer_source(peer)} ({notes})" if notes else f"Source : {_peer_source(peer)}", "",
            f"Contact : {plain(meta.get('contact', ''))}",
        ]))
    return "\n\n---\n\n".join(blocks)


def peer_choices(peers: Sequence[ShownPeer]) -> list[tuple[str, str]]:
    """(label, chunk id) of peers an advisor may keep in the answer."""
    return [(f"{peer.organisation} — {peer.metadata.get('subject', '')}", peer.chunk_id) for peer in peers]


def local_date(value: str) -> str:
    """An ISO date as "01/12/2026" (anything else as written)."""
    try:
        return datetime.fromisoformat(value).strftime("%d/%m/%Y") if value else ""
    except ValueError:
        return value


def similar_answers(passages: Sequence) -> str:
    if not passages:
        return "*Aucune réponse passée proche.*"
    lines = []
    for p in passages:
        chunk = p.chunk
        excerpt = " ".join(chunk.text.split())
        excerpt = excerpt if len(excerpt) <= 600 else excerpt[:600] + "…"
        lines.append(f"**{plain(chunk.title)}** ({plain(chunk.location)})\n\n{quoted(excerpt)}")
    return "\n\n".join(lines)


def queue_counts(counts: Mapping[str, int]) -> str:
    waiting = sum(counts.get(s, 0) for s in ("received", "drafted", "in_review"))
    parts = [f"**{waiting} à traiter**"]
    parts.extend(f"{counts.get(s, 0)} {status_label(s).lower()}" for s in STATUS_LABELS)
    return " · ".join(parts)
