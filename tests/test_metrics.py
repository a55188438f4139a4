"""The metrics library on its own: no Flask, no database."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics import (
    FrameworkError,
    Value,
    compare,
    compute_report,
    default_framework,
    load_framework,
)
from metrics.data import duplicates, read_csv
from metrics.framework import Measure
from metrics.scoring import normalise, weighted_mean
from metrics.stats import newcombe_difference, wilson_interval

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "metrics" / "examples" / "worked-example.csv"
FRAMEWORK = default_framework()


def example_values():
    rows = list(read_csv(FRAMEWORK, EXAMPLE.read_text().splitlines()))
    assert all(not problems for _, _, problems in rows)
    return [value for _, value, _ in rows]


# -- published values ---------------------------------------------------------------------


def test_wilson_interval_matches_newcombe_1998():
    low, high = wilson_interval(81 / 263, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))


def test_newcombe_hybrid_interval_matches_the_paper():
    # Newcombe 1998 (Stat Med 17:873), example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339.
    difference, low, high = newcombe_difference(56 / 70, 70, 48 / 80, 80)
    assert (round(difference, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)


# -- the worked example of METHODOLOGY.md -----------------------------------------------------


def test_worked_example():
    report = compute_report(FRAMEWORK, example_values())
    assert report["framework"] == {"id": "peace-impact", "version": "1.0.0", "name": FRAMEWORK.name}
    assert [p["label"] for p in report["periods"]] == ["baseline", "endline"]
    safe = report["measures"]["feels_safe"]
    assert safe["baseline"]["score_interval"] == [37.26, 46.89]
    assert safe["endline"]["score_interval"] == [49.97, 59.93]
    assert report["measures"]["conflict_deaths"]["baseline"]["score"] == 30.69
    assert report["measures"]["conflict_deaths"]["endline"]["score"] == 46.6
    assert report["measures"]["peace_investment"]["baseline"]["score"] == 34.95
    themes = {
        k: (v["baseline"]["score"], v["endline"]["score"]) for k, v in report["themes"].items()
    }
    assert themes == {
        "violence": (36.35, 50.8),
        "legitimacy": (42.5, 46.5),
        "polarisation": (72.5, 77.0),
        "agency": (28.0, 37.0),
        "investment": (34.95, 44.45),
    }
    assert report["themes"]["violence"]["baseline"]["coverage"]["missing"] == [
        "arms_imports",
        "arms_exports",
    ]
    assert report["themes"]["violence"]["baseline"]["coverage"]["ratio"] == 0.5
    assert report["overall"]["baseline"]["score"] == 42.86
    assert report["overall"]["endline"]["score"] == 51.15
    change = report["change"]
    assert change["measures"]["feels_safe"]["interval_points"] == [5.99, 19.84]
    assert change["measures"]["feels_safe"]["direction"] == "improved"
    assert change["measures"]["willing_violence"]["interval_points"] == [-14.06, -1.84]
    assert change["measures"]["willing_violence"]["direction"] == "improved"
    assert change["measures"]["inclusive_decisions"]["direction"] == "no significant change"
    assert change["measures"]["conflict_deaths"]["significant"] is None
    assert {k: v["direction"] for k, v in change["themes"].items()} == {
        "violence": "improved",
        "legitimacy": "no significant change",
        "polarisation": "improved",
        "agency": "improved",
        "investment": "improved",
    }
    (group,) = report["breakdowns"]["feels_safe"]["endline"]
    assert group["group"] == {"sex": "female"} and group["score"] == 48.0


def test_a_theme_without_data_is_empty_not_zero_and_no_overall_score():
    values = [v for v in example_values() if v.measure != "takes_action"]
    report = compute_report(FRAMEWORK, values)
    assert report["themes"]["agency"]["baseline"]["score"] is None
    assert report["overall"]["baseline"] is None
    assert report["change"]["themes"]["agency"] is None


def test_paired_samples_are_noted():
    day = date(2024, 1, 1)
    values = [
        Value("takes_action", "baseline", day, day, 30, 200, paired=True),
        Value("takes_action", "endline", date(2025, 1, 1), date(2025, 1, 1), 40, 200, paired=True),
    ]
    note = compute_report(FRAMEWORK, values)["change"]["measures"]["takes_action"]["note"]
    assert "paired" in note


def test_command_line_reproduces_the_report(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "report", "--data", str(EXAMPLE), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert json.loads(result.stdout) == json.loads(
        json.dumps(compute_report(FRAMEWORK, example_values()))
    )
    as_csv = subprocess.run(
        [sys.executable, "-m", "metrics", "report", "--data", str(EXAMPLE), "--format", "csv"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "theme,violence,baseline,,36.35,33.98,38.79,0.5,," in as_csv
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "measure,period,start,end,value,sample_size\nfeels_safe,b,2024-01-01,2024-01-31,140,10\n"
    )
    failed = subprocess.run(
        [sys.executable, "-m", "metrics", "report", "--data", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert failed.returncode == 1
    assert "bad.csv:2: value: 140 is outside the valid range 0..100" in failed.stderr
    assert "bad.csv:2: sample_size: must be at least 30" in failed.stderr


# -- frameworks as data ---------------------------------------------------------------------


def test_another_framework_works_without_code_changes():
    document = {
        "id": "village-pulse",
        "version": "0.3",
        "name": "A community's own framework",
        "themes": [{"key": "trust", "name": "Trust", "aggregation": "geometric"}],
        "measures": [
            {
                "key": "market_days",
                "theme": "trust",
                "unit": "days_per_month",
                "polarity": "higher_is_better",
                "valid_range": [0, 31],
                "goalposts": [1, 30],
                "transform": "log",
                "pillar": "lived_experiences",
            },
            {
                "key": "disputes",
                "theme": "trust",
                "unit": "count",
                "polarity": "higher_is_worse",
                "valid_range": [0, 1000],
                "goalposts": [0, 50],
                "weight": 2,
                "pillar": "lived_experiences",
            },
        ],
        "overall": {"aggregation": "geometric", "label": "Village pulse"},
    }
    framework = load_framework(document)
    day = date(2025, 3, 1)
    report = compute_report(
        framework,
        [Value("market_days", "spring", day, day, 12), Value("disputes", "spring", day, day, 10)],
    )
    market = normalise(framework.measures["market_days"], 12)
    expected = ((market + 1) ** (1 / 3) * (80 + 1) ** (2 / 3)) - 1
    assert report["themes"]["trust"]["spring"]["score"] == round(expected, 2)
    assert report["overall"]["spring"]["label"] == "Village pulse"
    assert report["framework"]["id"] == "village-pulse"


def test_invalid_frameworks_list_every_problem():
    with pytest.raises(FrameworkError) as error:
        load_framework(
            {
                "id": "x",
                "version": "1",
                "name": "x",
                "themes": [{"key": "a", "aggregation": "median"}, {"key": "b"}],
                "measures": [
                    {
                        "key": "m",
                        "theme": "a",
                        "unit": "count",
                        "polarity": "up",
                        "valid_range": [0, 1],
                        "goalposts": [0, 10],
                        "transform": "log",
                    }
                ],
            }
        )
    problems = "\n".join(error.value.problems)
    for expected in (
        "aggregation must be one of",
        "polarity must be one of",
        "log goalposts must be positive",
        "theme 'b' has no measure",
    ):
        assert expected in problems


def test_project_indicators_extend_a_framework():
    own = Measure(
        "cement_houses",
        "Houses built in cement",
        "agency",
        "lived_experiences",
        "percent",
        "higher_is_better",
        (0, 100),
        (0, 100),
        survey=True,
    )
    extended = FRAMEWORK.with_measures([own])
    assert "cement_houses" in extended.measures and "cement_houses" not in FRAMEWORK.measures
    with pytest.raises(FrameworkError, match="already exists"):
        extended.with_measures([own])


def test_csv_problems_name_line_and_column():
    text = [
        "measure,period,start,end,value,sample_size,disaggregation",
        "feels_safe,baseline,2024-01-01,2024-01-31,40,100,",
        "unknown,baseline,2024-01-01,2024-01-31,1,,",
        "feels_safe,baseline,2024-02-01,2024-01-31,40,100,sex",
        "feels_safe,baseline,2024-01-01,2024-01-31,41,100,",
    ]
    rows = list(read_csv(FRAMEWORK, text))
    problems = [(p.line, p.column) for _, _, ps in rows for p in ps]
    assert problems == [(3, "measure"), (4, "end"), (4, "disaggregation")]
    valid = [(line, v) for line, v, ps in rows if v is not None]
    assert [(p.line, p.column) for p in duplicates(valid)] == [(5, "measure")]


# -- comparisons ------------------------------------------------------------------------------


def test_comparison_distribution_and_positions():
    day = date(2025, 1, 1)

    def project(score_safe, with_deaths):
        values = [Value("feels_safe", "latest", day, day, score_safe, 400)]
        if with_deaths:
            values.append(Value("conflict_deaths", "latest", day, day, 1.0))
        return values

    comparison = compare(
        FRAMEWORK,
        [(f"p{i}", f"Project {i}", project(s, i == 0)) for i, s in enumerate((20, 40, 60, 80))],
    )
    violence = comparison["distribution"]["violence"]
    # Project 0's violence score averages feeling safe (20) with deaths (66.67): 43.33.
    assert violence["n"] == 4 and violence["min"] == 40.0 and violence["max"] == 80.0
    assert violence["median"] == 51.66 and (violence["q1"], violence["q3"]) == (42.5, 65.0)
    positions = {row["project"]: row["position"]["violence"] for row in comparison["projects"]}
    assert positions == {"p0": 37.5, "p1": 12.5, "p2": 62.5, "p3": 87.5}
    assert any(
        c.startswith("violence: projects cover different measures") for c in comparison["caveats"]
    )
    assert comparison["distribution"]["agency"]["n"] == 0


# -- properties -------------------------------------------------------------------------------

MEASURES = list(FRAMEWORK.measures.values())
measure_values = st.sampled_from(MEASURES).flatmap(
    lambda m: st.tuples(
        st.just(m),
        st.floats(min_value=m.valid_range[0], max_value=m.valid_range[1], allow_nan=False),
    )
)


@given(measure_values)
def test_scores_stay_within_0_and_100(pair):
    measure, value = pair
    assert 0 <= normalise(measure, value) <= 100


@given(measure_values)
def test_flipping_polarity_mirrors_the_score(pair):
    from dataclasses import replace

    measure, value = pair
    other = "higher_is_worse" if measure.higher_is_better else "higher_is_better"
    assert normalise(measure, value) + normalise(
        replace(measure, polarity=other), value
    ) == pytest.approx(100)


@given(st.sampled_from(MEASURES), st.floats(0, 1), st.floats(0, 1))
def test_a_better_value_never_gives_a_worse_score(measure, a, b):
    low, high = measure.valid_range
    x, y = sorted((low + a * (high - low), low + b * (high - low)))
    if measure.higher_is_better:
        assert normalise(measure, y) >= normalise(measure, x)
    else:
        assert normalise(measure, x) >= normalise(measure, y)


scored = st.lists(st.tuples(st.floats(0, 100), st.floats(0.1, 5)), min_size=1, max_size=10)


@given(scored, st.randoms(use_true_random=False))
def test_the_order_of_measures_does_not_matter(pairs, random):
    shuffled = list(pairs)
    random.shuffle(shuffled)
    for method in ("arithmetic", "geometric"):
        assert weighted_mean(pairs, method) == pytest.approx(weighted_mean(shuffled, method))


@given(scored)
def test_arithmetic_mean_is_at_least_the_geometric(pairs):
    assert weighted_mean(pairs, "arithmetic") >= weighted_mean(pairs, "geometric") - 1e-9
