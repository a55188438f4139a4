"""Helpers for tests of the web pages: read a page, send one of its forms with its CSRF
token, find its error summary, and the texts of a job its catalogues leave untranslated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

import api.web
from tests.conftest import form_token


def page(client, path: str) -> str:
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def submit(client, form_page: str, action: str, fields: dict, **options):
    """Post ``fields`` to ``action`` as the form on ``form_page`` would, CSRF token and all."""
    token = form_token(client, form_page)
    return client.post(
        action,
        data={"csrf_token": token, **fields},
        headers={"Accept-Language": "en"},
        **options,
    )


def form_errors(html: str) -> str:
    """The error summary of a page ("" when there is none)."""
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return found.group(0) if found else ""


def untranslated(language: str, folders) -> list[str]:
    """Texts of the templates in ``folders`` (and the Python modules of the same names)
    that the catalogue of ``language`` leaves untranslated or fuzzy."""
    web = Path(api.web.__file__).parent
    with (web / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    sources = [
        (p, "jinja2") for f in folders for p in sorted((web / "templates" / f).glob("*.html"))
    ]
    sources += [(web / f"{f}.py", "python") for f in folders if (web / f"{f}.py").exists()]
    missing = []
    for path, method in sources:
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _, text, _, _ in extract_from_file(
            "jinja2.ext.babel_extract" if method == "jinja2" else "python",
            path,
            keywords={**DEFAULT_KEYWORDS, "_l": None},
            options=options,
        ):
            msgid = text[0] if isinstance(text, tuple) else text
            message = catalog.get(msgid)
            if message is None or not message.string or message.fuzzy:
                missing.append(f"{path.name}: {msgid}")
    return missing
