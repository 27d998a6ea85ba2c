"""Place names → coordinates, built from the bundled real data.

Sources, best first: Geo-PKO MINUSCA deployment locations (surveyed town coordinates), UCDP GED
`where_coordinates` names (e.g. "Bambari town", "Bangui city": the kind suffix is dropped), and
UCDP `adm_2` / `adm_1` names (the mean of the events in that unit: coarse, flagged as such).
A name resolves exactly after normalisation (case, accents, apostrophes, kind suffix), then by
fuzzy match (rapidfuzz) above a cut-off; otherwise it does not resolve and the caller keeps the
alert for manual location.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson
from rapidfuzz import fuzz, process

KIND_SUFFIX = re.compile(
    r"\s+(town|city|village|villages|region|area|prefecture|sub prefecture|subprefecture|"
    r"province|district|commune|camp|mine|mines|road|axis|neighbourhood|neighborhood)$"
)
# Precision codes follow UCDP where_prec: 1 exact place, 2 within 25 km, 4 admin-2, 5 admin-1.
RADIUS_M = {1: 2_000, 2: 25_000, 3: 25_000, 4: 50_000, 5: 150_000}
FUZZY_CUTOFF = 88.0


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    precision: int
    source: str

    @property
    def radius_m(self) -> int:
        return RADIUS_M.get(self.precision, 150_000)


def normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("’", "'").replace("`", "'")
    text = re.sub(r"[^\w']+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return KIND_SUFFIX.sub("", text).strip()


class Gazetteer:
    def __init__(self, places: list[Place]) -> None:
        self.by_key: dict[str, Place] = {}
        for p in sorted(places, key=lambda p: p.precision):  # most precise wins
            self.by_key.setdefault(normalise(p.name), p)
        self.keys = list(self.by_key)

    def __len__(self) -> int:
        return len(self.by_key)

    def resolve(self, name: str | None) -> Place | None:
        if not name or not name.strip():
            return None
        key = normalise(name)
        if not key:
            return None
        if key in self.by_key:
            return self.by_key[key]
        hit = process.extractOne(key, self.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return self.by_key[hit[0]] if hit else None

    def find_in_text(self, text: str) -> Place | None:
        """A known place named in free text (an SMS): exact matches of 1-3 word runs only, at
        least 4 letters, towns and villages only (not admin units), longest run first."""
        words = normalise(text).split()
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                key = " ".join(words[i : i + size])
                place = self.by_key.get(key)
                if place is not None and len(key) >= 4 and place.precision <= 3:
                    return place
        return None


def _geopko(path: Path) -> list[Place]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            Place(r["location"], float(r["latitude"]), float(r["longitude"]), 1, "geopko")
            for r in csv.DictReader(fh)
            if r.get("location") and r.get("latitude")
        ]


def _ucdp(path: Path) -> list[Place]:
    if not path.exists():
        return []
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
            out.append(Place(name, float(lat), float(lon), prec, "ucdp"))
        for field, level in (("adm_2", 4), ("adm_1", 5)):
            for part in (p.get(field) or "").split(","):
                if part.strip():
                    admin[(part.strip(), level)].append((float(lat), float(lon)))
    for (name, level), pts in admin.items():
        lat = sum(a for a, _ in pts) / len(pts)
        lon = sum(b for _, b in pts) / len(pts)
        out.append(Place(name, lat, lon, level, "ucdp_admin"))
    return out


@lru_cache(maxsize=4)
def load(geodata_dir: Path) -> Gazetteer:
    return Gazetteer(
        _geopko(geodata_dir / "geopko-minusca-deployments.csv")
        + _ucdp(geodata_dir / "ucdp-ged-v23.1-caf.geojson")
    )
