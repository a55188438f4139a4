"""The metrics library on its own: no Flask, no database."""

import json
import statistics
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
from metrics.framework import Measure, default_framework_document
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
    assert change["measures"]["inclusive_decisions"]["direction"] == "no clear change"
    assert change["measures"]["conflict_deaths"]["significant"] is None
    assert change["measures"]["conflict_deaths"]["direction"] == "not tested"
    assert {k: v["direction"] for k, v in change["themes"].items()} == {
        "violence": "improved",  # from feeling safe alone: deaths are not tested
        "legitimacy": "no clear change",
        "polarisation": "improved",  # willing_violence: p 0.0111, Holm-adjusted 0.0221
        "agency": "improved",
        "investment": "not tested",  # money has no sampling error to test
    }
    assert change["themes"]["violence"]["tested"] == ["feels_safe"]
    assert change["themes"]["violence"]["untested"] == ["conflict_deaths"]
    assert change["measures"]["willing_violence"]["p_value"] == pytest.approx(0.0111, abs=1e-4)
    assert change["measures"]["willing_violence"]["adjusted_p_value"] == pytest.approx(
        2 * change["measures"]["willing_violence"]["p_value"], abs=1e-6
    )
    (group,) = report["breakdowns"]["feels_safe"]["endline"]
    assert group["group"] == {"sex": "female"} and group["score"] == 48.0


def test_a_theme_without_data_is_empty_not_zero_and_no_overall_score():
    values = [v for v in example_values() if v.measure != "takes_action"]
    report = compute_report(FRAMEWORK, values)
    assert report["themes"]["agency"]["baseline"]["score"] is None
    assert report["overall"]["baseline"]["score"] is None
    assert report["overall"]["baseline"]["withheld"] == "agency: no data"
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
        "themes": [{"key": "trust", "name": "Trust", "aggregation": "geometric_shifted"}],
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
        "overall": {"aggregation": "geometric_shifted", "label": "Village pulse"},
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
    assert error.value.problems == [
        "themes[0].aggregation: must be one of arithmetic, geometric, geometric_shifted",
        "measures[0].polarity: must be one of higher_is_better, higher_is_worse",
        "measures[0].goalposts: must be positive on a log scale",
        "themes[0]: theme 'a' has no measure",
        "themes[1]: theme 'b' has no measure",
    ]


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
    intervals = {r["project"]: r["intervals"]["violence"] for r in comparison["projects"]}
    assert intervals["p1"] == [35.32, 44.87]  # Wilson for 40% of 400
    # p0 [41.52, 45.43] overlaps p1 [35.32, 44.87]: the two cannot be told apart (ranks 3-4).
    ranks = {r["project"]: r["rank"]["violence"] for r in comparison["projects"]}
    assert ranks == {
        "p0": {"best": 3, "worst": 4, "of": 4},
        "p1": {"best": 3, "worst": 4, "of": 4},
        "p2": {"best": 2, "worst": 2, "of": 4},
        "p3": {"best": 1, "worst": 1, "of": 4},
    }
    assert comparison["distribution"]["violence"]["distinguishable"] == 2
    assert "ranks" in comparison["method"]
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


# -- the geometric mean the framework chooses --------------------------------------------------

HDI = ROOT / "metrics" / "examples" / "hdi-2020.json"
# HDR 2020, table 1 (2019 data): life expectancy, expected and mean years of schooling, GNI per
# capita (2017 PPP $), and the published HDI.
HDR_2020 = {
    "Norway": ((82.4, 18.1, 12.9, 66494), 0.957),
    "Niger": ((62.4, 6.5, 2.1, 1201), 0.394),
}


def hdi_values(life, expected, mean, gni, period="2019"):
    day = date(2019, 12, 31)
    keys = ("life_expectancy", "expected_schooling", "mean_schooling", "gni_per_capita")
    return [
        Value(k, period, day, day, x)
        for k, x in zip(keys, (life, expected, mean, gni), strict=True)
    ]


