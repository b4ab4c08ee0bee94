"""What `guichet tune` and `guichet calibrate` share: question sets, --reset of the desk's own file."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import click


def question_sets(command: Callable) -> Callable:
    """The arguments and options of a fit's question sets: QUESTIONS.yaml..., --also-index HOME
    QUESTIONS.yaml (repeatable) and --folds."""
    for option in reversed((
        click.argument("questions", nargs=-1, type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--also-index", "also", nargs=2, multiple=True, metavar="HOME QUESTIONS.yaml",
                     type=click.Path(path_type=Path),
                     help="Pool a question set about another index (its GUICHET_HOME); repeatable."),
        click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
                     help="Cross-validation folds, grouped by source document."),
    )):
        command = option(command)
    return command


def reset_or_require_sets(own: Path, reset: bool, sets: Sequence, model: str) -> bool:
    """With --reset, delete the desk's parameter file `own` and say so (True: nothing more to
    do); without, require at least one question set (False: go on and fit).

    Args:
        own: GUICHET_HOME's parameter file.
        reset: The --reset flag.
        sets: The question sets given (with --reset there must be none).
        model: What the shipped parameters serve, for the message ("searches", "drafts").

    Raises:
        click.UsageError: --reset with a question set, or no question set without --reset.
    """
    if reset:
        if sets:
            raise click.UsageError("--reset takes no question set")
        existed = own.exists()
        own.unlink(missing_ok=True)
        click.echo(f"Removed {own}: {model} use the shipped parameters." if existed
                   else f"No {own}: {model} already use the shipped parameters.")
        return True
    if not sets:
        raise click.UsageError("give at least one QUESTIONS.yaml (or --reset)")
    return False
