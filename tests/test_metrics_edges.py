"""Peace metrics at the edges: exports safe to open in a spreadsheet, one validation path
for every upload format, bulk uploads in linear time, comparisons through the API."""

import csv
import dataclasses
import io
import json
import math
from datetime import date

import pytest

from api.projects.uploads import XLSX
from api.web.labels import chart_words
from metrics.export import spreadsheet_safe
from tests.test_projects import create_project, upload

HEADER = "measure,period,start,end,value,sample_size"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.content_type.startswith("text/csv")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# -- exports are safe to open -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("=1+2", "'=1+2"),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", "'\r=1"),
        ("-3.5", "-3.5"),
        ("+7", "+7"),
        ("-1e-3", "-1e-3"),
        (-3.5, -3.5),
        (-12, -12),
        ("", ""),
        (None, None),
        ("peace = 1", "peace = 1"),
    ],
)
def test_spreadsheet_safe_neutralises_formulas_and_keeps_numbers(cell, written):
    assert spreadsheet_safe(cell) == written


def test_report_and_comparison_csv_never_carry_a_formula(client, org):
    project_id = create_project(client, org, title='=HYPERLINK("http://evil.example","x")')
    body = "\n".join(
        [
            HEADER,
            "feels_safe,=1+2,2024-01-01,2024-03-31,42,400",
            "feels_safe,@later,2025-01-01,2025-03-31,47,400",
        ]
    )
    assert upload(client, org["member"], project_id, body).status_code == 201

    report = read_csv(client.get(f"/api/v1/projects/{project_id}/report?format=csv"))
    periods = {row[2] for row in report[1:]}
    assert {"'=1+2", "'@later", "'=1+2->@later"} <= periods
    assert not any(cell.startswith(("=", "+", "@")) for row in report for cell in row)
    changes = [row for row in report if row[0] == "change"]
    assert changes and float(changes[0][4]) > 0  # numbers stay numbers

    comparison = read_csv(client.get("/api/v1/reports/comparison?format=csv"))
    titles = {row[1] for row in comparison[1:]}
    assert '\'=HYPERLINK("http://evil.example","x")' in titles
    assert not any(cell.startswith(("=", "+", "@")) for row in comparison for cell in row)


def test_actor_export_csv_never_carries_a_formula(client, make_actor):
    make_actor(
        name="@SUM(1)",
        location={"type": "Point", "coordinates": [-13.23, 8.48]},  # Freetown: negative lon
    )
    rows = read_csv(client.get("/api/v1/actors/export?format=csv"))
    header = rows[0]
    (actor,) = [dict(zip(header, row, strict=True)) for row in rows[2:]]
    assert actor["name"] == "'@SUM(1)"
    assert float(actor["lon"]) < 0 and not actor["lon"].startswith("'")  # still a number
    assert rows[1][0] == "#org+id"  # the HXL row is untouched


# -- one validation path for every format -------------------------------------------------------

GOOD = "feels_safe,baseline,2024-01-01,2024-03-31,42,400"


def bulk(client, org, project_id, body: bytes | str, content_type="text/csv", **params):
    return upload(client, org["member"], project_id, body, content_type, **params)


def problems_of(response) -> list[tuple[int, str, str]]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    return [(r["line"], r["column"], r["reason"]) for r in response.get_json()["errors"]["rows"]]


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        (b"feels_safe,base\xffline,2024-01-01,2024-03-31,42,400", "period", "not valid UTF-8"),
        (b"feels_safe,base\x00line,2024-01-01,2024-03-31,42,400", "period", "NUL"),
        (b"feels_safe,baseline,2024-01-01,2024-03-31,42,400,extra", "line", "more field"),
        (
            b"feels_safe,baseline,2024-01-01,2024-03-31,42," + b"9" * 200_000,
            "line",
            "over 131,072 characters",
        ),
        (
            b"feels_safe,baseline,2024-01-01,2024-03-31,42,99999999999999999999",
            "sample_size",
            "at most",
        ),
        (b"feels_safe," + b"p" * 65 + b",2024-01-01,2024-03-31,42,400", "period", "at most 64"),
        (b"m" * 5000 + b",baseline,2024-01-01,2024-03-31,42,400", "measure", "at most 64"),
        (b"feels_safe,baseline,2024-01-01,2024-03-31,1e400,400", "value", "finite"),
        (b"feels_safe,baseline,2024-13-01,2024-03-31,42,400", "start", "not a date"),
    ],
)
def test_a_hostile_csv_line_is_a_422_naming_line_and_column_never_a_500(
    client, org, line, column, reason
):
    project_id = create_project(client, org)
    body = b"\n".join([HEADER.encode(), GOOD.encode(), line, b""])
    (problem,) = problems_of(bulk(client, org, project_id, body))
    assert problem[:2] == (3, column) and reason in problem[2], problem
    assert len(problem[2]) < 200  # the reason never echoes the hostile input whole
    assert client.get(f"/api/v1/projects/{project_id}/values").get_json() == []


