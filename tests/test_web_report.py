"""The Report job's pages: an organisation's projects, its indicators and values by form or
by CSV/XLSX upload with every bad row shown by line and column, the report page and the
comparison, each downloadable as the API exports them."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest

from api.web import report
from tests.conftest import form_token
from tests.test_projects import EXAMPLE, create_project
from tests.web import form_errors, page, submit

BAD_ROW = "feels_safe,endline,2025-10-01,2025-12-31,155,380,,,household survey,\n"


@pytest.fixture
def member_client(client, org, web_sign_in):
    return web_sign_in(client, org["user"])


def _csv_upload(client, project_id, text: str, name="values.csv", **fields):
    return submit(
        client,
        f"/projects/{project_id}",
        f"/projects/{project_id}/upload",
        {"file": (io.BytesIO(text.encode()), name), **fields},
        content_type="multipart/form-data",
    )


def test_the_report_home_lists_the_readers_organisations(member_client, org):
    html = page(member_client, "/report")

    assert f'href="/organisations/{org["actor_id"]}/projects">Kenema Peace Platform</a>' in html


def test_the_organisation_shows_its_drafts_to_members_only(client, member_client, org, make_user):
    create_project(client, org, title="Draft clubs", status="draft")
    create_project(client, org, title="Public clubs")
    path = f"/organisations/{org['actor_id']}/projects"

    assert "Draft clubs" in page(member_client, path)
    member_client.post("/sign-out", data={"csrf_token": form_token(member_client, "/report")})
    public = page(client, path)
    assert "Public clubs" in public and "Draft clubs" not in public


def test_an_upload_with_a_bad_row_names_its_line_and_column_and_stores_nothing(member_client, org):
    project_id = create_project(member_client, org)
    text = EXAMPLE.read_text()
    bad = text + BAD_ROW.replace("155", "abc")

    response = _csv_upload(member_client, project_id, bad + BAD_ROW)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#f-file"' in form_errors(html)
    lines = len(text.splitlines())
    assert f"<tr><td>{lines + 1}</td><td>value</td>" in html  # "abc": not a number
    assert f"<tr><td>{lines + 2}</td><td>value</td>" in html  # 155 %: out of range
    assert "No values yet." in html  # all or nothing

    fixed = _csv_upload(member_client, project_id, text)
    assert fixed.status_code == 303
    assert "17 values are stored." in page(member_client, f"/projects/{project_id}")


def test_an_xlsx_upload_goes_through_the_same_rules(member_client, org):
    project_id = create_project(member_client, org)
    workbook = openpyxl.Workbook()
    rows = list(csv.reader(io.StringIO(EXAMPLE.read_text() + BAD_ROW)))
    for row in rows:
        workbook.active.append(row)
    body = io.BytesIO()
    workbook.save(body)
    body.seek(0)

    response = submit(
        member_client,
        f"/projects/{project_id}",
        f"/projects/{project_id}/upload",
        {"file": (body, "values.xlsx")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert f"<tr><td>{len(rows)}</td><td>value</td>" in response.get_data(as_text=True)


def test_a_file_that_is_not_csv_or_xlsx_is_named(member_client, org):
    project_id = create_project(member_client, org)

    response = _csv_upload(member_client, project_id, "hello", name="notes.txt")

    assert response.status_code == 422
    assert "Choose a CSV or XLSX file." in form_errors(response.get_data(as_text=True))


def test_one_value_by_form_and_its_errors_by_field(member_client, org):
    project_id = create_project(member_client, org)
    form = f"/projects/{project_id}"
    value = {
        "measure": "feels_safe",
        "period": "baseline",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "value": "42",
        "sample_size": "400",
    }

    refused = submit(member_client, form, f"{form}/values", {**value, "value": "lots"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'href="#f-value"' in form_errors(html)
    assert 'value="lots"' in html and 'value="baseline"' in html  # what was typed stays

    stored = submit(member_client, form, f"{form}/values", value)
    assert stored.status_code == 303
    again = submit(member_client, form, f"{form}/values", value)
    assert again.status_code == 409  # a resubmission stores nothing twice
    assert page(member_client, form).count("<td>feels_safe</td>") == 1


def test_an_outsider_cannot_post_values(client, org, make_user, web_sign_in):
    project_id = create_project(client, org)
    web_sign_in(client, make_user())
    form = f"/projects/{project_id}"

    assert "Upload values" not in page(client, form)
    response = _csv_upload(client, project_id, EXAMPLE.read_text())
    assert response.status_code == 403


def test_the_project_declares_an_indicator_of_its_own(member_client, org):
    project_id = create_project(member_client, org)
    form = f"/projects/{project_id}"
    indicator = {
        "key": "cement_houses",
        "name": "Houses built of cement",
        "theme": "investment",
        "unit": "percent",
        "polarity": "higher_is_better",
        "valid_range_low": "0",
        "valid_range_high": "100",
        "goalposts_low": "0",
    }

    refused = submit(member_client, form, f"{form}/indicators", indicator)
    assert refused.status_code == 422
    assert 'href="#f-goalposts"' in form_errors(refused.get_data(as_text=True))

    declared = submit(
        member_client, form, f"{form}/indicators", {**indicator, "goalposts_high": "60"}
    )
    assert declared.status_code == 303
    html = page(member_client, form)
    assert "Houses built of cement" in html and '<option value="cement_houses"' in html


def test_the_report_page_shows_scores_intervals_coverage_change_and_the_chart(client, org):
    project_id = create_project(client, org)
    client.post(
        f"/api/v1/projects/{project_id}/values/bulk",
        data=EXAMPLE.read_text(),
        content_type="text/csv",
        headers=org["member"],
    )
    api = client.get(f"/api/v1/projects/{project_id}/report").get_json()

    html = page(client, f"/projects/{project_id}/report")

    violence = api["themes"]["violence"]["endline"]
    assert f"<strong>{violence['score']:.1f}</strong>" in html
    assert f"{violence['interval'][0]:.1f} to {violence['interval'][1]:.1f}" in html
    assert "2 of 4 measures" in html
    assert "Change from <bdi>baseline</bdi> to <bdi>endline</bdi>" in html and "improved" in html
    assert f'src="/projects/{project_id}/report.svg"' in html and "alt=" in html

    chart = client.get(f"/projects/{project_id}/report.svg")
    assert chart.mimetype == "image/svg+xml" and b"<desc" in chart.data
    as_json = client.get(f"/projects/{project_id}/report.json")
    assert json.loads(as_json.data)["themes"] == api["themes"]
    as_csv = client.get(f"/projects/{project_id}/report.csv")
    assert as_csv.data.decode() == client.get(
        f"/api/v1/projects/{project_id}/report?format=csv"
    ).get_data(as_text=True)


def test_an_unknown_period_is_named_and_the_whole_report_shown(client, org):
    project_id = create_project(client, org)
    client.post(
        f"/api/v1/projects/{project_id}/values/bulk",
        data=EXAMPLE.read_text(),
        content_type="text/csv",
        headers=org["member"],
    )

    response = client.get(f"/projects/{project_id}/report?baseline=nope")

    assert response.status_code == 422
    assert 'href="#f-baseline"' in form_errors(response.get_data(as_text=True))


def test_a_draft_report_is_not_found_for_the_public(client, org):
    project_id = create_project(client, org, status="draft")

    assert client.get(f"/projects/{project_id}/report").status_code == 404
    assert client.get(f"/projects/{project_id}/report.json").status_code == 404


def test_the_comparison_page_and_its_downloads(client, org):
    for title in ("Dialogue clubs A", "Dialogue clubs B"):
        project_id = create_project(client, org, title=title)
        client.post(
            f"/api/v1/projects/{project_id}/values/bulk",
            data=EXAMPLE.read_text(),
            content_type="text/csv",
            headers=org["member"],
        )

    html = page(client, f"/reports/comparison?actor_id={org['actor_id']}")

    assert "Dialogue clubs A" in html and "Dialogue clubs B" in html
    assert "rank 1 to 2" in html
    api = client.get(f"/api/v1/reports/comparison?actor_id={org['actor_id']}&format=csv")
    mine = client.get(f"/reports/comparison.csv?actor_id={org['actor_id']}")
    assert mine.data == api.data
    assert client.get(f"/reports/comparison.svg?actor_id={org['actor_id']}").mimetype == (
        "image/svg+xml"
    )


def test_the_comparison_pages_through_every_project_and_says_how_many(client, org, monkeypatch):
    monkeypatch.setattr(report, "SHOWN", 2)  # three projects on two pages, as 201 on two
    titles = {f"Dialogue clubs {letter}" for letter in "ABC"}
    for title in titles:
        project_id = create_project(client, org, title=title)
        client.post(
            f"/api/v1/projects/{project_id}/values/bulk",
            data=EXAMPLE.read_text(),
            content_type="text/csv",
            headers=org["member"],
        )
    path = f"/reports/comparison?actor_id={org['actor_id']}"

    first = page(client, path)
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first)[1].replace("&amp;", "&")
    second = page(client, next_link)

    assert "Public projects that match: 3." in first
    assert "Projects 1 to 2, page 1 of 2." in first and 'rel="prev"' not in first
    assert "Projects 3 to 3, page 2 of 2." in second and 'rel="next"' not in second
    assert f"actor_id={org['actor_id']}" in next_link
    shown = [t for html in (first, second) for t in titles if t in html]
    assert sorted(shown) == sorted(titles)
    for bad in ("3", "0", "two"):
        response = client.get(f"{path}&page={bad}")
        assert response.status_code == 404, bad
        assert "Choose a page from 1 to 2." in form_errors(response.get_data(as_text=True))


def test_a_bad_comparison_filter_is_named(client):
    response = client.get("/reports/comparison?country=Narnia")

    assert response.status_code == 422
    assert 'href="#f-country"' in form_errors(response.get_data(as_text=True))


@pytest.mark.parametrize("language", ["fr", "es", "ar", "ru", "sw"])
def test_the_report_pages_speak_every_language(client, org, member_client, language):
    project_id = create_project(member_client, org)
    _csv_upload(member_client, project_id, EXAMPLE.read_text() + BAD_ROW)  # rows to fix
    member_client.post(
        f"/api/v1/projects/{project_id}/values/bulk",
        data=EXAMPLE.read_text(),
        content_type="text/csv",
        headers=org["member"],
    )
    headers = {"Accept-Language": language}

    for path in (
        "/report",
        f"/projects/{project_id}",
        f"/projects/{project_id}/report",
        f"/reports/comparison?actor_id={org['actor_id']}",
    ):
        response = member_client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert f'<html lang="{language}"' in response.get_data(as_text=True)


def test_an_upload_sent_again_after_a_dropped_connection_stores_nothing_twice(
    member_client, org, session
):
    project_id = create_project(member_client, org)
    key = {"idempotency_key": "upload-1"}

    first = _csv_upload(member_client, project_id, EXAMPLE.read_text(), **key)
    again = _csv_upload(member_client, project_id, EXAMPLE.read_text(), **key)

    assert first.status_code == again.status_code == 303
    assert again.headers["Idempotent-Replayed"] == "true"
    assert page(member_client, f"/projects/{project_id}").count("<td>feels_safe</td>") == 3


def test_a_member_creates_a_project_then_edits_and_publishes_it(member_client, org, session):
    from api.projects.models import Project

    new = f"/organisations/{org['actor_id']}/projects/new"
    assert f'href="{new}"' in page(member_client, f"/organisations/{org['actor_id']}/projects")
    fields = {
        "title": "Dialogue clubs in Kenema",
        "description": "Monthly meetings.",
        "countries": "SL",
        "start_on": "2025-01-01",
        "end_on": "2025-12-31",
        "population": "120000",
        "themes": "mediation_dialogue",
        "status": "draft",
    }

    created = submit(member_client, new, new, fields)

    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    (project,) = session.query(Project).filter_by(actor_id=org["actor"].id).all()
    assert (project.title, project.countries, project.population) == (
        "Dialogue clubs in Kenema",
        ["SL"],
        120000,
    )
    assert project.status == "draft"

    edit = f"/projects/{project.id}/edit"
    form = page(member_client, edit)
    assert 'value="Dialogue clubs in Kenema"' in form
    version = re.search(r'name="version" value="(\d+)"', form)[1]
    changes = {**fields, "status": "published", "end_on": "", "version": version}
    edited = submit(member_client, edit, edit, changes)
    assert edited.status_code == 303, edited.get_data(as_text=True)[:3000]
    session.expire_all()
    saved = session.get(Project, project.id)
    assert saved.status == "published" and saved.end_on is None


def test_a_refused_project_names_each_field_and_writes_nothing(member_client, org, session):
    from api.projects.models import Project

    new = f"/organisations/{org['actor_id']}/projects/new"
    fields = {
        "title": "",
        "countries": "SL, XX",
        "start_on": "someday",
        "population": "many",
        "area": "the district",
        "status": "draft",
    }

    refused = submit(member_client, new, new, fields)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    summary = form_errors(html)
    for field in ("title", "countries", "start-on", "population", "area"):
        assert f'href="#f-{field}"' in summary, field
        assert f'id="f-{field}"' in html
    assert 'value="SL, XX"' in html and ">the district</textarea>" in html
    assert session.query(Project).filter_by(actor_id=org["actor"].id).count() == 0

    later = {"title": "T", "start_on": "2025-06-01", "end_on": "2025-01-01", "status": "draft"}
    refused = submit(member_client, new, new, later)
    assert refused.status_code == 422 and form_errors(refused.get_data(as_text=True))
    assert session.query(Project).filter_by(actor_id=org["actor"].id).count() == 0


def test_an_outsider_may_neither_create_nor_edit_a_project(client, org, make_user, web_sign_in):
    project_id = create_project(client, org)
    web_sign_in(client, make_user())

    assert client.get(f"/organisations/{org['actor_id']}/projects/new").status_code == 403
    assert client.get(f"/projects/{project_id}/edit").status_code in (403, 404)
    assert "/edit" not in page(client, f"/organisations/{org['actor_id']}/projects")


def test_a_project_changed_since_its_page_was_opened_is_not_overwritten(
    member_client, org, session
):
    from api.projects.models import Project

    project_id = create_project(member_client, org)
    edit = f"/projects/{project_id}/edit"
    version = re.search(r'name="version" value="(\d+)"', page(member_client, edit))[1]
    fields = {"title": "Year two", "status": "published", "version": version}

    first = submit(member_client, edit, edit, fields)
    stale = submit(member_client, edit, edit, {**fields, "title": "Lost update"})

    assert first.status_code == 303
    assert stale.status_code == 412
    assert "Someone changed this project" in form_errors(stale.get_data(as_text=True))
    assert 'value="Lost update"' in stale.get_data(as_text=True)
    session.expire_all()
    assert session.get(Project, project_id).title == "Year two"
