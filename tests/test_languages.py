# ruff: noqa: RUF001 (translations are written with their own letters and apostrophes)
"""Every endpoint in the reader's language (issue 12): Accept-Language negotiated whole in
one place (api/language.py), Content-Language on every representation, translations of
actors in items, OGC features, the changes feed, clusters, tiles, exports and search, and
problem details in the interface languages; hidden or unapproved translations never show."""

import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta

import mapbox_vector_tile
import pytest
from sqlalchemy import create_engine

from api import problem_texts
from api.language import INTERFACE_LANGUAGES
from api.moderation.models import Translation
from api.permissions import RULES

KENEMA = (-11.15, 7.85)
FRENCH = "Espace sûr des femmes de Kenema"
ARABIC_HIDDEN = "مجموعة مخفية"


@pytest.fixture
def translated(make_actor, session):
    """A public actor in English with an approved French translation of its name and
    summary; a hidden actor with a French name; the changes feed may see both."""
    from api.actors.models import Actor

    public = make_actor(
        name="Kenema Women's Safe Space",
        summary="A safe space for women.",
        language="en",
        kind="organisation",
        location={"type": "Point", "coordinates": list(KENEMA)},
        location_precision="exact",
    )
    hidden = make_actor(
        name="Hidden Bo Group",
        language="en",
        location={"type": "Point", "coordinates": [-11.74, 7.96]},
        location_precision="exact",
    )
    session.add_all(
        [
            Translation(
                target_type="actor",
                target_id=public.id,
                language="fr",
                texts={"name": FRENCH, "summary": "Un espace sûr pour les femmes."},
            ),
            Translation(
                target_type="actor",
                target_id=hidden.id,
                language="fr",
                texts={"name": "Groupe caché de Bo"},
            ),
            Translation(
                target_type="actor",
                target_id=hidden.id,
                language="ar",
                texts={"name": ARABIC_HIDDEN},
            ),
        ]
    )
    session.query(Actor).filter(Actor.id == hidden.id).update({Actor.hidden: True})
    session.query(Actor).update({Actor.updated_at: datetime.now(UTC) - timedelta(minutes=5)})
    session.commit()
    return {"public": str(public.id), "hidden": str(hidden.id)}


ARABIC_THEN_FRENCH = {"Accept-Language": "ar, fr;q=0.8"}


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


# -- negotiation, in one place ---------------------------------------------------------------


def test_the_whole_accept_language_list_is_read(app):
    from api.language import choose, interface_language, preferences

    def prefs(header):
        with app.test_request_context(headers={"Accept-Language": header}):
            return preferences()

    assert prefs("ar, fr;q=0.8") == ("ar", "fr")
    assert prefs("fr;q=0.3, sw-KE, en;q=0.5") == ("sw-ke", "sw", "en", "fr")
    assert prefs("fr-CA") == ("fr-ca", "fr")  # region falls back to its language
    assert prefs("en;q=0, fr") == ("fr",)  # q=0: not this one
    assert prefs("f%, fr_BE, de") == ("fr-be", "fr", "de")  # not a range: left out
    assert choose("en", ["fr"], prefs("ar, fr;q=0.8")) == "fr"
    assert choose("en", ["fr"], prefs("ar, en;q=0.9, fr;q=0.8")) == "en"
    assert choose("en", ["fr-BE"], prefs("fr-CA")) == "fr-BE"  # same language, other region
    assert choose("en", ["fr"], prefs("*")) == "en"  # anything: the original
    assert choose("en", ["fr"], prefs("de")) == "en"  # nothing accepted: the original
    assert interface_language(prefs("de, ru;q=0.2")) == "ru"
    assert interface_language(prefs("*")) == interface_language(prefs("de")) == "en"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert preferences("sw") == ("sw", "fr")  # lang= first