def test_long_texts_and_groups_are_refused_in_every_column(client, org):
    project_id = create_project(client, org)
    body = "\n".join(
        [
            HEADER + ",disaggregation,source,note,pillar",
            GOOD + f",sex={'f' * 101},,,",
            GOOD.replace("baseline", "b2") + f",,{'s' * 1001},,",
            GOOD.replace("baseline", "b3") + f",,,{'n' * 2001},",
            GOOD.replace("baseline", "b4") + f",,,,{'p' * 41}",
            GOOD.replace("baseline", "b5")
            + ","
            + ";".join(f"k{i}={'v' * 90}" for i in range(6))
            + ",,,",
        ]
    )
    assert [p[:2] for p in problems_of(bulk(client, org, project_id, body))] == [
        (2, "disaggregation"),
        (3, "source"),
        (4, "note"),
        (5, "pillar"),
        (6, "disaggregation"),
    ]


def test_a_bom_is_accepted_a_header_alone_or_an_empty_body_is_not(client, org):
    project_id = create_project(client, org)
    with_bom = b"\xef\xbb\xbf" + f"{HEADER}\r\n{GOOD}\r\n".encode()
    assert bulk(client, org, project_id, with_bom).get_json() == {"stored": 1}
    other = create_project(client, org, title="Second")
    assert problems_of(bulk(client, org, other, HEADER + "\n")) == [(1, "body", "has no values")]
    assert problems_of(bulk(client, org, other, b"")) == [
        (1, c, "column is missing from the header")
        for c in ("measure", "period", "start", "end", "value")
    ]
    extra = problems_of(bulk(client, org, other, HEADER + ",comment\n" + GOOD + ",hi\n"))
    assert extra == [
        (
            1,
            "comment",
            "unknown column; expected some of measure, period, start, end, value, "
            "sample_size, design_effect, effective_sample_size, disaggregation, pillar, "
            "paired, source, note",
        )
    ]
    assert problems_of(bulk(client, org, other, "measure,period,start,end,value,value\n"))[0][
        1:
    ] == (
        "value",
        "column appears more than once",
    )


def test_every_bad_line_is_reported_with_repeats_of_stored_values(client, org):
    project_id = create_project(client, org)
    assert bulk(client, org, project_id, f"{HEADER}\n{GOOD}\n").status_code == 201
    body = "\n".join(
        [
            HEADER,
            "takes_action,baseline,2024-01-01,2024-03-31,30,400",
            GOOD.replace("42", "43"),  # repeats the stored value
            "takes_action,baseline,2024-01-01,2024-03-31,31,400",  # repeats line 2
            "feels_safe,endline,2025-01-01,2025-03-31,420,400",  # out of range
        ]
    )
    assert [p[:2] for p in problems_of(bulk(client, org, project_id, body))] == [
        (3, "measure"),
        (4, "measure"),
        (5, "value"),
    ]
    assert len(client.get(f"/api/v1/projects/{project_id}/values").get_json()) == 1


ROWS = [
    {
        "measure": "feels_safe",
        "period": "baseline",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": 42,
        "sample_size": 400,
    },
    {
        "measure": "feels_safe",
        "period": "p" * 65,
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": 42,
        "sample_size": 400,
    },
    {
        "measure": "feels_safe",
        "period": "endline",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": 42,
        "sample_size": 10**12,
    },
    {
        "measure": "feels_safe",
        "period": "midline",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": 42,
        "sample_size": 400,
        "note": "a\x00b",
    },
    {
        "measure": "feels_safe",
        "period": "baseline",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": 41,
        "sample_size": 400,
    },
]
EXPECTED = [
    ("period", "has 65 characters; at most 64"),
    ("sample_size", "must be at most 1,000,000,000"),
    ("note", "contains a NUL character"),
    ("measure", "repeats line {first} (same measure, period and group)"),
]


