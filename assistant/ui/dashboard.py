"""Network dashboard (login required): volume, time to answer, draft acceptance, recurring topics.

A subject that keeps coming back is the signal that a working group should take it up: the
topics table lists each group with its size and example questions, and exports as CSV.

Example:
    >>> app = build(desk)     # doctest: +SKIP  (mounted at /reseau by `assistant.ui.server`)
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlencode

import gradio as gr
import pandas as pd

from assistant.insights import indicators, topics
from assistant.insights.network import NetworkView
from assistant.ui import render
from assistant.ui.desk import Desk

TOPIC_COLUMNS = ["Sujet", "Questions", "Exemples de questions"]
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


def topics_frame(groups: list[topics.Group]) -> pd.DataFrame:
    rows = [[g.label, g.size, " | ".join(" ".join(e.split())[:140] for e in g.examples)] for g in groups]
    return pd.DataFrame(rows, columns=TOPIC_COLUMNS)


def export_filename(period: str) -> str:
    """An ASCII file name (an HTTP header carries it): 'Depuis le début' → sujets-recurrents-depuis-le-debut.csv."""
    ascii_period = unicodedata.normalize("NFKD", period).encode("ascii", "ignore").decode()
    slug = "".join(c if c.isalnum() else "-" for c in ascii_period.lower()).strip("-")
    return f"sujets-recurrents-{slug}.csv"


def export_link(period: str) -> str:
    """A link to the CSV export of a period (relative: the page is served at /reseau/)."""
    return f"[Exporter les sujets de la période en CSV]({EXPORT_RELATIVE}?{urlencode({'periode': period})})"


def build(desk: Desk) -> gr.Blocks:
    """The network dashboard as a Blocks app (mounted behind the login)."""

    def on_refresh(period: str, request: gr.Request):
        if not getattr(request, "username", None):
            raise gr.Error("Session expirée : reconnectez-vous.", title="Connexion requise")
        view = desk.network(period)
        weekly = pd.DataFrame(view.weekly, columns=["Semaine", "Questions"])
        times = pd.DataFrame(view.answer_times, columns=["Délai de réponse", "Questions"])
        return summary_markdown(view), weekly, times, topics_frame(view.groups), export_link(period)

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
                    "domaine, puis regroupement des autres questions par vocabulaire commun).")
        table = gr.Dataframe(headers=TOPIC_COLUMNS, interactive=False, wrap=True, elem_id="sujets",
                             column_widths=["28%", "10%", "62%"],
                             label="Sujets récurrents", max_height=420)
        download = gr.Markdown(elem_id="export-csv")

        outputs = [summary, weekly, times, table, download]
        app.load(on_refresh, [period], outputs, api_visibility="private")
        gr.on([refresh.click, period.change], on_refresh, [period], outputs, api_visibility="private")
    return app
