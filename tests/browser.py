"""The browser harness: Debian's chromium, driven by Selenium through chromium-driver, on the
app served in a thread of the test (so it sees the test's rolled-back transaction).

Fixtures (registered in tests/conftest.py):

- ``phone`` (390x844), ``desktop`` (1280x800), ``arabic`` (390x844, Accept-Language ``ar``):
  a :class:`Browser` on a fresh server of the app, cookies and cache emptied.
- ``browser``: the same test once as each of the three, the way issue 13 asks journeys to
  run ("at phone and desktop sizes and in Arabic once").

A journey, for example::

    def test_reader_finds_an_actor(browser, make_actor):
        actor = make_actor(name="Amani Circle")
        browser.open("/")
        browser.fill("q", "Amani")          # an input by its name (or "#id")
        browser.submit("q")                 # presses Enter in it
        browser.click_link("Amani Circle")
        assert browser.path == f"/actors/{actor.id}"
        browser.assert_accessible()         # axe-core: no serious or critical violation
        browser.screenshot("find-actor")    # tests/artifacts/find-actor-phone.png
        assert browser.transferred() <= 30_000   # bytes over the wire since open()

``browser.slow_3g()`` emulates a slow link (Chrome DevTools' "Slow 3G" figures) until the
test ends; ``browser.driver`` is the Selenium WebDriver for anything else. Browser tests
are skipped where chromium or chromedriver is missing (``make test`` installs them).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts"
AXE = ROOT / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = "chromium and chromedriver are installed by `make test` (make test-tools)"
needs_browser = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=MISSING)

PROFILES = {
    "phone": {"size": (390, 844), "language": "en"},
    "desktop": {"size": (1280, 800), "language": "en"},
    "arabic": {"size": (390, 844), "language": "ar"},
}
# Chrome DevTools' "Slow 3G" preset: 400 ms round trip, about 50 KB/s down, 50 KB/s up.
SLOW_3G = {"latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
SERIOUS = {"serious", "critical"}
CLICKED = {"submit", "button", "checkbox", "radio", "file", "image", "reset"}


class _OneAtATime(WSGIRequestHandler):
    # Chromium opens connections ahead of need and may never send on them: one server
    # thread blocked reading such a socket would serve nothing else and never stop (a
    # whole test run hung on one). A connection silent this long is closed; Chromium
    # opens another when it has a request to send.
    timeout = 5


@contextmanager
def served(app) -> Iterator[str]:
    """The app on an ephemeral loopback port, for the length of the block; yields its URL.
    One request at a time: the test's database connection is shared."""
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_OneAtATime)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# WebGL without a GPU (MapLibre): Chromium's software renderer, in place of --disable-gpu.
WEBGL_FLAGS = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist")


