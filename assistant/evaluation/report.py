"""Run folders: everything needed to read, reproduce and compare one evaluation.

A run folder holds `run.json` (format version, date, project version, git commit, question
set, configurations), `settings.json` (secrets left out), `index.json` (the index fingerprint
per configuration), `metrics.json` ({configuration: metrics}), `details.jsonl` (one record per
question and configuration), optionally `review.json` (draft quality from the review
database), the PNG plots and `report.md` that shows them.

Example:
    >>> out = write_run(Path("runs/today"), {"default": result}, settings=get_settings(),
    ...                 fingerprints={"default": {"documents": {"/c/guide.pdf": "ab12"}}})  # doctest: +SKIP
    >>> sorted(p.name for p in out.iterdir())[:3]  # doctest: +SKIP
    ['details.jsonl', 'hit_at_k.png', 'hit_by_source.png']
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

from assistant.errors import GuichetError
from assistant.evaluation import plots
from assistant.evaluation.metrics import hit_curve
from assistant.evaluation.runner import EvalResult

#: Version of the run-folder layout; `compare_runs` refuses any other.
RUN_FORMAT = 1
#: Rank within which a question counts as found (report and comparison).
PASS_RANK = 5
_SECRET_SUFFIXES = ("_key", "_password", "_token", "_secret")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@/\s]+(?P<tail>@)", re.I)
PLOT_METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "candidate_recall@20",
                "candidate_recall@50", "candidate_recall@100", "abstention_rate",
                "false_abstention_rate", "citation_validity", "evidence_in_draft", "evidence_first",
                "cut_sentence_rate")
#: Metrics of the report's table that are not shares (not plotted on the 0-1 bar chart).
TABLE_ONLY = ("bullets_per_draft",)
_OUTCOME_LABELS = {"answer": "answer", "partial": "partial", "abstain": "abstain"}
_REVIEW_LABELS = {"acceptance_rate": "acceptance rate", "edit_ratio_mean": "mean edit ratio",
                  "time_to_answer_s": "time to answer (s)"}


def default_run_dir(home: Path, now: datetime | None = None) -> Path:
    """`HOME/runs/<UTC timestamp>`, e.g. `index/runs/20250314T101500Z`; `-2`, `-3`... is
    appended when a run of the same second already exists."""
    now = now or datetime.now(timezone.utc)
    base = Path(home) / "runs" / now.strftime("%Y%m%dT%H%M%SZ")
    path, suffix = base, 1
    while path.exists():
        suffix += 1
        path = base.with_name(f"{base.name}-{suffix}")
    return path


def safe_settings(settings: Any) -> dict[str, Any]:
    """Settings as JSON-ready data without secrets: `*_key`, `*_password`, `*_token` keys are
    dropped and a password inside a URL (database, Chroma) is replaced by `***`.

    Example:
        >>> safe_settings({"llm_api_key": "s3cr3t", "database_url": "postgresql://u:pw@db/x"})
        {'database_url': 'postgresql://u:***@db/x'}
    """
    data = settings.model_dump(mode="json") if hasattr(settings, "model_dump") else dict(settings)
    clean = {}
    for key, value in data.items():
        if key.lower().endswith(_SECRET_SUFFIXES):
            continue
        if isinstance(value, str):
            value = _URL_PASSWORD.sub(r"\g<head>***\g<tail>", value)
        clean[key] = value
    return clean


def project_version() -> str | None:
    """Installed version of the `guichet-vert` distribution, or None."""
    try:
        return metadata.version("guichet-vert")
    except metadata.PackageNotFoundError:
        return None


def git_commit(cwd: Path | None = None) -> str | None:
    """`git rev-parse HEAD` of the source tree, or None outside a repository (or without git)."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", commit) else None


