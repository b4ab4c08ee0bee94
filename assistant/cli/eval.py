"""`guichet eval`: evaluate question sets, compare runs, export validated answers.

`eval` is a click group whose first argument, when it is not a subcommand name, goes to the
default subcommand `run`; so `guichet eval QUESTIONS.yaml`, `guichet eval --compare A B` and
`guichet eval export-reviewed --out F.yaml` all work, and `guichet eval run ...` too.

Example:
    $ guichet eval evals/dev-questions.yaml --config default --config naive
    $ guichet eval --compare index/runs/baseline index/runs/candidate --tolerance 0.02
    $ guichet eval export-reviewed --out evals/reviewed.yaml
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import click

from assistant.cli import cli
from assistant.errors import ConfigError, GuichetError

DEFAULT_CONFIG = "default"
#: Reported beside the default in every run unless --config or --no-baseline says otherwise.
BASELINE_CONFIG = "naive"
_TABLE_METRICS = ("n", "hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "candidate_recall@20",
                  "candidate_recall@50", "candidate_recall@100", "abstention_rate",
                  "false_abstention_rate", "citation_validity", "evidence_in_draft", "evidence_first",
                  "bullets_per_draft", "cut_sentence_rate")


class DefaultCommandGroup(click.Group):
    """A group that sends arguments to `default_command` unless they start with a subcommand.

    Only the first argument is looked at: a subcommand must come first
    (`guichet eval export-reviewed --out F`), and `-h/--help` alone shows the group's help.
    """

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


# One-line seams over the stages this command drives; tests replace them with test doubles.
def _open_assistant(settings: Any, config_name: str) -> Any:
    """An object with search/ask/index_fingerprint (and close) for one named configuration."""
    from assistant.compose import open_assistant

    return open_assistant(settings, config_name)


def _config_overrides() -> Mapping[str, Mapping[str, Any]]:
    """{configuration name: settings it overrides}, from the composition's CONFIGS."""
    from assistant.compose import CONFIGS

    return CONFIGS


def _reviewed_records(settings: Any) -> list[dict[str, Any]]:
    """Validated answers as {id, question, final_text, citations: [{source, quote}]}."""
    from assistant.compose import review_service

    service = review_service(settings)
    try:
        return service.reviewed_records()
    finally:
        service.close()


def _review_metrics(settings: Any) -> Mapping[str, Any] | None:
    """Draft quality from the review database ({acceptance_rate, edit_ratio_mean,
    time_to_answer_s}), or None when there is no review database or nothing was sent yet."""
    from assistant.compose import has_review_data, review_service

    if not has_review_data(settings):
        return None

    service = review_service(settings)
    try:
        stats = service.stats()
    finally:
        service.close()
    if not stats.get("sent"):
        return None
    return {key: stats[key] for key in ("acceptance_rate", "edit_ratio_mean", "time_to_answer_s")}


@cli.group("eval", cls=DefaultCommandGroup, subcommand_metavar="[QUESTIONS.yaml | COMMAND] [ARGS]...")
def eval_group() -> None:
    """Evaluate retrieval and drafts on a question set, compare runs, grow the set.

    \b
    guichet eval QUESTIONS.yaml [--json] [--out DIR] [--limit N] [--sample N]
                                [--config NAME ...] [--quiet]
    guichet eval --compare RUN_A RUN_B [--tolerance X] [--json]
    guichet eval export-reviewed --out FILE.yaml

    \b
    Examples:
      guichet eval evals/dev-questions.yaml --json
      guichet eval evals/dev-questions.yaml --config default --config naive
      guichet eval --compare index/runs/20250301T090000Z index/runs/20250314T101500Z
      guichet eval export-reviewed --out evals/reviewed.yaml
    """


