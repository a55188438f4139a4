"""Safety promises of issue 9 ("Safety at the edges"), each with the test that proves it.

A reviewer reads this list; ``test_every_listed_proof_exists`` fails if a named test is
renamed or removed, so the list stays true. The tests of this module itself are the first
promises (location).

Location: nobody outside the server learns more than an actor's chosen precision
- public point is the cell's stand-in, stored once, never jittered:
  test_privacy.py::test_public_location_is_the_cell_centre_not_the_exact_point,
  test_privacy.py::test_the_public_location_is_stored_once_not_jittered_per_request
- no public response carries the exact point or contacts:
  test_privacy.py::test_exact_coordinates_appear_in_no_public_response,
  test_maps.py::test_no_map_endpoint_gives_away_an_exact_location
- nor does a webhook or a digest, and an area subscription is no oracle on exact points:
  test_privacy.py::test_a_webhook_payload_carries_no_exact_point_or_contact,
  test_webhooks.py::test_the_payload_is_the_public_representation_at_public_precision,
  test_webhooks.py::test_an_area_subscription_is_no_oracle_on_exact_points,
  test_webhooks.py::test_a_change_to_private_fields_only_announces_nothing,
  test_webhooks.py::test_an_actor_hidden_before_delivery_is_dropped_not_sent,
  test_webhooks.py::test_a_digest_mail_arrives_and_names_only_what_is_public
- bbox, radius, intersects and distance sort see the public point only:
  test_privacy.py::test_public_cannot_locate_sensitive_actor_by_shrinking_bbox,
  test_privacy.py::test_public_cannot_locate_sensitive_actor_by_radius,
  test_privacy.py::test_public_cannot_locate_sensitive_actor_by_intersects,
  test_privacy.py::test_distance_sort_uses_the_public_location
- CQL2 filters see the public point and the public properties only, never a hidden actor:
  test_ogc_filter.py::test_public_cannot_locate_an_actor_or_find_a_hidden_one_by_filter,
  test_ogc_filter.py::test_a_filter_names_only_queryables
- a cell's actors share one public point; country precision tells the country only:
  test_privacy.py::test_actors_in_the_same_cell_share_one_public_point,
  test_privacy.py::test_country_precision_reveals_only_the_country
- a public point leaves at least half a cell's area along borders and coasts:
  test_safety_inference.py::test_a_public_point_leaves_at_least_half_a_cell_along_borders_and_coasts,
  test_safety_inference.py::test_public_locations_stored_under_older_rules_are_recomputed
- areas of operation are public only at the actor's precision, read the short way round:
  test_safety_inference.py::test_an_area_drawn_around_an_office_is_public_only_at_the_actors_precision,
  test_safety_inference.py::test_an_area_in_a_sliver_of_a_cell_is_shown_as_the_cell_that_stands_for_it,
  test_safety_inference.py::test_an_area_across_the_antimeridian_is_read_the_short_way_round
- a project's area likewise, and it follows the organisation's precision when it changes:
  test_safety_gaps.py::test_a_project_outlined_around_an_office_is_public_only_at_its_organisations_precision,
  test_safety_gaps.py::test_a_project_area_follows_its_organisation_when_its_precision_changes
- an observation linked to an actor is never more precise than it:
  test_safety_inference.py::test_an_observation_linked_to_an_actor_is_never_more_precise_than_it
- a library resource's area is never more precise than its coarsest author:
  test_safety_gaps.py::test_a_resource_outlined_around_its_authors_office_is_public_only_at_their_precision,
  test_safety_gaps.py::test_resource_areas_stored_before_the_rule_are_generalised_by_the_command
- low-zoom tiles count exactly the public actors and follow every change:
  test_safety_visibility.py::test_the_cell_table_counts_exactly_the_public_actors,
  test_maps.py::test_low_zoom_cells_follow_every_change_at_once

Visibility: hidden, archived or unpublished means gone everywhere, and back when undone
- the actor and everything pointing to it (projects, reports, comparisons, observations,
  resources, translations, counts, OGC extents, tiles, clusters, exports, feed):
  test_safety_visibility.py::test_an_actor_out_of_public_view_vanishes_everywhere_and_comes_back
- staff still see it: test_safety_visibility.py::test_staff_still_see_what_the_public_no_longer_sees
- projects can be flagged and hidden: test_safety_visibility.py::test_projects_can_be_flagged_and_hidden
- revert restores content only, never `hidden`, reviews or a finer precision:
  test_safety_visibility.py::test_a_revert_restores_content_and_nothing_else,
  test_safety_visibility.py::test_a_revert_never_brings_back_an_actor_hidden_by_an_endangers_flag
- an item flagged as endangering someone comes back only through its review's decision:
  test_safety_gaps.py::test_an_item_flagged_as_endangering_someone_is_not_unhidden_past_its_open_review

Inference: nothing public depends on private fields
- proposals are validated against public data; the moderator sees the fit, logged:
  test_safety_inference.py::test_a_proposed_country_answers_the_same_wherever_the_exact_point_is,
  test_safety_inference.py::test_the_moderator_sees_whether_a_proposed_country_fits_and_the_read_is_logged
- a change to private fields changes nothing public (version, ETag, feed, tiles):
  test_safety_inference.py::test_a_change_to_private_fields_only_changes_nothing_public
- lowering an actor's privacy waits for its manager's consent:
  test_safety_inference.py::test_a_proposal_that_lowers_privacy_waits_for_the_managers_consent

Flags: they protect people without becoming a weapon
- one fresh account cannot hide a hundred actors:
  test_safety_visibility.py::test_a_fresh_account_cannot_hide_a_hundred_actors
- standing flags hide at once, others wait first in line:
  test_safety_visibility.py::test_standing_flags_hide_at_once_and_others_wait_first_in_line
- limits per day grow with trust; trust follows confirmed and dismissed flags; concurrent
  flags cannot slip past the limits:
  test_safety_visibility.py::test_flags_per_day_are_bounded_and_grow_with_trust,
  test_safety_visibility.py::test_trust_grows_with_confirmed_flags_and_shrinks_with_dismissed_ones,
  test_safety_visibility.py::test_concurrent_flags_cannot_slip_past_the_limits
- the reporter's record is for moderators only:
  test_safety_visibility.py::test_the_reporters_record_is_for_moderators_only

Exact reads: logged, and never stored by a cache
- test_safety_inference.py::test_every_response_with_private_fields_is_logged_and_never_stored,
  test_safety_inference.py::test_public_responses_stay_cacheable,
  test_safety_at_rest.py::test_staff_read_the_exact_location_decrypted_and_logged

Accounts
- suspension revokes tokens for good; expired tokens are not live; claims lapse:
  test_safety_accounts.py::test_reinstating_a_suspended_account_does_not_revive_its_tokens,
  test_safety_accounts.py::test_expired_tokens_are_not_listed_as_live,
  test_safety_accounts.py::test_a_claim_lapses_when_its_holder_loses_the_moderator_role,
  test_safety_accounts.py::test_an_admin_releases_any_claim_and_a_moderator_does_not
- verification and reset by mail through a real SMTP server; registration does not tell
  who is registered:
  test_safety_accounts.py::test_an_address_is_confirmed_by_mail_before_its_owner_contributes,
  test_safety_accounts.py::test_a_password_is_reset_by_mail_and_old_sessions_end,
  test_safety_accounts.py::test_registration_answers_the_same_whether_the_address_has_an_account
- common and breached passwords are refused:
  test_safety_accounts.py::test_common_and_breached_passwords_are_refused
- idempotency keys bind request and caller and expire:
  test_safety_accounts.py::test_a_key_reused_on_another_request_is_refused,
  test_safety_accounts.py::test_a_key_is_bound_to_its_caller,
  test_safety_accounts.py::test_a_key_expires
- rate limits are shared by every process and count bad tokens per address:
  test_safety_accounts.py::test_limits_are_shared_by_every_process,
  test_safety_accounts.py::test_bad_tokens_from_one_address_are_rate_limited

At rest: a database dump alone reveals no protected person
- exact locations, contacts and drawn areas are sealed; keys rotate:
  test_safety_at_rest.py::test_a_dump_of_the_database_reveals_no_exact_location_or_contact,
  test_safety_gaps.py::test_a_dump_of_the_projects_table_holds_no_drawn_outline,
  test_safety_at_rest.py::test_keys_rotate_seals_everything_anew_under_the_new_key
- the service role has least privilege and cannot rewrite the logs:
  test_safety_at_rest.py::test_service_role_is_no_superuser_and_owns_nothing,
  test_safety_at_rest.py::test_service_cannot_rewrite_the_logs,
  test_safety_at_rest.py::test_service_cannot_switch_the_log_triggers_off
- the access log records no search coordinates or tokens:
  test_safety_at_rest.py::test_the_access_log_records_no_search_coordinates_or_tokens
"""