def start_chromium(profile: str, *, webgl: bool = False):
    """A headless chromium with the profile's window size and language, its network log on;
    with ``webgl``, a software WebGL (for MapLibre)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    settings = PROFILES[profile]
    width, height = settings["size"]
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        *(WEBGL_FLAGS if webgl else ("--disable-gpu",)),
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--lang={settings['language']}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": settings["language"]})
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    # The window's outer size includes no browser chrome when headless: the page is this wide.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.execute_cdp_cmd("Network.enable", {})
    return driver


class Browser:
    """One chromium (kept for the test session per profile) pointed at one served app."""

    def __init__(self, driver, profile: str, base: str) -> None:
        self.driver = driver
        self.profile = profile
        self.base = base
        self.language = PROFILES[profile]["language"]
        self.width, self.height = PROFILES[profile]["size"]
        self._responses: dict[str, dict] = {}

    # -- navigation -------------------------------------------------------------------
    def open(self, path: str) -> Browser:
        """Load a page of the app (a path) and wait until it and its assets have loaded;
        what the network log counts starts afresh."""
        self.network()  # drain what earlier pages left
        self._responses.clear()
        self.driver.get(self.base + path)
        self.wait_until_loaded()
        return self

    def wait_until_loaded(self, timeout: float = 60) -> None:
        self.wait(lambda: self.js("return document.readyState") == "complete", timeout)

    def wait(self, condition, timeout: float = 30, message: str = "") -> None:
        """Until ``condition()`` is true (polled), else fail the test."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(message or f"timed out after {timeout} s on {self.path}")
            time.sleep(0.1)

    @property
    def path(self) -> str:
        return self.js("return location.pathname + location.search")

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    # -- finding and acting -----------------------------------------------------------
    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def field(self, name: str):
        """A form field by ``name`` or by ``#id``."""
        return self.find(name if name.startswith("#") else f'[name="{name}"]')

    def fill(self, name: str, value: str) -> None:
        element = self.field(name)
        element.clear()
        element.send_keys(value)

    def choose(self, name: str, value: str) -> None:
        """Pick the option with this value in a <select>."""
        from selenium.webdriver.support.ui import Select

        Select(self.field(name)).select_by_value(value)

    def submit(self, name: str) -> None:
        """Send the form of a field as a person would: Enter in a one-line field, else a
        click on the form's submit button (or on this button); waits for the next page."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        element = self.field(name)
        typed = element.tag_name == "input" and element.get_attribute("type") not in CLICKED
        with self.navigation():
            if typed:
                element.send_keys(Keys.ENTER)
            elif element.tag_name == "button":
                element.click()
            else:
                form = element.find_element(By.XPATH, "ancestor::form")
                form.find_element(By.CSS_SELECTOR, "[type=submit], button:not([type])").click()

    def click(self, css: str, *, navigates: bool = True) -> None:
        """Click an element; by default wait for the page it leads to."""
        if not navigates:
            self.find(css).click()
            return
        with self.navigation():
            self.find(css).click()

    def click_link(self, text: str) -> None:
        from selenium.webdriver.common.by import By

        with self.navigation():
            self.driver.find_element(By.PARTIAL_LINK_TEXT, text).click()

    @contextmanager
    def navigation(self, timeout: float = 60):
        """Wait, after the block, until the browser has left this page and loaded the next."""
        from selenium.common.exceptions import (
            StaleElementReferenceException,
            WebDriverException,
        )

        old = self.find("html")

        def left() -> bool:
            try:
                old.tag_name  # noqa: B018  (raises once the page is gone)
            except StaleElementReferenceException:
                return True
            except WebDriverException as error:
                # Asked mid-navigation, chromedriver may say so in its own words.
                if "does not belong to the document" in str(error):
                    return True
                raise
            return False

        yield
        self.wait(left, timeout, f"the browser stayed on {self.path}")
        self.wait_until_loaded(timeout)

    # -- what a person sees -------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        """tests/artifacts/<name>-<profile>.png, of what the window shows."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}-{self.profile}.png"
        self.driver.save_screenshot(str(path))
        return path

    def overflows(self) -> list[str]:
        """Elements wider than the window (a page must not scroll sideways on a phone)."""
        return self.js(
            """
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')]
              .filter(e => { const r = e.getBoundingClientRect();
                             return r.width > 0 && (r.right > width + 1 || r.left < -1); })
              .filter(e => getComputedStyle(e).position !== 'absolute')
              .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
            """
        )

    # -- accessibility ------------------------------------------------------------------
    def axe(self) -> list[dict]:
        """Run axe-core in the page (injected through the driver, so the page's CSP, which
        forbids foreign scripts, stays as it is) and return its violations."""
        assert AXE.is_file(), f"{AXE} is missing: `make test-tools` installs axe-core"
        if not self.js("return typeof window.axe === 'object'"):
            self.js(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify("
            "[{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));"
        )
        return json.loads(result)

    def assert_accessible(self) -> None:
        """No serious or critical violation (axe-core's impact levels) on the current page."""
        bad = [v for v in self.axe() if v.get("impact") in SERIOUS]
        lines = [f"- {v['id']} ({v['impact']}): {v['help']} at {_targets(v)}" for v in bad]
        assert not bad, f"axe-core on {self.path} ({self.profile}):\n" + "\n".join(lines)

    # -- the network -------------------------------------------------------------------
    def network(self) -> list[dict]:
        """Every response finished since the last open(): url, status, mime type and the
        bytes transferred (headers and compressed body, as Chromium's network log counts)."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            method, params = message["method"], message.get("params", {})
            if method == "Network.responseReceived":
                response = params["response"]
                self._responses.setdefault(params["requestId"], {}).update(
                    url=response["url"],
                    status=response["status"],
                    mime=response["mimeType"],
                    from_cache=response.get("fromDiskCache", False),
                )
            elif method == "Network.loadingFinished":
                self._responses.setdefault(params["requestId"], {})["bytes"] = params[
                    "encodedDataLength"
                ]
        return [r for r in self._responses.values() if "url" in r and "bytes" in r]

    def transferred(self, settle: float = 0.5) -> int:
        """Bytes over the wire since the last open(), once the page has been quiet for
        ``settle`` seconds (scripts may fetch more after the load event)."""
        total = -1
        while (now := sum(r["bytes"] for r in self.network())) != total:
            total = now
            time.sleep(settle)
        return total

    def slow_3g(self) -> None:
        self.driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions", {"offline": False, **SLOW_3G}
        )

    def reset(self) -> None:
        """Back to a new visitor: no cookies, no cache, a normal network, a blank page."""
        self.driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        self.driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.get("about:blank")
        self.driver.get_log("performance")
        self._responses.clear()


def _targets(violation: dict) -> list:
    return [node["target"] for node in violation["nodes"]][:5]


class Chromiums:
    """One chromium per profile, started when first asked for, quit at the session's end."""

    def __init__(self) -> None:
        self.drivers: dict = {}

    def get(self, profile: str):
        if profile not in self.drivers:
            self.drivers[profile] = start_chromium(profile)
        return self.drivers[profile]

    def quit(self) -> None:
        for driver in self.drivers.values():
            driver.quit()


@pytest.fixture(scope="session")
def _chromiums():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(MISSING)
    chromiums = Chromiums()
    yield chromiums
    chromiums.quit()


@pytest.fixture
def live_server(app, connection):
    """The app served on a loopback port for this test; yields its base URL."""
    with served(app) as base:
        yield base


def _browser(chromiums: Chromiums, profile: str, base: str) -> Iterator[Browser]:
    browser = Browser(chromiums.get(profile), profile, base)
    browser.reset()
    yield browser
    browser.reset()


@pytest.fixture
def phone(_chromiums, live_server):
    yield from _browser(_chromiums, "phone", live_server)


@pytest.fixture
def desktop(_chromiums, live_server):
    yield from _browser(_chromiums, "desktop", live_server)


@pytest.fixture
def arabic(_chromiums, live_server):
    yield from _browser(_chromiums, "arabic", live_server)


@pytest.fixture(params=list(PROFILES))
def browser(request, _chromiums, live_server):
    yield from _browser(_chromiums, request.param, live_server)
