"""Charts for people who would rather look than read: a project's five themes at baseline
and latest (radar), and where projects stand in a comparison. SVG or PNG, headless."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display: render to files only
import matplotlib.pyplot as plt

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def _render(figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # A fixed hash salt and no date keep the same report byte-identical (cacheable).
    figure.savefig(
        buffer,
        format=fmt,
        bbox_inches="tight",
        metadata={"Date": None} if fmt == "svg" else {"Software": None},
    )
    plt.close(figure)
    return buffer.getvalue()


def radar_chart(report: dict, fmt: str = "svg") -> bytes:
    """Theme scores at the first and last period of a report (0-100, 100 = most peaceful)."""
    plt.rcParams["svg.hashsalt"] = "peacemap"
    themes = list(report["themes"])
    periods = [p["label"] for p in report["periods"]]
    shown = [periods[0], periods[-1]] if len(periods) > 1 else periods
    angles = [2 * math.pi * i / len(themes) for i in range(len(themes))] + [0]
    figure, axes = plt.subplots(figsize=(5, 5), subplot_kw={"polar": True})
    for period, style in zip(shown, ("--", "-"), strict=False):
        scores = [(report["themes"][t].get(period) or {}).get("score") or 0 for t in themes]
        axes.plot(angles, [*scores, scores[0]], style, linewidth=2, label=period)
        axes.fill(angles, [*scores, scores[0]], alpha=0.1)
    axes.set_xticks(angles[:-1], themes)
    axes.set_ylim(0, 100)
    axes.set_title(
        "Theme scores (0-100, 100 = most peaceful)\n"
        f"{report['framework']['id']} {report['framework']['version']}",
        fontsize=9,
    )
    axes.legend(loc="lower right", bbox_to_anchor=(1.2, -0.1), fontsize=8)
    return _render(figure, fmt)


def comparison_chart(comparison: dict, fmt: str = "svg", highlight: str | None = None) -> bytes:
    """Per theme, the spread of projects' scores (box) and every project (dots)."""
    plt.rcParams["svg.hashsalt"] = "peacemap"
    themes = list(comparison["distribution"])
    figure, axes = plt.subplots(figsize=(7, 4))
    data = [
        [r["scores"][t] for r in comparison["projects"] if r["scores"].get(t) is not None]
        for t in themes
    ]
    axes.boxplot([d or [math.nan] for d in data], tick_labels=themes, showfliers=False)
    for i, theme in enumerate(themes, start=1):
        for row in comparison["projects"]:
            score = row["scores"].get(theme)
            if score is not None:
                special = row["project"] == highlight
                axes.plot(
                    i,
                    score,
                    "o",
                    markersize=6 if special else 3,
                    color="crimson" if special else "grey",
                    alpha=1 if special else 0.4,
                )
    axes.set_ylim(0, 100)
    axes.set_ylabel("score (100 = most peaceful)")
    axes.set_title(f"{len(comparison['projects'])} projects, latest period", fontsize=9)
    return _render(figure, fmt)
