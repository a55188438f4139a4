"""Who is asking: the signed-in user (or nobody), through which token, from where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.accounts.models import AccessToken, User


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    token: AccessToken | None = None
    ip: str | None = None
    # The metrics scraper (PEACEMAP_METRICS_TOKEN): may read /metrics, else anonymous.
    scraper: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @property
    def user_id(self):
        return self.user.id if self.user else None


ANONYMOUS = Principal()
