"""Charts for people who would rather look than read: a project's five themes at baseline
and latest (radar), and where projects stand in a comparison. SVG or PNG, headless.

Charts tell the truth: a theme without data is drawn as missing (a gap and "no data"),
never as a score of 0; intervals and coverage are drawn; the title names the project and
the periods; an SVG carries a text alternative (<title> and <desc>, role="img"), a PNG the
same text in its metadata.

Every word is the reader's: the caller passes ``Words`` (a translate callable, theme names,
the language and its direction); English by default, so this module stays free of Flask.
In an SVG the text stays text with ``lang`` and ``dir`` on the root, so the browser shapes
and orders Arabic itself."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import matplotlib
import numpy as np
from arabic_reshaper import reshape
from bidi import get_display

matplotlib.use("Agg")  # no display: render to files only
import matplotlib.pyplot as plt
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
STYLE = {
    "svg.hashsalt": "peacemap",  # with no date: the same report is byte-identical (cacheable)
    "svg.fonttype": "none",  # text stays text: searchable, readable by assistive technology
}
MAX_TITLE = 90
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur"}
ANCHOR = re.compile(r"text-anchor: (start|end)")
FLIPPED = {"start": "end", "end": "start"}


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Words:
    """The wording of a chart: ``gettext`` translates the English texts below (msgids with
    ``%(name)s`` placeholders), ``theme`` names a theme key, ``language`` is a BCP 47 tag."""

    gettext: Callable[[str], str] = _same
    theme: Callable[[str], str] = _same
    language: str = "en"

    @property
    def direction(self) -> str:
        return "rtl" if self.language.split("-")[0] in RIGHT_TO_LEFT else "ltr"


ENGLISH = Words()


def _plain(text: str) -> str:
    """User text (a project title, a period label) shown literally: matplotlib would read
    ``$...$`` as mathematics (and fail on a lone ``$``)."""
    text = " ".join(str(text).split())
    if len(text) > MAX_TITLE:
        text = text[: MAX_TITLE - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _render(figure, fmt: str, title: str, description: str, words: Words) -> bytes:
    buffer = io.BytesIO()
    metadata = (
        {"Date": None, "Title": title, "Description": description}
        if fmt == "svg"
        else {"Software": None, "Title": title, "Description": description}
    )
    if fmt == "png" and words.direction == "rtl":
        _drawn_right_to_left(figure)
    figure.savefig(buffer, format=fmt, bbox_inches="tight", metadata=metadata)
    plt.close(figure)
    data = buffer.getvalue()
    return _accessible_svg(data, title, description, words) if fmt == "svg" else data


def _drawn_right_to_left(figure) -> None:
    """A PNG's pixels in a right-to-left script. matplotlib draws the characters of a text
    one by one, left to right, in their stored order: Arabic would come out backwards and
    with its letters unjoined. So each text (and each fixed tick label, which the axes
    write again at every draw) is given as it must be seen: the letters in their joined
    forms (arabic-reshaper) and in display order (python-bidi: the Unicode bidirectional
    algorithm, so a Latin project title or a number inside stays left to right). The
    text alternative in the metadata keeps the logical text."""
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, FixedFormatter):
                formatter.seq = [_visual(label) for label in formatter.seq]
    for text in figure.findobj(Text):
        text.set_parse_math(False)  # reordered, an escaped "\$" would not stay escaped
        text.set_text(_visual(text.get_text().replace("\\$", "$").replace("\\\\", "\\")))


def _visual(text: str) -> str:
    return "\n".join(get_display(reshape(line), base_dir="R") for line in text.split("\n"))


def _accessible_svg(svg: bytes, title: str, description: str, words: Words) -> bytes:
    """The text alternative as the first children of the root <svg>, which is where
    assistive technology looks for it (SVG 2, WAI-ARIA graphics); the language and
    direction on the root, inherited by every text."""
    text = svg.decode("utf-8")
    if words.direction == "rtl":  # "start" is then the right edge: keep the layout drawn
        text = ANCHOR.sub(lambda m: "text-anchor: " + FLIPPED.get(m[1], m[1]), text)
    opening = re.search(r"<svg\b[^>]*>", text)
    tag = opening.group(0)
    labelled = (
        tag[:-1] + f' lang={quoteattr(words.language)} direction="{words.direction}"'
        ' role="img" aria-labelledby="chart-title chart-desc">'
    )
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


def _isolated(text: str, words: Words) -> str:
    """User text (a project title) in a right-to-left sentence keeps its own direction
    (FSI..PDI), in the text alternative."""
    return f"\u2068{text}\u2069" if words.direction == "rtl" else text


def _describe_report(
    report: dict, series: dict[str, list[dict]], words: Words
) -> tuple[str, str, str]:
    """The chart's heading (project; periods; scale and framework), the same as one line
    for the text alternative, and the description: every number the chart shows."""
    _ = words.gettext
    periods = {p["label"]: p for p in report["periods"]}
    project = (report.get("project") or {}).get("title")
    framework = f"{report['framework']['id']} {report['framework']['version']}"
    shown = [
        _("%(label)s (%(start)s to %(end)s)")
        % {"label": label, "start": periods[label]["start"], "end": periods[label]["end"]}
        for label in series
    ]
    span = (
        _("%(first)s and %(last)s") % {"first": shown[0], "last": shown[1]}
        if len(shown) > 1
        else "".join(shown)
    )
    scale = _("theme scores 0-100, 100 = most peaceful (%(framework)s)") % {"framework": framework}
    heading = "\n".join(_plain(line) for line in (project, span, scale) if line)
    title = f"{_isolated(project, words) + ': ' if project else ''}{scale}; {span or _('no data')}"
    parts = []
    for label, themes in series.items():
        described = []
        for t in themes:
            coverage = t["coverage"] or {"present": [], "missing": []}
            present = len(coverage["present"])
            measures = _("%(present)s of %(total)s measures") % {
                "present": present,
                "total": present + len(coverage["missing"]),
            }
            named = {"theme": words.theme(t["theme"]), "measures": measures}
            if t["score"] is None:
                described.append(_("%(theme)s: no data (%(measures)s)") % named)
            elif t["interval"] and t["interval"][0] != t["interval"][1]:
                described.append(
                    _("%(theme)s %(score)s, 95%% interval %(low)s to %(high)s (%(measures)s)")
                    % {
                        **named,
                        "score": _number(t["score"]),
                        "low": _number(t["interval"][0]),
                        "high": _number(t["interval"][1]),
                    }
                )
            else:
                described.append(
                    _("%(theme)s %(score)s (%(measures)s)")
                    % {**named, "score": _number(t["score"])}
                )
        overall = (report.get("overall") or {}).get(label) or {}
        total = (
            _("overall %(score)s") % {"score": _number(overall["score"])}
            if overall.get("score") is not None
            else _("no overall score")
            + (f" ({overall['withheld']})" if overall.get("withheld") else "")
        )
        parts.append(f"{label}: " + "; ".join(described) + f"; {total}.")
    return heading, title, " ".join(parts) or _("No data.")


def radar_chart(report: dict, fmt: str = "svg", words: Words = ENGLISH) -> bytes:
    """Theme scores at the first and last period of a report (0-100, 100 = most peaceful),
    with their 95% intervals as radial bars and each theme's coverage on its axis."""
    _ = words.gettext
    series = radar_series(report)
    heading, title, description = _describe_report(report, series, words)
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
            note = (
                _("no data")
                if point.get("score") is None
                else _("%(present)s/%(total)s measures") % {"present": present, "total": total}
            )
            labels.append(f"{words.theme(theme)}\n({note})")
        axes.set_xticks(angles, labels, fontsize=8)
        axes.set_ylim(0, 100)
        axes.set_title(heading, fontsize=8, pad=28)
        if series:
            axes.legend(loc="lower right", bbox_to_anchor=(1.25, -0.12), fontsize=8)
        else:
            axes.text(0, 0, _("no data"), ha="center", va="center", fontsize=10)
        figure.text(
            0.5,
            0.01,
            _(
                "Bars: %(level)s intervals. A theme without data is left out of the line, "
                "not drawn as 0."
            )
            % {"level": "95%"},
            ha="center",
            fontsize=7,
        )
        return _render(figure, fmt, title, description, words)


