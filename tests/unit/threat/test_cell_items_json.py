"""Laws of the column-wise threat-layer serialisation: every feature it writes is byte for byte
the feature `orjson` writes from the row's property dict, whatever the values (names holding
the separators the splitter relies on, quotes, non-ASCII, NaN, null patterns); the top three
categories are the count-then-name order of the counts."""

from __future__ import annotations

import h3
import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from app.repositories import hotspots as repo
from app.services.threat import cell_items
from app.services.threat.cell_sums import NUMERIC, LayerSums

CELLS = sorted({h3.latlng_to_cell(4 + 0.07 * i, 18 + 0.05 * (i % 13), 6) for i in range(60)})
NAMES = st.text(alphabet=st.sampled_from(list('ab ,"]}[{\\:é\u001f')), min_size=1, max_size=8)
FLOATS = st.floats(allow_nan=True, allow_infinity=False, width=64)


@st.composite
def layers(draw: st.DrawFn) -> cell_items.Scored:
    n = draw(st.integers(1, len(CELLS)))
    cells = np.array([h3.str_to_int(c) for c in CELLS[:n]], dtype=np.int64)
    sums = LayerSums(cells, np.zeros((n, len(NUMERIC))),
                     np.zeros((n, len(repo.CATEGORY_COLUMNS)), dtype=np.int64), None, None, 1)
    floats = st.lists(FLOATS, min_size=n, max_size=n)
    perps = st.lists(st.lists(st.fixed_dictionaries({"name": NAMES,
                                                     "incidents": st.integers(0, 10**6)}),
                              max_size=3), min_size=n, max_size=n)
    cats = st.lists(st.lists(st.fixed_dictionaries(
        {"category": st.sampled_from(repo.CATEGORY_COLUMNS), "incidents": st.integers(1, 99)}),
        max_size=3), min_size=n, max_size=n)
    words = st.lists(st.one_of(st.none(), NAMES), min_size=n, max_size=n)
    columns = {
        "cell": list(CELLS[:n]), "resolution": [6] * n,
        "threat_score": draw(floats), "threat_level": draw(words), "protection_tier": draw(words),
        "likelihood": draw(floats), "impact": draw(floats), "crsv_impact": draw(floats),
        "vulnerability": draw(floats),
        "incidents": draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
        "fatalities": draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
        "crsv": draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
        "top_categories": draw(cats), "top_perpetrators": draw(perps),
        "pattern": draw(words), "trend_slope": draw(floats), "trend_direction": draw(words),
    }
    assert set(columns) == set(cell_items.COLUMN_KEYS)
    return cell_items.Scored(sums, [None] * n, columns, draw(NAMES), [None] * n)


@settings(max_examples=150, deadline=None)
@given(layers(), st.data())
def test_column_features_equal_the_dict_features(scored: cell_items.Scored,
                                                 data: st.DataObject) -> None:
    n = len(scored)
    rows = data.draw(st.one_of(st.just(list(range(n))),
                               st.lists(st.integers(0, n - 1), unique=True)))
    made = cell_items.feature_rows(scored, rows)
    assert made == [cell_items.feature_bytes(scored.item(r)) for r in rows]
    # the layer asks in threat order (any permutation), some rows already serialised
    scored.features[:] = [None] * n
    for r in rows[: len(rows) // 2]:
        scored.features[r] = made[rows.index(r)]
    order = data.draw(st.permutations(list(range(n))))
    assert scored.features_of(order) == [cell_items.feature_bytes(scored.item(r)) for r in order]
    for r, body in zip(rows, made, strict=True):  # and each is one valid GeoJSON Feature
        doc = orjson.loads(body)
        assert doc["id"] == scored.cell(r) and doc["properties"]["cell"] == scored.cell(r)
        assert doc["properties"]["trend"]["per"] == scored.trend_per


def test_a_separator_inside_a_name_falls_back_to_one_value_at_a_time() -> None:
    lists = [[{"name": "a],[b", "incidents": 1}], [], [{"name": "c", "incidents": 2}]]
    assert cell_items.json_lists(lists) == [orjson.dumps(v) for v in lists]
    words = ["x,y", None, "z"]
    assert cell_items.json_scalars(words) == [orjson.dumps(v) for v in words]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), min_size=len(repo.CATEGORY_COLUMNS),
                         max_size=len(repo.CATEGORY_COLUMNS)), min_size=1, max_size=40))
def test_top_categories_are_by_count_then_name(rows: list[list[int]]) -> None:
    got = cell_items._top_categories(np.array(rows, dtype=np.int64))
    for counts, top in zip(rows, got, strict=True):
        ranked = sorted(((-c, name) for name, c in zip(repo.CATEGORY_COLUMNS, counts,
                                                         strict=True) if c > 0))[:3]
        assert top == [{"category": name, "incidents": -c} for c, name in ranked]


def test_warming_fills_the_tables_a_first_layer_needs() -> None:
    """After `warm_cells`, a layer of those cells finds every geometry and neighbour disk
    already made (no miss), and the warmed values are the ones a layer would make."""
    from app.services.threat import emerging

    cells = [h3.str_to_int(c) for c in CELLS]
    cell_items.geometry_json.cache_clear()
    emerging.disk.cache_clear()
    assert cell_items.warm_cells(cells, 2, limit=40) == 40
    geo, disks = cell_items.geometry_json.cache_info(), emerging.disk.cache_info()
    assert geo.currsize == 40 and disks.currsize == 40
    for cell in cells[:40]:
        assert orjson.loads(cell_items.geometry_json(h3.int_to_str(cell)))["type"] == "Polygon"
        assert set(emerging.disk(cell, 2)) == {h3.str_to_int(c) for c in
                                              h3.grid_disk(h3.int_to_str(cell), 2)}
    assert cell_items.geometry_json.cache_info().misses == geo.misses
    assert emerging.disk.cache_info().misses == disks.misses
