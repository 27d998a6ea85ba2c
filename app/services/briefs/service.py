"""Brief use cases: generate (for a period, scope and edition), keep as a dated record, read a
kept one, and render any of them as JSON, HTML or PDF."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import anyio
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Forbidden, InvalidInput, NotFound
from app.repositories import briefs as repo
from app.services.briefs import period as periods
from app.services.briefs import render
from app.services.briefs import scope as scopes
from app.services.briefs.compose import EDITIONS, compose
from app.settings import Settings

FORMATS = ("json", "html", "pdf")
STAFF = (Role.admin, Role.analyst, Role.operations)


@dataclass
class Rendered:
    body: bytes
    media_type: str
    filename: str


def edition_for(role: Role, asked: str | None) -> str:
    """Partners always get the partner edition; staff get the full one unless they ask to see
    what partners see."""
    if asked is not None and asked not in EDITIONS:
        raise InvalidInput(f"unknown edition {asked!r}",
                           errors=[{"pointer": "/query/edition", "detail": "full or partner"}])
    if role == Role.partner:
        if asked == "full":
            raise Forbidden("partners read the partner edition")
        return "partner"
    return asked or "full"


def check_format(f: str) -> str:
    if f not in FORMATS:
        raise InvalidInput(f"unknown format {f!r}",
                           errors=[{"pointer": "/query/f", "detail": "json, html or pdf"}])
    return f


async def generate(session: AsyncSession, settings: Settings, *, period: str | None,
                   as_of: date | None, mission: str | None, aor: str | None, edition: str,
                   now: datetime, charts: bool = True, token_mission: str | None = None,
                   token_aor: Any = None, pointer: str = "/query/mission") -> dict[str, Any]:
    """A brief of the scope (a token limited to a mission or AOR gets only that one)."""
    scope = await scopes.resolve(session, settings, mission, aor, token_mission=token_mission,
                                 token_aor=token_aor, pointer=pointer)
    p = periods.parse(period, as_of, tz=scope.tz, now=now)
    content = await compose(session, settings, p, scope, edition=edition, now=now, charts=charts)
    return {"id": None, "kept": False, "content": content}


async def keep(session: AsyncSession, brief: dict[str, Any], *, actor: str, scheduled: bool,
               commit: bool = True) -> uuid.UUID | None:
    c = brief["content"]
    new_id = await repo.insert_brief(session, {
        "period": c["period"]["kind"], "as_of": date.fromisoformat(c["period"]["as_of"]),
        "period_start": datetime.fromisoformat(c["period"]["start"]),
        "period_end": datetime.fromisoformat(c["period"]["end"]),
        "mission": c["scope"]["mission"], "aor": c["scope"]["aor"], "edition": c["edition"],
        "scheduled": scheduled, "generated_by": actor,
        "content": orjson.loads(orjson.dumps(c, default=str))})
    if commit:
        await session.commit()
    if new_id is not None:
        brief.update(id=str(new_id), kept=True)
    return new_id


async def read(session: AsyncSession, brief_id: uuid.UUID, role: Role) -> dict[str, Any]:
    row = await repo.get_brief(session, brief_id)
    if row is None or (role == Role.partner and row["edition"] != "partner"):
        raise NotFound(f"no brief {brief_id}")
    return {"id": str(row["id"]), "kept": True, "scheduled": row["scheduled"],
            "generated_by": row["generated_by"], "content": row["content"]}


async def listing(session: AsyncSession, role: Role, *, period: str | None,
                  mission: str | None, limit: int) -> list[dict[str, Any]]:
    editions = ["partner"] if role == Role.partner else list(EDITIONS)
    rows = await repo.list_briefs(session, editions=editions, period=period, mission=mission,
                                  limit=limit)
    return [{**r, "id": str(r["id"])} for r in rows]


async def as_format(brief: dict[str, Any], f: str, *, base_url: str, settings: Settings
                    ) -> Rendered:
    c = brief["content"]
    stem = f"brief-{c['period']['kind']}-{c['period']['as_of']}-{c['edition']}"
    if f == "json":
        return Rendered(orjson.dumps(brief, default=str), "application/json", stem + ".json")
    page = render.html(c, base_url=base_url,
                       outline_path=settings.geodata_dir / "naturalearth-countries.geojson")
    if f == "html":
        return Rendered(page.encode("utf-8"), "text/html; charset=utf-8", stem + ".html")
    body = await anyio.to_thread.run_sync(render.pdf, page)  # CPU-bound: off the event loop
    return Rendered(body, "application/pdf", stem + ".pdf")