def test_every_representation_names_its_language(client, translated):
    public = translated["public"]
    cases = {
        # texts whose language is known: the French translation beside the English
        # description it does not translate
        "/api/v1/actors": "en, fr",
        f"/api/v1/actors/{public}": "en, fr",
        f"/api/v1/actors/{public}?fields=name,summary": "fr",
        f"/api/v1/ogc/collections/actors/items/{public}": "fr",
        # texts picked row by row in PostgreSQL: the languages they were chosen for
        "/api/v1/ogc/collections/actors/items": "en, fr",
        "/api/v1/actors/export": "en, fr",
        # the service's own texts, written in English
        "/api/v1/themes": "en",
        "/api/v1/ogc": "en",
        "/api/v1/openapi.json": "en",
        # problem details, in the interface language
        "/api/v1/nowhere": "fr",
    }
    for path, language in cases.items():
        response = client.get(path, headers={"Accept-Language": "fr-CA, en;q=0.5"})
        assert response.headers["Content-Language"] == language, path
        if not response.is_streamed:
            assert "Accept-Language" in response.headers["Vary"], path
    english = client.get(f"/api/v1/actors/{public}?fields=name")
    assert english.headers["Content-Language"] == "en"


def test_a_web_page_names_its_interface_language(client, translated):
    page = client.get(f"/actors/{translated['public']}", headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and page.headers["Content-Language"] == "fr"


# -- actor content in the reader's language, path by path ------------------------------------


def test_arabic_then_french_picks_french_where_there_is_no_arabic(client, translated):
    one = client.get(f"/api/v1/actors/{translated['public']}", headers=ARABIC_THEN_FRENCH)
    body = one.get_json()
    assert body["name"] == FRENCH and body["text_languages"]["name"] == "fr"
    assert one.headers["Content-Language"] == "en, fr"  # the description is not translated
    listed = client.get("/api/v1/actors", headers=ARABIC_THEN_FRENCH).get_json()["items"]
    assert [a["name"] for a in listed if a["id"] == translated["public"]] == [FRENCH]

    feature = client.get(
        f"/api/v1/ogc/collections/actors/items/{translated['public']}", headers=ARABIC_THEN_FRENCH
    ).get_json()
    assert feature["properties"]["name"] == FRENCH
    assert feature["properties"]["summary"] == "Un espace sûr pour les femmes."
    assert feature["properties"]["text_languages"] == {"name": "fr", "summary": "fr"}
    items = client.get(
        "/api/v1/ogc/collections/actors/items", headers=ARABIC_THEN_FRENCH
    ).get_json()
    assert FRENCH in {f["properties"]["name"] for f in items["features"]}
    english = client.get("/api/v1/ogc/collections/actors/items").get_json()
    assert "Kenema Women's Safe Space" in {f["properties"]["name"] for f in english["features"]}

    changes = client.get("/api/v1/actors/changes", headers=ARABIC_THEN_FRENCH)
    features = [c["feature"] for c in changes.get_json()["changes"] if "feature" in c]
    assert [f["properties"]["name"] for f in features] == [FRENCH]
    assert changes.headers["Content-Language"] == "fr"

    clusters = client.get(
        "/api/v1/actors/clusters?zoom=14&bbox=-11.2,7.8,-11.1,7.9", headers=ARABIC_THEN_FRENCH
    ).get_json()
    assert [f["properties"]["name"] for f in clusters["features"]] == [FRENCH]

    for z in (5, 14):  # from the cell table and live
        x, y = tile_of(*KENEMA, z)
        tile = client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt", headers=ARABIC_THEN_FRENCH)
        (feature,) = mapbox_vector_tile.decode(tile.data)["actors"]["features"]
        assert feature["properties"]["name"] == FRENCH, z
        assert "Accept-Language" in tile.headers["Vary"]
        plain = client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt")
        assert plain.headers["ETag"] != tile.headers["ETag"]  # a cache keeps them apart

    lines = client.get("/api/v1/actors/export?format=geojsonl", headers=ARABIC_THEN_FRENCH).text
    assert [json.loads(line)["properties"]["name"] for line in lines.splitlines()] == [FRENCH]
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/api/v1/actors/export?format=csv", headers=ARABIC_THEN_FRENCH).text
            )
        )
    )
    assert [row[1] for row in rows[2:]] == [FRENCH]


