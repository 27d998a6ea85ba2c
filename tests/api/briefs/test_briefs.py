"""Generated briefs: what they say about a seeded week, their formats (JSON, HTML with a print
stylesheet and charts, PDF), kept records, scheduled generation, and bad input."""

import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.services.briefs.schedule import due, run_once
from tests.support.products import AS_OF, BUSY, seed_week

URL = "/api/v1/briefs"


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "brief.pdf"
    path.write_bytes(content)
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: run `bash scripts/install-products.sh`"
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def texts(doc):
    return [s["text"] for sec in doc["content"]["sections"] for s in sec["statements"]]


async def test_weekly_brief_states_the_week_from_the_data(client, auth, conn):
    seeded = await seed_week(client, auth, conn)
    r = await client.get(URL, params={"period": "week", "as_of": AS_OF}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    doc = r.json()
    c = doc["content"]
    assert c["edition"] == "full" and c["period"]["as_of"] == AS_OF and doc["kept"] is False
    # Mission time is UTC+1: the week is 2024-06-24 00:00 to 2024-07-01 00:00 local.
    assert c["period"]["start"] == "2024-06-23T23:00:00+00:00"
    assert c["period"]["end"] == "2024-06-30T23:00:00+00:00"
    f = c["figures"]
    assert (f["incidents"], f["incidents_previous"], f["fatalities"], f["crsv_survivors"]) == \
        (9, 3, 8, 1)
    first = c["summary"][0]
    assert first["text"].startswith("9 incidents against civilians occurred (+6, +200% on the "
                                    "previous week): 8 people killed, 1 survivor of")
    assert set(first["record_ids"]) == set(seeded["incidents"][:7] + seeded["incidents"][10:])
    assert any(ln["href"].startswith("/api/v1/incidents?start=") for ln in first["links"])
    said = " ".join(texts(doc))
    assert "Commander Zebulon Secret 9 (+6" in said  # perpetrators, with change
    assert "2 warnings were raised (alert cluster 1, sexual violence 1)" in said
    assert "1 none — 1 of them overdue" in said
    assert "median 12 min" in said and "road or access denied (1)" in said
    assert "Outcome for “3 alerts near the market”: Patrol deployed; market calm." in said
    assert "1 of 1 information requirements are in gap" in said and "CCIR-1 (CRSV)" in said
    assert "No patrol reports are recorded" in said
    assert "expects about" in said
    assert f["warnings"] == 2 and f["warnings_overdue"] == 1 and f["irs_in_gap"] == 1
    threat = next(s for s in c["sections"] if s["id"] == "threat")
    assert threat["map"]["cells"] and threat["statements"][1]["links"][0]["href"].startswith(
        "/api/v1/hotspots/")
    # Every statement links to records.
    assert all(s["links"] for sec in c["sections"] for s in sec["statements"])


async def test_day_brief_counts_one_mission_day(client, auth, conn):
    await seed_week(client, auth, conn)
    r = await client.get(URL, params={"period": "day", "as_of": "2024-06-30"},
                         headers=auth("operations"))
    c = r.json()["content"]
    assert c["period"]["start"] == "2024-06-29T23:00:00+00:00" and c["figures"]["incidents"] == 1


async def test_html_has_a_print_stylesheet_charts_map_and_escapes_data(client, auth, conn):
    await seed_week(client, auth, conn)
    await client.post("/api/v1/information-requirements", json={
        "code": "IR-<b>", "question": "<script>alert(1)</script> near the river?",
        "area": {"type": "Polygon", "coordinates": [[[30, 10], [31, 10], [31, 11], [30, 11],
                                                      [30, 10]]]},
        "categories": ["killing"], "frequency_days": 3, "owner_section": "jmac"},
        headers=auth("analyst"))
    r = await client.get(URL, params={"as_of": AS_OF, "f": "html"}, headers=auth("analyst"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "@page" in page and "@media print" in page
    assert page.count("<svg") == 3  # series, category bars, map
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="http://kinga.test/api/v1/incidents?start=' in page
    plain = await client.get(URL, params={"as_of": AS_OF, "f": "html", "charts": "false"},
                             headers=auth("analyst"))
    assert "<svg" not in plain.text and "Main points" in plain.text


async def test_pdf_is_a_small_pdf_with_the_brief(client, auth, conn, tmp_path):
    await seed_week(client, auth, conn)
    r = await client.get(URL, params={"as_of": AS_OF, "f": "pdf"}, headers=auth("analyst"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) < 1_000_000
    text = pdf_text(r.content, tmp_path)
    assert "Weekly situation brief" in text and "9 incidents against civilians" in text


async def test_kept_briefs_are_dated_records(client, auth, conn):
    await seed_week(client, auth, conn)
    r = await client.post(URL, json={"period": "week", "as_of": AS_OF}, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    got = await client.get(f"{URL}/{bid}", headers=auth("operations"))
    assert got.status_code == 200 and got.json()["content"]["figures"]["incidents"] == 9
    html = await client.get(f"{URL}/{bid}", params={"f": "html"}, headers=auth("operations"))
    assert "Weekly situation brief" in html.text
    listed = (await client.get(f"{URL}/records", headers=auth("analyst"))).json()["items"]
    assert [i["id"] for i in listed] == [bid] and listed[0]["as_of"] == AS_OF
    # Partners read partner editions only.
    assert (await client.get(f"{URL}/{bid}", headers=auth("partner"))).status_code == 404
    assert (await client.get(f"{URL}/records", headers=auth("partner"))).json()["items"] == []
    assert (await client.post(URL, json={}, headers=auth("operations"))).status_code == 403


async def test_scheduled_generation_is_daily_at_six_and_weekly_on_monday(app, settings, client,
                                                                        auth, conn):
    on = settings.model_copy(update={"brief_schedule": True})
    await seed_week(client, auth, conn)
    # Monday 2024-07-01 07:00 mission time (06:00 UTC): yesterday's day brief and last week's.
    monday = datetime(2024, 7, 1, 6, 0, tzinfo=UTC)
    plus_one = timezone(timedelta(hours=1))
    assert due(monday, plus_one, 6) == [("day", date(2024, 6, 30)), ("week", date(2024, 6, 30))]
    assert due(datetime(2024, 7, 1, 4, 59, tzinfo=UTC), plus_one, 6) == [
        ("day", date(2024, 6, 29)), ("week", date(2024, 6, 23))]  # before Monday's 06:00
    made = await run_once(app.state.sessionmaker, on, now=monday)
    assert made == 4  # day and week, full and partner editions
    rows = conn.execute("SELECT period, as_of, edition, scheduled FROM brief ORDER BY 1, 3"
                        ).fetchall()
    assert rows == [("day", date(2024, 6, 30), "full", True),
                    ("day", date(2024, 6, 30), "partner", True),
                    ("week", date(2024, 6, 30), "full", True),
                    ("week", date(2024, 6, 30), "partner", True)]
    assert await run_once(app.state.sessionmaker, on, now=monday) == 0
    # 05:30 mission time on Tuesday: Tuesday's run has not come yet; nothing new.
    early = datetime(2024, 7, 2, 4, 30, tzinfo=UTC)
    assert await run_once(app.state.sessionmaker, on, now=early) == 0
    later = datetime(2024, 7, 2, 5, 0, tzinfo=UTC)  # 06:00 mission time
    assert await run_once(app.state.sessionmaker, on, now=later) == 2
    assert await run_once(app.state.sessionmaker, settings, now=later) == 0  # switched off
    assert conn.execute("SELECT count(*) FROM brief WHERE as_of = '2024-07-01'").fetchone()[0] == 2
    # The scheduler runs it as one of its jobs, under its lock, and commits.
    from app.workers.scheduler import Scheduler

    scheduler = Scheduler(on)
    scheduler.maker = app.state.sessionmaker
    next_monday = datetime(2024, 7, 8, 6, 0, tzinfo=UTC)
    assert await scheduler.run_job("briefs.generate_due", next_monday) == 4


@pytest.mark.parametrize("params,pointer", [
    ({"period": "month"}, "/query/period"),
    ({"period": "week", "as_of": "2999-01-01"}, "/query/as_of"),
    ({"as_of": "30/06/2024"}, "/query/as_of"),
    ({"mission": "nowhere"}, "/query/mission"),
    ({"aor": "Sector Far Away"}, "/query/aor"),
    ({"f": "docx"}, "/query/f"),
    ({"edition": "secret"}, "/query/edition"),
])
async def test_bad_brief_requests_are_refused_with_a_pointer(client, auth, conn, params,
                                                            pointer):
    r = await client.get(URL, params=params, headers=auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in r.json()["errors"]]
    bad = await client.post(URL, json={"period": "month"}, headers=auth("analyst"))
    assert bad.status_code == 422
    assert conn.execute("SELECT count(*) FROM brief").fetchone()[0] == 0


async def test_an_empty_store_still_gives_a_brief(client, auth):
    r = await client.get(URL, params={"as_of": AS_OF}, headers=auth("analyst"))
    assert r.status_code == 200
    assert r.json()["content"]["figures"]["incidents"] == 0
    assert BUSY  # the seeded area is absent here
