"""A warning as the GeoJSON Feature every reader sees (API listings, webhook payloads)."""

from __future__ import annotations

from typing import Any

from app.services.geo.h3cells import to_str

# What a humanitarian partner may see of a warning, where the mission shares warnings: what,
# how grave, how urgent and roughly where (a coarse cell), never who reported it, who answers,
# what was found or the free text (places, names).
PARTNER_FIELDS = ("category", "severity", "urgency", "certainty", "status", "created_at",
                  "expires_at", "closed_at")


ESCALATED_TO = ("escalated_to_aor_id", "escalated_to", "escalated_to_kind")


def present(w: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in w.items() if k not in ("geometry", "dedupe_key", "h3_cell", "id",
                                                      *ESCALATED_TO)}
    props["escalated_to"] = ({"id": str(w["escalated_to_aor_id"]) if w.get("escalated_to_aor_id")
                              else None, "name": w["escalated_to"],
                              "kind": w.get("escalated_to_kind")}
                             if w.get("escalated_to") else None)
    props["h3_cell"] = to_str(w["h3_cell"]) if w.get("h3_cell") else None
    props["alert_ids"] = [str(a) for a in w.get("alert_ids") or []]
    props["incident_ids"] = [str(i) for i in w.get("incident_ids") or []]
    # Past a deadline now (the duty officer's flag); `escalation_level` counts missed deadlines.
    props["overdue"] = bool(w.get("overdue_acknowledgement") or w.get("overdue_on_scene"))
    return {"type": "Feature", "id": str(w["id"]), "geometry": w["geometry"], "properties": props}


def present_to_partner(w: dict[str, Any], partner_res: int) -> dict[str, Any]:
    """A sanitised warning: the fields above and the partner-resolution cell around its cell."""
    from app.services.geo.h3cells import cell_polygon, parent_int, valid_cell

    props = {k: w.get(k) for k in PARTNER_FIELDS}
    geometry = None
    # A stored cell that is not a usable H3 index (written around the edge) shows no area.
    if w.get("h3_cell") and valid_cell(int(w["h3_cell"])):
        coarse = parent_int(int(w["h3_cell"]), min(partner_res, h3_res(int(w["h3_cell"]))))
        props["h3_cell"] = to_str(coarse)
        geometry = cell_polygon(to_str(coarse))
    return {"type": "Feature", "id": str(w["id"]), "geometry": geometry, "properties": props}


def h3_res(cell: int) -> int:
    return (cell >> 52) & 0xF
