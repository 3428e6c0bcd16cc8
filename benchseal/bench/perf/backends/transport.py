"""benchseal's HTTP/1.1 client transport: ``asyncio.Protocol`` connections, a keep-alive pool, and
response framing by ``httptools`` (llhttp, the parser of Node.js). No framing is hand-written here.

Why not aiohttp: every byte is timestamped in ``data_received`` (the earliest moment Python sees
it), before it is parsed, and there is no per-chunk coroutine hop between the socket and the
timestamp, so the client's clock is not skewed by its own load. Keep-alive connections are pooled
per backend.

Supported: ``http`` and ``https`` (system CA store), ``Content-Length``, ``Transfer-Encoding:
chunked`` and close-delimited bodies. Not supported: proxies, HTTP/2, redirects, 1xx responses.

Everything a server sends is bounded (see the ``MAX_*`` constants): the response head, the number
of headers; llhttp rejects malformed lengths (``Content-Length: abc``, ``-3``, 5,000 digits, a
duplicate) and chunk framing (a chunk without its CRLF, a bad or overflowing chunk size). A body that
ends before its ``Content-Length`` or its last chunk is :class:`ResponseTruncated`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Callable
from urllib.parse import urlsplit

import httptools

perf_counter = time.perf_counter

MAX_HEAD_BYTES = 65536  # status line + headers
MAX_HEADERS = 128
MAX_BUFFERED_BODY = 1 << 20  # a buffered (non-streamed) response: /v1/models, error bodies


class HttpProtocolError(Exception):
    """The server sent something that is not valid HTTP/1.1 (a framing error)."""


class ResponseTruncated(HttpProtocolError):
    """The connection closed before the response was complete. ``head`` says whether the status
    line and headers had arrived."""

    def __init__(self, message: str, *, head: bool) -> None:
        super().__init__(message)
        self.head = head


class ResponseParser:
    """One HTTP/1.1 response, parsed incrementally by llhttp. ``feed`` calls back
    ``on_head(status, headers)``, ``on_body(bytes)`` and ``on_end()``; ``eof`` tells it the
    connection closed. Bytes after the end of the response are ignored and make the connection
    not reusable (``keep_alive`` False)."""

    __slots__ = ("_p", "_pending", "_head_bytes", "_head_done", "_n_headers", "_complete", "_reported_head",
                 "_ended", "_error", "_body_bytes", "status", "headers", "keep_alive", "_cb_head", "_cb_body", "_cb_end",
                 "on_body", "_n_body")

    def __init__(self, on_head: Callable, on_body: Callable, on_end: Callable) -> None:
        self._pending: list[bytes] = []
        # llhttp calls on_body once per piece of body (each chunk of a chunked body): the pieces go
        # straight into the list (a C call, no Python frame per chunk); on_message_complete notes how
        # many belong to this response, so a second response in the same read passes nothing on.
        self.on_body = self._pending.append
        self._n_body: int | None = None
        self._p = httptools.HttpResponseParser(self)
        self._head_bytes = 0
        self._head_done = False
        self._reported_head = False
        self._n_headers = 0
        self._complete = False
        self._ended = False
        self._error: str | None = None
        self._body_bytes = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = True
        self._cb_head, self._cb_body, self._cb_end = on_head, on_body, on_end

    # llhttp callbacks (must not raise: an exception there surfaces as HttpParserCallbackError) ----
    def on_message_begin(self) -> None:
        if self._complete:
            self.keep_alive = False  # a second response nobody asked for

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._complete:
            return
        self._n_headers += 1
        self._head_bytes += len(name) + len(value) + 4
        if self._error is None:
            if self._n_headers > MAX_HEADERS:
                self._error = f"more than {MAX_HEADERS} response headers"
            elif self._head_bytes > MAX_HEAD_BYTES:
                self._error = f"response head larger than {MAX_HEAD_BYTES // 1024} KiB"
        k = name.decode("latin-1").lower()
        v = value.decode("latin-1")
        self.headers[k] = f"{self.headers[k]}, {v}" if k in self.headers else v

    def on_headers_complete(self) -> None:
        if self._complete:
            return
        self._head_done = True
        self.status = self._p.get_status_code()
        self.keep_alive = bool(self._p.should_keep_alive())

    def on_message_complete(self) -> None:
        if not self._complete:
            self._complete = True
            self._n_body = len(self._pending)

    # ---------------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Parse ``data``. Body bytes of this call are passed to ``on_body`` once (they arrived at
        the same instant), after ``on_head`` and before ``on_end``. Raises HttpProtocolError."""
        if self._ended:
            if data:
                self.keep_alive = False  # bytes after the response: the connection is unusable
            return
        err: str | None = None
        try:
            self._p.feed_data(data)
        except httptools.HttpParserUpgrade:
            err = "the server switched protocols (HTTP upgrade), which this client does not support"
        except httptools.HttpParserError as exc:
            if self._complete:
                self.keep_alive = False  # garbage after a complete response
            else:
                err = f"invalid HTTP response: {exc}"
        if self._error is not None:
            err = self._error
        if not self._head_done:  # a head still incomplete: count what is buffered for it
            self._head_bytes += len(data)
            if err is None and self._head_bytes > MAX_HEAD_BYTES:
                err = f"response head larger than {MAX_HEAD_BYTES // 1024} KiB"
        if self._head_done and not self._reported_head:
            if 100 <= self.status < 200:
                err = err or f"unexpected informational response (HTTP {self.status})"
            if err is not None:  # a bad head: nothing of this response is passed on
                self.keep_alive = False
                self._pending.clear()
                raise HttpProtocolError(err)
            self._reported_head = True
            self._cb_head(self.status, self.headers)
        pending = self._pending
        if pending:
            if self._n_body is not None:
                del pending[self._n_body:]  # pieces of a response after this one
                self._n_body = 0  # this response's pieces are passed on below
            body = pending[0] if len(pending) == 1 else b"".join(pending)
            pending.clear()
            self._body_bytes += len(body)
            self._cb_body(body)
        if err is not None:
            self.keep_alive = False
            raise HttpProtocolError(err)
        if self._complete:
            self._ended = True
            self._cb_end()

    def _close_delimited(self) -> bool:
        h = self.headers
        return "content-length" not in h and "chunked" not in h.get("transfer-encoding", "").lower()

    def eof(self) -> bool:
        """The connection closed. Returns True when the response had ended (or a close-delimited
        body ends here: ``on_end`` is called); raises ResponseTruncated when it had not."""
        if self._ended:
            return True
        self.keep_alive = False
        if not self._reported_head:
            raise ResponseTruncated("the server closed the connection before sending a complete response head", head=False)
        if self._close_delimited():
            self._ended = True
            self._cb_end()
            return True
        h = self.headers
        if "content-length" in h:
            raise ResponseTruncated(f"the server closed the connection after {self._body_bytes} of "
                                    f"{h['content-length']} body bytes (Content-Length)", head=True)
        raise ResponseTruncated("the server closed the connection before the last chunk of a chunked body", head=True)


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
        self.served = 0  # exchanges sent on this connection
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
        except Exception as exc:  # a bug in an exchange must fail its request, never hang it
            self._finish_error(exc)

    def eof_received(self):
        return False  # close the transport

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        t = perf_counter()
        if self.parser is not None and self.exchange is not None:
            self._t = t
            try:
                self.parser.eof()
            except Exception as err:
                self._finish_error(err)
        self.pool._discard(self)

    # exchange --------------------------------------------------------------------------------
    def send(self, data: bytes, exchange: Exchange) -> None:
        self.exchange = exchange
        self.served += 1
        self.parser = ResponseParser(self._on_head, self._on_body, self._on_end)
        self.transport.write(data)  # type: ignore[union-attr]

    def _on_head(self, status: int, headers: dict[str, str]) -> None:
        self.exchange.head(status, headers, self._t)  # type: ignore[union-attr]

    def _on_body(self, data: bytes) -> None:
        self.exchange.body(data, self._t)  # type: ignore[union-attr]

    def _on_end(self) -> None:
        ex, parser = self.exchange, self.parser
        self.exchange = None
        if parser is not None and parser.keep_alive and not self.closed:
            self.parser = None
            self.pool._release(self)
        else:
            self.parser = parser  # keeps swallowing late bytes until the close below lands
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

    async def acquire(self, *, fresh: bool = False) -> Connection:
        """An idle keep-alive connection, or a new one (always new with ``fresh``: a retry after a
        pooled connection turned out closed must not take another pooled one that may be closed too)."""
        if not fresh:
            conn = self.idle()
            if conn is not None:
                return conn
        loop = asyncio.get_running_loop()
        _, proto = await asyncio.wait_for(
            loop.create_connection(lambda: Connection(self), self.host, self.port, ssl=self._ssl),
            self.connect_timeout_s,
        )
        self.opened += 1
        self._all.add(proto)
        return proto

    def idle(self) -> Connection | None:
        """An idle keep-alive connection that is still open, or None (no await: the hot path)."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        return None

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
    """Collects a whole (small) response: for /v1/models, /health and error bodies. A body larger
    than ``MAX_BUFFERED_BODY`` fails the exchange."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()

    def head(self, status, headers, t):
        self.status, self.headers = status, headers

    def body(self, data, t):
        self.size += len(data)
        if self.size > MAX_BUFFERED_BODY:
            if not self.done.done():
                self.done.set_exception(HttpProtocolError(f"response body larger than {MAX_BUFFERED_BODY >> 20} MiB"))
            return
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
    if ex.size > MAX_BUFFERED_BODY:
        conn.abort()
    return ex.status, b"".join(ex.chunks)
