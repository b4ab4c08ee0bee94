"""Network dashboard (login required): volume, time to answer, draft acceptance, recurring topics.

A subject that keeps coming back and goes badly is the signal that a working group should take
it up: the topics table lists each topic with its size, how well the desk did on it
(`assistant.insights.quality`), the "à approfondir" flag and example questions; it sorts by any
of those figures and exports as CSV.

Example:
    >>> app = build(desk)     # doctest: +SKIP  (mounted at /reseau by `assistant.ui.server`)
"""

from __future__ import annotations

from urllib.parse import urlencode

import gradio as gr
import pandas as pd

from assistant.insights import indicators, quality
from assistant.insights.network import NetworkView
from assistant.text.normalize import fold
from assistant.ui import render
from assistant.ui.desk import Desk

TOPIC_COLUMNS = ["À approfondir", "Sujet", "Questions", "Abstentions et réponses partielles",
                 "Réécriture des brouillons", "Délai médian", "Note des demandeurs",
                 "Sections les plus citées (brouillons réécrits)", "Exemples de questions"]
FLAG = "⚑ à approfondir"
#: Sort orders offered: label → name in `quality.SORTS`.
SORT_LABELS = {label: name for name, (label, _) in quality.SORTS.items()}
#: The CSV export route (served by `assistant.ui.server`, behind the login), and the same
#: relative to the dashboard page (/reseau/), which keeps working behind a path prefix.
EXPORT_RELATIVE = "export/sujets.csv"
EXPORT_PATH = f"/reseau/{EXPORT_RELATIVE}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} j"


def summary_markdown(view: NetworkView) -> str:
    s = view.summary
    since = f"depuis le {render.local(view.start)}" if view.start else "depuis le début"
    rating = "-" if view.rating_mean is None else f"{view.rating_mean:.1f} / 5 ({view.ratings} avis)"
    return "\n".join([
        f"**{_count(s['questions'], 'question')}** {since} · {_count(s['sent'], 'répondue')} · "
        f"{s['waiting']} en attente · {_count(s['escalated'], 'escaladée')} · {_count(s['rejected'], 'rejetée')}",
        "",
        "| indicateur | valeur |",
        "| --- | --- |",
        f"| Brouillons envoyés sans modification (taux d'acceptation) | {_percent(s['acceptance_rate'])} |",
        f"| Brouillons modifiés avant envoi | {_percent(s['edited_rate'])} |",
        f"| Part moyenne du brouillon réécrite | {_percent(s['edit_ratio_mean'])} |",
        f"| Délai de réponse médian | {_duration(s['answer_p50_s'])} |",
        f"| Délai de réponse, 95e centile | {_duration(s['answer_p95_s'])} |",
        f"| Note moyenne des demandeurs (toutes périodes) | {rating} |",
    ])


def _not_answered(topic: quality.TopicQuality) -> str:
    if topic.abstention_share is None:
        return "-"
    return f"{_percent(topic.abstention_share + (topic.partial_share or 0.0))} ({topic.drafted} brouillons)"


def _rating(topic: quality.TopicQuality) -> str:
    return "-" if topic.rating_mean is None else f"{topic.rating_mean:.1f} / 5 ({topic.ratings})".replace(".", ",", 1)


def topics_frame(topics: list[quality.TopicQuality]) -> pd.DataFrame:
    rows = [[FLAG if t.to_deepen else "", t.subject, t.questions, _not_answered(t),
             "-" if t.edit_ratio_mean is None else f"{_percent(t.edit_ratio_mean)} ({t.rewritten} réécrits)",
             _duration(t.answer_p50_s), _rating(t), " | ".join(f"{s} ({n})" for s, n in t.cited_sections) or "-",
             " | ".join(" ".join(e.split())[:140] for e in t.examples)] for t in topics]
    return pd.DataFrame(rows, columns=TOPIC_COLUMNS)