def write_run(out_dir: Path, results: Mapping[str, EvalResult], *, settings: Any = None,
              fingerprints: Mapping[str, Mapping[str, Any]] | None = None,
              review_metrics: Mapping[str, Any] | None = None, question_set: str | None = None,
              config_overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write a complete run folder and return its path.

    Args:
        out_dir: Folder to create; it must not already hold a run.
        results: {configuration name: result}, in display order.
        settings: The base Settings (or a mapping); written without secrets.
        fingerprints: {configuration name: {"documents": {path: sha256}}}.
        review_metrics: Draft quality from the review database, e.g. {"acceptance_rate": 0.8,
            "edit_ratio_mean": 0.12, "time_to_answer_s": 640}; None = no review data.
        question_set: Path of the question set, recorded for reproduction.
        config_overrides: {configuration name: settings it overrides}.

    Raises:
        GuichetError: `out_dir` already holds a run, or no result was given.
    """
    if not results:
        raise GuichetError("no evaluation result to write")
    out_dir = Path(out_dir)
    if (out_dir / "run.json").exists():
        raise GuichetError(f"{out_dir} already holds a run: choose another --out folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    first = next(iter(results.values()))
    run_info = {
        "format": RUN_FORMAT,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": project_version(),
        "git_commit": git_commit(),
        "question_set": question_set,
        "n": first.metrics.get("n"),
        "configs": list(results),
        "config_overrides": {name: dict((config_overrides or {}).get(name, {})) for name in results},
    }
    _write_json(out_dir / "run.json", run_info)
    _write_json(out_dir / "settings.json", safe_settings(settings) if settings is not None else {})
    _write_json(out_dir / "index.json", {name: dict((fingerprints or {}).get(name) or {})
                                         for name in results})
    _write_json(out_dir / "metrics.json", {name: r.metrics for name, r in results.items()})
    if review_metrics is not None:
        _write_json(out_dir / "review.json", dict(review_metrics))
    with open(out_dir / "details.jsonl", "w", encoding="utf-8") as handle:
        for name, result in results.items():
            for record in result.details:
                handle.write(json.dumps({"config": name, **record}, ensure_ascii=False) + "\n")
    images = write_plots(out_dir, results)
    (out_dir / "report.md").write_text(
        render_report(results, run_info=run_info, images=images, review_metrics=review_metrics,
                      fingerprints=fingerprints),
        encoding="utf-8")
    return out_dir


def write_plots(out_dir: Path, results: Mapping[str, EvalResult]) -> dict[str, str]:
    """Draw every PNG of the report; returns {plot name: file name}."""
    out_dir = Path(out_dir)
    metrics = {name: r.metrics for name, r in results.items()}
    curves = {name: hit_curve(_ranks(r.details)) for name, r in results.items()}
    latencies = {name: {"retrieval": [d["retrieval_ms"] for d in r.details],
                        "draft": [d["draft_ms"] for d in r.details if d["draft_ms"] is not None]}
                 for name, r in results.items()}
    by_source = {name: hit_rate_by_source(r.details) for name, r in results.items()}
    files = {"metrics": "metrics.png", "hit_at_k": "hit_at_k.png", "latency": "latency.png",
             "hit_by_source": "hit_by_source.png"}
    plots.plot_metrics(metrics, PLOT_METRICS, out_dir / files["metrics"])
    plots.plot_hit_curves(curves, out_dir / files["hit_at_k"])
    plots.plot_latency(latencies, out_dir / files["latency"])
    plots.plot_source_hits(by_source, PASS_RANK, out_dir / files["hit_by_source"])
    return files


def hit_rate_by_source(details: Sequence[Mapping[str, Any]], k: int = PASS_RANK,
                       ) -> dict[str, tuple[int, int]]:
    """{expected source: (questions found within k, answerable questions)}.

    A question naming several sources counts for each; one naming none counts for "(any)".

    Example:
        >>> hit_rate_by_source([{"answerable": True, "sources": ["a.md"], "first_relevant_rank": 2}])
        {'a.md': (1, 1)}
    """
    rates: dict[str, list[int]] = {}
    for record in details:
        if not record["answerable"]:
            continue
        found = _passed(record, k)
        for source in record["sources"] or ["(any)"]:
            hits, total = rates.setdefault(source, [0, 0])
            rates[source] = [hits + found, total + 1]
    return {source: (hits, total) for source, (hits, total) in sorted(rates.items())}


def render_report(results: Mapping[str, EvalResult], *, run_info: Mapping[str, Any],
                  images: Mapping[str, str], review_metrics: Mapping[str, Any] | None = None,
                  fingerprints: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The Markdown report of a run (pure: everything it shows is passed in)."""
    names = list(results)
    first = next(iter(results.values()))
    answerable = sum(1 for d in first.details if d["answerable"])
    documents = {doc for fp in (fingerprints or {}).values() for doc in (fp or {}).get("documents", {})}
    lines = [
        f"# Evaluation run {run_info.get('created', '')}", "",
        f"- Question set: `{run_info.get('question_set') or 'unknown'}`: {len(first.details)} questions, "
        f"{answerable} answerable, {len(first.details) - answerable} unanswerable",
        f"- Configurations: {', '.join(names)}",
        f"- Project version: {run_info.get('version') or 'unknown'}, "
        f"git commit: {run_info.get('git_commit') or 'unknown'}",
        f"- Index: {len(documents)} documents (hashes in `index.json`)", "",
        "## Metrics", "",
        "Retrieval metrics are over answerable questions, abstention over unanswerable ones, "
        "citation validity over every draft; `n/a` = nothing to measure. `candidate_recall@N`: "
        "share of answerable questions with a chunk that answers them among the first N of the "
        "lexical or the dense list, before the second stage (hit@5 below it is what the ranking "
        "loses).", "",
        _table(["metric", *names], [[key, *(_fmt(results[n].metrics.get(key)) for n in names)]
                                    for key in ("n", *PLOT_METRICS, *TABLE_ONLY)]),
        "", f"![Metrics per configuration]({images['metrics']})", "",
        *_draft_sections(results),
        "## hit@k", "", f"![hit@k curve]({images['hit_at_k']})", "",
        "## Latency", "",
        _table(["ms", *names], [[key, *(_fmt(results[n].metrics["latency_ms"].get(key)) for n in names)]
                                for key in ("retrieval_p50", "retrieval_p95", "draft_p50", "draft_p95")]),
        "", f"![Latency distribution]({images['latency']})", "",
        f"## hit@{PASS_RANK} per source document", "",
    ]
    by_source = {n: hit_rate_by_source(results[n].details) for n in names}
    sources = sorted({s for rates in by_source.values() for s in rates})
    lines += [_table(["source", *names], [[f"`{s}`", *(_ratio(by_source[n].get(s)) for n in names)]
                                          for s in sources]) if sources else "No answerable question.",
              "", f"![hit@{PASS_RANK} per source document]({images['hit_by_source']})", ""]
    if review_metrics:
        lines += ["## Draft quality (review database)", "",
                  _table(["measure", "value"], [[_REVIEW_LABELS.get(k, k), _fmt(v)]
                                                for k, v in review_metrics.items()]), ""]
    for name in names:
        lines += _failures(name, results[name].details)
    return "\n".join(lines).rstrip() + "\n"


def _draft_sections(results: Mapping[str, EvalResult]) -> list[str]:
    """Outcome split, causes of missing evidence and cut bullets, for configurations that draft."""
    drafting = {n: r for n, r in results.items() if r.metrics.get("outcomes")}
    if not drafting:
        return []
    names = list(drafting)
    rows = []
    for kind in ("answerable", "unanswerable"):
        for outcome, label in _OUTCOME_LABELS.items():
            rows.append([f"{kind}: {label}", *(_fmt(drafting[n].metrics["outcomes"][kind][outcome]) for n in names)])
    lines = ["## Draft outcomes", "",
             "Share of each outcome among answerable and unanswerable questions: an answer, a partial "
             "draft (the sources speak of the subject without giving what is asked; not an abstention), "
             "or an abstention.", "", _table(["outcome", *names], rows), "",
             "## Answerable drafts without their evidence", "",
             "By cause: no relevant passage among the passages given to the generator (retrieval), "
             "an abstention although one was given (abstention), a relevant passage whose sentence "
             "was not quoted (selection).", "",
             _table(["cause", *names], [[cause, *(_fmt(drafting[n].metrics["evidence_misses"][cause]) for n in names)]
                                        for cause in ("retrieval", "abstention", "selection")]), ""]
    for name in names:
        cut = [(d["id"], c) for d in drafting[name].details for c in d.get("cut_bullets") or ()]
        if cut:
            lines += [f"Bullets that are not whole sentences ({name}, {len(cut)}):", ""]
            lines += [f"- **{qid}** ({c['reason']}): {c['bullet']}" for qid, c in cut] + [""]
    return lines


def _failures(name: str, details: Sequence[Mapping[str, Any]]) -> list[str]:
    failed = [d for d in details if d["answerable"] and not _passed(d, PASS_RANK)]
    lines = [f"## Failed questions: {name}", "",
             f"Answerable questions without a relevant passage in the first {PASS_RANK} "
             f"({len(failed)}), with what was retrieved instead.", ""]
    for record in failed:
        rank = record["first_relevant_rank"]
        where = f"first relevant passage at rank {rank}" if rank else "no relevant passage in the top 10"
        lines.append(f"- **{record['id']}**: {record['question']}  ")
        lines.append(f"  expected: {' / '.join(repr(e) for e in record['evidence'])}"
                     f"{' in ' + ', '.join(f'`{s}`' for s in record['sources']) if record['sources'] else ''}"
                     f"; {where}  ")
        if record.get("error"):
            lines.append(f"  error: {record['error']}  ")
        for hit in record["retrieved"][:3]:
            lines.append(f"  {hit['rank']}. {hit['title'] or '(untitled)'}: `{Path(hit['source']).name}`, "
                         f"{hit['location']} (score {_fmt(hit['score'])})  ")
        lines.append("")
    answered = [d for d in details if not d["answerable"] and d["abstained"] is False]
    if answered:
        lines += [f"Unanswerable questions that got a draft instead of an abstention ({len(answered)}):", ""]
        lines += [f"- **{d['id']}**: {d['question']}" for d in answered] + [""]
    errors = [d for d in details if d.get("error")]
    if errors:
        lines += [f"Questions that raised an error ({len(errors)}):", ""]
        lines += [f"- **{d['id']}**: {d['error']}" for d in errors] + [""]
    return lines


def _passed(record: Mapping[str, Any], k: int) -> bool:
    rank = record["first_relevant_rank"]
    return rank is not None and rank <= k


def _ranks(details: Sequence[Mapping[str, Any]]) -> list[int | None]:
    return [d["first_relevant_rank"] for d in details if d["answerable"]]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _ratio(pair: tuple[int, int] | None) -> str:
    return "-" if pair is None else f"{pair[0] / pair[1]:.2f} ({pair[0]}/{pair[1]})"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
