"""The plain-value path of the account arrays gives exactly what the pandas path gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from app.services.triangulation import accounts as acc


def _instants(rng: random.Random, n: int) -> list[datetime | None]:
    out: list[datetime | None] = []
    for _ in range(n):
        kind = rng.random()
        base = datetime(1900, 1, 1) + timedelta(seconds=rng.uniform(0, 300 * 365.25 * 86_400),
                                                microseconds=rng.randrange(1_000_000))
        if kind < 0.1:
            out.append(None)
        elif kind < 0.3:
            out.append(base)  # naive: read as UTC
        else:
            tz = timezone(timedelta(minutes=rng.randrange(-14 * 60, 14 * 60 + 1)))
            out.append(base.replace(tzinfo=tz))
    return out


def test_day_numbers_and_days_equal_the_pandas_path():
    rng = random.Random(7)
    for _ in range(200):
        values = _instants(rng, rng.randrange(0, 30))
        fast = acc.days_since_epoch(values)
        slow = acc.days_since_epoch(pd.Series(values, dtype=object))  # not a list: pandas
        assert fast.dtype == slow.dtype and np.array_equal(fast, slow, equal_nan=True)
        assert acc.utc_days(values) == acc.utc_days(pd.Series(values, dtype=object))


def test_numbers_equal_the_pandas_path():
    rng = random.Random(8)
    for _ in range(200):
        values = [rng.choice([None, rng.randrange(-5, 10**7), rng.uniform(-1e6, 1e6), float("nan")])
                  for _ in range(rng.randrange(0, 20))]
        assert np.array_equal(acc._floats(values), acc._floats(pd.Series(values, dtype=object)),
                              equal_nan=True)
    assert np.array_equal(acc._floats(["3", None, "x"]), [3.0, np.nan, np.nan], equal_nan=True)


def test_an_alert_account_is_what_the_pandas_path_builds():
    when = datetime(2024, 3, 2, 21, 0, tzinfo=UTC)
    fast = acc.from_rows([{"id": None, "external_source": None, "longitude": 18.5, "latitude": 4.3,
                           "location_radius_m": 0, "occurred_start": when, "occurred_end": None,
                           "category": "killing", "perpetrators": [], "fatalities_best": 2,
                           "fatalities_low": None, "fatalities_high": None, "narrative": "x",
                           "cites": []}])
    assert fast.start.tolist() == [(pd.Timestamp(when) - acc.EPOCH) / pd.Timedelta(days=1)]
    assert fast.end.tolist() == [fast.start[0] + 1.0] and fast.days == [when.date()]
    assert np.array_equal(fast.fatalities, [2.0]) and np.isnan(fast.fat_low[0])


def test_microseconds_give_the_day_numbers_and_days_of_the_instants():
    """The candidate search sends dates as whole microseconds since the epoch; the accounts get
    the same floats and calendar days as from the instants, to Python's datetime limits."""
    rng = random.Random(9)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    values = [v for v in _instants(rng, 3000) if v is not None]
    values += [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), epoch,
               epoch - timedelta(microseconds=1), datetime(2262, 4, 12, tzinfo=UTC)]
    aware = [v if v.tzinfo is not None else v.replace(tzinfo=UTC) for v in values]
    us = [(v - epoch) // timedelta(microseconds=1) for v in aware]
    assert np.array_equal(acc.day_numbers_of_us(us), acc.days_since_epoch(values))
    assert acc.utc_days_of_us(us) == acc.utc_days(values)