def to_deepen_markdown(topics: list[quality.TopicQuality]) -> str:
    """The flagged topics, why, and their example questions: what a working group would take up."""
    flagged = [t for t in topics if t.to_deepen]
    if not flagged:
        return ("Aucun sujet à approfondir sur la période : aucun sujet fréquent (au moins "
                f"{quality.FLAG_MIN_QUESTIONS} questions et {_percent(quality.FLAG_MIN_SHARE)} de la période) "
                "n'a un score inférieur à " + f"{quality.POOR_SCORE:.1f}".replace(".", ",") + ".")
    lines = ["**Sujets à approfondir** (fréquents et mal traités : à proposer à un groupe de travail) :"]
    for t in flagged:
        examples = " ; ".join(f"« {render.plain(' '.join(e.split())[:120])} »" for e in t.examples)
        lines.append(f"- **{render.plain(t.subject)}** — {t.questions} questions — "
                     f"{render.plain(', '.join(t.reasons))}. Exemples : {examples}")
    return "\n".join(lines)


def export_filename(period: str) -> str:
    """An ASCII file name (an HTTP header carries it): 'Depuis le début' → sujets-recurrents-depuis-le-debut.csv."""
    ascii_period = fold(period).encode("ascii", "ignore").decode()
    slug = "".join(c if c.isalnum() else "-" for c in ascii_period.lower()).strip("-")
    return f"sujets-recurrents-{slug}.csv"


def export_link(period: str) -> str:
    """A link to the CSV export of a period (relative: the page is served at /reseau/)."""
    query = urlencode({"periode": period})
    return f"[Exporter les sujets de la période et leurs indicateurs en CSV]({EXPORT_RELATIVE}?{query})"


def build(desk: Desk) -> gr.Blocks:
    """The network dashboard as a Blocks app (mounted behind the login)."""

    def on_refresh(period: str, order: str, request: gr.Request):
        if not getattr(request, "username", None):
            raise gr.Error("Session expirée : reconnectez-vous.", title="Connexion requise")
        view = desk.network(period)
        weekly = pd.DataFrame(view.weekly, columns=["Semaine", "Questions"])
        times = pd.DataFrame(view.answer_times, columns=["Délai de réponse", "Questions"])
        ordered = quality.sort_topics(view.topics, SORT_LABELS.get(order, quality.DEFAULT_SORT))
        return (summary_markdown(view), weekly, times, to_deepen_markdown(ordered), topics_frame(ordered),
                export_link(period))

    with gr.Blocks(title="Guichet vert — tableau de bord du réseau") as app:
        gr.Markdown("# Tableau de bord du réseau\n[Espace conseillers](/conseiller/) · "
                    "[Se déconnecter](/deconnexion)")
        with gr.Row(equal_height=True):
            period = gr.Dropdown(list(indicators.PERIODS), value=indicators.DEFAULT_PERIOD, label="Période",
                                 elem_id="periode")
            refresh = gr.Button("Actualiser", elem_id="actualiser-tableau")
        summary = gr.Markdown(elem_id="indicateurs")
        with gr.Row():
            weekly = gr.BarPlot(x="Semaine", y="Questions", title="Questions par semaine", elem_id="par-semaine",
                                x_title="Semaine (date du lundi)", y_title="Questions", sort="x",
                                x_label_angle=-45)
            times = gr.BarPlot(x="Délai de réponse", y="Questions", title="Délai de réponse (répartition)",
                               elem_id="delais", y_title="Questions répondues",
                               sort=[label for _, label in indicators.TIME_BINS])
        gr.Markdown("### Sujets récurrents de la période\nQuestions regroupées par sujet (mots-clés du "
                    "domaine, puis regroupement des autres questions par vocabulaire commun), et ce que le "
                    "guichet en a fait : abstentions et réponses partielles des brouillons, part réécrite des "
                    "brouillons envoyés, délai médian, note des demandeurs, sections les plus citées par les "
                    "brouillons réécrits à plus de " + _percent(quality.REWRITTEN) + ".")
        deepen = gr.Markdown(elem_id="a-approfondir")
        order = gr.Dropdown(list(SORT_LABELS), value=quality.SORTS[quality.DEFAULT_SORT][0], label="Trier par",
                            elem_id="tri-sujets")
        table = gr.Dataframe(headers=TOPIC_COLUMNS, interactive=False, wrap=True, elem_id="sujets",
                             column_widths=["9%", "15%", "6%", "10%", "10%", "7%", "8%", "15%", "20%"],
                             label="Sujets récurrents", max_height=520)
        download = gr.Markdown(elem_id="export-csv")

        outputs = [summary, weekly, times, deepen, table, download]
        app.load(on_refresh, [period, order], outputs, api_visibility="private")
        gr.on([refresh.click, period.change, order.change], on_refresh, [period, order], outputs,
              api_visibility="private")
    return app
