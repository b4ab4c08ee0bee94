"""`guichet topics`: the recurring topics of a period and how well the desk did on each."""

from __future__ import annotations

import json

import click

from assistant.cli import cli


def _fmt(value, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.0f} %" if percent else f"{value:.2f}"


def _hours(seconds) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f} h"


@cli.command("topics")
@click.option("--period", "-p", default="90d", show_default=True,
              help="7d, 30d, 90d, 12m or all (or a dashboard label such as '30 derniers jours').")
@click.option("--sort", "order", default="flag", show_default=True,
              type=click.Choice(["flag", "questions", "score", "abstentions", "rewriting", "rating", "delay"]),
              help="Order of the topics: flagged first, or by one figure, worst first.")
@click.option("--json", "as_json", is_flag=True, help="Print the period and its topics as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the dashboard's CSV export.")
def topics(period: str, order: str, as_json: bool, as_csv: bool) -> None:
    """Recurring topics of a period: volume, abstentions and partial answers, rewriting of the
    drafts, median time to answer, buyers' rating, sections most cited by rewritten drafts, and
    the "à approfondir" flag (many questions, poor score).

    \b
    Examples:
      guichet topics                        # the last 90 days, flagged topics first
      guichet topics --period 30d --sort rating
      guichet topics --period all --json    # {"period", "start", "end", "questions", "topics": [...]}
      guichet topics --period 12m --csv > sujets.csv
    """
    from assistant import compose
    from assistant.insights.exports import topics_csv
    from assistant.insights.indicators import period_label
    from assistant.insights.network import network_view
    from assistant.insights.quality import sort_topics
    from assistant.review.store import utcnow

    if as_json and as_csv:
        raise click.UsageError("choose --json or --csv, not both")
    try:
        label = period_label(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--period'") from None
    service = compose.review_service(compose.load_settings())
    try:
        view = network_view(service, label, utcnow())
    finally:
        service.close()
    ordered = sort_topics(view.topics, order)
    if as_csv:
        click.echo(topics_csv(ordered), nl=False)
        return
    if as_json:
        click.echo(json.dumps({"period": label, "start": view.start.isoformat() if view.start else None,
                               "end": view.end.isoformat(), "questions": view.summary["questions"],
                               "topics": [t.as_dict() for t in ordered]}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{label}: {view.summary['questions']} question(s), {len(ordered)} topic(s)")
    for t in ordered:
        flag = "⚑ à approfondir  " if t.to_deepen else ""
        click.secho(f"\n{flag}{t.subject} — {t.questions} question(s), score {_fmt(t.score)}", bold=True)
        click.echo(f"  abstentions {_fmt(t.abstention_share, True)}, partial {_fmt(t.partial_share, True)} "
                   f"of {t.drafted} draft(s); rewriting {_fmt(t.edit_ratio_mean, True)} "
                   f"({t.rewritten} rewritten); median time to answer {_hours(t.answer_p50_s)}; "
                   f"rating {_fmt(t.rating_mean)} ({t.ratings})")
        if t.reasons:
            click.echo(f"  why: {'; '.join(t.reasons)}")
        if t.cited_sections:
            click.echo("  most cited by rewritten drafts: " + "; ".join(f"{s} ({n})" for s, n in t.cited_sections))
        for example in t.examples:
            click.echo(f"  e.g. {' '.join(example.split())[:120]}")
