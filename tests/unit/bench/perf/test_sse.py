"""The HTTP/1.1 response parser and the SSE decoder, fed at every split point."""

from __future__ import annotations

import pytest

from benchseal.bench.perf.backends.sse import SSEDecoder
from benchseal.bench.perf.backends.transport import HttpProtocolError, ResponseParser


def _parse(raw: bytes, split: int | None = None):
    got = {"head": None, "body": b"", "end": 0}
    p = ResponseParser(lambda s, h: got.__setitem__("head", (s, h)),
                       lambda b: got.__setitem__("body", got["body"] + b),
                       lambda: got.__setitem__("end", got["end"] + 1))
    parts = [raw] if split is None else [raw[:split], raw[split:]]
    for part in parts:
        p.feed(part)
    return got, p


CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
           b"7\r\ndata: a\r\n2\r\n\n\n\r\n0\r\n\r\n")


@pytest.mark.parametrize("split", [None, *range(1, len(CHUNKED))])
def test_chunked_any_split(split):
    got, _ = _parse(CHUNKED, split)
    assert got["head"][0] == 200 and got["body"] == b"data: a\n\n" and got["end"] == 1


def test_content_length_and_close_delimited():
    got, p = _parse(b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nhello")
    assert got["head"][0] == 404 and got["body"] == b"hello" and got["end"] == 1 and p.keep_alive
    got, p = _parse(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial")
    assert got["end"] == 0 and not p.keep_alive
    assert p.eof() and got["end"] == 1 and got["body"] == b"partial"


def test_not_http_is_an_error():
    with pytest.raises(HttpProtocolError):
        _parse(b"SSH-2.0-OpenSSH\r\n\r\n")
    with pytest.raises(HttpProtocolError):
        _parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")


def test_sse_decoder_events():
    d = SSEDecoder()
    stream = b": comment\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\ndata:[DONE]\n\n"
    out = []
    for i in range(len(stream)):  # byte by byte
        out += d.feed(stream[i : i + 1])
    assert out == [b'{"a":1}', b"line1\nline2", b"[DONE]"]
    d2 = SSEDecoder()
    assert d2.feed(b"data: tail") == [] and d2.flush() == [b"tail"]


def test_sse_decoder_bounds_event_size():
    from benchseal.bench.perf.backends.sse import MAX_EVENT_BYTES, SSEError

    with pytest.raises(SSEError, match="larger than"):
        SSEDecoder().feed(b"data: " + b"a" * (MAX_EVENT_BYTES + 10))
    d = SSEDecoder()
    with pytest.raises(SSEError):
        for _ in range(MAX_EVENT_BYTES // 4096 + 2):
            d.feed(b"data: " + b"b" * 4096 + b"\n")


@pytest.mark.parametrize("raw, message", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", "overflow"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", "larger than"),
    (b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 200 + b"\r\n", "headers"),
    (b"HTTP/1.1 100 Continue\r\n\r\n", "informational"),
])
def test_bad_heads_raise_protocol_errors_and_report_nothing(raw, message):
    with pytest.raises(HttpProtocolError, match=message):
        got, _ = _parse(raw)


def test_eof_before_the_end_of_a_framed_body_is_truncation():
    from benchseal.bench.perf.backends.transport import ResponseTruncated

    got, p = _parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(ResponseTruncated, match="3 of 10"):
        p.eof()
    got, p = _parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    with pytest.raises(ResponseTruncated, match="last chunk"):
        p.eof()
    got, p = _parse(b"HTTP/1.1 200 OK\r\nContent-")
    with pytest.raises(ResponseTruncated) as exc:
        p.eof()
    assert not exc.value.head and got["head"] is None
