"""The repeated-event fast path of the stream parser: one streamed response is mostly the same event
again with only its text changed. After an event has been parsed and checked in full, its bytes are
split into ``prefix + text + suffix``; a later event that is that prefix, a plain string body and that
suffix is the same JSON object with only ``choices[0].text`` (or ``delta.content``) different, so its
text is taken without parsing the JSON again.

Exactness (tests/unit/bench/perf/test_event_template.py compares it with the full parser on hostile
streams). A template is made only from an event that

- contains no backslash at all: every ``"`` then opens or closes a string, so the key ``"text"``
  found by byte search is a key (a string value cannot contain a bare ``"``), and its value's bytes
  are exactly the string's characters;
- names that key exactly once (no other object, choice or duplicate key carries it);
- had no effect but its text: no ``error``, ``usage``, ``metrics``, ``finish_reason`` or
  ``reasoning_content``, one choice (its token ids, if any, are in the prefix or suffix, so their
  count is the template's too).

A later event uses it only when its bytes start with the prefix and end with the suffix and the body
between them has no ``"``, no ``\\`` and no control character (JSON forbids those raw in a string)
and is valid UTF-8; anything else goes through the full parser, which may make a new template.

**Runs of template events** (``EventTemplate.run``): a read from the socket usually holds several
events back to back. When the template's prefix and suffix have no control character, the wire form
of a template event is fixed bytes ``open`` (``data: `` + prefix), a plain text, and fixed bytes
``close`` (suffix + blank line). ``run`` matches ``(open plain close)+`` at the start of the read with
one regular expression that takes ``open`` and ``close`` as back-references (it is matched against
``open NUL close NUL read``; neither part has a NUL), so the whole run is checked in C: each event of it
is one ``data:`` line whose text is a plain string, as the per-event check asks. The run is decoded at
once (valid UTF-8 or no run) and split at ``close``: inside a checked run ``close`` occurs only at the
end of each event (it ends with the blank line, and no other line ends there), so every piece is
``open`` + text, and the texts come out in order, the same as the per-event path takes them, without a
Python call per event. The rest of the read goes through the event splitter and the per-event path.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any

_NOT_PLAIN = re.compile(rb'["\\\x00-\x1f]')  # a quote, a backslash or a control character
_VALUE = {False: re.compile(rb'"text"\s*:\s*"([^"]*)"'), True: re.compile(rb'"content"\s*:\s*"([^"]*)"')}
_KEY = {False: b'"text"', True: b'"content"'}
RUN_WINDOW = 16384  # bytes of a read looked at by one run (bounds the work of a run that stops early)
_CONTROL = re.compile(rb'[\x00-\x1f]')
# open NUL close NUL, then template events back to back (``EventTemplate.run``)
_RUN = re.compile(rb'([^\x00]*)\x00([^\x00]*)\x00(?:\1[^"\\\x00-\x1f]*\2)+')


class EventTemplate:
    """``prefix``/``suffix`` bytes of a checked event and the token-id count it carried."""

    __slots__ = ("prefix", "suffix", "n_ids", "_np", "_ns", "_key", "_nkey", "_close", "_text_of")

    def __init__(self, prefix: bytes, suffix: bytes, n_ids: int | None) -> None:
        self.prefix, self.suffix, self.n_ids = prefix, suffix, n_ids
        self._np, self._ns = len(prefix), len(suffix)
        # The fixed bytes around the text of this event on the wire, when it is one ``data:`` line
        # (no control character in prefix or suffix); None: no runs (module docstring).
        self._key: bytes | None = None
        if _CONTROL.search(prefix) is None and _CONTROL.search(suffix) is None:
            opening, closing = b"data: " + prefix, suffix + b"\n\n"
            self._key = opening + b"\x00" + closing + b"\x00"
            self._nkey = len(self._key)
            self._close = closing.decode()
            self._text_of = itemgetter(slice(len(opening.decode()), None))  # a piece without ``open``

    def run(self, data: bytes, pos: int) -> tuple[list[str], int] | None:
        """``(texts, end)`` when ``data[pos:]`` (event-stream bytes at the start of an event) starts
        with template events back to back: their texts in order (empty ones included) and the
        offset just after them (at most ``RUN_WINDOW`` bytes on). None when it does not start with
        one (module docstring)."""
        key = self._key
        if key is None or not data.startswith(key[:self._np + 6], pos):
            return None
        m = _RUN.match(key + data[pos:pos + RUN_WINDOW])
        if m is None:
            return None
        end = pos + m.end() - self._nkey
        try:
            pieces = data[pos:end].decode().split(self._close)
        except UnicodeDecodeError:
            return None
        pieces.pop()  # the empty piece after the last close
        return list(map(self._text_of, pieces)), end

    def text(self, payload: bytes) -> str | None:
        """The text of ``payload`` when it is this template with another plain string, else None."""
        if len(payload) < self._np + self._ns or not payload.startswith(self.prefix) or not payload.endswith(self.suffix):
            return None
        body = payload[self._np: len(payload) - self._ns]
        if _NOT_PLAIN.search(body) is not None:
            return None
        try:
            return body.decode()
        except UnicodeDecodeError:
            return None


def make_template(payload: bytes, obj: Any, chat: bool) -> EventTemplate | None:
    """A template from ``payload`` (already parsed into ``obj`` and checked by the full parser), or
    None when the event is not one a template can stand for exactly (module docstring)."""
    if payload.find(b"\\") >= 0 or payload.count(_KEY[chat]) != 1:
        return None
    if obj.get("error") or obj.get("usage") is not None or obj.get("metrics"):
        return None
    choices = obj.get("choices")
    if not isinstance(choices, list) or len(choices) != 1:
        return None
    c = choices[0]
    if c.get("finish_reason") is not None:
        return None
    if chat:
        d = c.get("delta")
        if not isinstance(d, dict) or d.get("reasoning_content") is not None:
            return None
        text = d.get("content")
    else:
        text = c.get("text")
    if not isinstance(text, str):
        return None
    m = _VALUE[chat].search(payload)
    if m is None or m.group(1).decode("utf-8", "replace") != text:
        return None
    ids = c.get("token_ids")
    return EventTemplate(payload[: m.start(1)], payload[m.end(1):], len(ids) if isinstance(ids, list) else None)
