"""Integration rows and their bearer tokens (the token itself lives in api_token)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiToken
from app.models.alerts import Integration

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
    await session.execute(
        update(Integration).where(Integration.id == integration_id).values(revoked_at=func.now())
    )
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=func.now()))


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
