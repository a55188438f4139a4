"""Charts for people who would rather look than read: a project's five themes at baseline
and latest (radar), and where projects stand in a comparison. SVG or PNG, headless.

Charts tell the truth: a theme without data is drawn as missing (a gap and "no data"),
never as a score of 0; intervals and coverage are drawn; the title names the project and
the periods; an SVG carries a text alternative (<title> and <desc>, role="img"), a PNG the
same text in its metadata."""

from __future__ import annotations

import io
import math
import re
from xml.sax.saxutils import escape

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no display: render to files only
import matplotlib.pyplot as plt

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
STYLE = {
    "svg.hashsalt": "peacemap",  # with no date: the same report is byte-identical (cacheable)
    "svg.fonttype": "none",  # text stays text: searchable, readable by assistive technology
}
MAX_TITLE = 90


def _plain(text: str) -> str:
    """User text (a project title, a period label) shown literally: matplotlib would read
    ``$...$`` as mathematics (and fail on a lone ``$``)."""
    text = " ".join(str(text).split())
    if len(text) > MAX_TITLE:
        text = text[: MAX_TITLE - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _render(figure, fmt: str, title: str, description: str) -> bytes:
    buffer = io.BytesIO()
    metadata = (
        {"Date": None, "Title": title, "Description": description}
        if fmt == "svg"
        else {"Software": None, "Title": title, "Description": description}
    )
    figure.savefig(buffer, format=fmt, bbox_inches="tight", metadata=metadata)
    plt.close(figure)
    data = buffer.getvalue()
    return _accessible_svg(data, title, description) if fmt == "svg" else data


def _accessible_svg(svg: bytes, title: str, description: str) -> bytes:
    """The text alternative as the first children of the root <svg>, which is where
    assistive technology looks for it (SVG 2, WAI-ARIA graphics)."""
    text = svg.decode("utf-8")
    opening = re.search(r"<svg\b[^>]*>", text)
    tag = opening.group(0)
    labelled = tag[:-1] + ' role="img" aria-labelledby="chart-title chart-desc">'
    alternative = (
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(description)}</desc>'
    )
    return (text[: opening.start()] + labelled + alternative + text[opening.end() :]).encode()


def _number(x: float) -> str:
    return f"{x:.1f}"


def radar_series(report: dict) -> dict[str, list[dict]]:
    """What the radar draws, per period shown: each theme's score (None without data, never
    0), interval and coverage. The first and the last period of the report."""
    labels = [p["label"] for p in report["periods"]]
    shown = [labels[0], labels[-1]] if len(labels) > 1 else labels
    series = {}
    for period in shown:
        series[period] = [
            {
                "theme": theme,
                "score": (by_period.get(period) or {}).get("score"),
                "interval": (by_period.get(period) or {}).get("interval"),
                "coverage": (by_period.get(period) or {}).get("coverage"),
            }
            for theme, by_period in report["themes"].items()
        ]
    return series


def _describe_report(report: dict, series: dict[str, list[dict]]) -> tuple[str, str, str]:
    """The chart's heading (project; periods; scale and framework), the same as one line
    for the text alternative, and the description: every number the chart shows."""
    periods = {p["label"]: p for p in report["periods"]}
    project = (report.get("project") or {}).get("title")
    framework = f"{report['framework']['id']} {report['framework']['version']}"
    span = " and ".join(
        f"{label} ({periods[label]['start']} to {periods[label]['end']})" for label in series
    )
    scale = f"theme scores 0-100, 100 = most peaceful ({framework})"
    heading = "\n".join(_plain(line) for line in (project, span and f"{span}", scale) if line)
    title = f"{project + ': ' if project else ''}{scale}; {span or 'no data'}"
    parts = []
    for label, themes in series.items():
        described = []
        for t in themes:
            coverage = t["coverage"] or {"present": [], "missing": []}
            measures = (
                f"{len(coverage['present'])} of "
                f"{len(coverage['present']) + len(coverage['missing'])} measures"
            )
            if t["score"] is None:
                described.append(f"{t['theme']}: no data ({measures})")
                continue
            interval = (
                f", 95% interval {_number(t['interval'][0])} to {_number(t['interval'][1])}"
                if t["interval"] and t["interval"][0] != t["interval"][1]
                else ""
            )
            described.append(f"{t['theme']} {_number(t['score'])}{interval} ({measures})")
        overall = (report.get("overall") or {}).get(label) or {}
        total = (
            f"overall {_number(overall['score'])}"
            if overall.get("score") is not None
            else "no overall score"
            + (f" ({overall['withheld']})" if overall.get("withheld") else "")
        )
        parts.append(f"{label}: " + "; ".join(described) + f"; {total}.")
    return heading, title, " ".join(parts) or "No data."


