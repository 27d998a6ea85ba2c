"""Integration rows and their bearer tokens (the token itself lives in api_token)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiToken
from app.models.alerts import Integration
from app.repositories import tokens

COLUMNS = [
    *(c for c in Integration.__table__.columns if c.name != "area"),
    Integration.area.is_not(None).label("has_area"),
]


async def insert_token(session: AsyncSession, *, name: str, token_hash: str) -> uuid.UUID:
    return (
        await session.execute(
            insert(ApiToken)
            .values(name=name, role="integration", token_hash=token_hash)
            .returning(ApiToken.id)
        )
    ).scalar_one()


async def insert_integration(
    session: AsyncSession,
    *,
    name: str,
    token_id: uuid.UUID,
    salt: bytes,
    formats: list[str],
    require_signature: bool,
    section: str,
    area_geojson: dict[str, Any] | None,
    actor: str,
    ack_url: str | None = None,
    acknowledge_reporters: bool = True,
    extra: dict[str, Any] | None = None,
    mission: str | None = None,
) -> uuid.UUID:
    area = (
        func.ST_SetSRID(func.ST_GeomFromGeoJSON(orjson.dumps(area_geojson).decode()), 4326)
        if area_geojson
        else None
    )
    return (
        await session.execute(
            insert(Integration)
            .values(
                name=name,
                token_id=token_id,
                secret_salt=salt,
                formats=formats,
                require_signature=require_signature,
                section=section,
                area=area,
                created_by=actor,
                ack_url=ack_url,
                acknowledge_reporters=acknowledge_reporters,
                **(extra or {}),
                mission_code=mission,
            )
            .returning(Integration.id)
        )
    ).scalar_one()


async def by_name(session: AsyncSession, name: str) -> dict[str, Any] | None:
    row = (await session.execute(select(*COLUMNS).where(Integration.name == name))).mappings().first()
    return dict(row) if row else None


async def by_token(session: AsyncSession, token_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(*COLUMNS).where(Integration.token_id == token_id))).mappings().first()
    return dict(row) if row else None


async def all_rows(session: AsyncSession) -> list[dict[str, Any]]:
    stmt = select(*COLUMNS).order_by(Integration.created_at)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def revoke(session: AsyncSession, integration_id: uuid.UUID, token_id: uuid.UUID) -> None:
    """Revoke the integration and its token; every server process hears of it on commit."""
    await session.execute(
        update(Integration).where(Integration.id == integration_id).values(revoked_at=func.now())
    )
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=func.now()))
    await tokens.notify_revoked(session, token_id)


async def revoke_for_token(session: AsyncSession, token_id: uuid.UUID) -> str | None:
    """Revoke the active integration a token belongs to; its name, or None."""
    return (await session.execute(
        update(Integration)
        .where(Integration.token_id == token_id, Integration.revoked_at.is_(None))
        .values(revoked_at=func.now()).returning(Integration.name))).scalar_one_or_none()


async def update_settings(session: AsyncSession, integration_id: uuid.UUID,
                          values: dict[str, Any]) -> None:
    """Change an integration's settings (rate limit, acknowledgement URL); every process drops
    its cached copy on commit."""
    await session.execute(update(Integration).where(Integration.id == integration_id)
                          .values(**values))
    row = (await session.execute(select(Integration.token_id)
                                 .where(Integration.id == integration_id))).scalar_one()
    await tokens.notify_revoked(session, row)


RATE_SLOT = text("""
WITH cur AS (
    SELECT greatest(coalesce(rate_tat, now()), now()) AS tat FROM integration
    WHERE id = :id FOR UPDATE
), upd AS (
    UPDATE integration i SET rate_tat = cur.tat + make_interval(secs => :interval)
    FROM cur WHERE i.id = :id
      AND cur.tat + make_interval(secs => :interval) - now()
          <= make_interval(secs => :interval * :burst)
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM upd) AS allowed,
       date_part('epoch', cur.tat + make_interval(secs => :interval) - now())
           - :interval * :burst AS wait_s
FROM cur
""")


async def take_rate_slot(session: AsyncSession, integration_id: uuid.UUID, *, interval_s: float,
                         burst: int) -> float | None:
    """One request of an integration's rate (GCRA: one request per `interval_s`, `burst` at
    once), shared by every process through the integration's row. None if allowed, else how
    many seconds until one is."""
    row = (await session.execute(RATE_SLOT, {"id": integration_id, "interval": interval_s,
                                             "burst": burst})).one_or_none()
    if row is None or row.allowed:
        return None
    return max(float(row.wait_s), 0.0)


async def by_id(session: AsyncSession, integration_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(*COLUMNS).where(Integration.id == integration_id))).mappings().first()
    return dict(row) if row else None


async def outside_area(session: AsyncSession, integration_id: uuid.UUID, alert_id: uuid.UUID) -> bool:
    """Whether a located alert lies outside its integration's declared area (False without one)."""
    stmt = text(
        "SELECT NOT ST_Covers(i.area, a.location) FROM integration i JOIN alert a "
        "ON a.integration_id = i.id WHERE i.id = :iid AND a.id = :aid "
        "AND i.area IS NOT NULL AND a.location IS NOT NULL"
    )
    return bool((await session.execute(stmt, {"iid": integration_id, "aid": alert_id})).scalar())
