"""Column-wise binary COPY payloads: UUIDv7, EWKB points, text[] and the row framing."""

import struct
import uuid

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from app.repositories import copy_binary as cb


def test_uuid7_are_valid_unique_and_increasing_within_a_batch():
    ids = [bytes(b) for b in cb.uuid7(5000).to_pylist()]
    parsed = [uuid.UUID(bytes=b) for b in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert not {bytes(b) for b in cb.uuid7(10).to_pylist()} & set(ids)


@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(-90, 90)), min_size=1, max_size=50))
def test_ewkb_is_the_packed_point(points):
    got = cb.ewkb_points(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    assert got.to_pylist() == [struct.pack("<BIIdd", 1, 0x20000001, 4326, x, y) for x, y in points]


def test_text_arrays_in_send_format():
    empty, two = cb.text_arrays([[], ["a", "é"]]).to_pylist()
    assert empty == struct.pack("!iii", 0, 0, 25)
    assert two == struct.pack("!iiiii", 1, 0, 25, 2, 1) + b"\0\0\0\x01a" + b"\0\0\0\x02\xc3\xa9"


@given(st.lists(st.tuples(st.one_of(st.none(), st.text()),
                          st.one_of(st.none(), st.integers(-2**31, 2**31 - 1))), min_size=1, max_size=30))
def test_rows_are_framed_field_by_field(rows):
    body = cb.payload([(cb.column([r[0] for r in rows], "text"), "text"),
                       (cb.column([r[1] for r in rows], "int4"), "int4")])
    assert body.startswith(cb.HEADER) and body.endswith(cb.TRAILER)
    pos, out = len(cb.HEADER), []
    for _ in rows:
        (nfields,) = struct.unpack_from("!h", body, pos)
        assert nfields == 2
        pos += 2
        (n,) = struct.unpack_from("!i", body, pos)
        pos += 4
        text = None if n == -1 else body[pos:pos + n].decode()
        pos += max(n, 0)
        (n,) = struct.unpack_from("!i", body, pos)
        pos += 4
        num = None if n == -1 else struct.unpack_from("!i", body, pos)[0]
        pos += max(n, 0)
        out.append((text, num))
    assert out == rows and pos == len(body) - len(cb.TRAILER)


def test_column_casts_to_the_field_type():
    assert cb.column([1, None], "int2").type == pa.int16()
