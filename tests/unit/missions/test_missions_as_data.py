"""Missions as data (issue 13): nothing mission-specific in code, profiles and language files
checked, keyword matching, Geo-PKO layouts, ACLED dates and actor classes, decay widening."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.services.bases.registry import geopko_bases
from app.services.geo.gazetteer import Gazetteer, Place
from app.services.incidents import import_mapping as M
from app.services.missions import languages
from app.services.missions import profile as P
from app.services.threat import score as scoring
from app.settings import PROJECT_ROOT, Settings

GEODATA = PROJECT_ROOT / "geodata"
S = Settings()


def _bundled_names() -> set[str]:
    """Names of the bundled mission: its code, towns (its gazetteer and Geo-PKO sites), country,
    time zone, languages' names and armed groups."""
    m = P.bundled("minusca", GEODATA)
    assert m is not None
    names = {m.code.upper(), m.timezone, m.timezone.split("/")[-1], *m.countries, *m.un_names,
             *m.armed_groups, "Central African", "Sango"}
    with (GEODATA / "geopko-minusca-deployments.csv").open(newline="") as f:
        names |= {r["location"] for r in csv.DictReader(f)}
    return {n for n in names if len(n) >= 3}


def test_no_mission_country_town_or_time_zone_is_named_in_app_code():
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(_bundled_names(), key=len,
                                                                           reverse=True)) + r")\b",
                         re.I)
    found = []
    for path in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if (m := pattern.search(line)) and not line.strip().startswith("#!"):
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{i}: {m.group(0)}")
    assert found == [], "mission-specific names belong in app/data or geodata:\n" + "\n".join(found)
    code = "".join(p.read_text() for p in (PROJECT_ROOT / "app").rglob("*.py"))
    assert re.search(r"\b(Africa|America|Asia|Europe|Indian|Atlantic|Pacific)/[A-Z]\w+", code) is None


def test_the_bundled_profile_holds_what_used_to_be_code():
    m = P.bundled("minusca", GEODATA)
    assert m.timezone == "Africa/Bangui" and m.countries == ["CAF"]
    assert m.speed_factor("road", date(2019, 7, 15)) < 1 == m.speed_factor("road", date(2019, 1, 15))
    assert m.cap_sender and m.map_view["zoom"] > 0
    assert m.gazetteer_files and all((GEODATA / f).is_file() for f in m.gazetteer_files)


@pytest.mark.parametrize("tz", ["UTC+3", "+02:00", "Mars/Olympus", "", " Africa/Juba"])
def test_fixed_offsets_and_unknown_zones_are_refused(tz):
    with pytest.raises(InvalidInput) as exc:
        P.from_dict({"code": "x1", "countries": ["SSD"], "timezone": tz}, GEODATA)
    assert exc.value.errors[0]["pointer"] == "/body/timezone"


@pytest.mark.parametrize("area,why", [
    ({"type": "Point", "coordinates": [31, 5]}, "Polygon"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "valid"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [400, 0], [0, 1], [0, 0]]]}, "WGS84"),
    ({"type": "Polygon", "coordinates": "nope"}, "polygon"),
])
def test_an_area_that_is_not_a_valid_polygon_is_refused(area, why):
    with pytest.raises(InvalidInput) as exc:
        P.check_area(area)
    assert exc.value.errors[0]["pointer"] == "/body/area" and why in exc.value.detail


def test_countries_become_a_multipolygon_from_the_bundled_outlines():
    area = P.area_from_countries(["SSD", "SDN"], GEODATA)
    assert area["type"] == "MultiPolygon"
    assert {"CAF", "COD", "SSD", "MLI", "SOM", "SDN", "LBN", "HTI", "CYP", "ESH"} <= set(
        P.bundled_countries(GEODATA))
    with pytest.raises(InvalidInput):
        P.area_from_countries(["XYZ"], GEODATA)


def test_every_language_file_is_complete():
    required = {"en", "fr", "sw", "ar", "apd", "ln", "sg"}
    assert required <= set(languages.available())
    keys = set(languages.load("en")["templates"])
    for code in languages.available():
        doc = languages.load(code)
        assert set(doc["templates"]) == keys, code
        assert set(doc["keywords"]) == {c.value for c in languages.CATEGORY_ORDER}, code
        for key, tpl in doc["templates"].items():  # every placeholder English has
            assert set(re.findall(r"{(\w+)}", tpl)) == set(
                re.findall(r"{(\w+)}", languages.load("en")["templates"][key])), (code, key)


