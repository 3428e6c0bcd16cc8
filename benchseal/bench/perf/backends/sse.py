"""Server-Sent Events decoding (the ``data:`` payloads of an event stream), bounded.

The HTTP transport it runs on is :mod:`benchseal.bench.perf.backends.transport`; its names are
re-exported here for older imports.
"""

from __future__ import annotations

from benchseal.bench.perf.backends.transport import (  # noqa: F401  (re-exported)
    BufferedExchange,
    Connection,
    ConnectionPool,
    Exchange,
    HttpProtocolError,
    ResponseParser,
    ResponseTruncated,
    build_request,
    fetch,
)

MAX_EVENT_BYTES = 1 << 20  # one event (all its data lines)


class SSEError(ValueError):
    """The event stream is not usable (an event larger than ``MAX_EVENT_BYTES``)."""


class SSEDecoder:
    """Splits an event stream into the payloads of its ``data:`` fields (one string per event).
    Raises SSEError when one event (or a line not yet ended) exceeds ``MAX_EVENT_BYTES``.

    (``data.find(x) >= 0`` rather than ``x in data`` on this path: CPython 3.11 first tries ``x`` as
    an integer for ``in`` on bytes, building and dropping a TypeError before it searches.)"""

    __slots__ = ("_buf", "_data", "_size")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []
        self._size = 0

    def at_event_start(self) -> bool:
        """Nothing buffered: the next byte fed starts a line and no event is in progress."""
        return not self._buf and not self._data

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf + data if self._buf else data
        if self._data or buf.find(b"\r") >= 0:
            return self._feed_lines(buf)
        # Fast path (LF line ends, no event in progress): split on blank lines; an event that is a
        # single "data: " line is taken whole, anything else goes through the line parser.
        parts = buf.split(b"\n\n")
        rest = parts.pop()
        out: list[bytes] = []
        for ev in parts:
            if ev[:6] == b"data: " and ev.find(b"\n") < 0:
                out.append(ev[6:])
            elif ev:
                out += self._feed_lines(ev + b"\n\n")  # leaves self._buf empty and no event in progress
        if len(rest) > MAX_EVENT_BYTES:
            raise SSEError(f"an event of the stream is larger than {MAX_EVENT_BYTES >> 20} MiB")
        self._buf = rest
        return out

    def _feed_lines(self, buf: bytes) -> list[bytes]:
        out: list[bytes] = []
        start = 0
        while True:
            i = buf.find(b"\n", start)
            if i < 0:
                break
            line = buf[start:i]
            start = i + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    out.append(b"\n".join(self._data))
                    self._data = []
                    self._size = 0
            elif line.startswith(b"data:"):
                v = line[5:]
                self._data.append(v[1:] if v.startswith(b" ") else v)
                self._size += len(v)
                if self._size > MAX_EVENT_BYTES:
                    raise SSEError(f"an event of the stream is larger than {MAX_EVENT_BYTES >> 20} MiB")
            # comments (":") and other fields (event:, id:, retry:) are ignored
        self._buf = buf[start:]
        if len(self._buf) > MAX_EVENT_BYTES:
            raise SSEError(f"a line of the event stream is longer than {MAX_EVENT_BYTES >> 20} MiB")
        return out

    def flush(self) -> list[bytes]:
        """End of stream: a final event without its blank line still counts."""
        rest = self.feed(b"\n\n") if (self._buf or self._data) else []
        return rest
