"""The theme vocabulary: the five framework themes and an extensible list of sectors."""

from __future__ import annotations

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base

THEME_GROUPS = ("framework", "sector")


class Theme(Base):
    __tablename__ = "themes"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    group: Mapped[str] = mapped_column(Enum(*THEME_GROUPS, name="theme_group"))
    description: Mapped[str] = mapped_column(String(500), server_default="")
