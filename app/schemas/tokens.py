"""Token requests and listing rows (never a secret or a hash)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .:@-]+$",
                      description="who or what holds the token")
    role: str = Field(description="admin, analyst, operations or partner (integration tokens "
                                  "come with POST /api/v1/integrations)")
    expires_days: int | None = Field(default=None, description="lifetime in days (default "
                                     "KINGA_TOKEN_DEFAULT_DAYS, at most KINGA_TOKEN_MAX_DAYS)")


class TokenListed(BaseModel):
    id: str
    name: str
    role: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    expired: bool
    active: bool


class TokenPage(BaseModel):
    items: list[TokenListed]


class TokenCreated(TokenListed):
    token: str = Field(description="the bearer token: shown this once, stored only hashed")
