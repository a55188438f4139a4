"""Projects, indicator data and reports through the API: the whole calculator flow."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from metrics import compute_report, default_framework
from metrics.data import read_csv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "metrics" / "examples" / "worked-example.csv"


def create_project(client, org, **overrides):
    body = {
        "actor_id": org["actor_id"],
        "title": "Dialogue clubs in Kenema",
        "countries": ["SL"],
        "population": 200000,
        "start_on": "2024-01-01",
        "end_on": "2025-12-31",
        "themes": ["youth"],
        "status": "published",
        **overrides,
    }
    response = client.post("/api/v1/projects", json=body, headers=org["member"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def upload(client, headers, project_id, body, content_type="text/csv", **params):
    return client.post(
        f"/api/v1/projects/{project_id}/values/bulk",
        data=body,
        content_type=content_type,
        headers=headers,
        query_string=params,
    )


def test_the_calculator_from_data_to_report(client, org):
    project_id = create_project(client, org)
    response = upload(client, org["member"], project_id, EXAMPLE.read_text())
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"stored": 17}

    report = client.get(f"/api/v1/projects/{project_id}/report").get_json()
    values = [v for _, v, _ in read_csv(default_framework(), EXAMPLE.read_text().splitlines())]
    offline = compute_report(default_framework(), values)
    for key in ("themes", "overall", "change", "measures", "breakdowns", "framework"):
        assert report[key] == offline[key], key  # the API and `python -m metrics` agree
    assert report["themes"]["violence"]["endline"]["score"] == 50.8
    assert report["project"]["title"] == "Dialogue clubs in Kenema"
    assert report["method"]["reference"] == "metrics/METHODOLOGY.md"

    as_csv = client.get(f"/api/v1/projects/{project_id}/report?format=csv")
    assert as_csv.content_type.startswith("text/csv")
    assert "theme,violence,endline,,50.8" in as_csv.get_data(as_text=True)
    svg = client.get(f"/api/v1/projects/{project_id}/report?format=svg")
    assert svg.content_type.startswith("image/svg+xml") and b"<svg" in svg.data
    assert b'<title id="chart-title">Dialogue clubs in Kenema: theme scores' in svg.data
    png = client.get(f"/api/v1/projects/{project_id}/report?format=png")
    assert png.content_type == "image/png" and png.data.startswith(b"\x89PNG")
    bad = client.get(f"/api/v1/projects/{project_id}/report?baseline=midline")
    assert bad.status_code == 422


def test_bulk_upload_is_all_or_nothing_and_names_every_bad_row(client, org):
    project_id = create_project(client, org)
    csv = "\n".join(
        [
            "measure,period,start,end,value,sample_size",
            "feels_safe,baseline,2024-01-01,2024-03-31,42,400",
            "feels_safe,endline,2025-10-01,2025-12-31,155,380",
            "takes_action,endline,2025-10-01,2025-12-31,37,",
            "peace,endline,2025-10-01,2025-12-31,1,",
            "feels_safe,baseline,2024-01-01,2024-03-31,43,400",
        ]
    )
    response = upload(client, org["member"], project_id, csv)
    assert response.status_code == 422
    rows = response.get_json()["errors"]["rows"]
    assert [(r["line"], r["column"]) for r in rows] == [
        (3, "value"),
        (4, "sample_size"),
        (5, "measure"),
        (6, "measure"),
    ]
    assert "nothing was stored" in response.get_json()["detail"]
    assert client.get(f"/api/v1/projects/{project_id}/values").get_json() == []
    header = upload(client, org["member"], project_id, "measure,when,value\n")
    assert {r["column"] for r in header.get_json()["errors"]["rows"]} == {
        "period",
        "start",
        "end",
        "when",
    }


def test_bulk_upload_as_json_and_ndjson(client, org):
    project_id = create_project(client, org)
    import json

    items = [
        {
            "measure": "takes_action",
            "period": "baseline",
            "start": "2024-01-01",
            "end": "2024-01-31",
            "value": 28,
            "sample_size": 400,
        },
        {
            "measure": "takes_action",
            "period": "baseline",
            "start": "2024-01-01",
            "end": "2024-01-31",
            "value": 20,
            "sample_size": 200,
            "disaggregation": {"sex": "female"},
        },
    ]
    assert upload(
        client, org["member"], project_id, json.dumps(items), "application/json"
    ).get_json() == {"stored": 2}
    lines = (
        json.dumps({**items[0], "period": "endline", "start": "2025-01-01", "end": "2025-01-31"})
        + "\n{broken\n"
    )
    response = upload(client, org["member"], project_id, lines, "application/x-ndjson")
    assert response.status_code == 422 and response.get_json()["errors"]["rows"] == [
        {"line": 2, "column": "line", "reason": "is not valid JSON"}
    ]
    wrong = upload(
        client, org["member"], project_id, json.dumps([{"measure": 3}]), "application/json"
    )
    assert {r["column"] for r in wrong.get_json()["errors"]["rows"]} >= {
        "measure",
        "period",
        "value",
    }
    assert upload(client, org["member"], project_id, "x", "text/plain").status_code == 415


def test_duplicates_are_409_unless_replaced_and_history_is_kept(client, org):
    project_id = create_project(client, org)
    value = {
        "measure": "feels_safe",
        "period": "baseline",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": 42,
        "sample_size": 400,
    }
    url = f"/api/v1/projects/{project_id}/values"
    assert client.post(url, json=value, headers=org["member"]).status_code == 201
    duplicate = client.post(url, json={**value, "value": 44}, headers=org["member"])
    assert duplicate.status_code == 409 and "replace=true" in duplicate.get_json()["detail"]
    assert (
        client.post(
            f"{url}?replace=true", json={**value, "value": 44}, headers=org["member"]
        ).status_code
        == 201
    )
    current = client.get(url).get_json()
    assert [v["value"] for v in current] == [44.0]
    history = client.get(f"{url}?include_superseded=true").get_json()
    old = next(v for v in history if v["value"] == 42.0)
    assert old["superseded_at"] is not None and old["superseded_by"] == current[0]["id"]
    bulk = upload(
        client,
        org["member"],
        project_id,
        "measure,period,start,end,value,sample_size\nfeels_safe,baseline,2024-01-01,2024-03-31,45,400\n",
    )
    assert bulk.status_code == 422
    assert (
        upload(
            client,
            org["member"],
            project_id,
            "measure,period,start,end,value,sample_size\nfeels_safe,baseline,2024-01-01,2024-03-31,45,400\n",
            replace="true",
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"value": -1}, "value", "outside the valid range"),
        ({"sample_size": None}, "sample_size", "is required for the survey measure"),
        ({"sample_size": 12}, "sample_size", "at least 30"),
        ({"measure": "happiness"}, "measure", "is not a measure"),
        ({"end": "2023-01-01"}, "end", "is before start"),
        ({"pillar": "rumours"}, "pillar", "must be one of"),
    ],
)
def test_values_are_validated_against_the_framework(client, org, change, column, reason):
    project_id = create_project(client, org)
    value = {
        "measure": "feels_safe",
        "period": "baseline",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": 42,
        "sample_size": 400,
        **change,
    }
    response = client.post(
        f"/api/v1/projects/{project_id}/values", json=value, headers=org["member"]
    )
    assert response.status_code == 422
    (row,) = response.get_json()["errors"]["rows"]
    assert row["column"] == column and reason in row["reason"]


def test_projects_own_indicators_are_scored(client, org):
    project_id = create_project(client, org)
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
        f"/api/v1/projects/{project_id}/indicators", json=indicator, headers=org["member"]
    )
    assert created.status_code == 201 and created.get_json()["pillar"] == "lived_experiences"
    taken = client.post(
        f"/api/v1/projects/{project_id}/indicators",
        json={**indicator, "key": "feels_safe"},
        headers=org["member"],
    )
    assert taken.status_code == 422
    csv = "measure,period,start,end,value,sample_size\ncement_houses,baseline,2024-01-01,2024-01-31,12,300\ntakes_action,baseline,2024-01-01,2024-01-31,40,300\n"
    assert upload(client, org["member"], project_id, csv).status_code == 201
    report = client.get(f"/api/v1/projects/{project_id}/report").get_json()
    agency = report["themes"]["agency"]["baseline"]
    assert agency["score"] == 26.0 and agency["coverage"]["present"] == [
        "takes_action",
        "cement_houses",
    ]


def test_who_may_touch_a_project(client, org, make_actor, make_user, login, admin):
    project_id = create_project(client, org, status="draft")
    assert client.get(f"/api/v1/projects/{project_id}").status_code == 404
    assert client.get(f"/api/v1/projects/{project_id}/report").status_code == 404
    assert client.get(f"/api/v1/projects/{project_id}", headers=org["member"]).status_code == 200
    assert client.get(f"/api/v1/projects/{project_id}", headers=admin).status_code == 200
    value = {
        "measure": "takes_action",
        "period": "b",
        "start": "2024-01-01",
        "end": "2024-01-02",
        "value": 5,
        "sample_size": 100,
    }
    outsider_post = client.post(
        f"/api/v1/projects/{project_id}/values", json=value, headers=org["outsider"]
    )
    assert outsider_post.status_code == 404  # a draft of another organisation: not even confirmed
    other_org = make_actor(name="Another Org")
    other_member = login(make_user(member_of=other_org))
    published = create_project(client, org)
    assert (
        client.post(
            f"/api/v1/projects/{published}/values", json=value, headers=other_member
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/projects",
            json={"actor_id": org["actor_id"], "title": "x"},
            headers=other_member,
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/projects", json={"actor_id": org["actor_id"], "title": "x"}
        ).status_code
        == 401
    )
    patched = client.patch(
        f"/api/v1/projects/{published}",
        json={"title": "Renamed"},
        headers={**org["member"], "If-Match": '"v1"'},
    )
    assert patched.status_code == 200 and patched.get_json()["title"] == "Renamed"


def test_comparison_across_projects(client, org, make_actor, make_user, login):
    first = create_project(client, org)
    upload(client, org["member"], first, EXAMPLE.read_text())
    kenya_org = make_actor(
        name="Isiolo Peace Forum", location={"type": "Point", "coordinates": [37.58, 0.35]}
    )
    kenya = {"actor_id": str(kenya_org.id), "member": login(make_user(member_of=kenya_org))}
    second = create_project(client, kenya, title="Isiolo grazing agreements", countries=["KE"])
    upload(
        client,
        kenya["member"],
        second,
        "measure,period,start,end,value,sample_size\nfeels_safe,baseline,2024-01-01,2024-01-31,70,300\n",
    )
    create_project(client, org, title="Draft, not compared", status="draft")

    comparison = client.get("/api/v1/reports/comparison").get_json()
    titles = {row["title"]: row for row in comparison["projects"]}
    assert set(titles) == {"Dialogue clubs in Kenema", "Isiolo grazing agreements"}
    assert titles["Isiolo grazing agreements"]["scores"]["violence"] == 70.0
    assert titles["Dialogue clubs in Kenema"]["scores"]["violence"] == 50.8  # its latest period
    assert comparison["distribution"]["violence"]["median"] == 60.4
    isiolo = titles["Isiolo grazing agreements"]
    assert isiolo["intervals"]["violence"][0] < 70.0 < isiolo["intervals"]["violence"][1]
    assert isiolo["rank"]["violence"] == {"best": 1, "worst": 1, "of": 2}  # intervals apart
    assert any(c.startswith("violence:") for c in comparison["caveats"])
    only_kenya = client.get("/api/v1/reports/comparison?country=KE").get_json()
    assert [row["title"] for row in only_kenya["projects"]] == ["Isiolo grazing agreements"]
    as_csv = client.get("/api/v1/reports/comparison?format=csv").get_data(as_text=True)
    assert as_csv.splitlines()[0].startswith(
        "project,title,violence_score,violence_low,violence_high,violence_rank_best"
    )
    chart = client.get(f"/api/v1/reports/comparison?format=svg&highlight={first}")
    assert chart.content_type.startswith("image/svg+xml")


def test_bulk_retries_are_idempotent(client, org):
    project_id = create_project(client, org)
    headers = {**org["member"], "Idempotency-Key": "upload-2025-11"}
    body = "measure,period,start,end,value,sample_size\ntakes_action,baseline,2024-01-01,2024-01-31,28,400\n"
    assert upload(client, headers, project_id, body).status_code == 201
    again = upload(client, headers, project_id, body)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get(f"/api/v1/projects/{project_id}/values").get_json()) == 1


def test_a_cluster_survey_carries_its_design_effect_through_the_api(client, org):
    project_id = create_project(client, org)
    body = (
        "measure,period,start,end,value,sample_size,design_effect,effective_sample_size\n"
        "feels_safe,baseline,2024-01-01,2024-03-31,42,400,2,\n"
        "takes_action,baseline,2024-01-01,2024-03-31,28,400,,150.5\n"
    )
    assert upload(client, org["member"], project_id, body).status_code == 201
    posted = client.post(
        f"/api/v1/projects/{project_id}/values",
        json={
            "measure": "willing_violence",
            "period": "baseline",
            "start": "2024-01-01",
            "end": "2024-03-31",
            "value": 30,
            "sample_size": 400,
            "design_effect": 1.6,
        },
        headers=org["member"],
    )
    assert posted.status_code == 201, posted.get_json()
    stored = {
        v["measure"]: v for v in client.get(f"/api/v1/projects/{project_id}/values").get_json()
    }
    assert (
        stored["feels_safe"]["design_effect"],
        stored["feels_safe"]["effective_sample_size"],
    ) == (2.0, None)
    assert stored["takes_action"]["effective_sample_size"] == 150.5
    measures = client.get(f"/api/v1/projects/{project_id}/report").get_json()["measures"]
    safe = measures["feels_safe"]["baseline"]
    assert (safe["sample_size"], safe["effective_sample_size"], safe["design_effect"]) == (
        400,
        200.0,
        2.0,
    )
    assert safe["value_interval"] == [35.37, 48.93]  # Wilson for 42% of 200, not of 400
    assert measures["willing_violence"]["baseline"]["effective_sample_size"] == 250.0

    both = upload(
        client,
        org["member"],
        project_id,
        "measure,period,start,end,value,sample_size,design_effect,effective_sample_size\n"
        "feels_less_human,baseline,2024-01-01,2024-03-31,20,400,2,200\n"
        "inclusive_decisions,baseline,2024-01-01,2024-03-31,20,400,-1,\n",
    )
    assert both.status_code == 422
    assert [(r["line"], r["column"]) for r in both.get_json()["errors"]["rows"]] == [
        (2, "effective_sample_size"),
        (3, "design_effect"),
    ]
    negative = client.post(
        f"/api/v1/projects/{project_id}/values",
        json={
            "measure": "service_satisfaction",
            "period": "baseline",
            "start": "2024-01-01",
            "end": "2024-03-31",
            "value": 30,
            "sample_size": 400,
            "design_effect": 0,
        },
        headers=org["member"],
    )
    assert negative.status_code == 422, negative.get_json()
    assert "design_effect" in str(negative.get_json()["errors"]), negative.get_json()


def test_the_command_line_reproduces_a_report_with_the_projects_own_indicators(
    client, org, tmp_path
):
    project_id = create_project(client, org)
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
    assert (
        client.post(
            f"/api/v1/projects/{project_id}/indicators", json=indicator, headers=org["member"]
        ).status_code
        == 201
    )
    values = EXAMPLE.read_text() + (
        "cement_houses,baseline,2024-01-01,2024-03-31,12,400,,,household survey,\n"
        "cement_houses,endline,2025-10-01,2025-12-31,19,380,,,household survey,\n"
    )
    assert upload(client, org["member"], project_id, values).status_code == 201
    framework = client.get(f"/api/v1/projects/{project_id}/framework")
    assert framework.status_code == 200
    document = framework.get_json()
    assert document["measures"][-1]["key"] == "cement_houses"
    assert document["measures"][-1]["pillar"] == "lived_experiences"
    (tmp_path / "framework.json").write_text(json.dumps(document))
    (tmp_path / "values.csv").write_text(values)
    offline = subprocess.run(
        [
            sys.executable,
            "-m",
            "metrics",
            "report",
            "--framework",
            str(tmp_path / "framework.json"),
            "--data",
            str(tmp_path / "values.csv"),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    cli = json.loads(offline.stdout)
    report = client.get(f"/api/v1/projects/{project_id}/report").get_json()
    for key in ("framework", "themes", "overall", "change", "measures", "breakdowns"):
        assert report[key] == cli[key], key
    assert report["themes"]["agency"]["endline"]["coverage"]["present"] == [
        "takes_action",
        "cement_houses",
    ]
    # Without the project's framework, the command refuses the project's own measure.
    plain = subprocess.run(
        [sys.executable, "-m", "metrics", "report", "--data", str(tmp_path / "values.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert plain.returncode == 1 and "'cement_houses' is not a measure" in plain.stderr
    hidden = create_project(client, org, title="Draft", status="draft")
    assert client.get(f"/api/v1/projects/{hidden}/framework").status_code == 404


def test_an_indicator_with_disordered_or_infinite_goalposts_is_refused(client, org):
    project_id = create_project(client, org)
    indicator = {
        "key": "market_days",
        "name": "Market days a month",
        "theme": "agency",
        "unit": "days",
        "polarity": "higher_is_better",
        "valid_range": [0, 31],
        "goalposts": [30, 1],
    }
    response = client.post(
        f"/api/v1/projects/{project_id}/indicators", json=indicator, headers=org["member"]
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["indicator"] == [
        "measure.goalposts: must be ordered: min < max (got [30, 1])"
    ]
