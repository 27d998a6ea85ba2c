"""The thin-reporting classification (docs/scoring.md): none, thin against the floor, against the
cell's own history and against its neighbours; adequate otherwise."""

import pytest

from app.services.threat.reporting_effort import LOW_THIN, classify, level_label
from app.settings import Settings

S = Settings(reporting_min_reports=2, reporting_thin_ratio=0.5)


@pytest.mark.parametrize("reports,history,neighbours,expected", [
    (0, 0.0, 0.0, "none"),
    (0, 10.0, 5.0, "none"),
    (1, 0.0, 0.0, "thin"),          # under the floor
    (2, 0.0, 0.0, "adequate"),
    (3, 10.0, 0.0, "thin"),         # under half its own history
    (5, 10.0, 0.0, "adequate"),
    (3, 0.0, 8.0, "thin"),          # under half its neighbours
    (3, 1.5, 1.9, "adequate"),      # expectations themselves under the floor: not compared
])
def test_classify(reports, history, neighbours, expected):
    assert classify(reports, history, neighbours, S) == expected


def test_more_reports_never_make_a_cell_thinner():
    order = {"none": 0, "thin": 1, "adequate": 2}
    for history in (0.0, 1.0, 4.0, 12.0):
        for neighbours in (0.0, 3.0, 9.0):
            ranks = [order[classify(n, history, neighbours, S)] for n in range(30)]
            assert ranks == sorted(ranks)


def test_only_low_cells_carry_the_thin_label():
    assert level_label("low", "thin") == LOW_THIN == "low — thin reporting"
    assert level_label("low", "none") == LOW_THIN
    assert level_label("low", "adequate") == "low"
    assert level_label("high", "none") == "high"
