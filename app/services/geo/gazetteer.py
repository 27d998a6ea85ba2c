"""Place names → coordinates, from data, per mission.

Sources: a mission's bundled gazetteer files (its profile's `gazetteer_files`: Geo-PKO
deployment CSVs, UCDP GED GeoJSON, GeoNames tab-separated files) and the `place` table, which
imports fill (ACLED `location`/`admin1-2`, UCDP `where_coordinates`/`adm_1`/`adm_2`, Geo-PKO
sites, `kinga gazetteer import FILE`). Geo-PKO sites are surveyed town coordinates (precision 1);
admin units sit at the mean of their events (coarse, flagged as such).

A name resolves exactly after normalisation (case, accents, apostrophes, kind suffix such as
"town"), then by fuzzy match (rapidfuzz: Indel ratio, then Jaro-Winkler for a transposed pair of
letters) above a cut-off, and the score is kept. A name several places share resolves to the one
inside the mission's area, then the most precise, then a surveyed (Geo-PKO) site, then the one
with most events.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

KIND_SUFFIX = re.compile(
    r"\s+(town|city|village|villages|region|area|prefecture|sub prefecture|subprefecture|"
    r"province|district|commune|camp|mine|mines|road|axis|neighbourhood|neighborhood|county|"
    r"state|payam|boma|poc|poc site)$"
)
# Precision codes follow UCDP where_prec: 1 exact place, 2 within 25 km, 4 admin-2, 5 admin-1.
RADIUS_M = {1: 2_000, 2: 25_000, 3: 25_000, 4: 50_000, 5: 150_000}
FUZZY_CUTOFF = 88.0
TRANSPOSITION_CUTOFF = 93.0  # Jaro-Winkler x 100, names of 5+ letters only
EARTH_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    precision: int
    source: str
    mission: str | None = None
    events: int = 1

    @property
    def radius_m(self) -> int:
        return RADIUS_M.get(self.precision, 150_000)


@dataclass(frozen=True)
class Match:
    place: Place
    score: float  # 100 = exact after normalisation
    query: str

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "name": self.place.name, "score": round(self.score, 1),
                "mission": self.place.mission, "source": self.place.source,
                "precision": self.place.precision, "latitude": self.place.latitude,
                "longitude": self.place.longitude}


def normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("’", "'").replace("`", "'")
    text = re.sub(r"[^\w']+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return KIND_SUFFIX.sub("", text).strip()


@dataclass
class Gazetteer:
    places: list[Place]
    inside: Any = None  # callable (lon, lat) -> bool: the mission's area, for ambiguous names
    by_key: dict[str, list[Place]] = field(init=False)

    def __post_init__(self) -> None:
        groups: dict[str, list[Place]] = defaultdict(list)
        for p in self.places:
            key = normalise(p.name)
            if key:
                groups[key].append(p)
        self.by_key = dict(groups)
        self.keys = list(self.by_key)
        towns = [p for p in self.places if p.precision <= 3]
        self._towns = towns
        self._coords = np.radians(np.array([(p.latitude, p.longitude) for p in towns], float)
                                  ).reshape(-1, 2)
        self._weights = np.array([p.events + (100.0 if p.source == "geopko" else 0.0)
                                  for p in towns], float)

    def __len__(self) -> int:
        return len(self.by_key)

    def _best(self, candidates: list[Place]) -> Place:
        def rank(p: Place) -> tuple[int, int, int, int, str]:
            outside = 0 if self.inside is None or self.inside(p.longitude, p.latitude) else 1
            # surveyed deployment sites first, then the best attested
            return (outside, p.precision, 0 if p.source == "geopko" else 1, -p.events, p.source)
        return min(candidates, key=rank)

    def match(self, name: str | None) -> Match | None:
        if not name or not name.strip():
            return None
        key = normalise(name)
        if not key:
            return None
        if key in self.by_key:
            return Match(self._best(self.by_key[key]), 100.0, name)
        hit = process.extractOne(key, self.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if hit is None and len(key) >= 5:
            hit = process.extractOne(key, self.keys, scorer=JaroWinkler.normalized_similarity,
                                     score_cutoff=TRANSPOSITION_CUTOFF / 100)
            if hit is not None:
                hit = (hit[0], hit[1] * 100, hit[2])
        if hit is None:
            return None
        return Match(self._best(self.by_key[hit[0]]), float(hit[1]), name)

    def resolve(self, name: str | None) -> Place | None:
        m = self.match(name)
        return m.place if m else None

    def find_in_text(self, text: str) -> Place | None:
        m = self.match_in_text(text)
        return m.place if m else None

    def match_in_text(self, text: str) -> Match | None:
        """A known place named in free text (an SMS): exact matches of 1-3 word runs only, towns
        and villages only (not admin units), at least 4 letters (3 for surveyed sites), longest
        run first."""
        words = normalise(text).split()
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                key = " ".join(words[i : i + size])
                found = [p for p in self.by_key.get(key, ()) if p.precision <= 3]
                if found and (len(key) >= 4 or (len(key) == 3 and any(
                        p.source == "geopko" for p in found))):
                    return Match(self._best(found), 100.0, key)
        return None

    def nearest(self, lat: float, lon: float, max_km: float = 30.0) -> Place | None:
        """The closest town or village to a point, within max_km (for warning headlines)."""
        if not len(self._towns):
            return None
        p1, l1 = np.radians(lat), np.radians(lon)
        d = self._coords
        a = np.sin((d[:, 0] - p1) / 2) ** 2 + np.cos(p1) * np.cos(d[:, 0]) * \
            np.sin((d[:, 1] - l1) / 2) ** 2
        km = 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        # A headline should name the town people know, not the hamlet nearest the cell's centre:
        # distance is discounted by how well attested a place is (its events; surveyed sites of
        # the mission's own deployments count as a hundred).
        weight = self._weights
        rank = np.where(km <= max_km, km / np.sqrt(1.0 + weight), np.inf)
        best = int(np.argmin(rank))
        return self._towns[best] if np.isfinite(rank[best]) else None

    def search(self, q: str, limit: int = 10) -> list[Match]:
        """Places whose name best matches q (for clients' autocomplete)."""
        key = normalise(q)
        if not key:
            return []
        hits = process.extract(key, self.keys, scorer=fuzz.WRatio, limit=limit * 2,
                               score_cutoff=60)
        out: list[Match] = []
        for k, score, _ in hits:
            out.extend(Match(p, 100.0 if k == key else float(score), q) for p in self.by_key[k])
        out.sort(key=lambda m: (-m.score, m.place.precision, -m.place.events, m.place.name))
        return out[:limit]


# ---- readers -----------------------------------------------------------------------------------

def _geopko(path: Path, mission: str | None) -> list[Place]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [{(k or "").strip().lower(): v for k, v in r.items()} for r in csv.DictReader(fh)]
    out = []
    for r in rows:
        try:
            lat, lon = float(r.get("latitude") or "x"), float(r.get("longitude") or "x")
        except ValueError:
            continue
        if r.get("location"):
            out.append(Place(r["location"].strip(), lat, lon, 1, "geopko", mission))
    return out


def _ucdp(path: Path, mission: str | None) -> list[Place]:
    doc = orjson.loads(path.read_bytes())
    out: list[Place] = []
    admin: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    for feat in doc.get("features", []):
        p = feat.get("properties") or {}
        lon, lat = (feat.get("geometry") or {}).get("coordinates", (None, None))[:2]
        if lon is None or lat is None:
            continue
        prec = int(p.get("where_prec") or 7)
        name = (p.get("where_coordinates") or "").strip()
        if name and prec <= 3:
            out.append(Place(name, float(lat), float(lon), prec, "ucdp", mission))
        for fld, level in (("adm_2", 4), ("adm_1", 5)):
            for part in (p.get(fld) or "").split(","):
                if part.strip():
                    admin[(part.strip(), level)].append((float(lat), float(lon)))
    for (name, level), pts in admin.items():
        lat = sum(a for a, _ in pts) / len(pts)
        lon = sum(b for _, b in pts) / len(pts)
        out.append(Place(name, lat, lon, level, "ucdp_admin", mission, len(pts)))
    return out


GEONAMES_ADMIN = {"ADM1": 5, "ADM2": 4, "ADM3": 4, "ADM4": 3}


def geonames_rows(path: Path) -> tuple[list[dict[str, Any]], int]:
    """GeoNames dump rows (tab-separated, 19 columns) as place rows: the name, its ASCII form
    and its alternate names, at the place's coordinates. Populated places (class P) and spots
    are precise (1), admin units coarse (4-5). (rows, lines skipped)."""
    rows: list[dict[str, Any]] = []
    skipped = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            try:
                lat, lon = float(cols[4]), float(cols[5])
            except (IndexError, ValueError):
                skipped += 1
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                skipped += 1
                continue
            klass = cols[6] if len(cols) > 6 else ""
            code = cols[7] if len(cols) > 7 else ""
            precision = GEONAMES_ADMIN.get(code, 2) if klass == "A" else 1 if klass in "PS" else 2
            names = {cols[1].strip(), cols[2].strip()} | {
                n.strip() for n in (cols[3].split(",") if len(cols) > 3 else []) if n.strip()}
            for name in sorted(n for n in names if n and len(n) <= 200):
                rows.append({"name": name, "latitude": lat, "longitude": lon,
                             "precision": precision, "source": "geonames"})
    return rows, skipped


def _geonames(path: Path, mission: str | None) -> list[Place]:
    rows, _ = geonames_rows(path)
    return [Place(r["name"], r["latitude"], r["longitude"], r["precision"], "geonames", mission)
            for r in rows]


def read_file(path: Path, mission: str | None = None) -> list[Place]:
    """Places from one bundled or downloaded file, by its kind (missing files give none)."""
    if not path.is_file():
        return []
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _ucdp(path, mission)
    if suffix in (".txt", ".tsv"):
        return _geonames(path, mission)
    return _geopko(path, mission)


@lru_cache(maxsize=16)
def bundled_places(geodata_dir: Path, files: tuple[str, ...], mission: str | None
                   ) -> tuple[Place, ...]:
    return tuple(p for f in files for p in read_file(geodata_dir / f, mission))


@lru_cache(maxsize=4)
def load(geodata_dir: Path, files: tuple[str, ...] | None = None) -> Gazetteer:
    """A gazetteer of bundled files only: `files`, or every bundled mission profile's files."""
    if files is None:
        from app.services.missions import profile

        names: list[str] = []
        for code in profile.bundled_codes():
            m = profile.bundled(code, geodata_dir)
            if m is not None:
                names += [f for f in m.gazetteer_files if f not in names]
        files = tuple(names)
    return Gazetteer(list(bundled_places(geodata_dir, files, None)))
