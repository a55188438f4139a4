"""Charts in the reader's language (issue 13): the API by Accept-Language, the web pages
by their interface language; Arabic as text the browser shapes, with lang and direction."""

from xml.etree import ElementTree

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from metrics import charts
from tests.test_projects import EXAMPLE, create_project, upload

ENGLISH = ("most peaceful", "measures", "no data", "% interval", "compared", "overall")
SVG = "{http://www.w3.org/2000/svg}"


def words_of(svg: bytes) -> tuple[ElementTree.Element, str]:
    root = ElementTree.fromstring(svg)
    return root, " ".join(t for element in root.iter() for t in [element.text] if t)


@pytest.fixture
def project(client, org):
    project_id = create_project(client, org)
    assert upload(client, org["member"], project_id, EXAMPLE.read_text()).status_code == 201
    return project_id


@pytest.mark.parametrize(
    ("language", "direction", "wording"),
    [
        ("fr", "ltr", ["le plus pacifique", "mesures", "intervalle à 95 %"]),
        ("ar", "rtl", ["الأكثر سلمًا", "مقاييس", "فترة ثقة 95٪"]),
    ],
)
def test_the_api_report_chart_speaks_the_readers_language(
    client, project, language, direction, wording
):
    response = client.get(
        f"/api/v1/projects/{project}/report?format=svg", headers={"Accept-Language": language}
    )
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    assert "Accept-Language" in response.headers["Vary"]
    root, text = words_of(response.data)
    assert (root.get("lang"), root.get("direction")) == (language, direction)
    for phrase in wording:
        assert phrase in text
    assert "Dialogue clubs in Kenema" in root.find(f"{SVG}title").text  # as written
    for phrase in ENGLISH:
        assert phrase not in text, phrase


def test_the_api_comparison_chart_speaks_french_and_names_themes_in_french(client, project):
    response = client.get(
        "/api/v1/reports/comparison?format=svg", headers={"Accept-Language": "fr"}
    )
    assert response.headers["Content-Language"] == "fr"
    root, text = words_of(response.data)
    assert root.get("lang") == "fr"
    assert "projets comparés" in text and "score (100 = le plus pacifique)" in text
    assert "Légitimité des institutions" in text
    for phrase in ENGLISH:
        assert phrase not in text, phrase


def test_an_arabic_svg_keeps_its_text_as_text_laid_out_as_drawn(client, project):
    english = client.get(f"/api/v1/projects/{project}/report?format=svg").data
    arabic = client.get(
        f"/api/v1/projects/{project}/report?format=svg", headers={"Accept-Language": "ar"}
    ).data
    assert english.count(b"<text") == arabic.count(b"<text") > 10  # text, not glyph paths
    # Right to left, "start" is the right edge: left-aligned labels are anchored at "end".
    assert english.count(b"text-anchor: start") == arabic.count(b"text-anchor: end")
    assert len(arabic) < 1.5 * len(english)


@pytest.mark.parametrize(("language", "sample"), [("fr", "éàôç"), ("ar", "الأكثر سلمًا")])
def test_a_png_chart_is_drawn_in_the_readers_language(
    client, project, language, sample, tmp_path_factory
):
    def png(language):
        response = client.get(
            f"/api/v1/projects/{project}/report?format=png", headers={"Accept-Language": language}
        )
        assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
        return response

    english, drawn = png("en"), png(language)
    assert drawn.headers["Content-Language"] == language
    assert drawn.data != english.data
    (tmp_path_factory.mktemp("charts") / f"report-{language}.png").write_bytes(drawn.data)
    # What matplotlib is given to draw has a glyph for every character (no tofu): for
    # Arabic, the joined letter forms in display order.
    font = FT2Font(font_manager.findfont("DejaVu Sans"))
    assert all(font.get_char_index(ord(c)) for c in charts._visual(sample) if c != " ")


def test_arabic_is_drawn_joined_and_right_to_left_with_latin_kept_left_to_right():
    # سلام: seen from left to right, its last letter (final meem) comes first and every
    # letter takes its joined form; a Latin title and a number inside keep their order.
    assert charts._visual("سلام") == "\ufee1\ufefc\ufeb3"  # lam-alef as one ligature
    assert charts._visual("مشروع Kenema 2026") == "Kenema 2026 " + charts._visual("مشروع")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_web_report_and_comparison_charts_are_in_the_page_language(
    client,
    project,
    language,
):
    client.post("/language", data={"language": language, "next": "/"})
    headers = {"Accept-Language": language}
    for path in (f"/projects/{project}/report.svg", "/reports/comparison.svg"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        root, text = words_of(response.data)
        assert root.get("lang") == language
        for phrase in ENGLISH:
            assert phrase not in text, (path, phrase)