def as_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*ROWS[0], "note"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def as_xlsx(rows) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    columns = [*ROWS[0], "note"]
    sheet.append(columns)
    for row in rows:
        cells = [row.get(c) for c in columns]
        # A spreadsheet holds dates and numbers as such, and refuses NUL in a cell.
        cells[2:4] = [date.fromisoformat(cells[2]), date.fromisoformat(cells[3])]
        cells[-1] = cells[-1].replace("\x00", "\\x00") if cells[-1] else None
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content_type", "encode", "first_line"),
    [
        ("text/csv", as_csv, 2),
        ("application/x-ndjson", lambda rows: "\n".join(map(json.dumps, rows)).encode(), 1),
        ("application/json", lambda rows: json.dumps(rows).encode(), 1),
        (XLSX, as_xlsx, 2),
    ],
)
def test_every_format_goes_through_the_same_rules(client, org, content_type, encode, first_line):
    project_id = create_project(client, org)
    response = bulk(client, org, project_id, encode(ROWS), content_type)
    found = problems_of(response)
    expected = [(c, r.format(first=first_line)) for c, r in EXPECTED]
    if content_type == XLSX:  # the spreadsheet could not hold the NUL: the note is fine there
        expected = [e for e in expected if e[0] != "note"]
    assert [(column, reason) for _, column, reason in found] == expected
    assert found[0][0] == first_line + 1
    good = encode(ROWS[:1])
    assert bulk(client, org, project_id, good, content_type).get_json() == {"stored": 1}


def test_json_uploads_refuse_what_csv_cannot_say(client, org):
    project_id = create_project(client, org)
    huge = '"value": 1' + "0" * 400  # an integer no float can hold
    items = [
        {**ROWS[0], "colour": "red"},
        {**ROWS[0], "period": 7},
        {**ROWS[0], "value": "HUGE"},
        {**ROWS[0], "disaggregation": {"sex": ["f"]}},
        "not an object",
    ]
    body = json.dumps(items).replace('"value": "HUGE"', huge)
    assert [
        p[:2] for p in problems_of(bulk(client, org, project_id, body, "application/json"))
    ] == [
        (1, "colour"),
        (2, "period"),
        (3, "value"),
        (4, "disaggregation"),
        (5, "item"),
    ]
    assert problems_of(bulk(client, org, project_id, '{"measure": 1}', "application/json")) == [
        (1, "body", "must be a JSON array of values")
    ]
    assert problems_of(
        bulk(client, org, project_id, "[" + json.dumps(ROWS[0]) + ", {", "application/json")
    )[0][:2] == (2, "item")
    beyond_digit_limit = "[" + json.dumps(ROWS[0]).replace('"value": 42', huge + "0" * 5000) + "]"
    assert problems_of(bulk(client, org, project_id, beyond_digit_limit, "application/json"))[0][
        :2
    ] == (1, "item")
    deep = "[" * 100_000
    assert (
        problems_of(bulk(client, org, project_id, deep + "\n", "application/x-ndjson"))[0][1]
        == "line"
    )


def test_a_file_that_is_not_a_workbook_is_a_422(client, org):
    project_id = create_project(client, org)
    assert problems_of(bulk(client, org, project_id, b"PK\x03\x04 not really", XLSX)) == [
        (1, "body", "is not an XLSX workbook")
    ]


# -- reports through the API at scale ---------------------------------------------------------