@pytest.mark.parametrize("langs,text,cat", [
    (("en",), "Three people killed near the market", "killing"),
    (("fr",), "Femme violée près du marché", "sexual_violence"),
    (("fr",), "Des hommes armés", "armed_group_presence"),
    (("sw",), "Watu wenye silaha wameua watu watatu", "killing"),
    (("sw",), "Wakimbizi wamekimbia kijiji", "displacement"),
    (("ar",), "رجال مسلحين في القرية", "armed_group_presence"),
    (("apd",), "nas ma silah khatafu iyal", "abduction"),
    (("ln",), "Bato ya bibundeli babomi bato misato", "killing"),
    (("sg",), "Azo ti ngombe a fâ zo", "killing"),
    (("en",), "rain today", "other"),
])
def test_keywords_per_language(langs, text, cat):
    assert languages.guess_category(text, langs) == cat


def test_short_keywords_match_whole_words_only():
    # Sango "fa" (kill) must not fire inside an English word
    assert languages.guess_category("farmers fled the fields", ("en", "sg")) == "displacement"
    assert languages.guess_category("Peacekeepers of FOO attacked", ("en",), ("FOO",)) == \
        "attack_on_peacekeepers"


def test_templates_follow_the_mission_languages():
    assert languages.message("warning.sexual_violence.headline", ["fr", "sg"], place="X") \
        == "Alerte de violence sexuelle près de X"
    assert "X" in languages.message("warning.sexual_violence.headline", ["xx"], place="X")


def test_gazetteer_tolerates_transposed_letters_and_prefers_places_inside_the_mission():
    inside = P.Mission(code="m1", name="M", timezone="UTC", area={
        "type": "MultiPolygon", "coordinates": [[[[29, 8], [31, 8], [31, 10], [29, 10], [29, 8]]]]})
    gaz = Gazetteer([Place("Bentiu", 9.23, 29.8, 1, "geopko", "m1"),
                     Place("Rubkona", 9.26, 29.78, 1, "acled", "m1"),
                     Place("Bentiu", 3.0, 20.0, 1, "geonames", None)], inside=inside.covers)
    m = gaz.match("Bentui")
    assert m.place.latitude == 9.23 and 80 <= m.score < 100
    assert gaz.match("BENTIU").score == 100 and gaz.match("Atlantis") is None
    assert gaz.nearest(9.25, 29.79).name in ("Bentiu", "Rubkona")
    assert gaz.nearest(0, 0) is None


def test_geopko_v23_yearly_periods_are_unchanged():
    rows = geopko_bases(GEODATA / "geopko-minusca-deployments.csv", 150, 325)
    by_id = {r["external_id"]: r for r in rows}
    assert all(":" in k and r["opened_on"].month == 1 and r["opened_on"].day == 1
               for k, r in by_id.items())
    last = max(int(r["year"]) for r in csv.DictReader((GEODATA / "geopko-minusca-deployments.csv").open()))
    assert all((r["closed_on"] is None) == r["external_id"].endswith(f"-{last}") for r in rows)


def test_geopko_v1_monthly_layout_with_na(tmp_path: Path):
    head = ("Source,Mission,year,month,location,country,latitude,longitude,No.troops,RPF,RES,"
            "UNPOL..dummy.,UNMO..dummy.,HQ\n")
    rows = ["m1,UNX,2014,3,Alpha,X,5.0,30.0,150,NA,0,0,0,0",
            "m1,UNX,2014,3,Beta,X,6.0,31.0,NA,NA,NA,1,0,2",
            "m2,UNX,2014,9,Alpha,X,5.0,30.0,150,NA,0,0,0,0",
            "m3,UNX,2015,2,Alpha,X,5.0,30.0,150,NA,0,0,0,0",
            "m3,UNX,2015,2,Gamma,X,7.0,32.0,35,NA,0,0,0,3",
            "m9,OTHER,2015,2,Zed,X,7.0,32.0,35,NA,0,0,0,3"]
    path = tmp_path / "v1.csv"
    path.write_text(head + "\n".join(rows) + "\n")
    got = {(b["name"], b["opened_on"], b["closed_on"], b["kind"])
           for b in geopko_bases(path, 150, 325, mission="unx")}
    assert got == {
        ("Alpha", date(2014, 3, 1), None, "company_operating_base"),  # on the last map: open
        ("Beta", date(2014, 3, 1), date(2014, 3, 31), "sector_hq"),  # omitted by the next map
        ("Gamma", date(2015, 2, 1), None, "mission_hq"),  # first seen in February: opens then
    }


