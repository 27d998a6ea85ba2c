"""A warning as the GeoJSON Feature every reader sees (API listings, webhook payloads)."""

from __future__ import annotations

from typing import Any

from app.services.geo.h3cells import to_str


def present(w: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in w.items() if k not in ("geometry", "dedupe_key", "h3_cell", "id")}
    props["h3_cell"] = to_str(w["h3_cell"]) if w.get("h3_cell") else None
    props["alert_ids"] = [str(a) for a in w.get("alert_ids") or []]
    return {"type": "Feature", "id": str(w["id"]), "geometry": w["geometry"], "properties": props}
