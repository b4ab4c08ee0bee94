"""`guichet calibrate`: refit the abstention model (answer / partial / abstain) on question sets.

Example:
    $ guichet calibrate ../shared/evals/dev-questions.yaml ../shared/evals/validation-questions.yaml
    $ guichet calibrate evals/from-the-desk.yaml --dry-run --drafts
    $ guichet calibrate --reset
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.cli import cli
from assistant.cli.fitted import question_sets, reset_or_require_sets
from assistant.errors import GuichetError


@cli.command()
@question_sets
@click.option("--max-false-abstention", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Highest share of answerable questions the fit may abstain on.")
@click.option("--max-answered", type=click.FloatRange(0, 1), default=0.10, show_default=True,
              help="Highest share of unanswerable questions the fit may answer (not partial).")
@click.option("--drafts", is_flag=True,
              help="Also draft every question with its out-of-fold model: the evaluation's metrics per set.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Parameter file to write (default: GUICHET_HOME/abstention.json, used from then on).")
@click.option("--dry-run", is_flag=True, help="Report only; write no parameter file.")
@click.option("--reset", is_flag=True, help="Delete GUICHET_HOME/abstention.json: back to the shipped model.")
@click.option("--details", is_flag=True, help="With --json, keep every question's features and outcome.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def calibrate(questions: tuple[Path, ...], also: tuple[tuple[Path, Path], ...], folds: int,
              max_false_abstention: float, max_answered: float, drafts: bool, out: Path | None,
              dry_run: bool, reset: bool, details: bool, as_json: bool, quiet: bool) -> None:
    """Refit when drafts answer, answer in part or abstain, on QUESTIONS.yaml (FORMAT.md).

    Every question is searched once over its index; a logistic model on retrieval and coverage
    signals is fitted on all of them, and every figure printed is out of fold: each question is
    decided by a model fitted without its source document (folds grouped by document), with
    thresholds chosen on out-of-fold probabilities too. Refit after a change of retrieval or of
    the corpus. The new model is used by every later draft of this GUICHET_HOME; --reset goes
    back to the shipped one (assistant/drafting/abstention.json, which the project refits with
    --out on its pooled sets).

    \b
    Examples:
      guichet calibrate ../shared/evals/dev-questions.yaml ../shared/evals/validation-questions.yaml
      guichet calibrate evals/from-the-desk.yaml --also-index ~/autre-index evals/autre.yaml --dry-run
      guichet calibrate evals/from-the-desk.yaml --drafts --json
      guichet calibrate --reset
    """
    from assistant.progress import QuestionBar
    from assistant.drafting.abstention import OWN_FILE
    from assistant.compose import build_assistant, home, load_settings, over_home
    from assistant.evaluation.calibration import calibrate as fit_pool, load_sets, pool, save

    settings = load_settings()
    own = home(settings) / OWN_FILE
    if reset_or_require_sets(own, reset, questions + also, "drafts"):
        return
    sets = load_sets([(home(settings), q) for q in questions] + list(also))
    with QuestionBar(sum(len(qset.questions) for _, _, qset in sets), quiet or as_json) as advance:
        pooled = pool(sets, lambda other: _closed_at_exit(build_assistant(over_home(settings, other))), advance)
    try:
        fit, report = fit_pool(pooled, k=folds, max_false_abstention=max_false_abstention,
                               max_answered=max_answered, drafts=drafts)
    except ValueError as exc:
        raise GuichetError(f"cannot fit the abstention model: {exc}") from None
    target = out or own
    if not dry_run:
        save(target, fit, report)
    if not details:
        report.pop("questions")
    if as_json:
        click.echo(json.dumps({**report, "written": None if dry_run else str(target)}, ensure_ascii=False))
        return
    _print(report)
    click.echo("Dry run: nothing written." if dry_run else f"Wrote {target}.", err=True)


def _closed_at_exit(assistant):
    """`assistant`, closed when the command ends."""
    click.get_current_context().call_on_close(assistant.close)
    return assistant


def _print(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Abstention, out of fold (folds grouped by source document)")
    for name in ("set", "n", "answerable", "abstention", "false abstention", "answered (unanswerable)",
                 "partial (answerable)", "evidence in draft", "evidence first"):
        table.add_column(name, justify="left" if name == "set" else "right")
    for name, rates in {**report["sets"], "all": report}.items():
        drafts = rates.get("drafts") or {}
        table.add_row(name, str(rates["n"]), str(rates["n_answerable"]), _fmt(rates["abstention_rate"]),
                      _fmt(rates["false_abstention_rate"]), _fmt(rates["outcomes"]["unanswerable"]["answer"]),
                      _fmt(rates["outcomes"]["answerable"]["partial"]), _fmt(drafts.get("evidence_in_draft")),
                      _fmt(drafts.get("evidence_first")))
    Console().print(table)
    thresholds = report["thresholds"]
    Console(stderr=True).print(f"Thresholds: abstain below {thresholds['abstain_below']:.3f}, answer from "
                               f"{thresholds['answer_from']:.3f}. Draft figures need --drafts.", markup=False)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
