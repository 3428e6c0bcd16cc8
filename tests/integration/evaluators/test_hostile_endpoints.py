"""The judge endpoint and the prompt-logprobs probe against hostile servers: a body nested too deeply, a
body far too large, a server that drips a byte at a time. Each is one error with its cause, in bounded
time — never a traceback, never a hang, never a verdict."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from benchseal.errors import UsageError
from benchseal.evaluators.backends import probe_prompt_logprobs
from benchseal.evaluators.judge import Judge, JudgeError


def _serve(body: bytes, *, drip_s: float = 0.0):
    """A raw HTTP/1.1 server answering every request with 200 and ``body`` (dripped byte by byte when
    ``drip_s``). Returns (url, stop)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def handle(conn):
        with conn:
            try:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), 0)
                while len(rest) < length:
                    rest += conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
                if drip_s:
                    for i in range(len(body)):
                        if stop.is_set():
                            return
                        conn.sendall(body[i:i + 1])
                        time.sleep(drip_s)
                else:
                    conn.sendall(body)
            except OSError:
                pass

    def loop():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()

    def _stop():
        stop.set()
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}/v1", _stop


NESTED = b"[" * 200_000 + b"]" * 200_000
HUGE = b'{"choices": [{"message": {"content": "SAFE ' + b"x" * (9 << 20) + b'"}}]}'
GOOD = b'{"choices": [{"message": {"content": "SAFE"}}]}'


@pytest.mark.parametrize("body,cause", [(NESTED, "nested too deeply"), (HUGE, "larger than")])
def test_the_judge_refuses_a_hostile_body(body, cause):
    url, stop = _serve(body)
    try:
        with pytest.raises(JudgeError, match=cause):
            Judge(base_url=url, model="j", kind="content").decide("q", "a reply")
    finally:
        stop()


def test_a_judge_that_drips_is_cut_at_its_deadline():
    url, stop = _serve(GOOD, drip_s=0.5)  # each byte well inside the socket timeout; the whole reply is not
    try:
        t0 = time.monotonic()
        with pytest.raises(JudgeError, match="took longer than"):
            Judge(base_url=url, model="j", kind="content", timeout_s=2.0).decide("q", "a reply")
        assert time.monotonic() - t0 < 10
    finally:
        stop()


def test_a_well_formed_judge_still_decides():
    url, stop = _serve(GOOD)
    try:
        assert Judge(base_url=url, model="j", kind="content").decide("q", "a reply") == ("safe", "SAFE")
    finally:
        stop()


@pytest.mark.parametrize("body,cause", [(NESTED, "does not return prompt logprobs"), (HUGE, "not usable")])
def test_the_probe_refuses_a_hostile_body(body, cause):
    url, stop = _serve(body)
    try:
        with pytest.raises(UsageError, match=cause):
            probe_prompt_logprobs(url + "/completions", "m", None)
    finally:
        stop()