@eval_group.command("run")
@click.argument("questions", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print metrics (or the comparison) as JSON.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Run folder to write (default: GUICHET_HOME/runs/<UTC time>).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N questions.")
@click.option("--sample", type=click.IntRange(min=1), help="N questions drawn at random (see --seed).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.option("--config", "configs", multiple=True, metavar="NAME",
              help="Configuration to evaluate; repeat to compare several (default: 'default', with "
                   "the 'naive' tutorial baseline beside it).")
@click.option("--no-baseline", is_flag=True, help="Without --config: evaluate 'default' alone, no 'naive'.")
@click.option("--compare", nargs=2, type=click.Path(path_type=Path), metavar="RUN_A RUN_B",
              help="Compare two run folders instead; exit code 1 on a regression.")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.02, show_default=True,
              help="Largest accepted drop of a quality metric in --compare.")
@click.option("--latency-tolerance", type=click.FloatRange(min=0), default=None,
              help="Also gate latency in --compare: largest relative increase (0.5 = +50 %).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no status lines.")
@click.pass_context
def run_command(ctx: click.Context, questions: Path | None, as_json: bool, out: Path | None,
                limit: int | None, sample: int | None, seed: int, configs: tuple[str, ...],
                compare: tuple[Path, Path] | None, tolerance: float,
                latency_tolerance: float | None, quiet: bool, no_baseline: bool) -> None:
    """(default) Evaluate QUESTIONS.yaml and write a run folder, or --compare two runs.

    \b
    Examples:
      guichet eval evals/dev-questions.yaml --json
      guichet eval evals/dev-questions.yaml --sample 10 --config lexical --config default
      guichet eval evals/dev-questions.yaml --no-baseline --json
      guichet eval --compare runs/baseline runs/candidate --tolerance 0.01

    Without --config, the 'naive' baseline (the LangChain tutorial pipeline, indexed once in
    GUICHET_HOME/naive) is evaluated beside 'default'; --json then prints the default's metrics
    with the baseline's under "baseline".
    """
    if compare:
        if questions is not None:
            raise click.UsageError("give either QUESTIONS.yaml or --compare RUN_A RUN_B, not both")
        _compare(ctx, compare, tolerance, latency_tolerance, as_json)
        return
    if questions is None:
        raise click.UsageError("missing QUESTIONS.yaml (or --compare RUN_A RUN_B)")
    from assistant.evaluation.questions import documents_of, load_question_set, unknown_sources
    from assistant.evaluation.report import default_run_dir, write_run
    from assistant.evaluation.runner import run_eval

    from assistant.compose import home, load_settings

    settings = load_settings()
    qset = load_question_set(questions)
    overrides = _config_overrides()
    with_baseline = not configs and not no_baseline and BASELINE_CONFIG in overrides
    names = list(dict.fromkeys(configs or ((DEFAULT_CONFIG, BASELINE_CONFIG) if with_baseline
                                           else (DEFAULT_CONFIG,))))
    for name in names:
        if name not in overrides:
            raise ConfigError(f"unknown configuration {name!r}: choose from {', '.join(overrides)}")
    results, fingerprints, warned = {}, {}, set()
    for name in names:
        assistant = _open_assistant(settings, name)
        fingerprint = assistant.index_fingerprint() if hasattr(assistant, "index_fingerprint") else None
        fingerprints[name] = fingerprint
        if fingerprint is not None:
            for source in unknown_sources(qset, documents_of(fingerprint)):
                if source not in warned:
                    warned.add(source)
                    click.echo(f"Warning: source {source!r} of {questions} names no ingested "
                               f"document (configuration {name!r})", err=True)
        if not quiet:
            click.echo(f"Evaluating configuration {name!r}...", err=True)
        try:
            results[name] = run_eval(assistant, qset, limit=limit, sample=sample, seed=seed,
                                     progress=not quiet)
        finally:
            if hasattr(assistant, "close"):
                assistant.close()
        errors = sum(1 for d in results[name].details if d["error"])
        if errors:
            click.echo(f"Warning: {errors} questions raised an error with {name!r}: "
                       "see details.jsonl", err=True)
    folder = write_run(out or default_run_dir(home(settings)), results, settings=settings,
                       fingerprints=fingerprints, review_metrics=_review_metrics(settings),
                       question_set=str(questions),
                       config_overrides={name: overrides.get(name, {}) for name in names})
    metrics = {name: result.metrics for name, result in results.items()}
    if as_json:
        if with_baseline:
            payload = {**metrics[DEFAULT_CONFIG], "baseline": {BASELINE_CONFIG: metrics[BASELINE_CONFIG]}}
        else:
            payload = metrics[names[0]] if len(names) == 1 else {"configs": metrics}
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        _print_metrics(metrics)
    if not quiet:
        click.echo(f"Run folder: {folder} (report: {folder / 'report.md'})", err=True)