def radar_chart(report: dict, fmt: str = "svg") -> bytes:
    """Theme scores at the first and last period of a report (0-100, 100 = most peaceful),
    with their 95% intervals as radial bars and each theme's coverage on its axis."""
    series = radar_series(report)
    heading, title, description = _describe_report(report, series)
    themes = list(report["themes"])
    step = 2 * math.pi / max(len(themes), 1)
    angles = [step * i for i in range(len(themes))]
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(6, 6), subplot_kw={"polar": True})
        for index, ((period, points), style) in enumerate(
            zip(series.items(), ("--", "-"), strict=False)
        ):
            # A missing theme is a gap in the line (NaN), never a point at 0.
            scores = [math.nan if p["score"] is None else p["score"] for p in points]
            closed_angles, closed = [*angles, angles[0]], [*scores, scores[0]]
            (line,) = axes.plot(
                closed_angles, closed, style, linewidth=2, marker="o", label=_plain(period)
            )
            if not any(math.isnan(s) for s in scores):
                axes.fill(closed_angles, closed, alpha=0.08, color=line.get_color())
            offset = (index - 0.5) * step * 0.06  # side by side, not on top of each other
            for angle, point in zip(angles, points, strict=True):
                if point["interval"] and point["interval"][0] != point["interval"][1]:
                    axes.plot(
                        [angle + offset] * 2,
                        point["interval"],
                        color=line.get_color(),
                        linewidth=4,
                        alpha=0.45,
                        solid_capstyle="butt",
                    )
        labels = []
        last = list(series.values())[-1] if series else []
        for theme, point in zip(themes, last or [{}] * len(themes), strict=True):
            coverage = point.get("coverage") or {"present": [], "missing": []}
            present = len(coverage["present"])
            total = present + len(coverage["missing"])
            note = "no data" if point.get("score") is None else f"{present}/{total} measures"
            labels.append(f"{theme}\n({note})")
        axes.set_xticks(angles, labels, fontsize=8)
        axes.set_ylim(0, 100)
        axes.set_title(heading, fontsize=8, pad=28)
        if series:
            axes.legend(loc="lower right", bbox_to_anchor=(1.25, -0.12), fontsize=8)
        else:
            axes.text(0, 0, "no data", ha="center", va="center", fontsize=10)
        figure.text(
            0.5,
            0.01,
            "Bars: 95% intervals. A theme without data is left out of the line, not drawn as 0.",
            ha="center",
            fontsize=7,
        )
        return _render(figure, fmt, title, description)


# Dots are drawn at multiples of a quarter of a score point, projects at the same one
# sharing it: a dot moves by an eighth of a point at most, under half a pixel at the
# chart's size, so the picture is the same, and 100,000 projects draw at most 401 dots
# per theme instead of up to 10,001.
DOT_STEP = 0.25
MANY_DOTS = 500  # projects: above this, the dots are drawn as one image inside the SVG


def comparison_chart(comparison, fmt: str = "svg", highlight: str | None = None) -> bytes:
    """Per theme, the spread of projects' scores (box) and every project (dots); the
    highlighted project with its 95% interval. ``comparison``: a ``Comparison`` or the
    dict ``compare`` returns."""
    if isinstance(comparison, dict):
        distribution, count = comparison["distribution"], len(comparison["projects"])
        rows = comparison["projects"]
        marked = next((r for r in rows if r["project"] == highlight), None)
        data = [
            [r["scores"][t] for r in rows if r["scores"].get(t) is not None] for t in distribution
        ]
    else:
        distribution, count = comparison.distribution, len(comparison.ids)
        marked = comparison.row_of(highlight) if highlight else None
        data = [comparison.scores_of(t) for t in distribution]
    themes = list(distribution)
    title = f"{count} projects compared, each at its latest period" + (
        f"; highlighted: {marked['title']}" if marked else ""
    )
    described = []
    for theme in themes:
        d = distribution[theme]
        if not d["n"]:
            described.append(f"{theme}: no project has data")
            continue
        text = (
            f"{theme}: {d['n']} projects, median {_number(d['median'])}, "
            f"quartiles {_number(d['q1'])} to {_number(d['q3'])}"
        )
        if marked and marked["scores"].get(theme) is not None:
            rank = marked["rank"][theme]
            text += (
                f"; highlighted project {_number(marked['scores'][theme])}, rank "
                + (
                    f"{rank['best']}"
                    if rank["best"] == rank["worst"]
                    else f"{rank['best']} to {rank['worst']} (cannot be told apart from others)"
                )
                + f" of {rank['of']}"
            )
        described.append(text)
    description = "Scores 0-100, 100 = most peaceful. " + "; ".join(described) + "."
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(7, 4))
        axes.boxplot([d or [math.nan] for d in data], tick_labels=themes, showfliers=False)
        for i, theme in enumerate(themes, start=1):
            scores = data[i - 1]
            if not scores:
                axes.text(i, 50, "no data", ha="center", fontsize=8, color="grey")
                continue
            # One call per theme; one dot per position the chart can show (DOT_STEP).
            dots = np.unique(np.rint(np.asarray(scores) / DOT_STEP)) * DOT_STEP
            axes.plot(
                [i] * len(dots),
                dots,
                "o",
                markersize=3,
                color="grey",
                alpha=0.4,
                rasterized=len(scores) > MANY_DOTS,
            )
            if marked and marked["scores"].get(theme) is not None:
                if marked["intervals"].get(theme):
                    axes.plot([i, i], marked["intervals"][theme], color="crimson", linewidth=3)
                axes.plot(i, marked["scores"][theme], "o", markersize=6, color="crimson")
        axes.set_ylim(0, 100)
        axes.set_ylabel("score (100 = most peaceful)")
        axes.set_title(_plain(title), fontsize=9)
        return _render(figure, fmt, title, description)
