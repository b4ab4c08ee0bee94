"""`guichet tune`: refit the second-stage ranker on a desk's own question sets.

Example:
    $ guichet eval export-reviewed --out evals/from-the-desk.yaml
    $ guichet tune evals/from-the-desk.yaml
    $ guichet tune --reset
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.cli import cli
from assistant.cli.fitted import question_sets, reset_or_require_sets
from assistant.errors import ConfigError, GuichetError

_SHOWN = ("hit@1", "hit@5", "mrr@10")


@cli.command()
@question_sets
@click.option("--l2", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="L2 penalty of the fit.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Parameter file to write (default: GUICHET_HOME/ranker.json, used from then on).")
@click.option("--dry-run", is_flag=True, help="Report only; write no parameter file.")
@click.option("--reset", is_flag=True, help="Delete GUICHET_HOME/ranker.json: back to the shipped parameters.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def tune(questions: tuple[Path, ...], also: tuple[tuple[Path, Path], ...], folds: int, l2: float,
         out: Path | None, dry_run: bool, reset: bool, as_json: bool, quiet: bool) -> None:
    """Refit the search ranker on QUESTIONS.yaml (FORMAT.md), reported out of fold.

    Every question is searched once; the ranker is fitted on all of them, and each set's
    figures are measured with every question ranked by a ranker fitted without its source
    document (folds grouped by document). The new parameters are used by every later search
    of this GUICHET_HOME; --reset goes back to the shipped ones.

    \b
    Examples:
      guichet eval export-reviewed --out evals/from-the-desk.yaml
      guichet tune evals/from-the-desk.yaml evals/sample-questions.yaml
      guichet tune evals/dev.yaml --also-index ~/autre-index evals/autre.yaml --dry-run
      guichet tune --reset
    """
    from assistant.retrieval.ranker import TUNED

    from assistant.compose import home, load_settings

    settings = load_settings()
    tuned = home(settings) / TUNED
    if reset_or_require_sets(tuned, reset, questions + also, "searches"):
        return
    result = _run(settings, [(home(settings), q) for q in questions] + list(also), folds, l2, quiet)
    target = out or tuned
    if not dry_run:
        result.ranker.save(target)
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "written": None if dry_run else str(target)},
                              ensure_ascii=False))
        return
    _print(result)
    click.echo("Dry run: nothing written." if dry_run else f"Wrote {target}.", err=True)


def _run(settings, pairs, folds: int, l2: float, quiet: bool):
    from assistant.progress import QuestionBar
    from assistant.evaluation.questions import load_question_set
    from assistant.evaluation.tuning import collect, tune as fit_pool
    from assistant.compose import build_assistant, over_home, retrieval_config
    from assistant.retrieval.ranker import LinearRanker

    sets = [(Path(home), path, load_question_set(path)) for home, path in pairs]
    names = [path.name for _, path, _ in sets]
    if len(set(names)) != len(names):
        raise ConfigError(f"two question sets share the name {max(names, key=names.count)!r}: rename one")
    current = None
    try:
        current = LinearRanker.load(retrieval_config(settings).ranker_params)
    except ConfigError:
        pass  # no usable parameters yet: the report has no "before" column
    pool = []
    total = sum(len(qset.questions) for _, _, qset in sets)
    with QuestionBar(total, quiet) as advance:
        for home, path, qset in sets:
            # the first stage needs no ranker: collect with the fusion alone
            with build_assistant(over_home(settings, home, ranker="fusion")) as assistant:
                pool += collect(assistant.retriever, qset, path.name, corpus=str(home.resolve()),
                                progress=advance)
    try:
        return fit_pool(pool, folds=folds, l2=l2, current=current)
    except ValueError as exc:
        raise GuichetError(f"cannot fit the ranker: {exc}") from None


def _print(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Ranker, out of fold (folds grouped by source document)")
    table.add_column("set")
    table.add_column("n", justify="right")
    for key in ("recall@20", "recall@50", "recall@100"):
        table.add_column(key, justify="right")
    for key in _SHOWN:
        table.add_column(f"current {key}", justify="right")
        table.add_column(f"tuned {key}", justify="right")
    for name, metrics in result.out_of_fold.items():
        before = result.before.get(name) or {}
        row = [name, str(result.sizes[name])]
        row += [_fmt(result.recall[name][k]) for k in ("recall@20", "recall@50", "recall@100")]
        for key in _SHOWN:
            row += [_fmt(before.get(key)), _fmt(metrics[key])]
        table.add_row(*row)
    Console().print(table)
    Console(stderr=True).print("'current': the parameters in use before this run, measured on these sets "
                               "(in-sample if they were fitted on them); 'tuned': each question ranked by "
                               "a ranker fitted without its document.", markup=False)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