@pytest.mark.parametrize("country", HDR_2020)
def test_the_standard_geometric_mean_reproduces_the_hdi(country):
    data, published = HDR_2020[country]
    report = compute_report(load_framework(HDI), hdi_values(*data))
    assert round(report["overall"]["2019"]["score"] / 100, 3) == published


def test_command_line_reproduces_the_hdi_from_files(tmp_path):
    data = tmp_path / "norway.csv"
    data.write_text(
        "measure,period,start,end,value,source\n"
        + "".join(
            f"{v.measure},2019,2019-01-01,2019-12-31,{v.value},HDR 2020\n"
            for v in hdi_values(*HDR_2020["Norway"][0])
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "report", "--framework", str(HDI), "--data", str(data)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert json.loads(result.stdout)["overall"]["2019"]["score"] == 95.7


def test_a_zero_dimension_makes_the_standard_geometric_mean_zero_not_the_shifted_one():
    framework = load_framework(HDI)
    values = hdi_values(20, 12, 8, 5000)  # life expectancy at the lower goalpost: health = 0
    assert compute_report(framework, values)["overall"]["2019"]["score"] == 0
    document = json.loads(HDI.read_text())
    document["overall"]["aggregation"] = "geometric_shifted"
    shifted = compute_report(load_framework(document), values)["overall"]["2019"]["score"]
    arithmetic = weighted_mean([(0, 1), (61.33, 1), (59.18, 1)], "arithmetic")
    assert 0 < shifted < arithmetic
    assert weighted_mean([(0, 1), (100, 1)], "geometric") == 0
    assert weighted_mean([(0, 1), (99, 1)], "geometric_shifted") == pytest.approx(9, abs=1e-9)


# -- change: tested, like for like, combined by a stated rule -----------------------------------


def test_no_true_change_is_read_as_a_change_in_at_most_5_percent_of_themes():
    """Simulated surveys where nothing changes (the same true proportions at baseline and
    endline; deaths and investment drawn from one distribution in both periods). A theme
    verdict of improved, worsened or mixed is then a false finding."""
    numpy = pytest.importorskip("numpy")
    rng = numpy.random.default_rng(20261123)
    surveys = [m.key for m in FRAMEWORK.measures.values() if m.survey]
    days = {"baseline": date(2024, 1, 1), "endline": date(2025, 1, 1)}
    verdicts, naive = [], []
    for _ in range(1200):
        values = []
        for key in surveys:
            truth = rng.uniform(0.05, 0.95)
            for period, day in days.items():
                n = int(rng.integers(100, 1001))
                share = 100 * int(rng.binomial(n, truth)) / n
                values.append(Value(key, period, day, day, share, n))
        for key, centre in (("conflict_deaths", 5.0), ("peace_investment", 10.0)):
            for period, day in days.items():
                values.append(Value(key, period, day, day, float(rng.gamma(4, centre / 4))))
        change = compute_report(FRAMEWORK, values)["change"]
        for theme in FRAMEWORK.themes:
            verdict = change["themes"][theme.key]
            if verdict["direction"] != "not tested":
                verdicts.append(verdict["direction"] != "no clear change")
            # The old rule: any measure that moved, tested or not, unadjusted.
            naive.append(
                any(
                    c["significant"] or (c["significant"] is None and c["score_change"] != 0)
                    for key, c in change["measures"].items()
                    if FRAMEWORK.measures[key].theme == theme.key
                )
            )
    false_rate = sum(verdicts) / len(verdicts)
    assert len(verdicts) == 4 * 1200  # violence, legitimacy, polarisation and agency are tested
    assert false_rate <= 0.05, false_rate
    assert sum(naive) / len(naive) > 0.3  # what the test guards against


def test_a_change_of_coverage_is_flagged_and_never_read_as_change():
    before, after = date(2024, 1, 1), date(2025, 1, 1)
    values = [
        Value("feels_safe", "baseline", before, before, 50, 400),
        Value("feels_safe", "endline", after, after, 50, 400),
        # Deaths only at endline (a bad score): the theme may not fall because of it.
        Value("conflict_deaths", "endline", after, after, 80.0),
    ]
    report = compute_report(FRAMEWORK, values)
    violence = report["change"]["themes"]["violence"]
    assert report["themes"]["violence"]["endline"]["score"] < 50  # the period scores differ
    assert violence["coverage_changed"] is True
    assert violence["only_in_to"] == ["conflict_deaths"] and violence["measures"] == ["feels_safe"]
    assert (violence["from"], violence["to"], violence["score_change"]) == (50.0, 50.0, 0.0)
    assert violence["direction"] == "no clear change"
    assert "never read from the difference of coverage" in violence["note"]
    only_new = compute_report(
        FRAMEWORK,
        [
            Value("feels_safe", "baseline", before, before, 50, 400),
            Value("conflict_deaths", "endline", after, after, 80.0),
        ],
    )
    assert only_new["change"]["themes"]["violence"]["direction"] == "not comparable"
    assert only_new["change"]["themes"]["violence"]["score_change"] is None


def test_holm_keeps_the_family_wise_error_and_is_stated():
    from metrics.stats import holm

    assert holm({"a": 0.01, "b": 0.04, "c": 0.03}) == {
        "a": pytest.approx(0.03),
        "c": pytest.approx(0.06),
        "b": pytest.approx(0.06),
    }
    assert "Holm" in compute_report(FRAMEWORK, example_values())["method"]["theme_change"]


def test_the_p_value_matches_newcombes_interval():
    from metrics.stats import Z95, newcombe_p_value

    p = newcombe_p_value(56 / 70, 70, 48 / 80, 80)
    assert 0.001 < p < 0.05  # the 95% interval 0.0524-0.3339 excludes 0
    z = statistics.NormalDist().inv_cdf(1 - p / 2)
    assert newcombe_difference(56 / 70, 70, 48 / 80, 80, z)[1] == pytest.approx(0, abs=1e-9)
    assert newcombe_p_value(0.3, 400, 0.3, 380) == 1.0
    assert pytest.approx(statistics.NormalDist().inv_cdf(0.975)) == Z95


# -- cluster surveys: design effects and effective sample sizes ---------------------------------


def test_a_design_effect_widens_the_intervals_as_a_smaller_sample_would():
    day, later = date(2024, 1, 1), date(2025, 1, 1)
    plain = Value("feels_safe", "baseline", day, day, 42, 400)
    clustered = Value("feels_safe", "baseline", day, day, 42, 400, design_effect=2.0)
    effective = Value("feels_safe", "baseline", day, day, 42, 400, effective_sample_size=200)
    as_200 = Value("feels_safe", "baseline", day, day, 42, 200)
    score = {
        name: compute_report(FRAMEWORK, [v])["measures"]["feels_safe"]["baseline"]
        for name, v in (("plain", plain), ("deff", clustered), ("neff", effective), ("200", as_200))
    }
    assert score["deff"]["score_interval"] == score["200"]["score_interval"]
    assert score["neff"]["score_interval"] == score["200"]["score_interval"]
    assert score["deff"]["effective_sample_size"] == 200.0 and score["deff"]["design_effect"] == 2
    assert score["deff"]["sample_size"] == 400
    wide = score["deff"]["score_interval"][1] - score["deff"]["score_interval"][0]
    narrow = score["plain"]["score_interval"][1] - score["plain"]["score_interval"][0]
    assert wide == pytest.approx(narrow * 2**0.5, rel=0.02)
    # The change: 42% -> 50% is significant for simple random samples of 400, not with deff 3.
    after = Value("feels_safe", "endline", later, later, 50, 400)
    srs = compute_report(FRAMEWORK, [plain, after])["change"]["measures"]["feels_safe"]
    cluster = compute_report(
        FRAMEWORK,
        [
            Value("feels_safe", "baseline", day, day, 42, 400, design_effect=3.0),
            Value("feels_safe", "endline", later, later, 50, 400, design_effect=3.0),
        ],
    )["change"]["measures"]["feels_safe"]
    assert srs["direction"] == "improved" and cluster["direction"] == "no clear change"
    assert cluster["interval_points"][0] < 0 < cluster["interval_points"][1]


def test_design_effects_are_read_from_csv_and_checked():
    text = [
        "measure,period,start,end,value,sample_size,design_effect,effective_sample_size",
        "feels_safe,baseline,2024-01-01,2024-01-31,40,600,1.8,",
        "takes_action,baseline,2024-01-01,2024-01-31,30,600,,250.5",
        "willing_violence,baseline,2024-01-01,2024-01-31,30,600,2,300",
        "conflict_deaths,baseline,2024-01-01,2024-12-31,3,,2,",
        "feels_less_human,baseline,2024-01-01,2024-01-31,30,100,5,",
        "inclusive_decisions,baseline,2024-01-01,2024-01-31,30,100,0,",
        "service_satisfaction,baseline,2024-01-01,2024-01-31,30,100,nan,",
    ]
    rows = list(read_csv(FRAMEWORK, text))
    good = [v for _, v, _ in rows if v is not None]
    assert [(v.measure, v.design_effect, v.effective_sample_size) for v in good] == [
        ("feels_safe", 1.8, None),
        ("takes_action", None, 250.5),
    ]
    problems = {(p.line, p.column): p.reason for _, _, ps in rows for p in ps}
    assert problems == {
        (4, "effective_sample_size"): "give design_effect or effective_sample_size, not both",
        (5, "design_effect"): "only survey measures have one "
        "(conflict_deaths is not a survey measure)",
        (6, "design_effect"): "the effective sample size 20.0 is below the framework's "
        "minimum of 30 for a survey measure",
        (7, "design_effect"): "must be above 0 and at most 100",
        (8, "design_effect"): "must be a finite number",
    }


# -- coverage before an overall score ------------------------------------------------------------


def test_an_overall_score_needs_every_theme_at_its_minimum_coverage():
    values = [v for v in example_values() if v.measure != "conflict_deaths"]
    report = compute_report(FRAMEWORK, values)  # violence: 1 of 4 measures, minimum 50%
    assert report["themes"]["violence"]["baseline"]["coverage"]["minimum"] == 0.5
    overall = report["overall"]["baseline"]
    assert overall["score"] is None and overall["interval"] is None
    assert overall["withheld"] == (
        "violence: 1 of 4 measures (25%), below the framework's minimum of 50%"
    )
    complete = compute_report(FRAMEWORK, example_values())["overall"]["baseline"]
    assert complete["score"] == 42.86 and complete["interval"][0] < 42.86 < complete["interval"][1]
    document = default_framework_document()
    document["themes"][0]["minimum_coverage"] = 0
    lenient = compute_report(load_framework(document), values)["overall"]["baseline"]
    assert lenient["score"] is not None


# -- malformed framework documents ---------------------------------------------------------------


def broken(change):
    document = default_framework_document()
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["measures"][2].update(goalposts=[100, 0.1]),
            "measures[2].goalposts: must be ordered: min < max (got [100, 0.1])",
        ),
        (
            lambda d: d["measures"][3].update(goalposts=[0, float("inf")]),
            "measures[3].goalposts: must be [min, max]: two finite numbers with min < max",
        ),
        (
            lambda d: d["measures"][3].update(goalposts=[0, float("nan")]),
            "measures[3].goalposts: must be [min, max]: two finite numbers with min < max",
        ),
        (
            lambda d: d["measures"][3].update(goalposts=[50, 50]),
            "measures[3].goalposts: must be ordered: min < max (got [50, 50])",
        ),
        (
            lambda d: d["measures"][3].update(goalposts="0-100"),
            "measures[3].goalposts: must be [min, max]: two finite numbers with min < max",
        ),
        (
            lambda d: d["measures"][3].update(goalposts=[0, 10**400]),
            "measures[3].goalposts: must be [min, max]: two finite numbers with min < max",
        ),
        (lambda d: d["measures"][3].pop("goalposts"), "measures[3].goalposts: is required"),
        (
            lambda d: d["measures"][3].update(valid_range=[100, 0]),
            "measures[3].valid_range: must be ordered: min <= max (got [100, 0])",
        ),
        (lambda d: d["measures"][4].update(weight=-1), "measures[4].weight: must be above 0"),
        (
            lambda d: d["measures"][4].update(weight="heavy"),
            "measures[4].weight: must be a finite number",
        ),
        (
            lambda d: d["measures"][5].update(survey="yes"),
            "measures[5].survey: must be true or false",
        ),
        (
            lambda d: d["measures"][5].update(goalpost=[0, 1]),
            "measures[5].goalpost: is not a known key",
        ),
        (
            lambda d: d["measures"][6].update(theme="peace"),
            "measures[6].theme: 'peace' is not one of the themes",
        ),
        (lambda d: d["measures"].__setitem__(1, "arms"), "measures[1]: must be an object"),
        (
            lambda d: d["themes"][1].update(minimum_coverage=1.5),
            "themes[1].minimum_coverage: must be at most 1",
        ),
        (
            lambda d: d["themes"][1].update(aggregation="median"),
            "themes[1].aggregation: must be one of",
        ),
        (lambda d: d["themes"].__setitem__(0, None), "themes[0]: must be an object"),
        (lambda d: d.update(themes={}), "themes: must be a non-empty list"),
        (lambda d: d.update(overall=[]), "overall: must be an object"),
        (
            lambda d: d.update(minimum_sample_size=2.5),
            "minimum_sample_size: must be a whole number",
        ),
        (lambda d: d.pop("measures"), "measures: is required"),
        (lambda d: d.update(name=None), "name: must be a string"),
    ],
)
def test_a_malformed_framework_gets_an_error_naming_the_path(change, problem):
    with pytest.raises(FrameworkError) as error:
        load_framework(broken(change))
    assert any(p.startswith(problem) for p in error.value.problems), error.value.problems


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["key", "theme", "goalposts", "x", "measures"]), children)
    ),
    max_leaves=20,
)


