"""The reader's language, negotiated in one place for every endpoint.

``Accept-Language`` (RFC 9110 §12.5.4) is read whole: every range in the order of its
q-value, ``*``, and ``q=0`` meaning "not this one". ``lang=``, where an endpoint offers it,
comes first. Each range is followed by its shorter prefixes (RFC 4647 lookup: ``fr-CA``
then ``fr``), and a range also matches the longer tags under it (``fr`` matches ``fr-BE``).

Two things are chosen from that ranking:

- the interface language of what the service writes itself (problem details): the best
  of ``INTERFACE_LANGUAGES``, else English;
- for content (an actor's name, a resource's title…), per item, the best of its original
  language and its translations; when nothing the reader accepts exists, the original.

``Content-Language`` says which language(s) a representation is in; responses whose
texts depend on the reader's languages say ``Vary: Accept-Language`` (api.http).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, Response, has_request_context, request
from flask_babel import get_locale
from sqlalchemy import ColumnElement, case, func, literal, or_

# Languages the service's own texts are written in (the web pages' too: api.web).
INTERFACE_LANGUAGES = ("en", "fr", "es", "ar", "ru", "sw")
DEFAULT = "en"
# Enough for any real header; a hostile one does not make every query longer.
MAX_RANGES = 12
MAX_TAG_LENGTH = 35  # as the LanguageTag field of the API's input (api.fields)
NOTED = "peacemap.content_languages"
LANGUAGE_RANGE = re.compile(r"[a-z]{1,8}(-[a-z0-9]{1,8})*")  # RFC 4647 §2.1, lower-cased


def N_(message: str) -> str:  # gettext's name for "extract now, translate on use"
    return message


def init_app(app: Flask) -> None:
    app.after_request(_say_content_language)


def preferences(lang_arg: str | None = None) -> tuple[str, ...]:
    """The reader's language ranges, best first, lower-cased, each followed by its
    prefixes; ranges refused with ``q=0`` left out. ``*`` stays where the reader put it."""
    ranked = [lang_arg] if lang_arg else []
    refused = set()
    for value, quality in request.accept_languages:
        if quality > 0:
            ranked.append(value)
        else:
            refused.add(value.lower())
    expanded: list[str] = []
    for value in ranked[:MAX_RANGES]:
        value = value.lower().replace("_", "-")
        if not (value == "*" or (len(value) <= MAX_TAG_LENGTH and LANGUAGE_RANGE.fullmatch(value))):
            continue  # not a language range (nor a LIKE pattern in sql_rank)
        subtags = value.split("-")
        for end in range(len(subtags), 0, -1):
            candidate = "-".join(subtags[:end])
            if candidate not in expanded and candidate not in refused:
                expanded.append(candidate)
    return tuple(expanded)


def rank(tag: str, prefs: tuple[str, ...]) -> int | None:
    """Where ``tag`` comes in the reader's ranking (0 is best); None if not accepted."""
    tag = tag.lower()
    for index, wanted in enumerate(prefs):
        if wanted == "*" or tag == wanted or tag.startswith(wanted + "-"):
            return index
    return None


def choose(original: str, available: Iterable[str], prefs: tuple[str, ...]) -> str:
    """The language to show an item in: the best-ranked of its original and its
    translations, the original on a tie or when the reader accepts none of them."""
    unranked = len(prefs)
    best, best_rank = original, rank(original, prefs)
    best_rank = unranked if best_rank is None else best_rank
    for language in sorted(available):
        found = rank(language, prefs)
        if found is not None and found < best_rank:
            best, best_rank = language, found
    return best


def sql_rank(language: ColumnElement, prefs: tuple[str, ...]) -> ColumnElement[int]:
    """``rank`` in SQL, for choosing translations in the queries that build features."""
    lowered = func.lower(language)
    return case(
        *[
            (literal(True) if p == "*" else or_(lowered == p, lowered.like(p + "-%")), index)
            for index, p in enumerate(prefs)
        ],
        else_=len(prefs),
    )


def interface_language(prefs: tuple[str, ...] | None = None) -> str:
    """The best of the interface languages for the reader; English when none is accepted."""
    if prefs is None:
        prefs = preferences()
    ranked = [(rank(language, prefs), order) for order, language in enumerate(INTERFACE_LANGUAGES)]
    accepted = [(found, order) for found, order in ranked if found is not None]
    return INTERFACE_LANGUAGES[min(accepted)[1]] if accepted else DEFAULT  # "*": English


def record(languages: Iterable[str]) -> None:
    """Note languages the response's texts are in: they become its Content-Language.
    (Kept with the request: an application context may outlive it, in tests; outside a
    request, e.g. in the webhooks' worker, there is no header to write.)"""
    if has_request_context():
        request.environ.setdefault(NOTED, set()).update(languages)


def prepared_for(prefs: tuple[str, ...]) -> None:
    """For texts PostgreSQL picks row by row (tiles, OGC features, exports): note the
    reader's languages they were chosen for (each text's own is in ``text_languages``)."""
    record(p for p in prefs if p != "*" and not any(p.startswith(q + "-") for q in prefs))


def _say_content_language(response: Response) -> Response:
    """Every representation names its language(s): a web page its interface language;
    others the languages their texts were noted in, else English, the language of the
    service's own texts (theme labels, OGC and OpenAPI documents). Problem details name
    theirs (api.errors)."""
    if "Content-Language" in response.headers or response.status_code in (204, 304):
        return response
    if request.method == "OPTIONS":
        return response
    noted = request.environ.get(NOTED)
    if request.blueprint == "web":  # a page is in its interface language, chosen or not
        language = str(get_locale())
    elif noted:
        language = ", ".join(sorted(noted))
    else:
        language = DEFAULT
    response.headers["Content-Language"] = language
    return response
