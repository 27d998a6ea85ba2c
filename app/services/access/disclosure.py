"""What each role may read, filter on and be told about one incident (DOMAIN: need to know vs need
to share). Framework-free; routers, services and exports call these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import h3

from app.domain import Role
from app.errors import Forbidden
from app.services.geo.h3cells import cell_radius_m, valid_cell

# Fields of an incident partners never read (besides perpetrators, hidden by policy).
PARTNER_HIDDEN = ("narrative", "perpetrators", "reports", "place_name", "admin1", "admin2",
                  "merged_into")
# Source and reporter identities: analysts and admins only.
SOURCE_FIELDS = ("source_name", "reporter_ref", "reporter_contact")
# Per-incident counts: for partners, a value below the suppression threshold is withheld (null).
COUNT_FIELDS = ("fatalities_low", "fatalities_best", "fatalities_high", "injured",
                "crsv_survivors", "children_affected", "displaced")

# Each filter a listing, layer or export offers, and the field it reads. A filter on a hidden
# field is refused: `perpetrator=X` answered by a partner listing tells which incidents X did.
FILTER_FIELDS: dict[str, str] = {
    "perpetrator": "perpetrators",
    "perpetrators": "perpetrators",
    "place": "place_name",
    "place_name": "place_name",
    "admin1": "admin1",
    "admin2": "admin2",
    "narrative": "narrative",
    "q": "narrative",
    "text": "narrative",
    "source": "source_name",
    "source_name": "source_name",
    "reporter": "reporter_ref",
    "reporter_ref": "reporter_ref",
}


@dataclass(frozen=True)
class PartnerPolicy:
    """The partner view's settings; the defaults are the safe ones (res 6, counts under 3
    withheld, no perpetrators) for a caller that has no settings at hand."""

    res: int = 6
    min_count: int = 3
    hide_perpetrators: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> PartnerPolicy:
        return cls(settings.partner_max_res, settings.partner_min_count,
                   settings.partner_hide_perpetrators)


def hidden_fields(role: Role, policy: PartnerPolicy | None = None) -> frozenset[str]:
    """The fields of incidents and their reports this role may not read."""
    policy = policy or PartnerPolicy()
    if role in (Role.admin, Role.analyst):
        return frozenset()
    if role == Role.operations:
        return frozenset(SOURCE_FIELDS)
    hidden = {*PARTNER_HIDDEN, *SOURCE_FIELDS}
    if role == Role.partner and not policy.hide_perpetrators:
        hidden.discard("perpetrators")
    if role == Role.integration:
        hidden.update(COUNT_FIELDS)
    return frozenset(hidden)


def check_filters(role: Role, filters: Mapping[str, Any], policy: PartnerPolicy | None = None,
                  *, where: str = "query") -> None:
    """Refuse (403, one pointer per filter) any given filter on a field this role may not read.
    `filters` maps parameter names to their values; empty values are not filters."""
    hidden = hidden_fields(role, policy)
    bad = [name for name, value in filters.items()
           if value not in (None, "", [], ()) and FILTER_FIELDS.get(name) in hidden]
    if bad:
        raise Forbidden(
            f"the {role.value} role may not filter on {', '.join(bad)}: a filter on a field this "
            "role cannot read would reveal it",
            errors=[{"pointer": f"/{where}/{name}", "detail": "not readable by this role"}
                    for name in bad],
            kind="forbidden-filter", title="Filter on a field this role may not read")


def suppress(value: int | None, min_count: int) -> int | None:
    """A count as partners see it: withheld (None) when it is positive but under the threshold."""
    return None if value is not None and 0 < value < min_count else value


def _cell(cell: Any) -> str | None:
    """A stored cell as an H3 string; None when it is not a cell (a corrupt row shows no place
    rather than failing the partner's list)."""
    if isinstance(cell, int):
        return h3.int_to_str(cell) if valid_cell(cell) else None
    if isinstance(cell, str) and h3.is_valid_cell(cell):
        return cell
    return None


def partner_incident(item: dict[str, Any], policy: PartnerPolicy | None = None) -> dict[str, Any]:
    """One incident as a partner may see it (in place): location snapped to the centroid of its
    cell at the partner resolution (the cell is the finest place given), the location radius at
    least that cell's, small per-incident counts withheld, hidden fields removed."""
    policy = policy or PartnerPolicy()
    for k in hidden_fields(Role.partner, policy):
        item.pop(k, None)
    fine = _cell(item.get("h3_cell"))
    if fine is not None:
        coarse = (h3.cell_to_parent(fine, policy.res) if h3.get_resolution(fine) > policy.res
                  else fine)
        lat, lng = h3.cell_to_latlng(coarse)
        item.update(h3_cell=coarse, latitude=round(lat, 6), longitude=round(lng, 6),
                    location_radius_m=max(int(item.get("location_radius_m") or 0),
                                          int(cell_radius_m(h3.get_resolution(coarse)))))
    else:  # never exact coordinates without a (valid) cell
        if "latitude" in item or "longitude" in item:
            item["latitude"] = item["longitude"] = None
        if "h3_cell" in item:
            item["h3_cell"] = None
    for k in COUNT_FIELDS:
        if k in item:
            item[k] = suppress(item[k], policy.min_count)
    return item


def cells_with_centroid_in(cells: Iterable[int], bbox: tuple[float, float, float, float]
                           ) -> list[int]:
    """The cells (integer indexes) whose centroid lies in the bbox: how a partner's bbox selects
    incidents, so that moving its edges reveals nothing finer than a cell."""
    x1, y1, x2, y2 = bbox
    out = []
    for cell in cells:
        if not valid_cell(cell):  # a corrupt stored cell selects nothing
            continue
        lat, lng = h3.cell_to_latlng(h3.int_to_str(cell))
        if x1 <= lng <= x2 and y1 <= lat <= y2:
            out.append(cell)
    return sorted(out)
