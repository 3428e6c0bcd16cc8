"""redact.scrub: every form in which a server can echo a key back, and a key cut by a clip."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from benchseal.redact import scrub

KEY = 'sk-ab\\cd"ef/gh\'ij€1234567'


@pytest.mark.parametrize("text", [
    f"Bearer {KEY}", json.dumps(f"Bearer {KEY}"), json.dumps(f"Bearer {KEY}", ensure_ascii=False),
    str({"m": f"Bearer {KEY}"}), repr(f"Bearer {KEY}".encode()), quote(KEY, safe=""), quote(KEY),
    json.dumps(KEY).replace("/", "\\/"),
])
def test_every_echoed_form_is_scrubbed(text):
    out = scrub(text, [KEY])
    assert "<redacted>" in out and "1234567" not in out and "gh" not in out.replace("<redacted>", "")


def test_a_key_cut_at_either_end_of_a_clipped_text_is_masked():
    assert scrub("error: invalid key " + KEY[:9], [KEY]) == "error: invalid key <redacted>"
    assert scrub(KEY[-8:] + " was rejected", [KEY]) == "<redacted> was rejected"
    assert scrub("ends with sk-a", [KEY]) == "ends with sk-a"  # too short a piece to be the key
