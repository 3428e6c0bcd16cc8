"""A small HTTP/1.1 client for streamed (Server-Sent Events) responses, built on ``asyncio.Protocol``.

Why not aiohttp: every byte is timestamped in ``data_received`` (the earliest moment Python sees
it), there is no per-chunk coroutine hop between the socket and the timestamp, and the per-request
cost is a few tens of microseconds, so the client is not the bottleneck and its clock is not
skewed by its own load. Keep-alive connections are pooled per backend.

Supported: ``http`` and ``https`` (system CA store), ``Content-Length``, ``Transfer-Encoding:
chunked`` and close-delimited bodies. Not supported: proxies, HTTP/2, redirects.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Callable
from urllib.parse import urlsplit

perf_counter = time.perf_counter


class HttpProtocolError(Exception):
    """The server sent something that is not valid HTTP/1.1."""


class ResponseParser:
    """Incremental HTTP/1.1 response parser. ``feed`` calls back ``on_head(status, headers)``,
    ``on_body(bytes)`` and ``on_end()``."""

    __slots__ = ("_buf", "_state", "_remaining", "status", "headers", "keep_alive", "on_head", "on_body", "on_end")

    def __init__(self, on_head: Callable, on_body: Callable, on_end: Callable) -> None:
        self._buf = b""
        self._state = "head"  # head | length | chunk-size | chunk-data | chunk-crlf | trailer | close | done
        self._remaining = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = True
        self.on_head, self.on_body, self.on_end = on_head, on_body, on_end

    def feed(self, data: bytes) -> None:
        """Parse ``data``. The body bytes of every chunk completed in this call are passed to
        ``on_body`` together, once (they arrived at the same instant), before ``on_end``."""
        pending: list[bytes] = []
        try:
            self._feed(data, pending)
        finally:
            if pending:
                self.on_body(pending[0] if len(pending) == 1 else b"".join(pending))

    def _feed(self, data: bytes, pending: list[bytes]) -> None:
        buf = self._buf + data if self._buf else data
        self._buf = b""
        while True:
            st = self._state
            if st == "head":
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    if len(buf) > 65536:
                        raise HttpProtocolError("response header larger than 64 KiB")
                    self._buf = buf
                    return
                self._parse_head(buf[:i])
                buf = buf[i + 4 :]
                self.on_head(self.status, self.headers)
                if self._state == "done":
                    self.on_end()
                    return
            elif st == "length":
                if not buf:
                    return
                part = buf[: self._remaining]
                buf = buf[len(part) :]
                self._remaining -= len(part)
                self.on_body(part)
                if self._remaining == 0:
                    self._state = "done"
                    self.on_end()
                    return
            elif st == "chunk-size":
                # Fast path: take every complete chunk (size line, data, CRLF) by index, slicing the
                # buffer once instead of once per chunk (a stream carries one SSE event per chunk).
                pos, n = 0, len(buf)
                while True:
                    i = buf.find(b"\r\n", pos)
                    if i < 0:
                        break
                    try:
                        size = int(buf[pos:i].split(b";", 1)[0].strip(), 16)
                    except ValueError:
                        raise HttpProtocolError("bad chunk size in chunked response") from None
                    end = i + 2 + size
                    if size == 0 or end + 2 > n:
                        break
                    pending.append(buf[i + 2 : end])
                    pos = end + 2
                if pos:
                    buf = buf[pos:]
                i = buf.find(b"\r\n")
                if i < 0:
                    self._buf = buf
                    return
                try:
                    size = int(buf[:i].split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise HttpProtocolError("bad chunk size in chunked response") from None
                buf = buf[i + 2 :]
                if size == 0:
                    self._state = "trailer"
                else:
                    self._remaining = size
                    self._state = "chunk-data"
            elif st == "chunk-data":
                if not buf:
                    return
                part = buf[: self._remaining]
                buf = buf[len(part) :]
                self._remaining -= len(part)
                pending.append(part)
                if self._remaining == 0:
                    self._state = "chunk-crlf"
            elif st == "chunk-crlf":
                if len(buf) < 2:
                    self._buf = buf
                    return
                buf = buf[2:]
                self._state = "chunk-size"
            elif st == "trailer":
                i = buf.find(b"\r\n")
                if i < 0:
                    self._buf = buf
                    return
                line, buf = buf[:i], buf[i + 2 :]
                if not line:
                    self._state = "done"
                    if pending:
                        self.on_body(b"".join(pending))
                        pending.clear()
                    self.on_end()
                    return
            elif st == "close":
                if buf:
                    self.on_body(buf)
                return
            else:  # done: ignore anything after the response
                return

    def eof(self) -> bool:
        """The connection closed; returns True when that ended a close-delimited body."""
        if self._state == "close":
            self._state = "done"
            self.on_end()
            return True
        return self._state == "done"

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise HttpProtocolError(f"not an HTTP response: {lines[0][:60]!r}")
        try:
            self.status = int(parts[1])
        except ValueError:
            raise HttpProtocolError(f"bad HTTP status line: {lines[0][:60]!r}") from None
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
        self.headers = headers
        conn = headers.get("connection", "").lower()
        self.keep_alive = conn != "close" and parts[0] != b"HTTP/1.0"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = "chunk-size"
        elif "content-length" in headers:
            self._remaining = int(headers["content-length"])
            self._state = "length" if self._remaining else "done"
        elif self.status in (204, 304) or 100 <= self.status < 200:
            self._state = "done"
        else:
            self._state = "close"
            self.keep_alive = False


class SSEDecoder:
    """Splits an event stream into the payloads of its ``data:`` fields (one string per event)."""

    __slots__ = ("_buf", "_data")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf + data if self._buf else data
        if self._data or b"\r" in buf:
            return self._feed_lines(buf)
        # Fast path (LF line ends, no event in progress): split on blank lines; an event that is a
        # single "data: " line is taken whole, anything else goes through the line parser.
        parts = buf.split(b"\n\n")
        rest = parts.pop()
        out: list[bytes] = []
        for ev in parts:
            if ev[:6] == b"data: " and b"\n" not in ev:
                out.append(ev[6:])
            elif ev:
                out += self._feed_lines(ev + b"\n\n")  # leaves self._buf empty and no event in progress
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
            elif line.startswith(b"data:"):
                v = line[5:]
                self._data.append(v[1:] if v.startswith(b" ") else v)
            # comments (":") and other fields (event:, id:, retry:) are ignored
        self._buf = buf[start:]
        return out

    def flush(self) -> list[bytes]:
        """End of stream: a final event without its blank line still counts."""
        rest = self.feed(b"\n\n") if (self._buf or self._data) else []
        return rest


class Exchange:
    """Callbacks for one request/response. Subclass and override; times are ``perf_counter()``."""

    def head(self, status: int, headers: dict[str, str], t: float) -> None: ...

    def body(self, data: bytes, t: float) -> None: ...

    def end(self, t: float) -> None: ...

    def fail(self, exc: BaseException, t: float) -> None: ...


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; serves one exchange at a time."""

    def __init__(self, pool: "ConnectionPool") -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.parser: ResponseParser | None = None
        self.closed = False
        self._t = 0.0

    # asyncio.Protocol -----------------------------------------------------------------------
    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self._loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        # Timestamp now, parse on the next loop turn: when several sockets are readable at once
        # (concurrent streams), every one is timestamped before any is parsed, so parsing one
        # stream's chunk never delays the next stream's timestamp. Order is kept: connection_lost
        # is also scheduled with call_soon, after the queued parse.
        t = perf_counter()
        if self.parser is None:  # unsolicited bytes: the connection is unusable
            self.close()
            return
        self._loop.call_soon(self._feed, t, data)

    def _feed(self, t: float, data: bytes) -> None:
        parser = self.parser
        if parser is None:
            return
        self._t = t
        try:
            parser.feed(data)
        except HttpProtocolError as exc:
            self._finish_error(exc)

    def eof_received(self):
        return False  # close the transport

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        t = perf_counter()
        if self.parser is not None and self.exchange is not None:
            self._t = t
            if not self.parser.eof():
                self._finish_error(ConnectionResetError("the server closed the connection mid-response"))
        self.pool._discard(self)

    # exchange --------------------------------------------------------------------------------
    def send(self, data: bytes, exchange: Exchange) -> None:
        self.exchange = exchange
        self.parser = ResponseParser(self._on_head, self._on_body, self._on_end)
        self.transport.write(data)  # type: ignore[union-attr]

    def _on_head(self, status: int, headers: dict[str, str]) -> None:
        self.exchange.head(status, headers, self._t)  # type: ignore[union-attr]

    def _on_body(self, data: bytes) -> None:
        self.exchange.body(data, self._t)  # type: ignore[union-attr]

    def _on_end(self) -> None:
        ex, parser = self.exchange, self.parser
        self.exchange = None
        self.parser = None
        if parser is not None and parser.keep_alive and not self.closed:
            self.pool._release(self)
        else:
            self.close()
        ex.end(self._t)  # type: ignore[union-attr]

    def _finish_error(self, exc: BaseException) -> None:
        ex = self.exchange
        self.exchange = None
        self.parser = None
        self.close()
        if ex is not None:
            ex.fail(exc, self._t or perf_counter())

    def abort(self) -> None:
        """Give up on the current exchange (timeout, cancellation): the connection is dropped."""
        self.exchange = None
        self.parser = None
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.abort()