@pytest.mark.parametrize("raw", ["31 December 2015", "31-Dec-15", "2015-12-31", "31 Dec 2015"])
def test_acled_dates_as_exported(raw):
    e = M.acled_event({"event_id_cnty": "X1", "event_date": raw, "latitude": "4.8",
                       "longitude": "31.6", "event_type": "Battles", "actor1": "A"}, 9)
    assert e.occurred_start.date() == date(2015, 12, 31)


def test_acled_optional_columns_and_blank_precision():
    e = M.acled_event({"event_id_cnty": "X2", "event_date": "2015-01-02", "latitude": "4.8",
                       "longitude": "31.6", "event_type": "Battles"}, 9)
    assert e.location_precision == 0 and e.time_precision == 0  # unknown, never exact
    assert e.location_radius_m == max(M.ACLED_RADIUS_M.values())


def test_acled_actor_classes():
    base = {"event_id_cnty": "X3", "event_date": "2015-01-02", "latitude": "4.8",
            "longitude": "31.6", "geo_precision": "1", "time_precision": "1"}
    aid = M.acled_event({**base, "event_type": "Violence against civilians", "sub_event_type": "Attack",
                         "actor1": "Unidentified Armed Group", "actor2": "Civilians",
                         "assoc_actor_2": "Aid Workers; UNHCR: United Nations High Commissioner"}, 9)
    assert aid.category == "attack_on_peacekeepers" and aid.subcategory == "attack on humanitarians"
    pk = M.acled_event({**base, "event_type": "Battles", "sub_event_type": "Armed clash",
                        "actor1": "X", "actor2": "UN: United Nations Mission in South Sudan"}, 9)
    assert pk.subcategory == "attack on humanitarians" or pk.subcategory == "attack on peacekeepers"
    protest = M.acled_event({**base, "event_type": "Protests", "sub_event_type": "Peaceful protest",
                             "actor1": "Protesters (South Sudan)", "inter1": "6"}, 9)
    assert protest.perpetrator_type == "unknown" and protest.category == "other"
    party = M.acled_event({**base, "event_type": "Riots", "sub_event_type": "Mob violence",
                           "actor1": "Rioters (South Sudan)", "inter1": "5"}, 9)
    assert party.perpetrator_type == "unknown"


def test_ucdp_blank_type_of_violence_rejects_only_that_row(tmp_path: Path):
    import pandas as pd

    df = pd.DataFrame([{"id": "1", "latitude": "5", "longitude": "30", "type_of_violence": "",
                        "date_start": "2015-01-01"},
                       {"id": "2", "latitude": "5", "longitude": "30", "type_of_violence": "3",
                        "date_start": "2015-01-01"}])
    df["__row"] = [1, 2]
    events, rejects = M.ucdp_frame(df, 9, all_str=True)
    assert list(events["external_id"]) == ["2"] and [r.row for r in rejects] == [1]


def test_precision_widened_decay_is_monotone_and_off_by_default():
    plain = scoring.weight_spec(S)
    wide = scoring.weight_spec(S, precision_decay=True)
    assert plain.precision_share == 0
    assert scoring.decay(200, wide, 5) > scoring.decay(200, plain, 5)  # a year-precise event
    assert scoring.decay(200, wide, 1) == scoring.decay(200, plain, 1)  # an exact date: unchanged
    assert scoring.decay(100, wide, 5) >= scoring.decay(300, wide, 5)


def test_bundled_outlines_file_is_valid_geojson():
    doc = json.loads((GEODATA / "naturalearth-countries.geojson").read_text())
    from shapely.geometry import shape

    assert all(shape(f["geometry"]).is_valid for f in doc["features"])
    assert len({f["properties"]["iso_a3"] for f in doc["features"]}) == len(doc["features"])


def test_a_regional_season_slows_only_inside_its_region():
    m = P.from_dict({"code": "rg", "countries": ["SSD"], "timezone": "Africa/Juba", "seasons": [
        {"name": "rains", "months": [7], "speed_factor": {"road": 0.7}},
        {"name": "flooded north", "months": [7, 8], "speed_factor": {"road": 0.3},
         "region": {"type": "Polygon", "coordinates": [[[29, 8], [34, 8], [34, 12], [29, 12], [29, 8]]]}}]},
        GEODATA)
    july, august = date(2015, 7, 1), date(2015, 8, 1)
    assert m.speed_factor("road", july, 9.5, 31.6) == 0.3   # the flooded north, in the rains
    assert m.speed_factor("road", july, 4.8, 31.6) == 0.7   # the south: only the rains
    assert m.speed_factor("road", august, 4.8, 31.6) == 1.0
    assert m.speed_factor("air", july, 9.5, 31.6) == 1.0
