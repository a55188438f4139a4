"""The Moderate and Report jobs in a real browser (tests/browser.py), each journey at phone
and desktop sizes, the moderator's and the flag's in Arabic too: a moderator approves a proposal; a contributor flags an
actor as endangering someone and it leaves the actor page, the map's list and its data; an
organisation member uploads a CSV with a bad row, fixes it and reads the report. axe-core
on every page; screenshots under tests/artifacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.moderation.models import Contribution
from tests.browser import _browser
from tests.conftest import PASSWORD
from tests.test_moderation import NEW_ACTOR, propose
from tests.test_projects import EXAMPLE, create_project

# Werkzeug's test server leaves a static file to the garbage collector when the browser
# drops a connection it no longer needs: not this project's leak, not an error here.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

BAD_ROW = "feels_safe,endline,2025-10-01,2025-12-31,155,380,,,household survey,\n"


@pytest.fixture(params=["phone", "desktop"])
def sized(request, _chromiums, live_server):
    """A journey at a phone's and a desktop's size (the others run in Arabic too)."""
    yield from _browser(_chromiums, request.param, live_server)


def sign_in(browser, user) -> None:
    browser.open("/sign-in")
    browser.fill("email", user.email)
    browser.fill("password", PASSWORD)
    browser.submit("password")


def looked_at(browser, name: str) -> None:
    """What every page of these jobs must be: accessible, no sideways scrolling, kept."""
    browser.assert_accessible()
    assert browser.overflows() == [], browser.path
    browser.screenshot(name)


def test_a_moderator_approves_a_proposal(browser, client, session, make_user, login):
    author = login(make_user())
    proposal = {**NEW_ACTOR, "name": "Lakeside Listening Circle"}
    contribution_id = propose(client, author, payload=proposal).get_json()["id"]
    sign_in(browser, make_user("moderator"))

    browser.open("/moderate")
    assert "Lakeside Listening Circle" in browser.text()
    looked_at(browser, "moderate-queue")
    browser.click(f'main a[href="/moderate/contributions/{contribution_id}"]')
    looked_at(browser, "moderate-review")
    browser.submit("#claim")
    browser.click("#decision-approve", navigates=False)
    browser.fill("reason", "Known to our partners in Kisumu")
    browser.submit("#record-decision")

    assert browser.path == "/moderate"
    assert browser.find(".notice").is_displayed()
    actor_id = session.get(Contribution, contribution_id).target_id
    browser.open(f"/actors/{actor_id}")
    assert browser.text("h1") == "Lakeside Listening Circle"
    browser.open(f"/moderate/log?item={contribution_id}")
    assert "approve" in browser.text()
    looked_at(browser, "moderate-log")


@pytest.fixture
def veteran(make_user, session):
    """A contributor with standing: an account of some weeks with approved contributions."""
    user = make_user()
    user.created_at = datetime.now(UTC) - timedelta(days=60)
    for _ in range(3):
        session.add(
            Contribution(kind="new_resource", author_id=user.id, state="approved", payload={})
        )
    session.commit()
    return user


def test_a_flag_for_endangering_someone_takes_the_actor_off_the_map(browser, make_actor, veteran):
    actor = make_actor(name="Safe House Collective")  # in Nairobi
    clusters = "/api/v1/actors/clusters?zoom=12&bbox=36,-2,38,0"  # what the map page draws
    browser.open(clusters)
    assert str(actor.id) in browser.text("body")
    browser.open("/?q=Safe+House+Collective")  # the map page's list
    assert "Safe House Collective" in browser.text("main")
    sign_in(browser, veteran)

    browser.open(f"/actors/{actor.id}")
    browser.click(f'a[href="/actors/{actor.id}/flag"]')
    looked_at(browser, "flag-form")
    browser.click("#reason-endangers_someone", navigates=False)
    browser.fill("note", "The photo shows the house where they shelter people")
    browser.submit("#send-flag")

    assert browser.path == "/"
    browser.open(f"/actors/{actor.id}")
    assert "Safe House Collective" not in browser.text("body")
    # Other addresses than before: public answers may be cached for a while by the browser
    # (PEACEMAP_PUBLIC_CACHE_SECONDS); what the server sends now is what is checked.
    browser.open(clusters.replace("bbox=36,", "bbox=35.9,"))
    assert str(actor.id) not in browser.text("body")
    browser.open("/?q=Safe+House")
    assert "Safe House Collective" not in browser.text("main")


def test_a_member_fixes_a_bad_row_and_reads_the_report(
    browser, client, make_actor, make_user, login, tmp_path
):
    organisation = make_actor(name="Kenema Peace Platform")
    member = make_user(member_of=organisation)
    org = {"actor_id": str(organisation.id), "member": login(member)}
    project_id = create_project(client, org, title="Dialogue clubs in Kenema")
    good = tmp_path / "values.csv"
    good.write_text(EXAMPLE.read_text())
    bad = tmp_path / "values-with-a-bad-row.csv"
    bad.write_text(EXAMPLE.read_text() + BAD_ROW)
    bad_line = len(EXAMPLE.read_text().splitlines()) + 1
    sign_in(browser, member)

    browser.open("/report")
    looked_at(browser, "report-home")
    browser.click_link("Kenema Peace Platform")
    looked_at(browser, "report-projects")
    browser.click(f'main a[href="/projects/{project_id}"]')
    browser.field("file").send_keys(str(bad))
    browser.submit("file")

    problems = browser.text("table.problems")
    assert f"{bad_line} value" in problems, problems
    assert browser.find(".error-summary").is_displayed()
    looked_at(browser, "report-upload-errors")
    browser.field("file").send_keys(str(good))
    browser.submit("file")
    assert browser.path == f"/projects/{project_id}"
    assert "feels_safe" in browser.text("table.values")

    browser.click(f'main a[href="/projects/{project_id}/report"]')
    assert browser.js("return document.querySelector('figure.chart img').naturalWidth") > 0
    assert browser.find("table.scores").is_displayed()
    looked_at(browser, "report-page")
    browser.open(f"/reports/comparison?actor_id={organisation.id}")
    assert "Dialogue clubs in Kenema" in browser.text("table.scores")
    looked_at(browser, "report-comparison")


def test_a_reader_pages_through_the_comparison_on_a_phone(
    phone, client, make_actor, make_user, login, monkeypatch
):
    from api.web import report

    monkeypatch.setattr(report, "SHOWN", 2)  # three projects on two pages, as 201 would be
    organisation = make_actor(name="Kenema Peace Platform")
    org = {"actor_id": str(organisation.id), "member": login(make_user(member_of=organisation))}
    for title in ("Clubs A", "Clubs B", "Clubs C"):
        project_id = create_project(client, org, title=title)
        client.post(
            f"/api/v1/projects/{project_id}/values/bulk",
            data=EXAMPLE.read_text(),
            content_type="text/csv",
            headers=org["member"],
        )

    phone.open(f"/reports/comparison?actor_id={org['actor_id']}")
    assert "Public projects that match: 3." in phone.text("#compared-count")
    looked_at(phone, "report-comparison-paged-phone")
    phone.click('a[rel="next"]')

    assert "page 2 of 2" in phone.text("#compared-count")
    assert len(phone.find_all("table.scores tbody tr")) == 1
    looked_at(phone, "report-comparison-page-2-phone")