class ConnectionPool:
    """Idle keep-alive connections to one origin (scheme, host, port). No upper bound: the load
    generator decides how many requests are in flight."""

    def __init__(self, base_url: str, *, connect_timeout_s: float = 10.0) -> None:
        u = urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL: {base_url}")
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.host_header = u.hostname + (f":{u.port}" if u.port else "")
        self.base_path = u.path.rstrip("/")
        self.connect_timeout_s = connect_timeout_s
        self._ssl = ssl.create_default_context() if u.scheme == "https" else None
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()
        self.opened = 0

    async def acquire(self) -> Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        loop = asyncio.get_running_loop()
        _, proto = await asyncio.wait_for(
            loop.create_connection(lambda: Connection(self), self.host, self.port, ssl=self._ssl),
            self.connect_timeout_s,
        )
        self.opened += 1
        self._all.add(proto)
        return proto

    def _release(self, conn: Connection) -> None:
        self._idle.append(conn)

    def _discard(self, conn: Connection) -> None:
        self._all.discard(conn)
        if conn in self._idle:
            self._idle.remove(conn)

    def close(self) -> None:
        for conn in list(self._all):
            conn.close()
        self._idle.clear()
        self._all.clear()


def build_request(method: str, pool: ConnectionPool, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {pool.base_path}{path} HTTP/1.1", f"Host: {pool.host_header}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body if body else head


class BufferedExchange(Exchange):
    """Collects a whole (small) response: for /v1/models, /health and error bodies."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()

    def head(self, status, headers, t):
        self.status, self.headers = status, headers

    def body(self, data, t):
        self.chunks.append(data)

    def end(self, t):
        if not self.done.done():
            self.done.set_result(None)

    def fail(self, exc, t):
        if not self.done.done():
            self.done.set_exception(exc)


async def fetch(pool: ConnectionPool, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout_s: float = 10.0) -> tuple[int, bytes]:
    """One buffered request; raises OSError/asyncio.TimeoutError/HttpProtocolError on failure."""
    conn = await pool.acquire()
    ex = BufferedExchange()
    conn.send(build_request(method, pool, path, body, headers or {}), ex)
    try:
        await asyncio.wait_for(ex.done, timeout_s)
    except BaseException:
        conn.abort()
        raise
    return ex.status, b"".join(ex.chunks)