@given(json_values)
def test_any_json_document_loads_or_gets_a_framework_error(document):
    try:
        load_framework(document) if isinstance(document, dict) else load_framework({"id": document})
    except FrameworkError as error:
        assert error.problems and all(isinstance(p, str) for p in error.problems)


@given(
    st.sampled_from(["themes", "measures", "overall", "pillars", "id", "minimum_sample_size"]),
    json_values,
    st.integers(0, 9),
    st.sampled_from(["key", "theme", "goalposts", "valid_range", "weight", "unit", "aggregation"]),
)
def test_any_corruption_of_the_framework_gets_a_framework_error(top, junk, index, key):
    document = default_framework_document()
    if top in ("themes", "measures") and isinstance(document[top], list):
        items = document[top]
        item = items[index % len(items)]
        item[key] = junk
    else:
        document[top] = junk
    try:
        load_framework(document)
    except FrameworkError as error:
        assert error.problems


def test_command_line_names_the_problem_in_a_framework_file_without_a_traceback(tmp_path):
    cases = {
        "syntax.json": ('{"id": "x",\n  "themes": [}', "not valid JSON at line 2, column 14"),
        "goalposts.json": (
            json.dumps(broken(lambda d: d["measures"][2].update(goalposts=[100, 0.1]))),
            "measures[2].goalposts: must be ordered",
        ),
        "list.json": ("[1, 2]", "the document: must be a JSON object"),
        "latin1.json": (b'{"name": "Bogot\xe1"}', "is not UTF-8 text"),
        "nested.json": ("[" * 100_000 + "]" * 100_000, "not a JSON document"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "metrics",
                "report",
                "--framework",
                str(path),
                "--data",
                str(EXAMPLE),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert result.returncode == 2, name
        assert expected in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr, name


# -- charts tell the truth ------------------------------------------------------------------------


def svg_parts(svg: bytes):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{ns}text"))
    return root, ns, texts


def test_a_radar_chart_draws_missing_themes_as_missing_with_intervals_coverage_and_names():
    from io import BytesIO

    from PIL import Image

    from metrics.charts import radar_chart, radar_series

    values = [v for v in example_values() if v.measure != "takes_action"]
    report = compute_report(FRAMEWORK, values)
    report["project"] = {"title": "Dialogue clubs in Kenema: $5 a club <&>"}
    series = radar_series(report)
    assert list(series) == ["baseline", "endline"]
    agency = next(p for p in series["endline"] if p["theme"] == "agency")
    assert agency["score"] is None  # drawn as a gap, never as 0
    violence = next(p for p in series["endline"] if p["theme"] == "violence")
    assert violence["interval"] == report["themes"]["violence"]["endline"]["interval"]

    svg = radar_chart(report, "svg")
    root, ns, texts = svg_parts(svg)
    title, desc = root[0], root[1]
    assert (title.tag, desc.tag) == (f"{ns}title", f"{ns}desc")
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-title chart-desc"
    assert title.text.startswith("Dialogue clubs in Kenema: $5 a club <&>: theme scores 0-100")
    assert "baseline (2024-01-01 to 2024-12-31) and endline (2025-01-01 to 2025-12-31)" in (
        title.text
    )
    assert "agency: no data (0 of 1 measures)" in desc.text
    assert "violence 50.8, 95% interval 48.3 to 53.3 (2 of 4 measures)" in desc.text
    assert "no overall score (agency: no data)" in desc.text
    # The drawn text: project, periods, coverage on each axis, "no data" where nothing is.
    for shown in (
        "Dialogue clubs in Kenema: $5 a club <&>",
        "endline (2025-01-01 to 2025-12-31)",
        "(2/4 measures)",
        "(no data)",
        "95% intervals",
    ):
        assert shown in texts, shown
    png = Image.open(BytesIO(radar_chart(report, "png")))
    assert "agency: no data" in png.text["Description"]
    assert png.text["Title"] == title.text


def test_a_comparison_chart_names_what_it_compares_and_marks_the_intervals():
    from metrics.charts import comparison_chart

    day = date(2025, 1, 1)
    comparison = compare(
        FRAMEWORK,
        [
            (f"p{i}", f"Project {i}", [Value("feels_safe", "latest", day, day, s, 400)])
            for i, s in enumerate((40, 42, 80))
        ],
    )
    root, _, texts = svg_parts(comparison_chart(comparison, "svg", highlight="p1"))
    assert root[0].text == "3 projects compared, each at its latest period; highlighted: Project 1"
    assert "highlighted project 42.0, rank 2 to 3 (cannot be told apart from others) of 3" in (
        root[1].text
    )
    assert "agency: no project has data" in root[1].text
    assert "no data" in texts


def test_the_report_csv_carries_effective_sizes_p_values_coverage_notes_and_withheld_reasons():
    from metrics.export import report_csv

    before, after = date(2024, 1, 1), date(2025, 1, 1)
    values = [
        Value("feels_safe", "baseline", before, before, 50, 400, design_effect=2.0),
        Value("feels_safe", "endline", after, after, 58, 400),
        Value("conflict_deaths", "endline", after, after, 80.0),
    ]
    lines = report_csv(compute_report(FRAMEWORK, values)).splitlines()
    assert lines[0].endswith(",note,sample_size,effective_sample_size,p_value,adjusted_p_value")
    assert "measure,feels_safe,baseline,50,50.0,43.14,56.86,,,,400,200.0" in lines
    assert (
        "change,feels_safe,baseline->endline,8.0,8.0,-0.43,16.34,,no clear change,,,,0.062957,0.062957"
        in lines
    )
    assert (
        "theme_change,violence,baseline->endline,,8.0,,,,no clear change,"
        "coverage changed (only in to: conflict_deaths): compared on feels_safe"
    ) in lines
    assert any(
        line.startswith("overall,overall,endline,,,,,,,legitimacy: no data") for line in lines
    )


def test_charts_of_no_data_say_so():
    from metrics.charts import comparison_chart, radar_chart

    root, _, texts = svg_parts(radar_chart(compute_report(FRAMEWORK, []), "svg"))
    assert root[1].text == "No data." and "no data" in texts
    empty = comparison_chart(compare(FRAMEWORK, []), "svg")
    assert b"violence: no project has data" in empty