def test_comparison_through_the_api_equals_the_library_on_every_project(client, org, session):
    """The database sends each project's latest period only: the scores must be those the
    library computes from all of the project's values."""
    from api.projects import service
    from metrics import compare, default_framework

    uploads = {
        # Labels sort against the dates: the latest period is "a-late", not "z-early".
        "Order by dates": [
            "feels_safe,z-early,2024-01-01,2024-03-31,40,400",
            "feels_safe,a-late,2025-01-01,2025-03-31,60,400",
            "takes_action,a-late,2025-01-01,2025-03-31,30,400",
        ],
        # Same start: the later end wins; then the label in code-point order ("B" < "a").
        "Ties": [
            "feels_safe,a,2024-01-01,2024-06-30,50,400",
            "feels_safe,B,2024-01-01,2024-06-30,70,400",
            "feels_safe,short,2024-01-01,2024-02-01,90,400",
        ],
        # The latest period has groups only: no theme score, not an older one.
        "Groups only at the end": [
            "feels_safe,baseline,2024-01-01,2024-03-31,42,400,",
            "feels_safe,endline,2025-01-01,2025-03-31,47,200,sex=female",
        ],
    }
    for title, lines in uploads.items():
        project_id = create_project(client, org, title=title)
        body = "\n".join([HEADER + ",disaggregation", *(line.rstrip(",") for line in lines)])
        assert bulk(client, org, project_id, body).status_code == 201, title
    clustered = create_project(client, org, title="Cluster survey")
    body = f"{HEADER},design_effect\n{GOOD},2.5\n"
    assert bulk(client, org, clustered, body).status_code == 201
    corrected = create_project(client, org, title="Corrected")
    assert bulk(client, org, corrected, f"{HEADER}\n{GOOD}\n").status_code == 201
    assert (
        bulk(client, org, corrected, f"{HEADER}\n{GOOD.replace('42', '80')}\n", replace="true")
    ).status_code == 201

    through_api = client.get("/api/v1/reports/comparison").get_json()
    framework = default_framework()
    everything = []
    for project in sorted(through_api["projects"], key=lambda p: p["project"]):
        values = [
            service._as_value(v)
            for v in service.list_values(session, project["project"], include_superseded=False)
        ]
        everything.append((project["project"], project["title"], values))
    library = compare(framework, everything)
    assert {p["title"] for p in through_api["projects"]} == {
        *uploads,
        "Corrected",
        "Cluster survey",
    }
    by_id = {p["project"]: p for p in library["projects"]}
    for project in through_api["projects"]:
        assert project == by_id[project["project"]], project["title"]
    assert through_api["distribution"] == library["distribution"]
    titles = {p["title"]: p for p in through_api["projects"]}
    assert titles["Order by dates"]["scores"]["violence"] == 60.0
    assert titles["Ties"]["scores"]["violence"] == 50.0
    assert titles["Groups only at the end"]["scores"]["violence"] is None
    assert titles["Corrected"]["scores"]["violence"] == 80.0
    # The design effect travels with the value: a wider interval than without it.
    (value,) = next(vs for id_, _, vs in everything if id_ == clustered)
    simple = compare(framework, [("x", "x", [dataclasses.replace(value, design_effect=None)])])
    wide, narrow = (
        titles["Cluster survey"]["intervals"]["violence"],
        simple["projects"][0]["intervals"]["violence"],
    )
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_a_workbook_that_unpacks_beyond_the_cap_is_refused_before_parsing(client, org, monkeypatch):
    from api.projects import uploads

    monkeypatch.setattr(uploads, "MAX_XLSX_UNPACKED_BYTES", 1_000)  # a zip bomb, in small
    project_id = create_project(client, org)
    assert problems_of(bulk(client, org, project_id, as_xlsx(ROWS[:1]), XLSX)) == [
        (1, "body", "unpacks to more than the upload limit allows")
    ]


