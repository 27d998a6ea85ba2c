import h3
from hypothesis import given
from hypothesis import strategies as st

from app.services.geo.h3cells import latlng_cell, parent_int, to_int


@given(st.floats(-85, 85), st.floats(-179.9, 179.9), st.integers(0, 9))
def test_parent_by_bits_equals_h3(lat, lng, res):
    fine = latlng_cell(lat, lng, 9)
    assert parent_int(fine, res) == to_int(h3.cell_to_parent(h3.int_to_str(fine), res))


def test_cells_fit_a_signed_bigint():
    cell = latlng_cell(4.39, 18.56, 15)
    assert 0 < cell < 2**63
