"""Texts in the reader's language: translations sit beside the original and are laid over
it on read, saying which language each text is in."""

from __future__ import annotations

import uuid

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.moderation.models import Translation

TRANSLATABLE = {"actor": ("name", "summary", "description"), "resource": ("title", "summary")}


def requested_language(lang_arg: str | None) -> str | None:
    """``lang=`` wins over Accept-Language; None means: the original."""
    if lang_arg:
        return lang_arg
    values = [value for value, _ in request.accept_languages]
    return values[0] if values and values[0] != "*" else None


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


def _best(available: dict, wanted: str) -> Translation | None:
    if wanted in available:
        return available[wanted]
    primary = wanted.split("-")[0].lower()
    return next(
        (t for lang, t in sorted(available.items()) if lang.split("-")[0].lower() == primary), None
    )


def localise(
    data: dict, target_type: str, original_language: str, available: dict, wanted: str | None
) -> dict:
    """Lay the best translation for ``wanted`` over ``data``'s texts and say, per text,
    which language it is in (``text_languages``) and which are translations."""
    translation = None
    if wanted and wanted.split("-")[0].lower() != original_language.split("-")[0].lower():
        translation = _best(available, wanted)
    fields = [f for f in TRANSLATABLE[target_type] if f in data]
    translated = [f for f in fields if translation is not None and translation.texts.get(f)]
    for field in translated:
        data[field] = translation.texts[field]
    data["text_languages"] = {
        f: translation.language if f in translated else original_language for f in fields
    }
    data["translated_fields"] = translated
    data["available_languages"] = sorted({original_language, *available})
    return data