def test_the_streamed_comparison_equals_the_reference_on_a_varied_dataset(
    app, client, org, session
):
    """Every format of the comparison (JSON, CSV, SVG, PNG), computed from the latest
    totals the database keeps, equals the library's reference computation from each public
    project's values: missing themes, a change of coverage, design effects and effective
    sample sizes, groups, a log measure under its goalpost, replaced values, a project's own
    indicator in a later period, and hidden and draft projects left out."""
    from api.projects import service
    from api.projects.models import Project
    from metrics import charts, default_framework
    from metrics.comparison import Comparison, ComparisonInput, latest_totals
    from metrics.export import comparison_csv

    extra = "design_effect,effective_sample_size,disaggregation"
    uploads = {
        "Coverage changes": [
            "feels_safe,baseline,2024-01-01,2024-03-31,35,500,,,",
            "conflict_deaths,baseline,2024-01-01,2024-12-31,12.5,,,,",
            "feels_safe,endline,2025-01-01,2025-03-31,47,450,,,",
            "takes_action,endline,2025-01-01,2025-03-31,22,450,,,",
        ],
        "Cluster and weighted surveys": [
            "feels_safe,2025,2025-01-01,2025-06-30,61,800,2.5,,",
            "takes_action,2025,2025-01-01,2025-06-30,18,800,,310.4,",
            "conflict_deaths,2025,2025-01-01,2025-12-31,0.01,,,,",
            "feels_safe,2025,2025-01-01,2025-06-30,55,300,,,sex=female",
        ],
        "Every theme, one period": [
            f"{m.key},2025,2025-01-01,2025-06-30,"
            f"{(m.goalposts[0] + m.goalposts[1]) / 3},{600 if m.survey else ''},,,"
            for m in default_framework().measures.values()
        ],
        "Hidden": ["feels_safe,2025,2025-01-01,2025-06-30,90,400,,,"],
        "Draft": ["feels_safe,2025,2025-01-01,2025-06-30,10,400,,,"],
        "Own indicator last": [
            "feels_safe,baseline,2024-01-01,2024-03-31,44,400,,,",
            "cement_houses,later,2025-01-01,2025-03-31,12,300,,,",
        ],
        "Replaced": ["feels_safe,2025,2025-01-01,2025-06-30,30,400,,,"],
    }
    ids = {}
    for title, lines in uploads.items():
        ids[title] = create_project(client, org, title=title)
        if title == "Own indicator last":
            indicator = {
                "key": "cement_houses",
                "name": "Households building in cement",
                "theme": "agency",
                "unit": "percent",
                "polarity": "higher_is_better",
                "valid_range": [0, 100],
                "goalposts": [0, 100],
                "survey": True,
            }
            created = client.post(
                f"/api/v1/projects/{ids[title]}/indicators", json=indicator, headers=org["member"]
            )
            assert created.status_code == 201
        body = "\n".join([f"{HEADER},{extra}", *lines])
        assert bulk(client, org, ids[title], body).status_code == 201, title
    replaced = f"{HEADER},{extra}\nfeels_safe,2025,2025-01-01,2025-06-30,75,420,1.2,,\n"
    assert bulk(client, org, ids["Replaced"], replaced, replace="true").status_code == 201
    session.get(Project, ids["Hidden"]).hidden = True
    session.get(Project, ids["Draft"]).status = "draft"
    session.flush()

    responses = {
        fmt: client.get(f"/api/v1/reports/comparison?format={fmt}&highlight={ids['Replaced']}")
        for fmt in ("json", "csv", "svg", "png")
    }
    assert responses["json"].is_streamed and responses["csv"].is_streamed
    through_api = responses["json"].get_json()
    public = sorted(p["project"] for p in through_api["projects"] if p["project"] in ids.values())
    assert public == sorted(
        ids[t] for t in uploads if t not in ("Hidden", "Draft")
    )  # and the demo data's projects besides
    gathered, gathered_values = ComparisonInput(default_framework()), {}
    for project in sorted(through_api["projects"], key=lambda p: p["project"]):
        values = service.list_values(session, project["project"], include_superseded=False)
        gathered_values[project["project"]] = [service._as_value(v) for v in values]
        gathered.add(
            project["project"], project["title"], latest_totals(gathered_values[project["project"]])
        )
    reference = Comparison(gathered)
    assert through_api == reference.as_dict()
    assert through_api["projects"] == one_at_a_time(
        default_framework(),
        [
            (p["project"], p["title"], latest_totals(gathered_values[p["project"]]))
            for p in through_api["projects"]
        ],
    )
    assert responses["csv"].get_data(as_text=True) == "".join(comparison_csv(reference))
    with app.test_request_context():  # the API's charts name themes as the pages do
        words = chart_words("en")
    for fmt in ("svg", "png"):
        chart = charts.comparison_chart(reference, fmt, ids["Replaced"], words)
        assert responses[fmt].get_data() == chart, fmt
    rows = {p["title"]: p for p in through_api["projects"]}
    assert rows["Coverage changes"]["coverage"]["violence"] == 0.25  # endline: no deaths
    assert rows["Own indicator last"]["scores"]["violence"] is None  # its latest: own only
    assert rows["Replaced"]["scores"]["violence"] == 75.0
    assert (
        rows["Cluster and weighted surveys"]["intervals"]["violence"]
        != (rows["Every theme, one period"]["intervals"]["violence"])
    )


