"""The bad-input catalogue: requests an attacker or a careless integration would send.

Each case names its category, the request, the statuses it may be refused with (422 unless
said), and optionally `stored`: for imports, which refuse bad rows one by one while the file's
good rows are stored. `python -m tests.support.bad_inputs` prints the count per category.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import incident_body

NOTSET: Any = object()


@dataclass
class Bad:
    category: str
    name: str
    method: str
    path: str
    json: Any = NOTSET
    raw: bytes | None = None
    content_type: str | None = None
    files: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    role: str = "admin"
    alert: bool = False  # posted (signed) by the world's integration
    headers: dict[str, str] = field(default_factory=dict)
    expect: tuple[int, ...] = (422,)
    # imports: (rows stored, rows rejected) after the run; the run must have finished
    stored: tuple[int, int] | None = None


CASES: list[Bad] = []


def add(*cases: Bad) -> None:
    CASES.extend(cases)


def alert_json(**over: Any) -> dict[str, Any]:
    doc = {"latitude": 4.39, "longitude": 18.56, "text": "Armed men threatened traders",
           "category": "threat_intimidation", "observed_at": "2024-03-02T21:00:00Z"}
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def report(**over: Any) -> dict[str, Any]:
    return {"section": "police", "source_reliability": "C", "information_credibility": 3, **over}


def base_body(**over: Any) -> dict[str, Any]:
    return {"name": "Bad base", "kind": "field_office", "latitude": 4.4, "longitude": 18.6,
            "opened_on": "2020-01-01", **over}


def plan(**over: Any) -> dict[str, Any]:
    return {"as_of": "2024-03-01", "horizon_days": 7, **over}


def cap(area: str = "<circle>4.39,18.56 5</circle>", sent: str = "2024-03-02T21:00:00+01:00",
        extra: str = "", info: bool = True) -> bytes:
    body = (f"<info><category>Security</category><event>Attack</event><urgency>Immediate"
            f"</urgency><severity>Severe</severity><certainty>Observed</certainty>"
            f"<headline>Armed men{extra} near the market</headline><area><areaDesc>Market"
            f"</areaDesc>{area}</area></info>") if info else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><alert xmlns="urn:oasis:names:tc:emergency:'
            f'cap:1.2"><identifier>cap-1</identifier><sender>can@example.org</sender><sent>{sent}'
            f"</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>"
            f"{body}</alert>").encode()


ACLED_HEADER = ("event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,"
                "civilian_targeting,fatalities,latitude,longitude,geo_precision,notes,source,"
                "source_scale\n")


def acled_row(eid: str, *, date: str = "2024-01-02", fatalities: str = "1", lat: str = "4.3",
              lon: str = "18.5", notes: str = "Attack on village", actor: str = "Armed men") -> str:
    return (f"{eid},{date},1,Violence against civilians,Attack,{actor},Civilian targeting,"
            f"{fatalities},{lat},{lon},1,{notes},Local source,Local\n")


_files = iter(range(10**6))


def acled_file(*bad_rows: str, good: int = 2) -> bytes:
    n = next(_files)
    rows = "".join(acled_row(f"GOOD{n}-{i}") for i in range(good))
    return (ACLED_HEADER + rows + "".join(bad_rows)).encode()


def upload(content: bytes, name: str = "export.csv", source: str = "acled") -> dict[str, Any]:
    return {"files": {"file": (name, content, "text/csv")}, "data": {"source": source}}


# --- oversize ---------------------------------------------------------------------------------
BIG = "x" * 300_000
add(
    Bad("oversize", "incident body over the body limit", "POST", "/api/v1/incidents",
        json=incident_body(narrative=BIG), expect=(413,)),
    Bad("oversize", "alert body over the alert limit", "POST", "/api/v1/alerts",
        json=alert_json(text="y" * 70_000), alert=True, expect=(413,)),
    Bad("oversize", "alert text over 5000 characters", "POST", "/api/v1/alerts",
        json=alert_json(text="y" * 5001), alert=True),
    Bad("oversize", "incident narrative over 20,000 characters", "POST", "/api/v1/incidents",
        json=incident_body(narrative="n" * 20_001)),
    Bad("oversize", "21 perpetrators", "POST", "/api/v1/incidents",
        json=incident_body(perpetrators=[f"group {i}" for i in range(21)])),
    Bad("oversize", "a perpetrator name of 201 characters", "POST", "/api/v1/incidents",
        json=incident_body(perpetrators=["p" * 201])),
    Bad("oversize", "base name of 201 characters", "POST", "/api/v1/bases",
        json=base_body(name="b" * 201)),
    Bad("oversize", "query string over 8 KB", "GET", "/api/v1/incidents?perpetrator=" + "a" * 9000),
    Bad("oversize", "perpetrator filter over 200 characters", "GET",
        "/api/v1/incidents?perpetrator=" + "a" * 201),
    Bad("oversize", "webhook URL over 2000 characters", "POST", "/api/v1/warnings/subscriptions",
        json={"name": "w", "url": "https://example.org/" + "a" * 2000}),
    Bad("oversize", "501 candidate sites", "POST", "/api/v1/footprint-reviews",
        json={"as_of": "2024-03-01", "candidates": [
            {"name": f"c{i}", "latitude": 4.0, "longitude": 18.0} for i in range(501)]}),
    Bad("oversize", "1501 capacity overrides", "POST", "/api/v1/patrol-plans",
        json=plan(capacity_overrides=[{"base_id": "00000000-0000-4000-8000-000000000000",
                                       "mode": "road", "patrols_per_day": 1}] * 1501)),
    Bad("oversize", "dismissal reason over 2000 characters", "POST",
        "/api/v1/alerts/{alert_id}/dismiss", json={"reason": "r" * 2001}),
    Bad("oversize", "Idempotency-Key over 200 characters", "POST", "/api/v1/alerts",
        json=alert_json(), alert=True, headers={"Idempotency-Key": "k" * 201}),
    Bad("oversize", "SMS text over 1600 characters", "POST", "/api/v1/alerts",
        raw=b"sender=%2B236700&text=" + b"s" * 1601,
        content_type="application/x-www-form-urlencoded", alert=True),
    Bad("oversize", "21 SMS form fields", "POST", "/api/v1/alerts",
        raw=b"&".join(b"f%d=1" % i for i in range(21)) + b"&sender=1&text=t",
        content_type="application/x-www-form-urlencoded", alert=True),
)

# --- JSON shape -------------------------------------------------------------------------------
add(
    Bad("json", "malformed JSON incident", "POST", "/api/v1/incidents", raw=b'{"a": ',
        content_type="application/json"),
    Bad("json", "malformed JSON alert", "POST", "/api/v1/alerts", raw=b"{not json",
        content_type="application/json", alert=True),
    Bad("json", "JSON array as an alert", "POST", "/api/v1/alerts", raw=b"[1, 2]",
        content_type="application/json", alert=True),
    Bad("json", "unknown field on an incident", "POST", "/api/v1/incidents",
        json=incident_body(admin_note="x")),
    Bad("json", "unknown field on an alert", "POST", "/api/v1/alerts",
        json=alert_json(priority="high"), alert=True),
    Bad("json", "incident without a report", "POST", "/api/v1/incidents",
        json={k: v for k, v in incident_body().items() if k != "report"}),
    Bad("json", "category not in the vocabulary", "POST", "/api/v1/incidents",
        json=incident_body(category="massacre")),
    Bad("json", "reliability G", "POST", "/api/v1/incidents/{incident_id}/reports",
        json=report(source_reliability="G")),
    Bad("json", "credibility 7", "POST", "/api/v1/incidents/{incident_id}/reports",
        json=report(information_credibility=7)),
    Bad("json", "latitude without longitude", "POST", "/api/v1/alerts",
        json=alert_json(longitude=None), alert=True),
    Bad("json", "string where a number belongs", "POST", "/api/v1/incidents",
        json=incident_body(fatalities_best="many")),
    Bad("json", "boolean base kind", "POST", "/api/v1/bases", json=base_body(kind=True)),
    Bad("json", "fatalities low above best", "POST", "/api/v1/incidents",
        json=incident_body(fatalities_low=5, fatalities_best=2)),
    Bad("json", "occurred_end before occurred_start", "POST", "/api/v1/incidents",
        json=incident_body(occurred_end="2024-03-01T00:00:00Z")),
    Bad("json", "base closed before it opened", "POST", "/api/v1/bases",
        json=base_body(closed_on="2019-01-01")),
    # The order of steps is checked against the warning's stored steps, so on this suite's
    # unknown warning the answer is 404; with a real warning the 422 and its pointer are tested
    # in tests/api/loop (test_bad_response_steps_are_refused_and_write_nothing).
    Bad("json", "response dispatched before acknowledged", "POST",
        "/api/v1/warnings/{warning_id}/responses",
        json={"type": "patrol", "acknowledged_at": "2024-03-02T10:00:00Z",
              "dispatched_at": "2024-03-02T09:00:00Z"}, expect=(404,)),
    Bad("json", "unknown delay reason", "POST", "/api/v1/warnings/{warning_id}/responses",
        json={"type": "patrol", "delay_reasons": ["tired"]}),
    Bad("json", "warning status not in the lifecycle", "POST",
        "/api/v1/warnings/{warning_id}/status", json={"status": "deleted"}),
    Bad("json", "integration format sms2", "POST", "/api/v1/integrations",
        json={"name": "i1", "formats": ["sms2"]}),
    Bad("json", "integration name with a slash", "POST", "/api/v1/integrations",
        json={"name": "a/b"}),
    Bad("json", "webhook URL not http(s)", "POST", "/api/v1/warnings/subscriptions",
        json={"name": "w", "url": "ftp://example.org/hook"}),
    Bad("json", "merge into a malformed incident id", "POST", "/api/v1/alerts/{alert_id}/merge",
        json={"incident_id": "not-a-uuid"}),
    Bad("json", "PATCH base with explicit null kind", "PATCH", "/api/v1/bases/{base_id}",
        json={"kind": None}),
    Bad("json", "PATCH base with explicit null name and troops", "PATCH",
        "/api/v1/bases/{base_id}", json={"name": None, "troops": None}),
    Bad("json", "PATCH base with a boolean reach", "PATCH", "/api/v1/bases/{base_id}",
        json={"air_reach_km": False, "kind": None}),
    Bad("json", "PATCH incident with null latitude", "PATCH", "/api/v1/incidents/{incident_id}",
        json={"latitude": None}),
    Bad("json", "PATCH incident with null category", "PATCH", "/api/v1/incidents/{incident_id}",
        json={"category": None}),
    Bad("json", "PATCH incident with null counts", "PATCH", "/api/v1/incidents/{incident_id}",
        json={"injured": None, "displaced": None}),
    Bad("json", "bbox of three numbers in a plan", "POST", "/api/v1/patrol-plans",
        json=plan(bbox=[1, 2, 3])),
    Bad("json", "unknown planning solver", "POST", "/api/v1/patrol-plans",
        json=plan(solver="quantum")),
)

# --- dates and times ----------------------------------------------------------------------------
for when in ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z",
             "9999-12-31T23:59:59-23:59", "2999-01-01T00:00:00Z", "2024-03-02T21:00:00"):
    add(Bad("dates", f"alert observed_at {when}", "POST", "/api/v1/alerts",
            json=alert_json(observed_at=when), alert=True),
        Bad("dates", f"incident occurred_start {when}", "POST", "/api/v1/incidents",
            json=incident_body(occurred_start=when)))
add(
    Bad("dates", "incident occurred_end year 10000 (string)", "POST", "/api/v1/incidents",
        json=incident_body(occurred_end="10000-01-01T00:00:00Z")),
    Bad("dates", "incident dated next year", "POST", "/api/v1/incidents",
        json=incident_body(occurred_start="2099-01-01T00:00:00Z")),
    Bad("dates", "PATCH incident to year 1", "PATCH", "/api/v1/incidents/{incident_id}",
        json={"occurred_start": "0001-01-01T00:00:00Z"}),
    Bad("dates", "PATCH incident end year 9999", "PATCH", "/api/v1/incidents/{incident_id}",
        json={"occurred_end": "9999-12-31T23:59:59-23:59"}),
    Bad("dates", "report received in year 1", "POST", "/api/v1/incidents/{incident_id}/reports",
        json=report(received_at="0001-01-01T00:00:00Z")),
    Bad("dates", "SMS received in year 1", "POST", "/api/v1/alerts",
        raw=b"sender=%2B236700&text=help&received_at=0001-01-01T00:00:00Z",
        content_type="application/x-www-form-urlencoded", alert=True),
    Bad("dates", "CAP sent in year 1", "POST", "/api/v1/alerts",
        raw=cap(sent="0001-01-01T00:00:00+14:00"), content_type="application/cap+xml", alert=True),
    Bad("dates", "CAP sent in year 9999", "POST", "/api/v1/alerts",
        raw=cap(sent="9999-12-31T23:59:59-11:00"), content_type="application/cap+xml", alert=True),
    Bad("dates", "response acknowledged in year 1", "POST",
        "/api/v1/warnings/{warning_id}/responses",
        json={"type": "patrol", "acknowledged_at": "0001-01-01T00:00:00Z"}),
    Bad("dates", "response on scene in year 3000", "POST",
        "/api/v1/warnings/{warning_id}/responses",
        json={"type": "patrol", "on_scene_at": "3000-01-01T00:00:00Z"}),
    Bad("dates", "base opened in year 1", "POST", "/api/v1/bases", json=base_body(opened_on="0001-01-01")),
    Bad("dates", "base closing in year 9999", "POST", "/api/v1/bases",
        json=base_body(closed_on="9999-12-31")),
    Bad("dates", "PATCH base opened in year 1", "PATCH", "/api/v1/bases/{base_id}",
        json={"opened_on": "0001-01-01"}),
    Bad("dates", "plan as of year 1", "POST", "/api/v1/patrol-plans", json=plan(as_of="0001-01-01")),
    Bad("dates", "review as of year 9999", "POST", "/api/v1/footprint-reviews",
        json={"as_of": "9999-12-31"}),
    Bad("dates", "forecast as_of 0001-01-01", "GET", "/api/v1/forecast?as_of=0001-01-01"),
    Bad("dates", "forecast as_of 9999-12-31", "GET", "/api/v1/forecast?as_of=9999-12-31"),
    Bad("dates", "hotspots as_of 0001-01-01", "GET", "/api/v1/hotspots?as_of=0001-01-01"),
    Bad("dates", "hotspots start year 1 end year 9999", "GET",
        "/api/v1/hotspots?start=0001-01-01&end=9999-12-31"),
    Bad("dates", "incidents start not a date", "GET", "/api/v1/incidents?start=yesterday"),
    Bad("dates", "incidents end before start", "GET",
        "/api/v1/incidents?start=2024-02-01&end=2024-01-01"),
    Bad("dates", "incidents start year 1", "GET", "/api/v1/incidents?start=0001-01-01"),
    Bad("dates", "backtest from year 1 to 9999", "GET",
        "/api/v1/forecast/backtest?start=0001-01-01&end=9999-12-31"),
    Bad("dates", "backtest end before start", "GET",
        "/api/v1/forecast/backtest?start=2020-01-01&end=2019-01-01"),
    Bad("dates", "OGC datetime year 1", "GET", "/ogc/collections/incidents/items?datetime=0001-01-01"),
    Bad("dates", "OGC datetime interval reversed", "GET",
        "/ogc/collections/incidents/items?datetime=2024-02-01/2024-01-01"),
    Bad("dates", "bases as_of year 1", "GET", "/api/v1/bases?as_of=0001-01-01"),
    Bad("dates", "map reach as_of year 9999", "GET", "/api/v1/map/reach?as_of=9999-12-31"),
    Bad("dates", "response metrics start year 1", "GET", "/api/v1/response-metrics?start=0001-01-01"),
    Bad("dates", "warnings scan as_of year 1", "POST", "/api/v1/warnings/scan?as_of=0001-01-01"),
    Bad("dates", "signature timestamp 10^20 seconds", "POST", "/api/v1/alerts", json=alert_json(),
        alert=True, headers={"X-Kinga-Timestamp": "1" + "0" * 20}, expect=(401,)),
)

# --- integers and ranges ------------------------------------------------------------------------
for name in ("fatalities_best", "injured", "crsv_survivors", "children_affected", "displaced"):
    add(Bad("integers", f"PATCH {name} = 2^31", "PATCH", "/api/v1/incidents/{incident_id}",
            json={name: 2**31}),
        Bad("integers", f"incident {name} = -1", "POST", "/api/v1/incidents",
            json=incident_body(**{name: -1})))
add(
    Bad("integers", "PATCH fatalities_high = 10^20", "PATCH", "/api/v1/incidents/{incident_id}",
        raw=b'{"fatalities_high": 100000000000000000000}', content_type="application/json"),
    Bad("integers", "incident fatalities 10^12", "POST", "/api/v1/incidents",
        json=incident_body(fatalities_best=10**12)),
    Bad("integers", "location radius 10^10", "POST", "/api/v1/incidents",
        json=incident_body(location_radius_m=10**10)),
    Bad("integers", "time precision 9", "POST", "/api/v1/incidents", json=incident_body(time_precision=9)),
    Bad("integers", "source count 0", "POST", "/api/v1/incidents/{incident_id}/reports",
        json=report(source_count=0)),
    Bad("integers", "base troops 2^31", "POST", "/api/v1/bases", json=base_body(troops=2**31)),
    Bad("integers", "PATCH base patrols -1", "PATCH", "/api/v1/bases/{base_id}",
        json={"road_patrols_per_day": -1}),
    Bad("integers", "plan seed 2^31", "POST", "/api/v1/patrol-plans", json=plan(seed=2**31)),
    Bad("integers", "plan horizon 0 days", "POST", "/api/v1/patrol-plans", json=plan(horizon_days=0)),
    Bad("integers", "plan window 10^6 days", "POST", "/api/v1/patrol-plans",
        json=plan(window_days=10**6)),
    Bad("integers", "review p = 21", "POST", "/api/v1/footprint-reviews",
        json={"as_of": "2024-03-01", "p": 21}),
    Bad("integers", "OGC offset 10^20", "GET", "/ogc/collections/incidents/items?offset=" + "1" + "0" * 20),
    Bad("integers", "OGC offset -1", "GET", "/ogc/collections/incidents/items?offset=-1"),
    Bad("integers", "OGC limit 0", "GET", "/ogc/collections/incidents/items?limit=0"),
    Bad("integers", "incidents limit 0", "GET", "/api/v1/incidents?limit=0"),
    Bad("integers", "incidents limit not a number", "GET", "/api/v1/incidents?limit=ten"),
    Bad("integers", "hotspots window_days 36601", "GET", "/api/v1/hotspots?window_days=36601"),
    Bad("integers", "hotspots window_days 0", "GET", "/api/v1/hotspots?window_days=0"),
    Bad("integers", "hotspots res 99", "GET", "/api/v1/hotspots?res=99"),
    Bad("integers", "forecast res 99", "GET", "/api/v1/forecast?res=99"),
    Bad("integers", "forecast horizon 10^6 days", "GET", "/api/v1/forecast?horizon_days=1000000"),
    Bad("integers", "forecast horizon -1", "GET", "/api/v1/forecast?horizon_days=-1"),
    Bad("integers", "backtest res 12", "GET",
        "/api/v1/forecast/backtest?start=2020-01-01&end=2020-06-01&res=12"),
    Bad("integers", "tile z 23", "GET", "/api/v1/hotspots/tiles/23/0/0.mvt"),
    Bad("integers", "tile x 2^40", "GET", "/api/v1/hotspots/tiles/3/1099511627776/0.mvt"),
    Bad("integers", "tile y -1", "GET", "/api/v1/hotspots/tiles/3/0/-1.mvt"),
)

# --- NaN, infinity, coordinates, bounding boxes ----------------------------------------------------
for lat, lon in ((91, 18.5), (-91, 18.5), (4.3, 181), (4.3, -181), (4.3, 1e308)):
    add(Bad("ranges", f"incident at {lat},{lon}", "POST", "/api/v1/incidents",
            json=incident_body(latitude=lat, longitude=lon)),
        Bad("ranges", f"alert at {lat},{lon}", "POST", "/api/v1/alerts",
            json=alert_json(latitude=lat, longitude=lon), alert=True))
for literal in (b"NaN", b"Infinity", b"-Infinity"):
    add(Bad("ranges", f"alert latitude {literal.decode()}", "POST", "/api/v1/alerts",
            raw=b'{"latitude": ' + literal + b', "longitude": 18.5, "text": "t"}',
            content_type="application/json", alert=True),
        Bad("ranges", f"incident longitude {literal.decode()}", "POST", "/api/v1/incidents",
            raw=b'{"occurred_start": "2024-03-02T21:00:00Z", "latitude": 4.3, "longitude": '
            + literal + b', "category": "killing", "report": {"section": "police", '
            b'"source_reliability": "C", "information_credibility": 3}}',
            content_type="application/json"),
        Bad("ranges", f"base reach {literal.decode()}", "POST", "/api/v1/bases",
            raw=b'{"name": "b", "kind": "field_office", "latitude": 4.4, "longitude": 18.6, '
            b'"opened_on": "2020-01-01", "road_reach_km": ' + literal + b"}",
            content_type="application/json"))
add(
    Bad("ranges", "plan bbox with NaN", "POST", "/api/v1/patrol-plans",
        raw=b'{"as_of": "2024-03-01", "horizon_days": 7, "bbox": [NaN, 1, 2, 3]}',
        content_type="application/json"),
    Bad("ranges", "plan bbox inverted", "POST", "/api/v1/patrol-plans", json=plan(bbox=[20, 5, 10, 4])),
    Bad("ranges", "candidate site at latitude 100", "POST", "/api/v1/footprint-reviews",
        json={"as_of": "2024-03-01", "candidates": [{"name": "c", "latitude": 100, "longitude": 1}]}),
    Bad("ranges", "bbox nan", "GET", "/api/v1/incidents?bbox=nan,nan,nan,nan"),
    Bad("ranges", "bbox inf", "GET", "/api/v1/hotspots?bbox=-inf,-90,inf,90"),
    Bad("ranges", "bbox 1e400", "GET", "/api/v1/incidents?bbox=1e400,0,1,1"),
    Bad("ranges", "bbox beyond WGS84", "GET", "/api/v1/incidents?bbox=-500,-100,500,100"),
    Bad("ranges", "bbox inverted", "GET", "/api/v1/warnings?bbox=20,5,10,4"),
    Bad("ranges", "bbox of three numbers", "GET", "/ogc/collections/incidents/items?bbox=1,2,3"),
    Bad("ranges", "bbox of words", "GET", "/api/v1/response-metrics?bbox=a,b,c,d"),
    Bad("ranges", "CAP circle radius inf", "POST", "/api/v1/alerts",
        raw=cap("<circle>4.39,18.56 inf</circle>"), content_type="application/cap+xml", alert=True),
    Bad("ranges", "CAP circle radius 1e12", "POST", "/api/v1/alerts",
        raw=cap("<circle>4.39,18.56 1e12</circle>"), content_type="application/cap+xml", alert=True),
    Bad("ranges", "CAP circle radius -5", "POST", "/api/v1/alerts",
        raw=cap("<circle>4.39,18.56 -5</circle>"), content_type="application/cap+xml", alert=True),
    Bad("ranges", "CAP circle radius 0", "POST", "/api/v1/alerts",
        raw=cap("<circle>4.39,18.56 0</circle>"), content_type="application/cap+xml", alert=True),
    Bad("ranges", "CAP circle radius nan", "POST", "/api/v1/alerts",
        raw=cap("<circle>4.39,18.56 nan</circle>"), content_type="application/cap+xml", alert=True),
    Bad("ranges", "CAP circle centre latitude 95", "POST", "/api/v1/alerts",
        raw=cap("<circle>95,18.56 5</circle>"), content_type="application/cap+xml", alert=True),
    Bad("ranges", "CAP polygon at longitude 500", "POST", "/api/v1/alerts",
        raw=cap("<polygon>4,500 5,500 5,501 4,500</polygon>"), content_type="application/cap+xml",
        alert=True),
)

# --- control characters, encodings and SQL-like text -------------------------------------------------
CONTROL = {"NUL": "\x00", "BEL": "\x07", "ESC": "\x1b", "C1 NEL": "\x85", "DEL": "\x7f"}
for label, ch in CONTROL.items():
    add(Bad("control", f"{label} in an incident narrative", "POST", "/api/v1/incidents",
            json=incident_body(narrative=f"killed{ch}at market")),
        Bad("control", f"{label} in an alert text", "POST", "/api/v1/alerts",
            json=alert_json(text=f"help{ch}now"), alert=True))
add(
    Bad("control", "NUL in a perpetrator name", "POST", "/api/v1/incidents",
        json=incident_body(perpetrators=["Armed\x00men"])),
    Bad("control", "NUL in a report's reporter_ref", "POST", "/api/v1/incidents/{incident_id}/reports",
        json=report(reporter_ref="focal\x00point")),
    Bad("control", "NUL in a base name", "POST", "/api/v1/bases", json=base_body(name="Base\x00")),
    Bad("control", "NUL in PATCH place_name", "PATCH", "/api/v1/incidents/{incident_id}",
        json={"place_name": "Market\x00"}),
    Bad("control", "NUL in an alert place", "POST", "/api/v1/alerts",
        json=alert_json(place="Bambari\x00", latitude=None, longitude=None), alert=True),
    Bad("control", "NUL in an alert reporter contact", "POST", "/api/v1/alerts",
        json=alert_json(reporter_contact="+236\x00"), alert=True),
    Bad("control", "NUL in a dismissal reason", "POST", "/api/v1/alerts/{alert_id}/dismiss",
        json={"reason": "dup\x00"}),
    Bad("control", "NUL in a warning comment", "POST", "/api/v1/warnings/{warning_id}/status",
        json={"status": "acknowledged", "comment": "ok\x00"}),
    Bad("control", "NUL in a response outcome", "POST", "/api/v1/warnings/{warning_id}/responses",
        json={"type": "patrol", "outcome": "done\x00"}),
    Bad("control", "NUL in an integration's area name", "POST", "/api/v1/integrations",
        json={"name": "area-nul", "area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]],
                                            "name\x00": 1}}),
    Bad("control", "lone surrogate in a narrative", "POST", "/api/v1/incidents",
        raw=b'{"occurred_start": "2024-03-02T21:00:00Z", "latitude": 4.3, "longitude": 18.5, '
        b'"category": "killing", "narrative": "\\ud800", "report": {"section": "police", '
        b'"source_reliability": "C", "information_credibility": 3}}', content_type="application/json"),
    Bad("control", "NUL in the perpetrator filter", "GET", "/api/v1/incidents?perpetrator=anti%00balaka"),
    Bad("control", "NUL in the hotspot perpetrator filter", "GET", "/api/v1/hotspots?perpetrator=%00"),
    Bad("control", "NUL in the category filter", "GET", "/api/v1/incidents?category=killing%00"),
    Bad("control", "NUL in a cursor", "GET", "/api/v1/alerts?cursor=%00"),
    Bad("control", "ESC in a query name", "GET", "/api/v1/incidents?%1b=1"),
    Bad("control", "non-UTF-8 byte in a filter", "GET", "/api/v1/incidents?perpetrator=%ff%fe"),
    Bad("control", "NUL in an integration name to revoke", "POST", "/api/v1/integrations/a%00b/revoke"),
    Bad("control", "NUL in an OGC collection id", "GET", "/ogc/collections/incidents%00"),
    Bad("control", "NUL in a hotspot cell", "GET", "/api/v1/hotspots/86%00"),
    Bad("control", "NUL in an OGC datetime", "GET", "/ogc/collections/incidents/items?datetime=2024%00"),
    Bad("sql", "quote and comment in the perpetrator filter", "GET",
        "/api/v1/incidents?perpetrator=%27%20OR%201%3D1%20--", expect=(200,)),
    Bad("sql", "DROP TABLE in the perpetrator filter", "GET",
        "/api/v1/incidents?perpetrator=x%27%3B%20DROP%20TABLE%20incident%3B--", expect=(200,)),
    Bad("sql", "LIKE wildcards in the perpetrator filter", "GET",
        "/api/v1/hotspots?perpetrator=%25_%25", expect=(200,)),
    Bad("sql", "quote in the category filter", "GET", "/api/v1/incidents?category=killing%27--"),
    Bad("sql", "quote in a status filter", "GET", "/api/v1/alerts?status=new%27%20OR%20%271"),
    Bad("sql", "UNION in the sort key", "GET", "/api/v1/bases?sort=name%20UNION%20SELECT%201"),
    Bad("sql", "quote in an OGC collection id", "GET", "/ogc/collections/incidents%27--", expect=(404,)),
    Bad("sql", "quote in a hotspot cell", "GET", "/api/v1/hotspots/8a%27--", expect=(404, 422)),
    Bad("sql", "quote in an integration name", "POST", "/api/v1/integrations",
        json={"name": "x'; DROP TABLE alert;--"}),
    Bad("sql", "SQL in an incident narrative is stored as text", "POST", "/api/v1/incidents",
        json=incident_body(narrative="'); DELETE FROM incident; --"), expect=(201,)),
)

# --- GeoJSON areas ---------------------------------------------------------------------------------
SQUARE = [[18, 4], [19, 4], [19, 5], [18, 5], [18, 4]]
for label, area in {
    "a string": "Bangui",
    "a Point": {"type": "Point", "coordinates": [18, 4]},
    "a LineString": {"type": "LineString", "coordinates": [[18, 4], [19, 5]]},
    "a Feature": {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}},
    "a ring at longitude 500": {"type": "Polygon", "coordinates": [[[500, 4], [501, 4], [501, 5], [500, 4]]]},
    "a ring at latitude -95": {"type": "Polygon", "coordinates": [[[18, -95], [19, -95], [19, -94], [18, -95]]]},
    "an unclosed ring": {"type": "Polygon", "coordinates": [SQUARE[:-1]]},
    "a ring of three positions": {"type": "Polygon", "coordinates": [[[18, 4], [19, 4], [18, 4]]]},
    "a self-intersecting bow tie": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
    "string coordinates": {"type": "Polygon", "coordinates": [[["18", "4"], ["19", "4"], ["19", "5"], ["18", "4"]]]},
    "no coordinates": {"type": "Polygon"},
    "an empty MultiPolygon": {"type": "MultiPolygon", "coordinates": []},
    "a zero-area ring": {"type": "Polygon", "coordinates": [[[18, 4], [19, 4], [20, 4], [18, 4]]]},
    "positions of one number": {"type": "Polygon", "coordinates": [[[18], [19], [20], [18]]]},
}.items():
    add(Bad("geojson", f"integration area: {label}", "POST", "/api/v1/integrations",
            json={"name": "area-" + str(abs(hash(label)) % 10**6), "area": area}))
add(
    Bad("geojson", "integration area with a NaN position", "POST", "/api/v1/integrations",
        raw=b'{"name": "nan-area", "area": {"type": "Polygon", "coordinates": '
        b"[[[NaN, 4], [19, 4], [19, 5], [NaN, 4]]]}}", content_type="application/json"),
)

# --- CAP XML --------------------------------------------------------------------------------------
XXE = (b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;'
          b'&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><alert xmlns="urn:oasis:names:tc:emergency:'
          b'cap:1.2"><identifier>&lol2;</identifier></alert>')
add(
    Bad("cap", "not XML", "POST", "/api/v1/alerts", raw=b"<alert><unclosed>",
        content_type="application/cap+xml", alert=True),
    Bad("cap", "external entity (XXE)", "POST", "/api/v1/alerts", raw=XXE,
        content_type="application/cap+xml", alert=True),
    Bad("cap", "entity expansion (billion laughs)", "POST", "/api/v1/alerts", raw=LAUGHS,
        content_type="application/xml", alert=True),
    Bad("cap", "not a CAP alert (RSS)", "POST", "/api/v1/alerts",
        raw=b'<?xml version="1.0"?><rss><channel/></rss>', content_type="application/xml", alert=True),
    Bad("cap", "CAP without an info block", "POST", "/api/v1/alerts", raw=cap(info=False),
        content_type="application/cap+xml", alert=True),
    Bad("cap", "CAP circle without a radius", "POST", "/api/v1/alerts",
        raw=cap("<circle>4.39,18.56</circle>"), content_type="application/cap+xml", alert=True),
    Bad("cap", "CAP circle with words", "POST", "/api/v1/alerts",
        raw=cap("<circle>north of town</circle>"), content_type="application/cap+xml", alert=True),
    Bad("cap", "CAP polygon of two points", "POST", "/api/v1/alerts",
        raw=cap("<polygon>4,18 5,19</polygon>"), content_type="application/cap+xml", alert=True),
    Bad("cap", "CAP polygon self-intersecting", "POST", "/api/v1/alerts",
        raw=cap("<polygon>0,0 1,1 0,1 1,0 0,0</polygon>"), content_type="application/cap+xml",
        alert=True),
    Bad("cap", "CAP time without a zone", "POST", "/api/v1/alerts",
        raw=cap(sent="2024-03-02T21:00:00"), content_type="application/cap+xml", alert=True),
    Bad("cap", "CAP nested 5000 elements deep", "POST", "/api/v1/alerts",
        raw=cap(extra="<b>" * 5000 + "</b>" * 5000), content_type="application/cap+xml",
        alert=True),
    Bad("cap", "CAP declared UTF-8 with a Latin-1 byte", "POST", "/api/v1/alerts",
        raw=cap(extra="\xe9").decode().encode("latin-1"), content_type="application/cap+xml",
        alert=True),
    Bad("cap", "CAP headline with a character reference to U+0001", "POST", "/api/v1/alerts",
        raw=cap(extra="&#1;"), content_type="application/cap+xml", alert=True),
    Bad("cap", "CAP headline with a C1 control (U+0085)", "POST", "/api/v1/alerts",
        raw=cap(extra="\u0085"), content_type="application/cap+xml", alert=True),
    Bad("cap", "CAP posted as text/plain", "POST", "/api/v1/alerts", raw=cap(),
        content_type="text/plain", alert=True, expect=(415,)),
)

# --- SMS forms ------------------------------------------------------------------------------------
SMS = "application/x-www-form-urlencoded"
add(
    Bad("sms", "form body in Latin-1", "POST", "/api/v1/alerts",
        raw="sender=+236700&text=attaque à Bambari".encode("latin-1"), content_type=SMS, alert=True),
    Bad("sms", "percent-encoded byte that is not UTF-8", "POST", "/api/v1/alerts",
        raw=b"sender=%2B236700&text=attaque%E0Bambari", content_type=SMS, alert=True),
    Bad("sms", "percent-encoded NUL in the text", "POST", "/api/v1/alerts",
        raw=b"sender=%2B236700&text=help%00now", content_type=SMS, alert=True),
    Bad("sms", "missing sender", "POST", "/api/v1/alerts", raw=b"text=help", content_type=SMS,
        alert=True),
    Bad("sms", "empty text", "POST", "/api/v1/alerts", raw=b"sender=1&text=", content_type=SMS,
        alert=True),
    Bad("sms", "not a form", "POST", "/api/v1/alerts", raw=b"=&&==", content_type=SMS, alert=True),
    Bad("sms", "received_at without a zone", "POST", "/api/v1/alerts",
        raw=b"sender=1&text=help&received_at=2024-03-02T21:00:00", content_type=SMS, alert=True),
    Bad("sms", "sender of 65 characters", "POST", "/api/v1/alerts",
        raw=b"sender=" + b"9" * 65 + b"&text=help", content_type=SMS, alert=True),
)

# --- headers --------------------------------------------------------------------------------------
add(
    Bad("headers", "Idempotency-Key with a space", "POST", "/api/v1/alerts", json=alert_json(),
        alert=True, headers={"Idempotency-Key": "two words"}),
    Bad("headers", "Idempotency-Key with a tab", "POST", "/api/v1/alerts", json=alert_json(),
        alert=True, headers={"Idempotency-Key": "a\tb"}),
    Bad("headers", "timestamp not a time", "POST", "/api/v1/alerts", json=alert_json(), alert=True,
        headers={"X-Kinga-Timestamp": "yesterday"}, expect=(401,)),
    Bad("headers", "timestamp in year 1", "POST", "/api/v1/alerts", json=alert_json(), alert=True,
        headers={"X-Kinga-Timestamp": "0001-01-01T00:00:00Z"}, expect=(401,)),
    Bad("headers", "timestamp -10^20", "POST", "/api/v1/alerts", json=alert_json(), alert=True,
        headers={"X-Kinga-Timestamp": "-" + "9" * 20}, expect=(401,)),
    Bad("headers", "signature of the wrong body", "POST", "/api/v1/alerts", json=alert_json(),
        alert=True, headers={"X-Kinga-Signature": "0" * 64}, expect=(401,)),
    Bad("headers", "alert as text/csv", "POST", "/api/v1/alerts", raw=b"a,b",
        content_type="text/csv", alert=True, expect=(415,)),
    Bad("headers", "bearer token of 5000 characters", "GET", "/api/v1/incidents",
        headers={"Authorization": "Bearer " + "k" * 5000}, expect=(401,)),
    Bad("headers", "incident id not a UUID", "GET", "/api/v1/incidents/not-a-uuid"),
    Bad("headers", "DELETE on the incidents collection", "DELETE", "/api/v1/incidents", expect=(405,)),
)

# --- imports: files refused whole, rows refused one by one -------------------------------------------
add(
    Bad("imports", "CSV in UTF-16", "POST", "/api/v1/imports",
        **upload(acled_file().decode().encode("utf-16"))),
    Bad("imports", "CSV in Latin-1", "POST", "/api/v1/imports",
        **upload((ACLED_HEADER + acled_row("L1", notes="Bangui é")).encode("latin-1"))),
    Bad("imports", "empty file", "POST", "/api/v1/imports", **upload(b"")),
    Bad("imports", "binary garbage", "POST", "/api/v1/imports", **upload(bytes(range(256)) * 4)),
    Bad("imports", "GeoJSON that is not a FeatureCollection", "POST", "/api/v1/imports",
        **upload(b'{"type": "Point", "coordinates": [1, 2]}', name="ged.geojson", source="ucdp")),
    Bad("imports", "JSON that is not JSON", "POST", "/api/v1/imports",
        **upload(b"{nope", name="ged.geojson", source="ucdp")),
    Bad("imports", "unknown source", "POST", "/api/v1/imports", **upload(acled_file(), source="gdelt")),
    Bad("imports", "import as a status that does not exist", "POST", "/api/v1/imports",
        files={"file": ("x.csv", acled_file(), "text/csv")},
        data={"source": "acled", "status": "published"}),
    Bad("imports", "fatalities 1e12 (row refused, file stored)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("BIG", fatalities="1000000000000"))), expect=(201,),
        stored=(2, 1)),
    Bad("imports", "fatalities 1e300 (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("HUGE", fatalities="1e300"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "negative fatalities (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("NEG", fatalities="-3"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "event dated year 1 (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("Y1", date="0001-01-02"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "event dated 9999 (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("Y9", date="9999-12-31"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "NUL in notes (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("NUL", notes="a\x00b"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "control character in an actor (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("ESC", actor="Armed\x1bmen"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "latitude NaN (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("NAN", lat="nan"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "longitude 500 (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("LON", lon="500"))), expect=(201,), stored=(2, 1)),
    Bad("imports", "event id of 80 characters (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("I" * 80))), expect=(201,), stored=(2, 1)),
    Bad("imports", "row with a field too many (row refused)", "POST", "/api/v1/imports",
        **upload(acled_file(acled_row("WIDE").replace("\n", ",extra\n"))), expect=(201,),
        stored=(2, 1)),
    Bad("imports", "GED feature with fatalities 1e12 (row refused)", "POST", "/api/v1/imports",
        **upload(b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
                 b'{"type": "Point", "coordinates": [18.5, 4.3]}, "properties": {"id": 1, '
                 b'"type_of_violence": 3, "date_start": "2020-01-01", "best": 1e12}}, {"type": '
                 b'"Feature", "geometry": {"type": "Point", "coordinates": [18.5, 4.3]}, '
                 b'"properties": {"id": 2, "type_of_violence": 3, "date_start": "2020-01-01", '
                 b'"best": 1}}]}', name="ged.geojson", source="ucdp"), expect=(201,), stored=(1, 1)),
)


def summary() -> dict[str, int]:
    return dict(Counter(c.category for c in CASES))


if __name__ == "__main__":
    for category, n in summary().items():
        print(f"{category:10} {n}")
    print(f"{'total':10} {len(CASES)}")