import ast
import json
import re
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, shape

# A women's-rights group in Kenema, Sierra Leone, that publishes its locality only.
EXACT = (-11.1873, 7.8764)


@pytest.fixture
def sensitive(make_actor):
    return make_actor(
        name="Kenema Women's Safe Space",
        kind="organisation",
        themes=["gender"],
        location={"type": "Point", "coordinates": list(EXACT)},
        location_precision="locality",
        contact={"email": "safe@example.org", "phone": "+232 76 000000"},
    )


def ids(response):
    body = response.get_json()
    assert response.status_code == 200, body
    return [item["id"] for item in body["items"]]


def test_public_location_is_the_cell_centre_not_the_exact_point(client, sensitive):
    body = client.get(f"/api/v1/actors/{sensitive.id}").get_json()
    public = shape(body["location"])
    assert public.equals_exact(Point(-11.15, 7.85), 1e-9)
    assert not public.equals_exact(Point(*EXACT), 1e-3)
    assert body["location_precision"] == "locality"


def test_exact_coordinates_appear_in_no_public_response(client, sensitive):
    needles = ("11.1873", "7.8764", "safe@example.org", "000000")
    for url in (
        f"/api/v1/actors/{sensitive.id}",
        f"/api/v1/actors/{sensitive.id}?f=geojson",
        "/api/v1/actors",
        "/api/v1/actors?f=geojson",
        "/api/v1/actors?near=-11.1873,7.8764&radius_km=50",
        f"/actors/{sensitive.id}",
        "/",  # the web map's list (a query's own coordinates are echoed in its form)
    ):
        text = client.get(url).get_data(as_text=True)
        assert not any(needle in text for needle in needles), url


