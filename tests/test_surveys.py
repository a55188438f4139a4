"""Raw survey responses from KoboToolbox and ODK: a saved mapping, weighted percentages with
Kish's effective sample size, groups, and the respondents' privacy (only aggregates kept)."""

import copy

import pytest
from sqlalchemy import text

from tests.kobo_export import MAPPING, expected, kobo_csv, kobo_xlsx, respondents

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERSONAL = ("Aminata", "+232 76", "machetes", "collect:", "kenema_enum_1", "7.8")


@pytest.fixture
def project(client, org):
    body = {
        "actor_id": org["actor_id"],
        "title": "Household survey in Kenema",
        "countries": ["SL"],
        "status": "published",
    }
    response = client.post("/api/v1/projects", json=body, headers=org["member"])
    assert response.status_code == 201, response.get_json()
    project_id = response.get_json()["id"]
    saved = client.put(
        f"/api/v1/projects/{project_id}/survey-mappings/household",
        json=MAPPING,
        headers=org["member"],
    )
    assert saved.status_code == 200, saved.get_json()
    return project_id


def import_export(client, org, project_id, body, content_type="text/csv", **params):
    return client.post(
        f"/api/v1/projects/{project_id}/surveys",
        data=body,
        content_type=content_type,
        headers=org["member"],
        query_string={"mapping": "household", "period": "baseline", **params},
    )


def test_a_kobo_export_becomes_weighted_percentages_with_kish_effective_sizes(
    client, org, project, session
):
    rows = respondents()
    response = import_export(client, org, project, kobo_csv(rows))
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["respondents"] == 600
    assert (result["start"], result["end"]) == ("2025-10-06", rows[-1]["today"])
    computed = {(v["measure"], v["disaggregation"].get("sex")): v for v in result["values"]}
    assert result["stored"] == len(computed) == 9  # three measures: total, women, men
    for question in MAPPING["questions"]:
        for sex in (None, "female", "male"):
            share, n, kish = expected(
                rows,
                question["question"],
                set(question["positive"]),
                set(question.get("exclude", [])),
                sex,
            )
            value = computed[(question["measure"], sex)]
            assert value["value"] == pytest.approx(share, abs=1e-4)
            assert value["sample_size"] == n
            assert value["effective_sample_size"] == pytest.approx(kish, abs=0.01)
            assert value["effective_sample_size"] < n  # weights cost precision
    # Women are weighted up: the weighted share differs from the raw count's.
    safe = computed[("feels_safe", None)]
    answered = [r for r in rows if r["safety/feels_safe"] not in ("", "dont_know")]
    raw = (
        100 * sum(r["safety/feels_safe"] in ("safe", "very_safe") for r in answered) / len(answered)
    )
    assert abs(safe["value"] - raw) > 0.5
    # Stored like any value; the report's intervals use the effective sample size.
    report = client.get(f"/api/v1/projects/{project}/report").get_json()
    measure = report["measures"]["feels_safe"]["baseline"]
    assert measure["effective_sample_size"] == round(safe["effective_sample_size"], 1)
    assert measure["design_effect"] > 1
    breakdown = {g["group"]["sex"]: g for g in report["breakdowns"]["feels_safe"]["baseline"]}
    assert set(breakdown) == {"female", "male"}
    # Only the aggregates are stored: nothing of the respondents' rows, anywhere.
    assert session.execute(text("SELECT count(*) FROM survey_responses")).scalar() == 0
    stored = session.execute(
        text("SELECT string_agg(t::text, ' ') FROM indicator_values t WHERE project_id = :p"),
        {"p": project},
    ).scalar()
    assert not [p for p in PERSONAL if p in stored]
    assert "survey export, mapping 'household': 600 responses, weighted" in stored


def test_the_same_export_as_xlsx_gives_the_same_values(client, org, project):
    rows = respondents(seed=5, count=300)
    as_csv = import_export(client, org, project, kobo_csv(rows, delimiter=","))
    as_xlsx = import_export(client, org, project, kobo_xlsx(rows), XLSX, period="endline")
    assert as_csv.status_code == 201 and as_xlsx.status_code == 201, as_xlsx.get_json()

    def values(response):
        return sorted(
            (v["measure"], str(v["disaggregation"]), v["value"], v["sample_size"])
            for v in response.get_json()["values"]
        )

    assert values(as_csv) == values(as_xlsx)


def test_respondents_answers_are_kept_only_when_asked_and_only_the_mapped_columns(
    client, org, project
):
    rows = respondents(seed=3, count=120)
    response = import_export(client, org, project, kobo_csv(rows), keep_responses="true")
    assert response.status_code == 201, response.get_json()
    upload = response.get_json()["responses_kept"]
    kept = client.get(
        f"/api/v1/projects/{project}/surveys/{upload}/responses", headers=org["member"]
    )
    assert kept.status_code == 200
    answers = kept.get_json()
    assert len(answers) == 120 and answers[0]["line"] == 2
    columns = {
        "safety/feels_safe",
        "polarisation/willing_violence",
        "agency/actions",
        "weight",
        "_submission_time",
        "demographics/sex",
    }
    assert all(set(a["answers"]) == columns for a in answers)
    assert not [p for p in PERSONAL if p in str(answers)]
    outsider = client.get(
        f"/api/v1/projects/{project}/surveys/{upload}/responses", headers=org["outsider"]
    )
    assert outsider.status_code == 403
    assert client.get(f"/api/v1/projects/{project}/surveys/{upload}/responses").status_code == 401


