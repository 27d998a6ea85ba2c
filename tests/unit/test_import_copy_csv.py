"""Column-wise COPY payloads: UUIDs, EWKB points, array literals and CSV nulls."""

import struct
import uuid

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from app.repositories import copy_csv


def test_uuid7_are_valid_unique_and_increasing_within_a_batch():
    ids = copy_csv.uuid7_hex(5000).to_pylist()
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    later = copy_csv.uuid7_hex(10).to_pylist()
    assert not set(later) & set(ids)


@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(-90, 90)), min_size=1, max_size=50))
def test_ewkb_hex_is_the_packed_point(points):
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    got = copy_csv.ewkb_points_hex(lon, lat).to_pylist()
    want = [struct.pack("<BIIdd", 1, 0x20000001, 4326, x, y).hex() for x, y in points]
    assert got == want


def test_array_literals_escape_quotes_and_backslashes():
    got = copy_csv.text_array_literals([[], ["a"], ['say "hi"', "back\\slash"], ["x, y", "{z}"]])
    assert got.to_pylist() == ["{}", '{"a"}', '{"say \\"hi\\"","back\\\\slash"}', '{"x, y","{z}"}']


def test_csv_payload_quotes_strings_and_leaves_nulls_empty():
    body = copy_csv.csv_payload({
        "s": pa.array(["", None, 'a"b', "l1\nl2"]), "i": copy_csv.column([1, None, 3, 4], "int2")})
    assert body == b'"",1\n,\n"a""b",3\n"l1\nl2",4\n'
