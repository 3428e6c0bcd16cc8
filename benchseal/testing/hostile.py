"""A hostile HTTP server for tests: answers every request with scripted raw bytes (127.0.0.1 only).

It runs its own event loop in a thread, so a client under test can run ``asyncio.run`` (or a
``benchseal`` subprocess) against it. ``POST`` requests get :attr:`HostileServer.script`;
``GET /v1/models`` gets ``script.models`` (raw bytes of a whole response) or a valid listing.

In the scripted bytes, ``{AUTH}`` is replaced by the value of the request's ``Authorization``
header, as a careless server or gateway would echo it. Every connection is bounded in time
(``hold_s``): a script that keeps the connection open is closed after that long.

    with HostileServer() as srv:
        srv.script = Script([b"HTTP/1.1 200 OK\\r\\nContent-Length: -3\\r\\n\\r\\n"])
        ... client against srv.url ...
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field

MODELS_OK = b'{"object":"list","data":[{"id":"test-model","object":"model"}]}'


def response(status: int, body: bytes, *, content_type: str = "application/json", reason: str = "X") -> bytes:
    """A well-formed HTTP/1.1 response with a Content-Length."""
    return (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (status, reason.encode(), content_type.encode(), len(body))) + body


@dataclass
class Script:
    pieces: list[bytes]  # written in order, one write each
    close: bool = True  # close the connection after the last piece (False: keep it open, up to hold_s)
    models: bytes | None = None  # the whole raw response to GET /v1/models (None: a valid listing)
    models_close: bool = False  # close the connection after the /v1/models response
    first: list[bytes] | None = None  # pieces for the first POST only (e.g. a valid answer to a preflight)
    requests: list[bytes] = field(default_factory=list)  # heads of the requests received (filled in)


class HostileServer:
    def __init__(self, *, hold_s: float = 5.0) -> None:
        self.hold_s = hold_s
        self.script = Script([response(200, b"{}")])
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "HostileServer":
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile test server did not start")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0, limit=1 << 20))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        self._server.close()
        loop.run_until_complete(self._server.wait_closed())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(self._serve(reader, writer), self.hold_s)
        except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # the client closed
            length, auth = 0, b""
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
                elif k.strip().lower() == b"authorization":
                    auth = v.strip()
            if length:
                await reader.readexactly(length)
            script = self.script
            script.requests.append(head)
            if head.startswith(b"GET /v1/models"):
                writer.write(script.models if script.models is not None else response(200, MODELS_OK))
                await writer.drain()
                if script.models_close:
                    return
                continue
            pieces = script.pieces
            if script.first is not None and sum(not r.startswith(b"GET ") for r in script.requests) == 1:
                pieces = script.first
            for piece in pieces:
                writer.write(piece.replace(b"{AUTH}", auth).replace(b"{AUTH_JSON}", json.dumps(auth.decode("latin-1"))[1:-1].encode()))
                await writer.drain()
                await asyncio.sleep(0)
            if script.close:
                return
            await reader.read()  # hold the connection open until the client gives up (or hold_s)
            return