def test_the_actor_page_draws_only_the_public_area_of_work(client, make_actor):
    """The area of work drawn around a safe house is shown as the public cells, never as drawn."""
    drawn = [[-11.1873, 7.8764], [-11.1611, 7.8764], [-11.1611, 7.9033], [-11.1873, 7.8764]]
    actor = make_actor(
        location={"type": "Point", "coordinates": list(EXACT)},
        location_precision="locality",
        area={"type": "Polygon", "coordinates": [drawn]},
    )

    html = client.get(f"/actors/{actor.id}").get_data(as_text=True)

    assert "Area of work" in html
    assert not any(needle in html for needle in ("11.1873", "7.8764", "11.1611", "7.9033"))
    public = client.get(f"/api/v1/actors/{actor.id}").get_json()["area"]
    drawn_path = re.search(r'<path d="([^"]+)"', html)[1]
    corners = {(float(x), -float(y)) for x, y in re.findall(r"(-?[\d.]+) (-?[\d.]+)", drawn_path)}
    outline = shapely.get_coordinates(shape(public))
    assert corners == {(round(x, 5), round(y, 5)) for x, y in outline}


def test_a_webhook_payload_carries_no_exact_point_or_contact(session, sensitive):
    from api.webhooks.delivery import payload
    from api.webhooks.models import Delivery

    event = Delivery(event_type="actor.updated", target_type="actor", target_id=sensitive.id)
    event.occurred_at = sensitive.created_at
    text = json.dumps(payload(session, event))
    assert "Kenema Women's Safe Space" in text
    assert not any(needle in text for needle in ("11.1873", "7.8764", "safe@example.org", "000000"))


