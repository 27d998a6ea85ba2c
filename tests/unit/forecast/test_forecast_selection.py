"""Nested selection (`auto`): every choice uses only origins whose period ended before it, so its
backtest skill is out of sample; the backtest JSON carries the contract reviewers rely on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from app.services import forecast as svc
from app.services.forecast import backtest as bt
from app.services.forecast import methods as M
from app.services.forecast.features import Forecast, to_days
from app.settings import Settings
from tests.unit.forecast.test_forecast_backtest import domain_of, synthetic

SWITCH = to_days(datetime(2016, 10, 1, tzinfo=UTC))


def _fixed(cells: np.ndarray, good_before_switch: bool):
    """A 'method' that ranks the real hot cells first before (or after) SWITCH, and a wrong
    set otherwise: which one `auto` should follow changes over time."""
    def method(e: pd.DataFrame, o: float, h: float) -> Forecast:
        hot = e["cell"].value_counts()
        right = (o < SWITCH) == good_before_switch
        order = hot.index.to_numpy(np.int64) if right else cells[::-1][: len(hot)]
        score = np.linspace(1.0, 0.5, len(order))
        return Forecast("x", np.asarray(order, np.int64), score, score, score)
    return method


def test_auto_follows_the_candidate_that_did_best_on_earlier_origins_only():
    ev = synthetic(600, seed=3)
    dom = domain_of(ev)
    periods = bt.origins(date(2016, 1, 1), date(2019, 10, 1), "quarter")
    methods = {"early": _fixed(dom, True), "late": _fixed(dom, False)}
    sel = bt.Selection(("early", "late"), default="late", min_origins=2)
    r = bt.run(ev, dom, periods, methods, warmup=2, selection=sel)
    chosen = {c["origin"]: c["chosen"] for c in r["selection"]["per_origin"]}
    # before two origins have been scored, the default
    assert chosen["2016-01-01"] == "late" and chosen["2016-04-01"] == "late"
    # then the one that was better on the origins already scored: `early` was right on both
    assert chosen["2016-07-01"] == "early"
    # from 2016-10 on `late` is right, but that is known only once those periods have ended:
    # auto keeps `early` at the switch and moves when the pooled record says so
    assert chosen["2016-10-01"] == "early" and chosen["2017-01-01"] == "early"
    assert chosen["2019-10-01"] == "late" and r["final"]["chosen"] == "late"
    counts = r["selection"]["counts"]
    assert counts["early"] >= 2 and counts["late"] >= 5


def test_an_incident_after_an_origin_cannot_change_the_choice_or_the_forecast_there():
    ev = synthetic(500, seed=5)
    dom = domain_of(ev)
    periods = bt.origins(date(2018, 1, 1), date(2019, 10, 1), "quarter")
    p = M.Params(len(dom), internal_calibration=False)
    def bind(name: str) -> bt.Method:
        return lambda e, o, h: M.compute(name, e, o, h, p)

    fns = {m: bind(m) for m in ("decay", "history", "blend")}
    sel = bt.Selection(("decay", "history", "blend"), default="decay", min_origins=1)
    cut = to_days(datetime(2019, 1, 1, tzinfo=UTC))
    later = ev.copy()
    after = later["t"] >= cut
    later.loc[after, "cell"] = int(dom[0])
    later.loc[after, "harm"] = 50.0
    kw = {"warmup": 2, "selection": sel, "calibrate": ("blend",), "keep": ("auto",)}
    a = bt.run(ev, dom, periods, fns, **kw)
    b = bt.run(later, dom, periods, fns, **kw)
    for ca, cb in zip(a["selection"]["per_origin"], b["selection"]["per_origin"], strict=True):
        if ca["origin"] <= "2019-01-01":  # chosen from periods that ended by the cut
            assert ca["chosen"] == cb["chosen"]
    for (origin, _), fa, fb in zip(periods[2:], a["_forecasts"], b["_forecasts"], strict=True):
        if origin.date() <= date(2019, 1, 1):
            np.testing.assert_array_equal(fa["auto"].expected_incidents,
                                          fb["auto"].expected_incidents)
            np.testing.assert_array_equal(fa["auto"].p_incident, fb["auto"].p_incident)


def test_backtest_json_carries_the_contract():
    ev = synthetic(400, seed=7)
    settings = Settings(forecast_selection_warmup=2)
    periods, names = svc.backtest_plan(6, "quarter", date(2019, 10, 1), date(2020, 7, 1),
                                       ["blend"], settings)
    assert set(M.BASELINES) <= set(names)
    result = svc.json_ready(svc.run_backtest(ev, 6, "quarter", periods, names, settings))
    assert result["shipped"] == "auto"
    assert result["best_baseline"] in M.BASELINES
    for name in ("auto", "decay", "history", "last_90d", "last_365d"):
        m = result["methods"][name]
        assert isinstance(m["pai_1pct"], float) and isinstance(m["brier"], float)
        assert m["reliability"] and all(
            set(b) >= {"cells", "mean_p", "observed"} for b in m["reliability"]
        )
        assert sum(b["cells"] for b in m["reliability"]) == result["domain_cells"] * len(periods)
    assert result["selection"]["candidates"][0] == "decay"
    assert result["origins"] == len(periods) and result["warmup_origins"] == 2
    assert set(result["gap_closed"]) == set(result["ceiling"])
    assert result["climatology"]["brier"] is not None
    assert "_forecasts" not in result and isinstance(result["final"]["calibrations"], dict)


def test_unknown_methods_and_the_selector_name_in_a_backtest_request():
    s = Settings()
    _, names = svc.backtest_plan(6, "quarter", date(2020, 1, 1), date(2020, 6, 1),
                                 ["auto", "etas"], s)
    assert "auto" not in names and "etas" in names  # auto always runs; it is not a method
    with pytest.raises(Exception) as exc:
        svc.backtest_plan(6, "quarter", date(2020, 1, 1), date(2020, 6, 1), ["oracle"], s)
    assert exc.value.errors[0]["pointer"] == "/query/methods"  # type: ignore[attr-defined]