# Dots are drawn at multiples of a quarter of a score point, projects at the same one
# sharing it: a dot moves by an eighth of a point at most, under half a pixel at the
# chart's size, so the picture is the same, and 100,000 projects draw at most 401 dots
# per theme instead of up to 10,001.
DOT_STEP = 0.25
MANY_DOTS = 500  # projects: above this, the dots are drawn as one image inside the SVG


def comparison_chart(
    comparison, fmt: str = "svg", highlight: str | None = None, words: Words = ENGLISH
) -> bytes:
    """Per theme, the spread of projects' scores (box) and every project (dots); the
    highlighted project with its 95% interval. ``comparison``: a ``Comparison`` or the
    dict ``compare`` returns."""
    _ = words.gettext
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
    names = [words.theme(theme) for theme in themes]
    title = _("%(count)s projects compared, each at its latest period") % {"count": count}
    drawn = title
    if marked:
        drawn += "; " + _("highlighted: %(title)s") % {"title": marked["title"]}
        title += "; " + _("highlighted: %(title)s") % {"title": _isolated(marked["title"], words)}
    described = []
    for theme, name in zip(themes, names, strict=True):
        d = distribution[theme]
        if not d["n"]:
            described.append(_("%(theme)s: no project has data") % {"theme": name})
            continue
        text = _("%(theme)s: %(n)s projects, median %(median)s, quartiles %(q1)s to %(q3)s") % {
            "theme": name,
            "n": d["n"],
            "median": _number(d["median"]),
            "q1": _number(d["q1"]),
            "q3": _number(d["q3"]),
        }
        if marked and marked["scores"].get(theme) is not None:
            rank = marked["rank"][theme]
            ranked = (
                str(rank["best"])
                if rank["best"] == rank["worst"]
                else _("%(best)s to %(worst)s (cannot be told apart from others)")
                % {"best": rank["best"], "worst": rank["worst"]}
            )
            text += "; " + _("highlighted project %(score)s, rank %(rank)s of %(of)s") % {
                "score": _number(marked["scores"][theme]),
                "rank": ranked,
                "of": rank["of"],
            }
        described.append(text)
    description = _("Scores 0-100, 100 = most peaceful.") + " " + "; ".join(described) + "."
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(7, 4))
        axes.boxplot([d or [math.nan] for d in data], tick_labels=names, showfliers=False)
        for i, theme in enumerate(themes, start=1):
            scores = data[i - 1]
            if not scores:
                axes.text(i, 50, _("no data"), ha="center", fontsize=8, color="grey")
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
        axes.set_ylabel(_("score (100 = most peaceful)"))
        axes.set_title(_plain(drawn), fontsize=9)
        return _render(figure, fmt, title, description, words)
