"""Bases registry use cases (create, read, update, delete, audited) and the Geo-PKO loader's
pure part: one base per location and contiguous span of years."""

from __future__ import annotations

import calendar
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
                  sort: str, scope: Any = None) -> list[dict[str, Any]]:
    """Bases, optionally of one mission (its own, and unassigned ones in its area) and inside one
    area of responsibility."""
    clip: dict[str, Any] = {}
    if scope is not None and scope.clip:
        clip = {"mission": scope.mission.code, "area": scope.mission.area,
                "within": scope.aor["area"] if scope.aor else None}
    rows = await repo.list_bases(session, as_of=as_of, kinds=kinds, bbox=bbox, sort=sort, **clip)
    return [shape(r, who.role) for r in rows]


# --- Geo-PKO deployments ---------------------------------------------------------------------
# Two published layouts: v2.3 (one row per site and year: mission, year, location, latitude,
# longitude, troops, infantry, reserve, hq, unpol, medical, aviation, unmo) and v1 (one row per
# site on each deployment map: Source, Mission, year, month, location, …, No.troops, RPF, RES, FP,
# UNPOL..dummy., UNMO..dummy., HQ, LO, …; `NA` for unknown). Both read into canonical rows.

V1_COLUMNS = {"no.troops": "troops", "res": "reserve", "unpol..dummy.": "unpol",
              "unmo..dummy.": "unmo"}
COUNTS = ("troops", "infantry", "reserve", "hq", "unpol", "medical", "aviation", "unmo")
MISSING = {"", "na", "n/a", "nan", "null", "none", "-"}


def _int(v: Any) -> int:
    if v is None or str(v).strip().lower() in MISSING:
        return 0
    try:
        return int(float(v))
    except ValueError:
        return 0


def _float(v: Any) -> float | None:
    if v is None or str(v).strip().lower() in MISSING:
        return None
    try:
        out = float(v)
    except ValueError:
        return None
    return out if out == out and abs(out) != float("inf") else None


