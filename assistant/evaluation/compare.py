"""Compare two run folders: deltas per metric and per question, regressions flagged.

A quality metric regresses when it gets worse by more than `tolerance` (absolute, on a 0-1
scale). Latency is noisy and machine-dependent, so it is gated only when `latency_tolerance`
is given (relative: 0.5 = 50 % slower). A question newly fails when its first relevant
passage was within rank 5 in A and is not in B.

Example:
    >>> comparison = compare_runs("runs/baseline", "runs/candidate")  # doctest: +SKIP
    >>> [(d.config, d.metric, round(d.delta, 2)) for d in comparison.regressions]  # doctest: +SKIP
    [('default', 'hit@5', -0.1)]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from assistant.errors import GuichetError
from assistant.evaluation.report import PASS_RANK, RUN_FORMAT

#: Metrics where a lower value is better.
LOWER_IS_BETTER = ("false_abstention_rate", "cut_sentence_rate")
#: Metrics compared but never a regression: counts and shares with no better direction.
NOT_GATED = ("bullets_per_draft", "outcomes.", "evidence_misses.")
_REQUIRED = ("run.json", "metrics.json", "details.jsonl")


class RunFolderError(GuichetError):
    """A run folder is missing, incomplete or written by an incompatible format version."""


@dataclass(frozen=True)
class Run:
    """A run folder read back: run.json, metrics.json and details.jsonl by configuration."""

    path: Path
    info: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    details: dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class MetricDelta:
    """One metric of one configuration in both runs; `delta` = b - a (None if either is None)."""

    config: str
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    regression: bool


@dataclass(frozen=True)
class QuestionChange:
    """A question whose pass/fail (first relevant rank <= 5) changed between the runs."""

    config: str
    id: str
    question: str
    rank_a: int | None
    rank_b: int | None


@dataclass(frozen=True)
class Comparison:
    """Result of `compare_runs`.

    Example:
        >>> Comparison("a", "b", 0.02, None, ()).has_regression
        False
    """

    run_a: str
    run_b: str
    tolerance: float
    latency_tolerance: float | None
    metrics: tuple[MetricDelta, ...]
    newly_failing: tuple[QuestionChange, ...] = ()
    newly_passing: tuple[QuestionChange, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def regressions(self) -> tuple[MetricDelta, ...]:
        return tuple(d for d in self.metrics if d.regression)

    @property
    def has_regression(self) -> bool:
        return bool(self.regressions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with `regression` true when the gate fails."""
        data = asdict(self)
        data["regression"] = self.has_regression
        return data


def read_run(path: str | Path) -> Run:
    """Read a run folder written by `write_run`.

    Raises:
        RunFolderError: not a folder, a missing file, invalid JSON or another format version.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path}: no such run folder")
    for name in _REQUIRED:
        if not (path / name).is_file():
            raise RunFolderError(f"{path}: not a complete run folder ({name} is missing): "
                                 "give a folder written by 'guichet eval --out DIR'")
    info = _read_json(path / "run.json")
    version = info.get("format") if isinstance(info, dict) else None
    if version != RUN_FORMAT:
        raise RunFolderError(f"{path}: run folder format {version!r}, this version reads format "
                             f"{RUN_FORMAT}: re-run 'guichet eval' with this version")
    metrics = _read_json(path / "metrics.json")
    if not isinstance(metrics, dict) or not all(isinstance(m, dict) for m in metrics.values()):
        raise RunFolderError(f"{path / 'metrics.json'}: expected {{configuration: metrics}}")
    details: dict[str, dict[str, dict[str, Any]]] = {}
    with open(path / "details.jsonl", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                details.setdefault(record["config"], {})[record["id"]] = record
            except (json.JSONDecodeError, KeyError, TypeError):
                raise RunFolderError(f"{path / 'details.jsonl'}: line {number}: not a question "
                                     "record with 'config' and 'id'") from None
    return Run(path=path, info=info, metrics=metrics, details=details)


def compare_runs(dir_a: str | Path, dir_b: str | Path, tolerance: float = 0.02, *,
                 latency_tolerance: float | None = None) -> Comparison:
    """Compare run B (candidate) against run A (baseline), configuration by configuration.

    Args:
        dir_a: Baseline run folder.
        dir_b: Candidate run folder.
        tolerance: Largest accepted drop of a quality metric (absolute), >= 0.
        latency_tolerance: If given, largest accepted relative latency increase, >= 0.

    Raises:
        RunFolderError: a folder cannot be read (see `read_run`).
        ValueError: a negative tolerance.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if latency_tolerance is not None and latency_tolerance < 0:
        raise ValueError(f"latency_tolerance must be >= 0, got {latency_tolerance}")
    run_a, run_b = read_run(dir_a), read_run(dir_b)
    shared = [name for name in run_a.metrics if name in run_b.metrics]
    warnings = [f"configuration {name!r} is only in {run.path}"
                for run, other in ((run_a, run_b), (run_b, run_a))
                for name in run.metrics if name not in other.metrics]
    if not shared:
        warnings.append("the runs share no configuration: nothing to compare")
    deltas: list[MetricDelta] = []
    failing: list[QuestionChange] = []
    passing: list[QuestionChange] = []
    for name in shared:
        a, b = _flatten(run_a.metrics[name]), _flatten(run_b.metrics[name])
        if a.get("n") != b.get("n"):
            warnings.append(f"{name}: the runs have {a.get('n')} and {b.get('n')} questions: "
                            "metrics may not be comparable")
        for metric in [m for m in a if m in b and m != "n"]:
            deltas.append(_delta(name, metric, a[metric], b[metric], tolerance, latency_tolerance))
            if a[metric] is not None and b[metric] is None:
                warnings.append(f"{name}: {metric} was measured in A but not in B")
        changes = _question_changes(name, run_a.details.get(name, {}), run_b.details.get(name, {}))
        failing += changes[0]
        passing += changes[1]
    return Comparison(run_a=str(run_a.path), run_b=str(run_b.path), tolerance=tolerance,
                      latency_tolerance=latency_tolerance, metrics=tuple(deltas),
                      newly_failing=tuple(failing), newly_passing=tuple(passing),
                      warnings=tuple(warnings))


def _delta(config: str, metric: str, a: Any, b: Any, tolerance: float,
           latency_tolerance: float | None) -> MetricDelta:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return MetricDelta(config, metric, a, b, None, False)
    delta = b - a
    if metric.startswith(NOT_GATED):
        regression = False
    elif metric.startswith("latency_ms."):
        regression = latency_tolerance is not None and b > a * (1 + latency_tolerance)
    elif metric in LOWER_IS_BETTER:
        regression = delta > tolerance + 1e-12
    else:
        regression = -delta > tolerance + 1e-12
    return MetricDelta(config, metric, a, b, delta, regression)


def _question_changes(config: str, a: Mapping[str, dict], b: Mapping[str, dict]):
    failing, passing = [], []
    for qid, record_a in a.items():
        record_b = b.get(qid)
        if record_b is None or not record_a.get("answerable"):
            continue
        rank_a, rank_b = record_a.get("first_relevant_rank"), record_b.get("first_relevant_rank")
        passed_a = rank_a is not None and rank_a <= PASS_RANK
        passed_b = rank_b is not None and rank_b <= PASS_RANK
        if passed_a != passed_b:
            change = QuestionChange(config, qid, record_a.get("question", ""), rank_a, rank_b)
            (failing if passed_a else passing).append(change)
    return failing, passing


def _flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: invalid JSON at line {exc.lineno}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path}: cannot read: {exc}") from None
