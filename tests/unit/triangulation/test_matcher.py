"""One-to-one assignment and the three outcomes."""

import random
from datetime import UTC, datetime

import numpy as np
import pytest

from app.errors import InvalidInput
from app.services.triangulation import accounts as acc
from app.services.triangulation.matcher import Outcome, Thresholds, match
from app.services.triangulation.names import AliasTable

T0 = datetime(2014, 1, 22, tzinfo=UTC)


def rows(n, *, source, narrative=None, lat=4.36, keys=None):
    return [{"id": (keys or [f"{source}{i}" for i in range(n)])[i], "external_source": source,
             "longitude": 18.56, "latitude": lat, "location_radius_m": 1000, "occurred_start": T0,
             "occurred_end": None, "category": "killing", "perpetrators": ["Seleka"],
             "fatalities_best": 5, "fatalities_low": None, "fatalities_high": None,
             "narrative": narrative, "cites": []} for i in range(n)]


def accounts(r):
    return acc.from_rows(r).resolve(AliasTable())


def all_pairs(left, right):
    li, ri = np.meshgrid(np.arange(len(left)), np.arange(len(right)), indexing="ij")
    return li.ravel(), ri.ravel()


def test_two_accounts_never_both_join_one_incident():
    left, right = accounts(rows(2, source="acled")), accounts(rows(1, source="ucdp"))
    d = match(left, right, *all_pairs(left, right), Thresholds(0.5, 0.3))
    assert sorted(d.outcome.tolist()) == [Outcome.new, Outcome.linked]


def test_rows_of_one_account_may_share_the_incident():
    story = "Clashes between anti-Balaka and ex-Seleka on the 7th and 8th; dozens were killed."
    left = accounts(rows(2, source="acled", narrative=story))
    right = accounts(rows(1, source="ucdp"))
    d = match(left, right, *all_pairs(left, right), Thresholds(0.5, 0.3))
    assert d.outcome.tolist() == [Outcome.linked, Outcome.linked]


def test_outcomes_follow_the_thresholds():
    left, right = accounts(rows(1, source="acled")), accounts(rows(1, source="ucdp"))
    s = match(left, right, *all_pairs(left, right), Thresholds(1.0, 0.0)).score[0]
    assert match(left, right, *all_pairs(left, right), Thresholds(s, s)).outcome[0] == Outcome.linked
    assert match(left, right, *all_pairs(left, right), Thresholds(1.0, s)).outcome[0] == Outcome.queued
    assert s < 1.0 and match(left, right, *all_pairs(left, right),
                             Thresholds(1.0, min(1.0, s + 1e-6))).outcome[0] == Outcome.new


def test_links_do_not_depend_on_the_order_of_a_batch():
    rng = random.Random(14)
    new = rows(12, source="acled")
    old = rows(8, source="ucdp")
    for r in new + old:
        r["latitude"] = 4.36 + rng.uniform(-0.05, 0.05)
        r["fatalities_best"] = rng.randint(0, 8)
    right = accounts(old)

    def links(batch):
        left = accounts(batch)
        d = match(left, right, *all_pairs(left, right), Thresholds(0.8, 0.6))
        return {(batch[i]["id"], str(d.target[i]), int(d.outcome[i])) for i in range(len(batch))}

    first = links(new)
    shuffled = new[:]
    rng.shuffle(shuffled)
    assert links(shuffled) == first


@pytest.mark.parametrize("auto,review,pointer", [(0.5, 0.7, "/body/review"), (1.2, 0.5, "/body/auto_link"),
                                                 (0.8, -0.1, "/body/review")])
def test_thresholds_out_of_order_or_range_are_refused(auto, review, pointer):
    with pytest.raises(InvalidInput) as exc:
        Thresholds(auto, review)
    assert exc.value.errors[0]["pointer"] == pointer
