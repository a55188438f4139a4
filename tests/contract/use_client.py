"""A client developer's script on the Python client generated from Peacemap's OpenAPI
document (openapi-python-client): typed models in, typed models out.

    python use_client.py BASE_URL      (with the generated ``peacemap_client`` importable)

It lists actors anonymously, signs in as the demo organisation's manager, proposes a new
actor, creates a project, posts a value and reads the project's report. Every response is
parsed into the generated models, so a response that breaks the document fails here.
"""

from __future__ import annotations

import datetime
import sys
import uuid

from peacemap_client import AuthenticatedClient, Client
from peacemap_client.api.actors import actors_get_actors
from peacemap_client.api.auth import auth_get_me, auth_post_sign_in
from peacemap_client.api.contributions import contributions_post_contributions
from peacemap_client.api.projects import (
    projects_get_report,
    projects_post_projects,
    projects_post_values,
)
from peacemap_client.models import (
    ActorCreateWithoutStatusVerified,
    ActorCreateWithoutStatusVerifiedKind,
    ActorList,
    ActorsGetActorsKindItem,
    BulkResult,
    Contribution,
    IssuedToken,
    NewActorContribution,
    NewActorContributionKind,
    Project,
    ProjectCreate,
    Report,
    SignIn,
    User,
    Value,
)


def expect(parsed, model):
    assert isinstance(parsed, model), f"expected {model.__name__}, got {parsed!r}"
    return parsed


def main(base_url: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    actors = expect(
        actors_get_actors.sync(
            client=anonymous, kind=[ActorsGetActorsKindItem.ORGANISATION], country=["SL"]
        ),
        ActorList,
    )
    assert actors.items and all(actor.kind == "organisation" for actor in actors.items)

    token = expect(
        auth_post_sign_in.sync(
            client=anonymous,
            body=SignIn(email="manager@demo.peacemap.example", password="peacemap-demo-password"),
        ),
        IssuedToken,
    )
    manager = AuthenticatedClient(
        base_url=base_url, token=token.token, raise_on_unexpected_status=True
    )
    me = expect(auth_get_me.sync(client=manager), User)
    organisation_id = me.memberships[0].actor_id

    proposal = NewActorContribution(
        kind=NewActorContributionKind.NEW_ACTOR,
        payload=ActorCreateWithoutStatusVerified(
            kind=ActorCreateWithoutStatusVerifiedKind.ORGANISATION,
            name=f"Bo Women's Peace Circle {uuid.uuid4().hex[:6]}",
            language="en",
            location={"type": "Point", "coordinates": [-11.74, 7.96]},
            themes=["gender"],
        ),
    )
    contribution = expect(
        contributions_post_contributions.sync(client=manager, body=proposal), Contribution
    )
    assert contribution.state == "submitted"

    project = expect(
        projects_post_projects.sync(
            client=manager,
            body=ProjectCreate(
                title="Dialogue clubs in Bo", actor_id=organisation_id, countries=["SL"]
            ),
        ),
        Project,
    )
    expect(
        projects_post_values.sync(
            project.id,
            client=manager,
            body=Value(
                measure="arms_imports",
                period="baseline",
                start=datetime.date(2025, 1, 1),
                end=datetime.date(2025, 12, 31),
                value=12.5,
            ),
        ),
        BulkResult,
    )
    report = expect(projects_get_report.sync(project.id, client=manager), Report)
    assert report.framework.id and [p["label"] for p in report.periods] == ["baseline"]
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