def test_small_groups_are_suppressed_not_published(client, org, project):
    rows = respondents(seed=8, count=90)  # about 45 per sex, fewer for some questions
    mapping = copy.deepcopy(MAPPING)
    mapping["groups"] = {"district": "demographics/district", "sex": "demographics/sex"}
    client.put(
        f"/api/v1/projects/{project}/survey-mappings/household",
        json=mapping,
        headers=org["member"],
    )
    result = import_export(client, org, project, kobo_csv(rows)).get_json()
    suppressed = {(s["measure"], tuple(s["disaggregation"].items())) for s in result["suppressed"]}
    assert suppressed and all(s["respondents"] < 30 for s in result["suppressed"])
    published = {(v["measure"], tuple(v["disaggregation"].items())) for v in result["values"]}
    assert not suppressed & published
    assert all(v["sample_size"] >= 30 for v in result["values"])


def test_every_bad_line_of_an_export_is_named_and_nothing_is_stored(client, org, project):
    rows = respondents(seed=2, count=60)
    rows[4]["safety/feels_safe"] = "somewhat_safe"  # not a choice of the mapping
    rows[9]["weight"] = "-1"
    rows[11]["agency/actions"] = "petition march"
    response = import_export(client, org, project, kobo_csv(rows))
    assert response.status_code == 422
    assert [(r["line"], r["column"]) for r in response.get_json()["errors"]["rows"]] == [
        (6, "safety/feels_safe"),
        (11, "weight"),
        (13, "agency/actions"),
    ]
    assert "'somewhat_safe' is not one of the mapping's choices" in response.get_json()["detail"]
    assert client.get(f"/api/v1/projects/{project}/values").get_json() == []
    missing = import_export(
        client, org, project, kobo_csv(rows).replace("safety/feels_safe", "safety/q1")
    )
    assert missing.status_code == 422
    assert missing.get_json()["errors"]["rows"][0] == {
        "line": 1,
        "column": "safety/feels_safe",
        "reason": "column of the mapping is missing from the export",
    }
    again = import_export(client, org, project, kobo_csv(respondents(count=60)))
    assert again.status_code == 201
    repeated = import_export(client, org, project, kobo_csv(respondents(count=60)))
    assert repeated.status_code == 422
    assert repeated.get_json()["errors"]["values"][0]["value"] == "feels_safe"
    assert "send replace=true" in repeated.get_json()["errors"]["values"][0]["reason"]
    unknown = import_export(client, org, project, "a,b\n1,2\n", mapping="nonesuch")
    assert unknown.status_code == 404


def test_a_mapping_is_checked_against_the_projects_framework(client, org, project):
    bad = copy.deepcopy(MAPPING)
    bad["questions"][0]["measure"] = "conflict_deaths"
    bad["questions"][1]["negative"] = ["no", "yes"]
    bad["questions"][2]["measure"] = "feels_safe"
    response = client.put(
        f"/api/v1/projects/{project}/survey-mappings/other",
        json=bad,
        headers=org["member"],
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["mapping"] == [
        "questions[0].measure: conflict_deaths is not a survey measure (a percentage)",
        "questions[1]: a choice is in two lists: yes",
    ]
    named = client.put(
        f"/api/v1/projects/{project}/survey-mappings/Bad Name!",
        json=MAPPING,
        headers=org["member"],
    )
    assert named.status_code == 422
    outsider = client.put(
        f"/api/v1/projects/{project}/survey-mappings/household",
        json=MAPPING,
        headers=org["outsider"],
    )
    assert outsider.status_code == 403
    listed = client.get(f"/api/v1/projects/{project}/survey-mappings").get_json()
    assert [m["name"] for m in listed] == ["household"]


def test_an_odk_central_export_with_its_own_headers_works_too(client, org, project):
    odk = {
        "questions": [
            {
                "measure": "inclusive_decisions",
                "question": "governance-inclusive",
                "positive": ["agree", "strongly_agree"],
                "negative": ["disagree", "strongly_disagree"],
                "exclude": ["dont_know"],
            }
        ]
    }
    assert (
        client.put(
            f"/api/v1/projects/{project}/survey-mappings/odk", json=odk, headers=org["member"]
        ).status_code
        == 200
    )
    lines = ["SubmissionDate,meta-instanceID,governance-inclusive,KEY"]
    answers = ["agree"] * 14 + ["strongly_agree"] * 6 + ["disagree"] * 18 + ["dont_know"] * 2
    for i, answer in enumerate(answers):
        lines.append(f"2025-03-{1 + i % 28:02d}T10:00:00.000Z,uuid:{i},{answer},uuid:{i}")
    response = client.post(
        f"/api/v1/projects/{project}/surveys",
        data="\n".join(lines) + "\n",
        content_type="text/csv",
        headers=org["member"],
        query_string={"mapping": "odk", "period": "spring"},
    )
    assert response.status_code == 201, response.get_json()
    (value,) = response.get_json()["values"]
    assert (value["value"], value["sample_size"]) == (pytest.approx(100 * 20 / 38, abs=1e-4), 38)
    assert "effective_sample_size" not in value  # no weights: a simple count
    assert (response.get_json()["start"], response.get_json()["end"]) == (
        "2025-03-01",
        "2025-03-28",
    )
