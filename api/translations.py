"""Texts in the reader's language: translations sit beside the original and are laid over
it on read, saying which language each text is in."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from api.language import choose, preferences, record, sql_rank
from api.moderation.models import Translation

TRANSLATABLE = {"actor": ("name", "summary", "description"), "resource": ("title", "summary")}


def requested_language(lang_arg: str | None) -> tuple[str, ...]:
    """The reader's languages, best first: ``lang=`` before Accept-Language (api.language)."""
    return preferences(lang_arg)


def translations_for(session: Session, target_type: str, ids: list[uuid.UUID]) -> dict:
    """{target_id: {language: Translation}} for a page of items, in one query."""
    if not ids:
        return {}
    stmt = select(Translation).where(
        Translation.target_type == target_type, Translation.target_id.in_(ids)
    )
    found: dict = {}
    for translation in session.scalars(stmt):
        found.setdefault(translation.target_id, {})[translation.language] = translation
    return found


def localise(
    data: dict,
    target_type: str,
    original_language: str,
    available: dict,
    wanted: tuple[str, ...] | str | None,
) -> dict:
    """Lay the best translation for the reader's languages (or the one language the web
    pages chose; None for none) over ``data``'s texts and say, per text, which language it is in
    (``text_languages``) and which are translations."""
    if isinstance(wanted, str):
        wanted = (wanted.lower(),)
    wanted = wanted or ()  # None: the originals (a webhook's payload, with no reader)
    chosen = choose(original_language, available, wanted)
    translation = available.get(chosen) if chosen != original_language else None
    fields = [f for f in TRANSLATABLE[target_type] if f in data]
    translated = [f for f in fields if translation is not None and translation.texts.get(f)]
    for field in translated:
        data[field] = translation.texts[field]
    data["text_languages"] = {
        f: translation.language if f in translated else original_language for f in fields
    }
    data["translated_fields"] = translated
    data["available_languages"] = sorted({original_language, *available})
    record(data["text_languages"].values())
    return data


def record_feature_languages(features) -> None:
    """Note, for Content-Language, the languages of features PostgreSQL assembled: their
    ``text_languages`` where texts were chosen, else their original ``language``."""
    for feature in features:
        properties = feature.get("properties") or {}
        chosen = properties.get("text_languages")
        record(
            chosen.values()
            if chosen
            else [properties["language"]]
            if "language" in properties
            else []
        )


# -- the same choice in SQL, for what PostgreSQL assembles (OGC features, tiles, exports) -----


def _best_translation(target_type: str, model, prefs: tuple[str, ...], *columns):
    """A correlated subquery: ``columns`` of the item's translation that ``choose`` would
    pick (ranked above the original), or no row. Served by the translations' unique index
    on (target_type, target_id, language)."""
    t = aliased(Translation, name="best")
    ranked = sql_rank(t.language, prefs)
    return (
        select(*(column(t) for column in columns))
        .where(
            t.target_type == target_type,
            t.target_id == model.id,
            ranked < sql_rank(model.language, prefs),
        )
        .order_by(ranked, t.language)
        .limit(1)
        .scalar_subquery()
    )


def localised_text(target_type: str, model, field: str, prefs: tuple[str, ...]) -> ColumnElement:
    """One text of the item in the reader's language where translated, else the original."""
    original = getattr(model, field)
    if not prefs:
        return original
    best = _best_translation(target_type, model, prefs, lambda t: t.texts[field].astext)
    return func.coalesce(best, original)


def localised_texts(
    target_type: str, model, fields: list[str], prefs: tuple[str, ...]
) -> ColumnElement:
    """The item's translatable ``fields`` in the reader's language, and ``text_languages``
    (the language of each), as one jsonb object: one look-up of the translation per row."""

    def texts(source, language) -> list:
        pairs, languages = [], []
        for field in fields:
            original = getattr(model, field)
            if source is None:
                pairs += [field, original]
                languages += [field, model.language]
            else:
                pairs += [field, func.coalesce(source.texts[field].astext, original)]
                languages += [
                    field,
                    case((source.texts.has_key(field), language), else_=model.language),
                ]
        return [*pairs, "text_languages", func.jsonb_build_object(*languages)]

    originals = func.jsonb_build_object(*texts(None, None))
    if not prefs:
        return originals
    best = _best_translation(
        target_type, model, prefs, lambda t: func.jsonb_build_object(*texts(t, t.language))
    )
    return func.coalesce(best, originals)