def read_geopko(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """Canonical rows (mission, year, month or None, location, latitude, longitude, counts), the
    rows that could not be read (row number and reason), and whether the layout is monthly."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            raw = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"not a readable CSV file: {exc}",
                           errors=[{"pointer": "/file", "detail": "a Geo-PKO CSV"}]) from None
    lower = {h.lower(): h for h in header}
    if not {"location", "year", "latitude", "longitude"} <= set(lower):
        raise InvalidInput("not a Geo-PKO deployments CSV (location, year, latitude, longitude)",
                           errors=[{"pointer": "/file", "detail": "missing Geo-PKO columns"}])
    monthly = "month" in lower
    rows, rejects = [], []
    for n, r in enumerate(raw, start=1):
        row = {k.strip().lower(): v for k, v in r.items() if k is not None}
        lat, lon = _float(row.get("latitude")), _float(row.get("longitude"))
        year, month = _int(row.get("year")), _int(row.get("month")) if monthly else None
        loc = (row.get("location") or "").strip()
        reason = (None if loc else "location: missing") or (
            None if lat is not None and lon is not None and -90 <= lat <= 90
            and -180 <= lon <= 180 else "latitude/longitude: not numbers in range") or (
            None if 1900 < year < 2200 else "year: missing or not a year") or (
            None if not monthly or (month is not None and 1 <= month <= 12)
            else "month: must be 1-12")
        if reason is not None:
            rejects.append({"row": n, "location": loc or None, "reason": reason})
            continue
        out: dict[str, Any] = {"mission": (row.get("mission") or "").strip(), "year": year,
                               "month": month, "location": loc, "latitude": lat,
                               "longitude": lon}
        for key in COUNTS:
            src = next((k for k, v in V1_COLUMNS.items() if v == key and k in row), key)
            out[key] = _int(row.get(src))
        if "infantry" not in row:  # v1 counts troops only
            out["infantry"] = 0
        rows.append(out)
    return rows, rejects, monthly


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


def _period_end(year: int, month: int | None) -> date:
    if month is None:
        return date(year, 12, 31)
    return date(year, month, calendar.monthrange(year, month)[1])


def geopko_bases(path: Path, troops_per_road: int, troops_per_foot: int, *,
                 mission: str | None = None) -> list[dict[str, Any]]:
    """One base per location and period of presence on its mission's maps (v2.3 yearly or v1
    monthly). A period opens on the first day of the first map showing the site (1 January for
    yearly maps, the 1st of the month for monthly ones) and closes at the end of the last map
    showing it, when a later map of that mission omits it; months (or years) with no map of the
    mission are not gaps, and a site on the mission's last map stays open. With `mission`, only
    that mission's rows (the Mission column, case-insensitively): 422 if there are none."""
    rows, _rejects, monthly = read_geopko(path)
    if mission is not None:
        wanted = mission.strip().lower()
        names = sorted({r["mission"] for r in rows if r["mission"]})
        rows = [r for r in rows if r["mission"].lower() == wanted]
        if not rows:
            raise InvalidInput(
                f"the file has no rows of mission {mission!r}; its missions: "
                f"{', '.join(names) or 'none named'}",
                errors=[{"pointer": "/mission", "detail": f"not a mission of this file "
                                                          f"({', '.join(names) or '-'})"}])
    out = []
    by_mission: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_mission.setdefault(r["mission"], []).append(r)
    for name in sorted(by_mission):
        mrows = by_mission[name]
        maps = sorted({(r["year"], r["month"] or 0) for r in mrows})
        index = {m: i for i, m in enumerate(maps)}
        by_loc: dict[str, list[dict[str, Any]]] = {}
        for r in mrows:
            by_loc.setdefault(r["location"], []).append(r)
        for loc in sorted(by_loc):
            seen = sorted({index[(r["year"], r["month"] or 0)] for r in by_loc[loc]})
            spans: list[list[int]] = []
            for i in seen:
                if spans and i == spans[-1][-1] + 1:
                    spans[-1].append(i)
                else:
                    spans.append([i])
            for span in spans:
                first_map, last_map = maps[span[0]], maps[span[-1]]
                group = [r for r in by_loc[loc] if index[(r["year"], r["month"] or 0)] in span]
                first = group[0]
                y0, m0 = first_map
                y1, m1 = last_map
                if monthly:
                    label = f"{y0}-{m0:02d}" + (f"-{y1}-{m1:02d}" if (y0, m0) != (y1, m1) else "")
                    ext = f"{name.lower()}:{loc}:{y0}-{m0:02d}:{y1}-{m1:02d}"
                    opened = date(y0, m0, 1)
                else:
                    label = f"{y0}-{y1}"
                    ext = f"{loc}:{y0}-{y1}"  # the v2.3 ids of earlier imports
                    opened = date(y0, 1, 1)
                still_open = span[-1] == len(maps) - 1
                out.append({
                    "name": loc, "kind": infer_kind(group),
                    "latitude": float(first["latitude"]), "longitude": float(first["longitude"]),
                    "opened_on": opened,
                    "closed_on": None if still_open else _period_end(y1, m1 or None),
                    **capacities(group, troops_per_road, troops_per_foot),
                    "notes": f"Geo-PKO {'v1 monthly maps' if monthly else 'v2.3'} "
                             f"{name or 'mission'} deployments {label}",
                    "external_source": "geopko", "external_id": ext,
                    "mission_code": name.lower() or None,
                })
    return out


def import_geopko(conn: Any, path: Path, settings: Any, *, mission: Any, actor: str
                  ) -> tuple[int, int, int]:
    """Geo-PKO deployments (v2.3 yearly or v1 monthly layout) as bases, over one psycopg
    connection; with a mission, only its rows (the file's Mission column) and its sites feed its
    gazetteer. Returns (bases read, inserted, gazetteer places)."""
    from app.repositories.imports import insert_places

    rows = geopko_bases(path, settings.troops_per_road_patrol, settings.troops_per_foot_patrol,
                        mission=mission.code if mission is not None else None)
    inserted = repo.import_rows(conn, rows, actor=actor)
    places = 0
    if mission is not None and mission.stored:
        sites = {r["name"]: r for r in rows}
        places = insert_places(conn, [
            {"mission": mission.code, "name": r["name"], "latitude": r["latitude"],
             "longitude": r["longitude"], "precision": 1, "source": "geopko"}
            for r in sites.values()])
        conn.commit()
    return len(rows), inserted, places