def one_at_a_time(framework, projects) -> list[dict]:
    """The comparison's rows by their definitions, project by project: each one's theme
    scores as its report computes them (``theme_scores``), and rank ranges by counting the
    intervals wholly above and not wholly below."""
    from metrics.report import theme_scores

    rows = []
    for project_id, title, totals in projects:
        themes = theme_scores(framework, totals) if totals is not None else {}
        rows.append(
            {
                "project": project_id,
                "title": title,
                "scores": {k: t["score"] for k, t in themes.items()},
                "intervals": {k: t["interval"] for k, t in themes.items()},
                "coverage": {k: t["coverage"]["ratio"] for k, t in themes.items()},
                "rank": {},
            }
        )
    for theme in framework.themes:
        scored = [r for r in rows if r["scores"].get(theme.key) is not None]
        for row in rows:
            low, high = row["intervals"].get(theme.key) or (None, None)
            row["rank"][theme.key] = (
                {
                    "best": 1 + sum(1 for o in scored if o["intervals"][theme.key][0] > high),
                    "worst": sum(1 for o in scored if o["intervals"][theme.key][1] >= low),
                    "of": len(scored),
                }
                if row in scored
                else None
            )
    return rows


def test_rounding_in_bulk_is_pythons_round_to_the_last_bit():
    """NumPy's round is not correctly rounded (``np.round(2.675, 2)`` is 2.68, Python's
    ``round`` gives 2.67): the comparison rounds as the reports do, ties included."""
    import random

    import numpy as np

    from metrics.comparison import _round

    rng = random.Random(11)
    numbers = [rng.uniform(0, 100) for _ in range(20000)]
    numbers += [k / 1000 for k in range(0, 100001, 5)]  # every tie at two decimals
    numbers += [x + d for x in (2.675, 0.125, 57.345) for d in (-1e-12, 0.0, 1e-12)]
    numbers += [0.0, 100.0, math.nan]
    bulk = _round(np.array(numbers)).tolist()
    expected = [round(x, 2) for x in numbers]
    assert bulk[:-1] == expected[:-1] and math.isnan(bulk[-1])


def test_the_comparison_written_as_text_is_the_json_and_the_csv_of_its_rows():
    """JSON and CSV are written straight from the figures; they say what ``rows`` says,
    cell for cell (a title that looks like a formula neutralised, blanks where None)."""
    from metrics import default_framework
    from metrics.comparison import Comparison, ComparisonInput, latest_totals
    from metrics.export import comparison_csv, comparison_json
    from metrics.report import Value

    day = date(2025, 1, 1)
    gathered = ComparisonInput(default_framework())
    projects = [
        ("p1", 'Quotes " and ünïcode', [Value("feels_safe", "a", day, day, 41.5, 300)]),
        ("p2", "No values", []),
        ("p3", "Groups only", [Value("feels_safe", "a", day, day, 50, 90, (("sex", "f"),))]),
        ("p4", "Deaths", [Value("conflict_deaths", "a", day, day, 0.0)]),
        ("p5", "=1+2, a formula", [Value("feels_safe", "a", day, day, 77.25, 1200)]),
    ]
    for project_id, title, values in projects:
        gathered.add(project_id, title, latest_totals(values))
    comparison = Comparison(gathered)
    rows = list(comparison.rows())
    assert list(comparison.json_rows()) == [json.dumps(r, separators=(",", ":")) for r in rows]
    assert json.loads("".join(comparison_json(comparison))) == comparison.as_dict()
    assert "".join(comparison_csv(comparison)) == csv_of_rows(comparison, rows)


def csv_of_rows(comparison, rows: list[dict]) -> str:
    """The comparison's CSV by its definition: a row per project from ``rows``, every cell
    through ``spreadsheet_safe``."""
    themes = list(comparison.distribution)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ("score", "low", "high", "rank_best", "rank_worst", "coverage")
    writer.writerow(["project", "title", *[f"{t}_{c}" for t in themes for c in columns]])
    for row in rows:
        cells = [row["project"], row["title"]]
        for t in themes:
            low, high = row["intervals"].get(t) or ("", "")
            rank = row["rank"].get(t) or {}
            score, coverage = row["scores"].get(t), row["coverage"].get(t)
            cells += ["" if score is None else score, low, high]
            cells += [rank.get("best", ""), rank.get("worst", "")]
            cells.append("" if coverage is None else coverage)
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue()
