"""A net for English on translated pages: what the service layer says (schemas' and
services' refusals, workflow and permission problems, rows of an upload, notices after an
action, a batch's results) is shown in the reader's language. Each journey below makes a
page show such messages in French (and Arabic), and every message zone of the page
(error summary, field errors, notices, rows to fix, batch results) is searched for English.
Content inside a translated sentence (a title, a name) keeps its own direction.
"""

from __future__ import annotations

import html as html_module
import io
import re
import uuid

import pytest

from api.moderation.models import Contribution
from tests.conftest import form_token
from tests.test_moderation import NEW_ACTOR, propose
from tests.test_projects import EXAMPLE, create_project

ZONES = re.compile(
    r'<div class="error-summary".*?</div>|<p class="error-message".*?</p>'
    r'|<p class="notice".*?</p>|<table class="problems">.*?</table>|<ul class="results">.*?</ul>',
    re.S,
)
# Words of English sentences that none of the other interface languages uses.
ENGLISH = re.compile(
    r"\b(the|is|are|must|not|was|with|this|your|you|only|already|cannot|can't|should|has|"
    r"have|been|of|and|which|than|there|their|it|at least|at most|no longer|required)\b",
    re.I,
)
BAD_ROW = "feels_safe,endline,2025-10-01,2025-12-31,155,380,,,household survey,\n"
LATE_ROW = "feels_safe,endline,2025-12-31,2025-10-01,55,380,,,household survey,\n"


def english_in(page: str, *known: str) -> list[str]:
    """Sentences of the page's message zones that read as English (``known`` texts, such
    as names the test gave, left out)."""
    found = []
    for zone in ZONES.findall(page):
        text = html_module.unescape(re.sub(r"<[^>]+>", " ", zone))
        for name in known:
            text = text.replace(name, "")
        found += [s.strip() for s in re.split(r"(?<=[.:;])\s", text) if ENGLISH.search(s)]
    return found


def _post(client, form: str, action: str, reader: str, **fields):
    return client.post(
        action,
        data={**fields, "csrf_token": form_token(client, form)},
        headers={"Accept-Language": reader},
        content_type="multipart/form-data",
    )


@pytest.fixture(params=["fr", "ar"])
def language(request):
    return request.param


def test_account_refusals_are_in_the_readers_language(client, make_user, language):
    user = make_user()
    pages = [
        _post(client, "/sign-in", "/sign-in", language, email=user.email, password="wrong one"),
        _post(
            client,
            "/sign-up",
            "/sign-up",
            language,
            display_name="N" * 300,
            email="not an address",
            password="password",
        ),
        _post(
            client,
            "/reset-password/confirm",
            "/reset-password/confirm",
            language,
            token="pmr_unknown",
            password="lantern orchard quietly seventeen",
        ),
    ]

    assert [r.status_code for r in pages] == [401, 422, 422]
    assert [e for r in pages for e in english_in(r.get_data(as_text=True))] == []


def test_proposal_refusals_are_in_the_readers_language(client, make_user, web_sign_in, language):
    web_sign_in(client, make_user())
    pages = [
        _post(client, "/contribute/actor", "/contribute/actor", language, name="x" * 400),
        _post(
            client,
            "/contribute/actor",
            "/contribute/actor",
            language,
            kind="organisation",
            name="Valid Name",
            summary="s",
            language="en",
            themes="no_such_theme",
            latitude="200",
            longitude="36",
            location_precision="region",
        ),
        _post(
            client,
            "/contribute/resource",
            "/contribute/resource",
            language,
            url="javascript:alert(1)",
        ),
        _post(client, "/contribute/observation", "/contribute/observation", language),
    ]

    assert [r.status_code for r in pages] == [422, 422, 422, 422]
    assert [e for r in pages for e in english_in(r.get_data(as_text=True))] == []


def test_moderation_refusals_and_results_are_in_the_readers_language(
    client, session, make_user, login, web_sign_in, make_actor, language
):
    author = login(make_user())
    moderator = make_user("moderator")
    rejected = propose(client, author, payload={**NEW_ACTOR, "name": "Second Circle"})
    rejected_id = rejected.get_json()["id"]
    own = propose(client, login(moderator), payload={**NEW_ACTOR, "name": "Own Circle"})
    own_id = own.get_json()["id"]
    fresh_id = propose(client, author, payload={**NEW_ACTOR, "name": "Third"}).get_json()["id"]
    fresh = f"/moderate/contributions/{fresh_id}"
    web_sign_in(client, moderator)
    review = f"/moderate/contributions/{rejected_id}"
    _post(client, review, f"{review}/decision", "en", decision="reject", reason="Not a peace actor")
    actor = make_actor(name="Safe House Collective")
    flag = f"/actors/{actor.id}/flag"
    _post(client, flag, flag, "en", reason="outdated")

    pages = [
        _post(client, review, f"{review}/decision", language, decision="approve"),  # workflow
        _post(client, fresh, f"{fresh}/decision", language, decision="reject"),  # no reason
        _post(
            client,
            f"/moderate/contributions/{own_id}",
            f"/moderate/contributions/{own_id}/decision",
            language,
            decision="approve",
        ),  # four eyes
        _post(
            client,
            "/moderate",
            "/moderate/decisions",
            language,
            id=[rejected_id],
            decision="approve",
        ),
        _post(client, flag, flag, language, reason="outdated"),  # already flagged
    ]

    assert [r.status_code for r in pages] == [409, 422, 403, 200, 409]
    known = ("Second Circle", "Own Circle")
    assert [e for r in pages for e in english_in(r.get_data(as_text=True), *known)] == []
    assert session.get(Contribution, own_id).state == "submitted"


