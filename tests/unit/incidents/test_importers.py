from pathlib import Path

import pytest

from app.domain import Category
from app.services.incidents.import_mapping import (
    Reject,
    RowError,
    acled_event,
    iter_acled,
    ucdp_event,
)

GED = {"id": 1, "type_of_violence": 3, "date_start": "2014-01-02T00:00:00", "date_end": "2014-01-03T00:00:00",
       "where_prec": 2, "date_prec": 2, "best": 5, "low": 4, "high": 7, "side_a": "Anti-balaka",
       "side_b": "Civilians", "number_of_sources": 2, "event_clarity": 1, "deaths_civilians": 5}


def test_ucdp_one_sided_violence_is_a_killing_by_the_one_sided_actor():
    e = ucdp_event(GED, 18.5, 4.4, 9)
    assert e.category == Category.killing
    assert e.perpetrators == ["Anti-balaka"] and e.perpetrator_type == "community_militia"
    assert (e.fatalities_low, e.fatalities_best, e.fatalities_high) == (4, 5, 7)
    assert e.location_precision == 2 and e.location_radius_m == 25_000
    assert e.time_precision == 2 and e.source_count == 2


def test_ucdp_clash_against_peacekeepers():
    e = ucdp_event({**GED, "type_of_violence": 1, "side_a": "Government of Central African Republic",
                    "side_b": "MINUSCA", "deaths_civilians": 0}, 18.5, 4.4, 9)
    assert e.category == Category.attack_on_peacekeepers


@pytest.mark.parametrize("bad,reason", [
    ({"type_of_violence": 4}, "type_of_violence"),
    ({"date_end": "2013-01-01"}, "date_end"),
    ({"best": "many"}, "best"),
    ({"where_prec": 9}, "where_prec"),
])
def test_ucdp_bad_rows_are_refused_with_a_reason(bad, reason):
    with pytest.raises(RowError, match=reason):
        ucdp_event({**GED, **bad}, 18.5, 4.4, 9)


def test_ucdp_coordinates_out_of_range():
    with pytest.raises(RowError, match="latitude"):
        ucdp_event(GED, 18.5, 95, 9)


ACLED = {"event_id_cnty": "CAF1", "event_date": "2024-03-02", "time_precision": "1",
         "event_type": "Violence against civilians", "sub_event_type": "Sexual violence",
         "actor1": "3R: Return, Reclamation, Rehabilitation", "inter1": "Rebel group",
         "latitude": "5.76", "longitude": "20.67", "geo_precision": "2", "fatalities": "0",
         "source": "Radio Ndeke Luka; Corbeaunews", "source_scale": "National-Local",
         "civilian_targeting": "Civilian targeting", "notes": "A woman was raped."}


def test_acled_sexual_violence_maps_to_its_own_category():
    e = acled_event(ACLED, 9)
    assert e.category == Category.sexual_violence and e.crsv_survivors == 1
    assert e.perpetrator_type == "non_state_armed_group" and e.source_count == 2
    assert e.location_radius_m == 25_000


def test_acled_attack_with_fatalities_is_a_killing_and_un_victims_are_peacekeepers():
    assert acled_event({**ACLED, "sub_event_type": "Attack", "fatalities": "3"}, 9).category == "killing"
    e = acled_event({**ACLED, "event_type": "Battles", "sub_event_type": "Armed clash",
                     "actor2": "MINUSCA: United Nations Multidimensional Integrated Stabilization Mission"}, 9)
    assert e.category == Category.attack_on_peacekeepers


def test_acled_malformed_csv_row_is_reported_and_the_rest_parsed(tmp_path: Path):
    head = ",".join(ACLED)
    good = ",".join(f'"{v}"' for v in ACLED.values())
    bad = good + ',"extra","fields"'
    p = tmp_path / "acled.csv"
    p.write_text("\n".join([head, good.replace("CAF1", "CAF2"), bad, good.replace("5.76", "x")]) + "\n")
    out = [ev for _, ev in iter_acled(p, 9)]
    assert not isinstance(out[0], Reject)
    assert isinstance(out[1], Reject) and "malformed" in out[1].reason
    assert isinstance(out[2], Reject) and "latitude" in out[2].reason


def test_geojson_and_csv_exports_map_identically(tmp_path: Path):
    import csv as _csv
    import json

    from app.services.incidents.import_mapping import iter_ucdp
    from app.settings import PROJECT_ROOT

    ged = PROJECT_ROOT / "geodata" / "ucdp-ged-v23.1-caf.geojson"
    feats = json.loads(ged.read_text())["features"][:300]
    rows = [{**f["properties"], "longitude": f["geometry"]["coordinates"][0],
             "latitude": f["geometry"]["coordinates"][1]} for f in feats]
    p = tmp_path / "ged.csv"
    with p.open("w", newline="") as fh:
        w = _csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    gj = tmp_path / "ged.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    from_csv = [e for _, e in iter_ucdp(p, 9)]
    from_geojson = [e for _, e in iter_ucdp(gj, 9)]
    assert len(from_csv) == len(from_geojson) == 300
    assert from_csv == from_geojson