def _compare(ctx: click.Context, runs: tuple[Path, Path], tolerance: float,
             latency_tolerance: float | None, as_json: bool) -> None:
    from assistant.evaluation.compare import compare_runs

    comparison = compare_runs(runs[0], runs[1], tolerance, latency_tolerance=latency_tolerance)
    if as_json:
        click.echo(json.dumps(comparison.to_dict(), ensure_ascii=False))
    else:
        _print_comparison(comparison)
    if comparison.has_regression:
        ctx.exit(1)


@eval_group.command("export-reviewed")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Question set file to write.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print {path, written, skipped} as JSON.")
def export_reviewed_command(out: Path, force: bool, as_json: bool) -> None:
    """Write validated answers of the review database as a question set (FORMAT.md).

    \b
    Example:
      guichet eval export-reviewed --out evals/reviewed.yaml
      guichet eval evals/reviewed.yaml
    """
    from assistant.compose import load_settings
    from assistant.evaluation.export import export_reviewed

    if out.exists() and not force:
        raise GuichetError(f"{out} already exists: choose another --out or add --force")
    result = export_reviewed(_reviewed_records(load_settings()), out)
    if as_json:
        click.echo(json.dumps({"path": str(result.path), "written": result.written,
                               "skipped": [{"id": i, "reason": r} for i, r in result.skipped]},
                              ensure_ascii=False))
        return
    click.echo(f"Wrote {result.written} questions to {result.path}")
    for qid, reason in result.skipped:
        click.echo(f"Skipped {qid}: {reason}", err=True)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _print_metrics(metrics: Mapping[str, Mapping[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Evaluation")
    table.add_column("metric")
    for name in metrics:
        table.add_column(name, justify="right")
    for key in _TABLE_METRICS:
        table.add_row(key, *(_fmt(m.get(key)) for m in metrics.values()))
    for key in ("retrieval_p50", "retrieval_p95", "draft_p50", "draft_p95"):
        table.add_row(f"{key} (ms)", *(_fmt(m["latency_ms"].get(key)) for m in metrics.values()))
    Console().print(table)


def _print_comparison(comparison) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{comparison.run_a} -> {comparison.run_b}")
    for column in ("config", "metric", "A", "B", "delta", ""):
        table.add_column(column, justify="left" if column in ("config", "metric", "") else "right")
    for d in comparison.metrics:
        delta = "n/a" if d.delta is None else f"{d.delta:+.3f}"
        table.add_row(d.config, d.metric, _fmt(d.a), _fmt(d.b), delta,
                      "[bold red]REGRESSION[/]" if d.regression else "")
    console.print(table)
    for title, changes in (("Newly failing", comparison.newly_failing),
                           ("Newly passing", comparison.newly_passing)):
        for c in changes:
            console.print(f"{title} ({c.config}): {c.id} rank {c.rank_a} -> {c.rank_b}: {c.question}",
                          markup=False)
    for warning in comparison.warnings:
        console.print(f"Warning: {warning}", markup=False)
    count = len(comparison.regressions)
    console.print(f"{count} regression(s) beyond tolerance {comparison.tolerance}" if count
                  else f"No regression beyond tolerance {comparison.tolerance}", markup=False)
