"""Pure alert services: signatures, triage scoring, gazetteer, CAP round trip, cell ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import pytest
import xmlschema
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from app.errors import Unauthorized
from app.services.alerts import cap, integrations
from app.services.geo import gazetteer
from app.services.geo.h3cells import latlng_cell
from app.services.incidents import matching as triage
from app.services.warnings import cap_feed, webhooks
from app.services.warnings.lifecycle import child_range
from app.settings import PROJECT_ROOT

NOW = datetime(2024, 3, 2, 21, 0, tzinfo=UTC)


def test_signature_round_trip_and_refusals():
    body, ts = b'{"text": "x"}', str(int(NOW.timestamp()))
    good = integrations.sign("s3cret", ts, body)
    kw = {"secret": "s3cret", "body": body, "required": True, "max_skew_s": 300, "now": NOW}
    integrations.verify_signature(timestamp=ts, signature=good, **kw)
    for t, s in (
        (ts, "00" * 32),
        (str(int(NOW.timestamp()) - 301), good),
        (None, None),
        (ts, None),
        ("yesterday", good),
    ):
        with pytest.raises(Unauthorized):
            integrations.verify_signature(timestamp=t, signature=s, **kw)


def test_secret_derivation_depends_on_pepper_and_salt():
    a = integrations.derive_secret("pepper", b"salt")
    assert a == integrations.derive_secret("pepper", b"salt")
    assert a != integrations.derive_secret("pepper2", b"salt")
    assert a != integrations.derive_secret("pepper", b"salt2")


# Whether an alert corroborates an incident is scored by the triangulation matcher (alert
# profile): tests/unit/triangulation/test_scoring.py.


@pytest.mark.parametrize(
    "text,cat",
    [
        ("Femme violée près du marché", "sexual_violence"),
        ("3 people killed", "killing"),
        ("Des hommes armés", "armed_group_presence"),
        ("rain today", "other"),
    ],
)
def test_guess_category(text, cat):
    assert triage.guess_category(text) == cat


def test_gazetteer_normalises_ucdp_names():
    gaz = gazetteer.load(PROJECT_ROOT / "geodata")
    assert gazetteer.normalise("Bambari town") == "bambari"
    assert gaz.resolve("BAMBARI").name == "Bambari"
    assert gaz.resolve("Kaga-Bandoro").precision == 1
    assert gaz.resolve("Atlantis") is None
    assert gaz.find_in_text("attaque signalée à Bria ce matin").name == "Bria"
    assert gaz.find_in_text("nothing here") is None


@given(lat=st.floats(2.5, 11), lon=st.floats(14.5, 27), res=st.integers(4, 8))
def test_child_range_contains_exactly_the_descendants(lat, lon, res):
    fine = latlng_cell(lat, lon, 9)
    parent = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(fine), res))
    lo, hi = child_range(parent, res, 9)
    assert lo <= fine <= hi
    other = latlng_cell(lat + 1.0, lon + 1.0, 9)
    assert not (lo <= other <= hi)


def test_outgoing_cap_validates():
    w = {
        "id": "0f0e",
        "status": "acknowledged",
        "rule": "alert_cluster",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Likely",
        "headline": "3 alerts <near> Bria & co",
        "description": "d",
        "category": "killing",
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": NOW + timedelta(days=3),
        "geometry": {"type": "Polygon", "coordinates": [[[21, 6], [22, 6], [22, 7], [21, 6]]]},
    }
    el = cap_feed.warning_alert(w, "kinga@example.org")
    xmlschema.XMLSchema(str(PROJECT_ROOT / "geodata/cap/CAP-v1.2.xsd")).validate(etree.tostring(el))
    back = cap.parse(etree.tostring(el), PROJECT_ROOT / "geodata/cap/CAP-v1.2.xsd")
    assert back.category == "killing" and back.location_source == "cap_area"


@pytest.mark.parametrize(
    "ip,ok",
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("::ffff:192.168.1.1", False),
        ("100.64.0.1", False),
    ],
)
def test_address_policy(ip, ok):
    assert webhooks.address_allowed(ip, allow_private=False) is ok


def test_retry_schedule():
    sched = (0, 10, 60)
    assert webhooks.next_attempt(sched, 1, NOW) == NOW + timedelta(seconds=10)
    assert webhooks.next_attempt(sched, 3, NOW) is None