def test_a_translated_name_finds_the_actor(client, translated):
    found = client.get("/api/v1/actors", query_string={"q": "Espace sûr des femmes"}).get_json()
    assert [a["id"] for a in found["items"]] == [translated["public"]]
    typo = client.get("/api/v1/actors", query_string={"q": "Espase sûr des femmes"}).get_json()
    assert translated["public"] in [a["id"] for a in typo["items"]]


def test_translations_of_hidden_actors_and_unapproved_ones_never_show(
    client, translated, make_user, login
):
    for q in ("Groupe caché de Bo", ARABIC_HIDDEN):
        assert client.get("/api/v1/actors", query_string={"q": q}).get_json()["items"] == []
    headers = {"Accept-Language": "ar, fr"}
    needles = ("Groupe caché", ARABIC_HIDDEN, "Hidden Bo")
    for path in (
        "/api/v1/actors",
        "/api/v1/ogc/collections/actors/items",
        "/api/v1/actors/clusters?zoom=14&bbox=-12,7.5,-11,8.5",
        "/api/v1/actors/export?format=geojsonl",
        "/api/v1/actors/export?format=csv",
    ):
        body = client.get(path, headers=headers).text
        assert not any(n in body for n in needles), path
    x, y = tile_of(-11.74, 7.96, 14)
    assert client.get(f"/api/v1/tiles/14/{x}/{y}.mvt", headers=headers).status_code == 204
    changes = client.get("/api/v1/actors/changes", headers=headers).text
    assert not any(n in changes for n in needles)  # the hidden one is a tombstone at most

    # A translation waiting for moderation is not laid over anything.
    author = login(make_user())
    proposed = client.post(
        "/api/v1/contributions",
        json={
            "kind": "translation",
            "target_type": "actor",
            "target_id": translated["public"],
            "payload": {"language": "es", "texts": {"name": "Espacio seguro de Kenema"}},
        },
        headers=author,
    )
    assert proposed.status_code == 201
    spanish = {"Accept-Language": "es"}
    for path in (
        f"/api/v1/actors/{translated['public']}",
        f"/api/v1/ogc/collections/actors/items/{translated['public']}",
        "/api/v1/actors/export?format=geojsonl",
    ):
        assert "Espacio seguro" not in client.get(path, headers=spanish).text, path
    found = client.get("/api/v1/actors", query_string={"q": "Espacio seguro de Kenema"})
    assert found.get_json()["items"] == []


def test_translated_names_are_searched_through_their_index(database_urls):
    """EXPLAINed as the tables' owner on 20,000 analysed translated names, all rolled back
    (statistics are transactional)."""
    from api.actors.service import _translated_names

    owner = create_engine(database_urls["MIGRATION_DATABASE_URL"])
    try:
        with owner.connect() as connection:
            connection.exec_driver_sql(
                "INSERT INTO translations (id, target_type, target_id, language, texts) "
                "SELECT gen_random_uuid(), 'actor', gen_random_uuid(), 'fr', "
                "jsonb_build_object('name', md5(n::text)) FROM generate_series(1, 20000) AS n"
            )
            connection.exec_driver_sql("ANALYZE translations")
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            compiled = _translated_names("Espace sûr").compile(owner)
            explained = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
            plan = "\n".join(explained.scalars())
            connection.rollback()
    finally:
        owner.dispose()
    assert "ix_translations_actor_name_trgm" in plan, plan


