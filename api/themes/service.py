"""The theme vocabulary: read it, extend it, check keys against it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import Conflict, Unprocessable
from api.themes.models import Theme


def list_themes(session: Session) -> list[Theme]:
    return list(session.scalars(select(Theme).order_by(Theme.group, Theme.key)))


def add_theme(session: Session, data: dict) -> Theme:
    if session.get(Theme, data["key"]) is not None:
        raise Conflict(f"Theme {data['key']!r} already exists.")
    theme = Theme(**data)
    session.add(theme)
    session.flush()
    return theme


def check_theme_keys(session: Session, keys: list[str]) -> None:
    if not keys:
        return
    known = set(session.scalars(select(Theme.key).where(Theme.key.in_(keys))))
    unknown = [key for key in keys if key not in known]
    if unknown:
        message = f"unknown theme(s) {', '.join(unknown)}; see GET /api/v1/themes."
        raise Unprocessable(f"themes: {message}", errors={"themes": [message]})
