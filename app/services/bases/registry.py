"""Bases registry use cases (create, read, update, delete, audited) and the Geo-PKO loader's
pure part: one base per location and contiguous span of years."""

from __future__ import annotations

import csv
import statistics
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import InvalidInput, NotFound
from app.repositories import audit
from app.repositories import bases as repo
from app.schemas.bases import BaseCreate, BaseUpdate
from app.services.auth import Principal

# Partners see where the mission is, not what it holds there.
PARTNER_FIELDS = ("id", "name", "kind", "latitude", "longitude", "opened_on", "closed_on")



def shape(row: dict[str, Any], role: Role) -> dict[str, Any]:
    row = {k: v for k, v in row.items() if k not in ("location", "created_by", "updated_by")}
    if role == Role.partner:
        return {k: row[k] for k in PARTNER_FIELDS}
    return row


async def create(session: AsyncSession, body: BaseCreate, who: Principal) -> dict[str, Any]:
    values = body.model_dump(exclude={"latitude", "longitude"})
    values.update(created_by=who.actor, updated_by=who.actor)
    new_id = await repo.insert_base(session, values, body.longitude, body.latitude)
    await audit.record(session, actor=who.actor, action="create", object_type="mission_base",
                       object_id=str(new_id), after=body.model_dump())
    await session.commit()
    return await read(session, new_id, who)


async def read(session: AsyncSession, base_id: uuid.UUID, who: Principal) -> dict[str, Any]:
    row = await repo.get(session, base_id)
    if row is None:
        raise NotFound(f"no base {base_id}")
    return shape(row, who.role)


async def update(session: AsyncSession, base_id: uuid.UUID, body: BaseUpdate, who: Principal
                 ) -> dict[str, Any]:
    before = await repo.get(session, base_id, lock=True)
    if before is None:
        raise NotFound(f"no base {base_id}")
    changes = body.model_dump(exclude_unset=True, exclude={"latitude", "longitude"})
    opened = changes.get("opened_on", before["opened_on"])
    closed = changes.get("closed_on", before["closed_on"])
    if closed is not None and closed < opened:
        raise InvalidInput("closed_on is before opened_on", errors=[
            {"pointer": "/body/closed_on", "detail": "must not be before opened_on"}])
    lonlat = (body.longitude, body.latitude) if body.latitude is not None else None
    await repo.update_base(session, base_id, {**changes, "updated_by": who.actor},
                           lonlat)  # type: ignore[arg-type]
    await audit.record(session, actor=who.actor, action="update", object_type="mission_base",
                       object_id=str(base_id), before=shape(before, Role.admin),
                       after=body.model_dump(exclude_unset=True))
    await session.commit()
    return await read(session, base_id, who)


async def remove(session: AsyncSession, base_id: uuid.UUID, who: Principal) -> None:
    before = await repo.get(session, base_id, lock=True)
    if before is None:
        raise NotFound(f"no base {base_id}")
    await repo.delete_base(session, base_id)
    await audit.record(session, actor=who.actor, action="delete", object_type="mission_base",
                       object_id=str(base_id), before=shape(before, Role.admin))
    await session.commit()


async def listing(session: AsyncSession, who: Principal, *, as_of: date | None,
                  kinds: list[str] | None, bbox: tuple[float, float, float, float] | None,
                  sort: str) -> list[dict[str, Any]]:
    rows = await repo.list_bases(session, as_of=as_of, kinds=kinds, bbox=bbox, sort=sort)
    return [shape(r, who.role) for r in rows]


# --- Geo-PKO MINUSCA deployments -------------------------------------------------------------

def _int(v: str | None) -> int:
    try:
        return int(float(v or 0))
    except ValueError:
        return 0


def infer_kind(rows: list[dict[str, Any]]) -> str:
    """Geo-PKO codes `hq` 3 for the mission HQ and 2 for a sector HQ; sites with troops are
    company operating bases; sites with only UN police are police posts; sites with only
    military observers (or nothing counted) are field offices."""
    hq = max(_int(r["hq"]) for r in rows)
    if hq >= 3:
        return "mission_hq"
    if hq == 2:
        return "sector_hq"
    if max(_int(r["troops"]) + _int(r["infantry"]) for r in rows) > 0:
        return "company_operating_base"
    if max(_int(r["unpol"]) for r in rows) > 0:
        return "police_post"
    return "field_office"


def capacities(rows: list[dict[str, Any]], troops_per_road: int, troops_per_foot: int
               ) -> dict[str, int]:
    """Daily patrol capacity from the median over the span of each year's peak strength."""
    by_year: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_year.setdefault(_int(r["year"]), []).append(r)
    troops = int(statistics.median(max(_int(r["troops"]) for r in g) for g in by_year.values()))
    infantry = int(statistics.median(max(_int(r["infantry"]) for r in g) for g in by_year.values()))
    fighting = infantry or troops
    police = max(_int(r["unpol"]) for r in rows) > 0
    observers = max(_int(r["unmo"]) for r in rows) > 0
    return {
        "troops": max(troops, infantry),
        # Every staffed site can mount at least one road patrol (police, observers or troops).
        "road_patrols_per_day": max(1 if (fighting or police or observers) else 0,
                                    round(fighting / troops_per_road)),
        "foot_patrols_per_day": max(1 if police else 0, round(infantry / troops_per_foot)),
        "air_patrols_per_day": 1 if max(_int(r["aviation"]) for r in rows) > 0 else 0,
        "qrf_standby": 1 if fighting >= 650 or max(_int(r["reserve"]) for r in rows) > 0 else 0,
    }


def geopko_bases(path: Path, troops_per_road: int, troops_per_foot: int) -> list[dict[str, Any]]:
    """One base per location and contiguous span of years. The span opens on 1 January of its
    first year; it closes on 31 December of its last year unless that is the file's last year
    (still open as far as the data know)."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"location", "year", "latitude", "longitude"} <= set(rows[0]):
        raise ValueError("not a Geo-PKO deployments CSV (location, year, latitude, longitude)")
    last_year = max(_int(r["year"]) for r in rows)
    by_loc: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_loc.setdefault(r["location"].strip(), []).append(r)
    out = []
    for loc in sorted(by_loc):
        years = sorted({_int(r["year"]) for r in by_loc[loc]})
        spans: list[list[int]] = []
        for y in years:
            if spans and y == spans[-1][-1] + 1:
                spans[-1].append(y)
            else:
                spans.append([y])
        for span in spans:
            group = [r for r in by_loc[loc] if _int(r["year"]) in span]
            first = group[0]
            out.append({
                "name": loc, "kind": infer_kind(group),
                "latitude": float(first["latitude"]), "longitude": float(first["longitude"]),
                "opened_on": date(span[0], 1, 1),
                "closed_on": None if span[-1] == last_year else date(span[-1], 12, 31),
                **capacities(group, troops_per_road, troops_per_foot),
                "notes": f"Geo-PKO v2.3 {first.get('mission', 'MINUSCA')} deployments "
                         f"{span[0]}-{span[-1]}",
                "external_source": "geopko", "external_id": f"{loc}:{span[0]}-{span[-1]}",
            })
    return out