# -- problem details -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language", "title"),
    [
        ("fr", "fr", "Introuvable"),
        ("es-MX", "es", "No encontrado"),
        ("ar, fr;q=0.8", "ar", "غير موجود"),
        ("ru", "ru", "Не найдено"),
        ("sw", "sw", "Haijapatikana"),
        ("de, *;q=0.1", "en", "Not Found"),
        ("", "en", "Not Found"),
    ],
)
def test_problem_details_speak_the_interface_languages(client, header, language, title):
    response = client.get("/api/v1/nowhere", headers={"Accept-Language": header})
    body = response.get_json()
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    assert body["title"] == title and response.headers["Content-Language"] == language
    assert "Accept-Language" in response.headers["Vary"]
    if language != "en":
        assert "requested URL" not in body["detail"]


def test_problem_details_with_values_and_rules_are_translated(client, translated, make_actor):
    missing = "00000000-0000-4000-8000-000000000000"
    french = {"Accept-Language": "fr"}
    body = client.get(f"/api/v1/actors/{missing}", headers=french).get_json()
    assert body["detail"] == f"Aucun élément actor avec l’identifiant {missing}."
    invalid = client.get("/api/v1/actors?limit=many&kind=nobody", headers=french)
    body = invalid.get_json()
    assert invalid.status_code == 422 and body["title"] == "Données non valides"
    assert "limit: Pas un entier valide" in body["detail"]
    assert "kind.0: Doit être l’une des valeurs : organisation," in body["detail"]
    assert body["errors"]["limit"] == ["Not a valid integer."]  # the machine-readable part stays
    assert invalid.headers["Content-Language"] == "fr"
    signed_out = client.post("/api/v1/contributions", json={}, headers={"Accept-Language": "sw"})
    assert signed_out.get_json()["detail"] == "Ingia ili kufanya hivi."


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("en", "Only a moderator or an admin may do this."),
        ("fr", "Action réservée à : un modérateur ou un administrateur."),
        ("ar", "لا يحق القيام بهذا إلا لـ: مشرف أو مسؤول."),
        ("ru", "Это может сделать только модератор или администратор."),
    ],
)
def test_a_refusal_names_who_may_in_the_readers_words(client, make_user, login, language, detail):
    """The permission table's words for who may do what are translated with the message
    that carries them, not left in English inside a translated sentence."""
    headers = {**login(make_user("contributor")), "Accept-Language": language}
    response = client.get("/api/v1/moderation/queue", headers=headers)
    assert response.status_code == 403
    assert response.get_json()["detail"] == detail
    assert response.headers["Content-Language"] == language


def test_every_permission_rule_names_its_people_in_every_language():
    catalogues = {lang: problem_texts._catalogue(lang) for lang in INTERFACE_LANGUAGES[1:]}
    for _, who in RULES.values():
        for language, catalogue in catalogues.items():
            assert catalogue.gettext(who) != who, (language, who)


def test_a_detail_without_a_translation_falls_back_to_english_and_says_so(client):
    response = client.get(
        "/api/v1/actors/changes?since=garbage!", headers={"Accept-Language": "ru"}
    )
    body = response.get_json()
    assert body["title"] == "Недопустимые данные"
    assert body["detail"].startswith("since:")
    assert response.headers["Content-Language"] == "ru, en"


def test_a_hostile_accept_language_is_read_safely(client, translated):
    """Hundreds of ranges, absurd tags and broken syntax: answered, never a 500, and the
    query the header shapes stays small."""
    from api.language import MAX_RANGES

    many = ", ".join(f"x{i}-aaaaaaaa-bbbbbbbb;q=0.9" for i in range(300))
    for header in (many + ", fr;q=0.1", "z" * 5000, ";;;,,q=abc, fr;q=x", "fr;q=2, *;q=-1"):
        for path in (
            "/api/v1/actors",
            "/api/v1/ogc/collections/actors/items",
            "/api/v1/tiles/5/15/15.mvt",
            "/api/v1/nowhere",
        ):
            response = client.get(path, headers={"Accept-Language": header})
            # 422: a header past the input boundary's length (api/limits.py), named
            assert response.status_code in (200, 204, 404, 422), (path, response.status_code)
    with client.application.test_request_context(headers={"Accept-Language": many}):
        from api.language import preferences

        assert len(preferences()) <= MAX_RANGES * 3