def test_upload_rows_and_value_refusals_are_in_the_readers_language(
    client, make_actor, make_user, login, web_sign_in, language
):
    organisation = make_actor(name="Kenema Peace Platform")
    member = make_user(member_of=organisation)
    org = {"actor_id": str(organisation.id), "member": login(member)}
    project_id = create_project(client, org, title="Dialogue clubs in Kenema")
    web_sign_in(client, member)
    project = f"/projects/{project_id}"
    text = EXAMPLE.read_text()
    bad = text + BAD_ROW + LATE_ROW + BAD_ROW.replace("155", "abc").replace("380", "-3")

    upload = _post(
        client,
        project,
        f"{project}/upload",
        language,
        file=(io.BytesIO(bad.encode()), "values.csv"),
    )

    assert upload.status_code == 422
    assert english_in(upload.get_data(as_text=True)) == []


def test_a_blocked_sender_and_a_bad_abuse_link_read_their_refusal_in_their_language(
    app, client, make_actor, make_user, web_sign_in, mailbox, language
):
    org = make_actor(name="Amani Women's Circle", kind="organisation")
    manager = make_user(email=f"manager-{uuid.uuid4().hex[:8]}@example.org", manager_of=org)
    web_sign_in(client, make_user())
    contact = f"/actors/{org.id}/contact"
    _post(client, contact, contact, "en", message="You will regret this.")
    (mail,) = mailbox(manager.email)
    link = re.search(r"http://[^/]+(/contact/abuse/\S+)", mail.get_content())[1]
    manager_client = web_sign_in(app.test_client(), manager)
    _post(manager_client, link, link, "en")

    blocked = _post(client, contact, contact, language, message="Still here.")

    assert blocked.status_code == 403
    assert english_in(blocked.get_data(as_text=True), "Amani Women's Circle") == []


def test_a_title_inside_an_arabic_sentence_keeps_its_own_direction(
    client, make_actor, make_user, login, web_sign_in
):
    organisation = make_actor(name="Kenema Peace Platform")
    member = make_user(member_of=organisation)
    org = {"actor_id": str(organisation.id), "member": login(member)}
    project_id = create_project(client, org, title="Dialogue <clubs> in Kenema")
    web_sign_in(client, member)
    arabic = {"Accept-Language": "ar"}

    report = client.get(f"/projects/{project_id}/report", headers=arabic).get_data(as_text=True)
    projects = client.get(f"/organisations/{organisation.id}/projects", headers=arabic)

    assert "<h1>التقرير: <bdi>Dialogue &lt;clubs&gt; in Kenema</bdi></h1>" in report
    assert "الإطار: <bdi>" in report  # the framework's name and version
    assert "<h1>مشاريع <bdi>Kenema Peace Platform</bdi></h1>" in projects.get_data(as_text=True)


def test_find_filter_refusals_are_in_the_readers_language(client, language):
    pages = [
        client.get(f"/?{query}", headers={"Accept-Language": language})
        for query in ("near=Atlantis", "near=200,100", "kind=warlord", "q=" + "x" * 201)
    ]
    pages += [
        client.get(f"{path}?{query}", headers={"Accept-Language": language})
        for path, query in (("/library", "type=rumour"), ("/observations", "theme=" + "x" * 300))
    ]

    assert [r.status_code for r in pages] == [422] * 6
    assert [e for r in pages for e in english_in(r.get_data(as_text=True))] == []


def test_a_refused_withdrawal_is_noticed_in_the_readers_language(
    client, session, make_user, login, web_sign_in, language
):
    author = make_user()
    contribution_id = propose(client, login(author)).get_json()["id"]
    session.get(Contribution, contribution_id).state = "approved"
    session.commit()
    web_sign_in(client, author)
    mine = f"/my/contributions/{contribution_id}"

    refused = _post(client, mine, f"{mine}/withdraw", language)
    page = client.get(refused.headers["Location"], headers={"Accept-Language": language})

    assert 'class="notice"' in page.get_data(as_text=True)
    assert english_in(page.get_data(as_text=True)) == []
