"""Every hexagon we emit is valid RFC 7946: closed, counter-clockwise, lon/lat, split at ±180."""

import h3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import shape

from app.services.geo.h3cells import cell_polygon


def _check(geom, *, polar=False):
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    for rings in polys:
        ring = rings[0]
        assert ring[0] == ring[-1] and len(ring) >= 4
        pairs = zip(ring[:-1], ring[1:], strict=True)
        area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs)
        assert area2 > 0  # counter-clockwise
        assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring)
        if not polar:  # a cell around a pole legitimately spans every longitude
            assert max(x for x, _ in ring) - min(x for x, _ in ring) < 180
    assert shape(geom).is_valid


@given(st.floats(-80, 80), st.floats(-179.99, 179.99), st.integers(0, 9))
def test_any_cell_is_a_valid_polygon(lat, lng, res):
    cell = h3.latlng_to_cell(lat, lng, res)
    polar = cell in {h3.latlng_to_cell(90, 0, res), h3.latlng_to_cell(-90, 0, res)}
    _check(cell_polygon(cell), polar=polar)


@pytest.mark.parametrize("res", [0, 1, 2])
@pytest.mark.parametrize("pole", [90, -90])
def test_cells_around_a_pole_close_through_the_pole(res, pole):
    cell = h3.latlng_to_cell(pole, 0, res)
    geom = cell_polygon(cell)
    _check(geom, polar=True)
    assert shape(geom).contains(shape({"type": "Point", "coordinates": [10.0, pole * 0.999]}))


@pytest.mark.parametrize("res", [0, 1, 2, 3, 4, 6, 9])
def test_cells_on_the_antimeridian_are_split(res):
    split = 0
    for lat in (-60, -30, 0, 30, 60):
        for lng in (179.999, -179.999):
            cell = h3.latlng_to_cell(lat, lng, res)
            geom = cell_polygon(cell)
            _check(geom)
            if geom["type"] == "MultiPolygon":
                split += 1
                xs = [x for p in geom["coordinates"] for x, _ in p[0]]
                assert 180 in xs and -180 in xs
                area = shape(geom).area
                assert area > 0
    assert split > 0


@pytest.mark.parametrize("res", range(0, 10))
def test_pentagons_are_valid(res):
    pentagons = h3.get_pentagons(res)
    assert len(pentagons) == 12
    for cell in pentagons:
        _check(cell_polygon(cell))
