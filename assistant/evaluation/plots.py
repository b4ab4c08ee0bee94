"""Matplotlib PNGs of an evaluation run.

Figures are drawn on the Agg canvas directly (no pyplot, no global backend switch), so this
works on a headless server and never changes a caller's matplotlib state. Missing values
(None) are left out of a plot, never drawn as zero.

Example:
    >>> plot_hit_curves({"default": [0.5, 0.7, 0.9]}, Path("hit_at_k.png"))  # doctest: +SKIP
    PosixPath('hit_at_k.png')
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

_DPI = 110


def _figure(width: float = 8.0, height: float = 4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=_DPI)
    return path


def plot_metrics(metrics: Mapping[str, Mapping[str, float | None]], keys: Sequence[str],
                 path: Path) -> Path:
    """Grouped bars: one group per metric, one bar per configuration."""
    figure = _figure(max(8.0, 1.1 * len(keys)), 4.5)
    axes = figure.add_subplot()
    names = list(metrics)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j, key in enumerate(keys)
              if metrics[name].get(key) is not None]
        ys = [metrics[name][key] for key in keys if metrics[name].get(key) is not None]
        bars = axes.bar(xs, ys, width, label=name)
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    axes.set_xticks(range(len(keys)), keys, rotation=30, ha="right")
    axes.set_ylim(0, 1.1)
    axes.set_ylabel("score (0-1)")
    axes.set_title("Metrics per configuration")
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.06), ncols=min(max(len(names), 1), 4),
                fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def plot_hit_curves(curves: Mapping[str, Sequence[float | None]], path: Path) -> Path:
    """hit@k against k = 1..len(curve), one line per configuration."""
    figure = _figure(7.0, 4.5)
    axes = figure.add_subplot()
    for name, curve in curves.items():
        points = [(k, v) for k, v in enumerate(curve, start=1) if v is not None]
        if points:
            axes.plot(*zip(*points), marker="o", label=name)
    longest = max((len(c) for c in curves.values()), default=10)
    axes.set_xticks(range(1, longest + 1))
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("k (passages read)")
    axes.set_ylabel("hit@k (answerable questions)")
    axes.set_title("Share of questions with a relevant passage in the first k")
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(alpha=0.3)
    return _save(figure, path)


def plot_latency(latencies: Mapping[str, Mapping[str, Sequence[float]]], path: Path) -> Path:
    """Box plots of retrieval and draft latency (ms), one box per configuration and stage."""
    figure = _figure(8.0, 4.5)
    stages = ("retrieval", "draft")
    for index, stage in enumerate(stages, start=1):
        axes = figure.add_subplot(1, 2, index)
        data = {name: list(values.get(stage) or ()) for name, values in latencies.items()}
        data = {name: values for name, values in data.items() if values}
        if data:
            axes.boxplot(list(data.values()), showfliers=True)
            axes.set_xticks(range(1, len(data) + 1), list(data))  # `tick_labels` needs mpl 3.9
        else:
            axes.text(0.5, 0.5, "not measured", ha="center", va="center",
                      transform=axes.transAxes)
            axes.set_xticks([])
        axes.set_title(f"{stage} latency")
        axes.set_ylabel("ms")
        axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def plot_source_hits(rates: Mapping[str, Mapping[str, tuple[int, int]]], k: int,
                     path: Path) -> Path:
    """Horizontal grouped bars: hit@k per expected source document, one bar per configuration.

    Each bar carries its value, so a 0 reads as a failure, not as a missing bar.
    """
    sources = sorted({source for per_config in rates.values() for source in per_config})
    per_source = 0.22 * max(len(rates), 1) + 0.15
    figure = _figure(11.0, max(3.0, per_source * len(sources) + 1.3))
    axes = figure.add_subplot()
    height = 0.8 / max(len(rates), 1)
    for i, (name, per_config) in enumerate(rates.items()):
        ys = [j + (i - (len(rates) - 1) / 2) * height for j, s in enumerate(sources) if s in per_config]
        xs = [per_config[s][0] / per_config[s][1] for s in sources if s in per_config]
        bars = axes.barh(ys, xs, height, label=name)
        axes.bar_label(bars, fmt="%.2f", fontsize=6, padding=2)
    labels = [f"{s} (n={max(r[s][1] for r in rates.values() if s in r)})" for s in sources]
    axes.set_yticks(range(len(sources)), labels, fontsize=7)
    axes.set_ylim(len(sources) - 0.5, -0.5)
    axes.set_xlim(0, 1.12)
    axes.set_xlabel(f"hit@{k} (answerable questions naming this source)")
    axes.set_title(f"hit@{k} per expected source document")
    if rates:
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1.04), ncols=min(len(rates), 4),
                    fontsize=8, frameon=False)
    axes.grid(axis="x", alpha=0.3)
    return _save(figure, path)