def test_exact_coordinates_appear_in_no_contribute_page(client, sensitive, make_user, web_sign_in):
    """The web pages that propose an edit or a translation show what the public sees."""
    web_sign_in(client, make_user())
    needles = ("11.1873", "7.8764", "safe@example.org", "000000")
    for url in (f"/actors/{sensitive.id}/propose-edit", f"/translate/actor/{sensitive.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not any(needle in response.get_data(as_text=True) for needle in needles), url


def test_public_cannot_locate_sensitive_actor_by_shrinking_bbox(client, sensitive):
    lon, lat = EXACT
    # A bbox around the exact point but not the public one finds nothing...
    for half in (0.03, 0.01, 0.001, 0.0001):
        bbox = f"{lon - half},{lat - half},{lon + half},{lat + half}"
        assert str(sensitive.id) not in ids(client.get(f"/api/v1/actors?bbox={bbox}")), half
    # ...and any bbox that finds it contains the public point, wherever the exact one is.
    assert str(sensitive.id) in ids(client.get("/api/v1/actors?bbox=-11.16,7.84,-11.14,7.86"))


def test_public_cannot_locate_sensitive_actor_by_radius(client, sensitive):
    lon, lat = EXACT
    for radius in (4, 1, 0.1, 0.01):
        found = ids(client.get(f"/api/v1/actors?near={lon},{lat}&radius_km={radius}"))
        assert str(sensitive.id) not in found, radius
    # Distances are measured to the public point: they reveal nothing finer than the cell.
    body = client.get(f"/api/v1/actors?near={lon},{lat}&radius_km=10").get_json()
    (item,) = [i for i in body["items"] if i["id"] == str(sensitive.id)]
    assert item["distance_km"] == pytest.approx(5.04, abs=0.05)


def test_public_cannot_locate_sensitive_actor_by_intersects(client, sensitive):
    lon, lat = EXACT
    tiny = {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - 0.001, lat - 0.001],
                [lon + 0.001, lat - 0.001],
                [lon + 0.001, lat + 0.001],
                [lon - 0.001, lat + 0.001],
                [lon - 0.001, lat - 0.001],
            ]
        ],
    }
    found = ids(client.get("/api/v1/actors", query_string={"intersects": json.dumps(tiny)}))
    assert str(sensitive.id) not in found


def test_distance_sort_uses_the_public_location(client, make_actor, sensitive):
    # A decoy sits 3 km from the exact point but right on the public point's cell centre.
    decoy = make_actor(
        name="Decoy",
        location={"type": "Point", "coordinates": [-11.15, 7.85]},
        location_precision="exact",
    )
    body = client.get(f"/api/v1/actors?near={EXACT[0]},{EXACT[1]}&radius_km=20").get_json()
    distances = {item["id"]: item["distance_km"] for item in body["items"]}
    # Both are measured to the same public point, so the order cannot betray the exact one.
    assert distances[str(decoy.id)] == distances[str(sensitive.id)]


def test_actors_in_the_same_cell_share_one_public_point(make_actor):
    first = make_actor(
        location={"type": "Point", "coordinates": [36.801, -1.201]}, location_precision="locality"
    )
    second = make_actor(
        location={"type": "Point", "coordinates": [36.899, -1.299]}, location_precision="locality"
    )
    assert bytes(first.public_location.data) == bytes(second.public_location.data)


def test_country_precision_reveals_only_the_country(client, make_actor):
    from geo.countries import countries

    actor = make_actor(
        location={"type": "Point", "coordinates": [96.16, 16.87]}, location_precision="country"
    )
    body = client.get(f"/api/v1/actors/{actor.id}").get_json()
    assert shape(body["location"]).equals_exact(Point(*countries()["MM"].point), 1e-9)
    assert body["country"] == "MM"


def test_the_public_location_is_stored_once_not_jittered_per_request(client, sensitive):
    seen = {
        json.dumps(client.get(f"/api/v1/actors/{sensitive.id}").get_json()["location"])
        for _ in range(5)
    }
    assert len(seen) == 1


def test_every_listed_proof_exists():
    """Each promise above names tests that exist: the list cannot drift from the suite."""
    proofs = re.findall(r"(test_\w+\.py)::(test_\w+)", __doc__)
    assert len(proofs) > 40
    here = Path(__file__).parent
    missing = []
    for module, name in proofs:
        tree = ast.parse((here / module).read_text())
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        if name not in defined:
            missing.append(f"{module}::{name}")
    assert missing == []
