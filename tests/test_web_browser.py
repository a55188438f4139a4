"""The actor page in a real headless browser (Debian's chromium) on a phone's width, in
English and in Arabic; screenshots under tests/artifacts."""

import matplotlib.image
import numpy
import pytest

from tests.browser import ARTIFACTS, CHROMIUM, FLAGS, chromium, served

PHONE = "--window-size=390,844"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by `make test`")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_actor_page_renders_on_a_phone_in_english_and_arabic(app, make_actor):
    actor = make_actor(
        name="Amani Women's Circle, Nairobi",
        summary="Mediation between neighbourhoods after the elections.",
        working_languages=["sw", "en"],
    )
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}
    with served(app) as base:
        url = f"{base}/actors/{actor.id}"
        for language in ("en", "ar"):
            shots[language] = ARTIFACTS / f"actor-390-{language}.png"
            flags = [
                *(f for f in FLAGS if not f.startswith("--window-size")),
                PHONE,
                f"--lang={language}",
                f"--accept-lang={language}",
            ]
            dom = chromium(url, "--dump-dom", flags=flags)
            chromium(url, f"--screenshot={shots[language]}", flags=flags)
            direction = "rtl" if language == "ar" else "ltr"
            assert f'<html lang="{language}" dir="{direction}">' in dom, dom[:300]
            assert "Amani Women's Circle, Nairobi" in dom
    for language, path in shots.items():
        image = matplotlib.image.imread(path)
        assert image.shape[1] == 390, (language, image.shape)
        # The stylesheet applied (the CSP lets our own file through): the header's blue rule.
        blue = (image[..., 2] > 0.5) & (image[..., 0] < 0.2)
        assert numpy.count_nonzero(blue) > 390, language
