"""The safetensors header reader parses with the C JSON parser and no per-value hooks; what that parser
cannot bound (nesting in fields it ignores, huge integers, NaN) must still be refused as before."""

from __future__ import annotations

import json
import struct

import pytest

from benchseal.bench.model.safetensors_io import read_header
from benchseal.errors import ModelFormatError


def _file(tmp_path, header_text: str, data: int = 8):
    raw = header_text.encode()
    p = tmp_path / "m.safetensors"
    p.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * data)
    return p


OK = '"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}'


def test_a_plain_header_is_read(tmp_path):
    sf = read_header(_file(tmp_path, "{" + OK + ', "__metadata__": {"format": "pt"}}'))
    assert [(t.name, t.numel) for t in sf.tensors] == [("w", 2)] and sf.metadata == {"format": "pt"}


@pytest.mark.parametrize("text, match", [
    ('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": [[[[[1]]]]]}}', "nested"),
    ('{' + OK + ', "__metadata__": {"a": [[[[1]]]]}}', "nested"),
    ('{"w": {"dtype": "F32", "shape": [0, ' + "9" * 70 + '], "data_offsets": [0, 0]}}', "digits"),
    ('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": ' + "9" * 70 + '}}', "digits"),
    ('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": NaN}}', "NaN"),
    ('{"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}', "invalid shape"),
    ('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}', "invalid JSON"),
])
def test_what_the_fast_parser_cannot_bound_is_refused(tmp_path, text, match):
    with pytest.raises(ModelFormatError, match=match):
        read_header(_file(tmp_path, text))


def test_a_utf8_bom_is_refused(tmp_path):
    raw = "\ufeff{" + OK + "}"
    with pytest.raises(ModelFormatError, match="byte-order mark"):
        read_header(_file(tmp_path, raw))


def test_fast_and_bounded_parsers_agree_on_a_real_header(tmp_path):
    header = {f"t{i}": {"dtype": "BF16", "shape": [3, 5], "data_offsets": [30 * i, 30 * (i + 1)]} for i in range(50)}
    sf = read_header(_file(tmp_path, json.dumps(header), data=30 * 50))
    assert sum(t.numel for t in sf.tensors) == 50 * 15
