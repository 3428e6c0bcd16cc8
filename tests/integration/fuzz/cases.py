"""Seeded generator of hostile HTTP responses for the transport fuzz suite, each with its truth.

A case is either *valid* (well-framed HTTP, well-typed events, ending with ``[DONE]`` and/or a
``finish_reason``: the client must record it ``ok``) or *corrupted* by exactly one defect that
makes it a failure (the client must record a failure with one of the allowed causes). Corruptions
are placed before the stream's terminal event, so a correct client can never count them complete.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from benchseal.testing.hostile import MODELS_OK, Script, response

KEY = "sk-fuzz-7d1e0c9a5b3f4e2d8c6a"  # the API key of every case; must never reach a record


def echo(data: bytes) -> bytes:
    """``data`` with the Authorization header echoed where it says {AUTH} / {AUTH_JSON} (done here,
    before framing, so lengths stay right)."""
    return data.replace(b"{AUTH}", b"Bearer " + KEY.encode()).replace(b"{AUTH_JSON}", b"Bearer " + KEY.encode())


@dataclass
class Case:
    name: str
    script: Script
    chat: bool
    expect_ok: bool
    causes: set[str] = field(default_factory=set)  # allowed causes of a failure
    max_tokens: int = 8
    timeout_s: float = 3.0


# ------------------------------------------------------------------------------------------------
# events
def _text(rng: random.Random) -> str:
    alphabet = "abc xyz 012 {}[]\"\\:\n\r\t data: [DONE] é中文🙂"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))


def _choice(chat: bool, text: str | None = None, finish=None, **extra) -> dict:
    c: dict = {"index": 0, "finish_reason": finish}
    if chat:
        c["delta"] = {} if text is None else {"content": text}
    else:
        c["text"] = "" if text is None else text
    c.update(extra)
    return c


def _obj(choices: list, usage=None, **extra) -> dict:
    o = {"id": "cmpl-1", "object": "x", "model": "test-model", "choices": choices}
    if usage is not None:
        o["usage"] = usage
    o.update(extra)
    return o


def _enc(obj, rng: random.Random, eol: bytes) -> bytes:
    payload = obj if isinstance(obj, (bytes, bytearray)) else json.dumps(obj, ensure_ascii=rng.random() < 0.5).encode()
    if rng.random() < 0.1 and b"\n" not in payload:  # split across two data lines (joined with \n: still JSON)
        i = payload.find(b",")
        if i > 0:
            return b"data: " + payload[: i + 1] + eol + b"data:" + payload[i + 1 :] + eol + eol
    sep = b"data: " if rng.random() < 0.8 else b"data:"
    return sep + payload + eol + eol


@dataclass
class Stream:
    events: list[bytes]  # encoded events, in order
    terminal: int  # index of the first terminal event (finish_reason or [DONE])


def valid_stream(rng: random.Random, chat: bool, *, text_events: int | None = None) -> Stream:
    eol = b"\r\n" if rng.random() < 0.3 else b"\n"
    evs: list[bytes] = []
    if rng.random() < 0.2:
        evs.append(b": keep-alive" + eol + eol)
    if chat and rng.random() < 0.5:
        evs.append(_enc(_obj([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]), rng, eol))
    n = rng.randint(0, 6) if text_events is None else text_events
    for _ in range(n):
        evs.append(_enc(_obj([_choice(chat, _text(rng))]), rng, eol))
    terminal = len(evs)
    kind = rng.choice(["finish+done", "finish+usage+done", "done", "finish"])
    if n == 0 and "finish" not in kind:  # [DONE] with no text and no finish_reason is no output, never ok (issue 28)
        kind = "finish+done"
    if "finish" in kind:
        evs.append(_enc(_obj([_choice(chat, None, finish=rng.choice(["stop", "length"]))]), rng, eol))
    if "usage" in kind:
        evs.append(_enc(_obj([], usage={"prompt_tokens": 3, "completion_tokens": n, "total_tokens": n + 3}), rng, eol))
    if "done" in kind:
        evs.append(b"data: [DONE]" + eol + eol)
    return Stream(evs, terminal)


# ------------------------------------------------------------------------------------------------
# framing
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"


def _chunked(body: bytes, rng: random.Random, *, last: bool = True) -> bytes:
    out, i = [], 0
    while i < len(body):
        n = rng.randint(1, max(1, min(len(body) - i, rng.choice([3, 17, 64, 400]))))
        out.append(b"%x\r\n%s\r\n" % (n, body[i : i + n]))
        i += n
    if last:
        out.append(b"0\r\n\r\n")
    return b"".join(out)


def frame(body: bytes, rng: random.Random, framing: str) -> bytes:
    if framing == "chunked":
        return SSE_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(body, rng)
    if framing == "length":
        return SSE_HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body
    if framing == "close":
        return SSE_HEAD + b"Connection: close\r\n\r\n" + body
    if framing == "http10":
        return b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + body
    raise ValueError(framing)


def split(data: bytes, rng: random.Random) -> list[bytes]:
    """The bytes as 1-5 writes at random points."""
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 4)))) if len(data) > 1 else []
    parts, prev = [], 0
    for c in cuts + [len(data)]:
        parts.append(data[prev:c])
        prev = c
    return [p for p in parts if p]


FRAMINGS = ("chunked", "length", "close", "http10")


# ------------------------------------------------------------------------------------------------
# cases
def case_valid(rng: random.Random, chat: bool) -> Case:
    st = valid_stream(rng, chat)
    framing = rng.choice(FRAMINGS)
    raw = frame(b"".join(st.events), rng, framing)
    extra = b""
    if framing in ("chunked", "length") and rng.random() < 0.15:
        extra = rng.choice([b"garbage after the response", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    return Case(f"valid-{framing}", Script(split(raw + extra, rng)), chat, True)


def case_stopped_at_once(rng: random.Random, chat: bool) -> Case:
    """finish_reason stop after one EOS token and no text: a completed request (stopped early)."""
    st = valid_stream(rng, chat, text_events=0)
    raw = frame(b"".join(st.events), rng, rng.choice(FRAMINGS))
    return Case("valid-stop-no-text", Script(split(raw, rng)), chat, True)


def case_finish_reason_echoes_key(rng: random.Random, chat: bool) -> Case:
    eol = b"\n"
    body = _enc(_obj([_choice(chat, "hi")]), rng, eol) + b'data: {"choices":[{"index":0,"text":"","delta":{},"finish_reason":"stop {AUTH_JSON}"}]}\n\n'
    return Case("valid-finish-echoes-key", Script(split(frame(echo(body), rng, "chunked"), rng)), chat, True)


def case_no_terminal(rng: random.Random, chat: bool) -> Case:
    st = valid_stream(rng, chat)
    body = b"".join(st.events[: st.terminal])
    framing = rng.choice(FRAMINGS + ("chunked-no-last",))
    if framing == "chunked-no-last":  # no terminating chunk before close
        raw = SSE_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(body, rng, last=False)
    else:
        raw = frame(body, rng, framing)
    return Case(f"no-terminal-{framing}", Script(split(raw, rng)), chat, False, {"truncated"})


def case_cut(rng: random.Random, chat: bool) -> Case:
    """The full stream framed, then the connection closed at a byte before the terminal event."""
    st = valid_stream(rng, chat, text_events=rng.randint(1, 6))
    framing = rng.choice(FRAMINGS)
    body = b"".join(st.events)
    if framing == "chunked":  # one chunk per event, as servers do: the prefix's framing is a prefix
        chunks = [b"%x\r\n%s\r\n" % (len(e), e) for e in st.events]
        raw = SSE_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(chunks) + b"0\r\n\r\n"
        pre = len(b"".join(chunks[: st.terminal]))
    else:
        raw = frame(body, rng, framing)
        pre = len(b"".join(st.events[: st.terminal]))
    head_end = raw.index(b"\r\n\r\n") + 4
    cut = rng.randint(1, head_end + pre)
    causes = {"truncated"} if cut >= head_end else {"disconnected"}
    return Case(f"cut-{framing}", Script(split(raw[:cut], rng)), chat, False, causes)


def case_length_mismatch(rng: random.Random, chat: bool) -> Case:
    st = valid_stream(rng, chat, text_events=rng.randint(1, 6))
    body = b"".join(st.events)
    pre = len(b"".join(st.events[: st.terminal]))
    which = rng.choice(["short", "long-close", "long-open"])
    if which == "short":  # Content-Length smaller than the body, ending before the terminal event
        n = rng.randint(0, pre)
        raw = SSE_HEAD + b"Content-Length: %d\r\n\r\n" % n + body
        return Case("content-length-short", Script(split(raw, rng)), chat, False, {"truncated"})
    body_cut = b"".join(st.events[: st.terminal])
    raw = SSE_HEAD + b"Content-Length: %d\r\n\r\n" % (len(body) + rng.randint(1, 10_000)) + body_cut
    if which == "long-close":
        return Case("content-length-long", Script(split(raw, rng)), chat, False, {"truncated"})
    return Case("content-length-long-open", Script(split(raw, rng), close=False), chat, False, {"timeout"}, timeout_s=0.4)


BAD_HEADS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    b"HTTP/1.1 2x0 OK\r\n\r\n",
    b"HTTP/1.1 OK\r\n\r\n",
    b"HTTQ/1.1 200 OK\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    b"HTTP/1.1 200 OK\nContent-Length: 3\n\n",
    b"HTTP/1.1 200 OK\r\nNo-Colon-Here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + b"\r\n",
]


def case_bad_head(rng: random.Random, chat: bool) -> Case:
    i = rng.randrange(len(BAD_HEADS))
    st = valid_stream(rng, chat)
    raw = BAD_HEADS[i] + b"".join(st.events)
    close = rng.random() < 0.7
    return Case(f"bad-head-{i}", Script(split(raw, rng), close=close), chat, False, {"framing"}, timeout_s=3.0)


def case_bad_chunk(rng: random.Random, chat: bool) -> Case:
    """A chunk framing error before the terminal event (missing CRLF, bad or overflowing size)."""
    st = valid_stream(rng, chat, text_events=rng.randint(1, 4))
    pre = b"".join(st.events[: st.terminal])
    rest = b"".join(st.events[st.terminal :])
    kind = rng.choice(["no-crlf", "bad-size", "negative", "overflow", "size-short"])
    good = _chunked(pre, rng, last=False)
    if kind == "no-crlf":
        bad = b"%x\r\n%s" % (len(rest), rest) + b"XX0\r\n\r\n"
        good = _chunked(pre, rng, last=False)
        raw = SSE_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + good[:-2] + b"!!" + bad
        return Case("chunk-missing-crlf", Script(split(raw, rng)), chat, False, {"framing"})
    size = {"bad-size": b"zz", "negative": b"-3", "overflow": b"f" * 40, "size-short": b"1"}[kind]
    raw = SSE_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + good + size + b"\r\n" + rest + b"\r\n0\r\n\r\n"
    return Case(f"chunk-{kind}", Script(split(raw, rng)), chat, False, {"framing"})


def _bad_events(chat: bool) -> list[tuple[str, bytes]]:
    bad_types = [1, 2.5, True, [1], ["a"], {"a": 1}]
    out = []
    for v in bad_types:
        if chat:
            out.append((f"content-{type(v).__name__}", json.dumps(_obj([{"index": 0, "delta": {"content": v}}])).encode()))
        else:
            out.append((f"text-{type(v).__name__}", json.dumps(_obj([{"index": 0, "text": v}])).encode()))
    for v in (1, {"a": 1}, ["stop"], True):
        out.append((f"finish-{type(v).__name__}", json.dumps(_obj([_choice(chat, "x", finish=v)])).encode()))
    for v in (1, True, {"0": {}}, "abc"):
        out.append((f"choices-{type(v).__name__}", json.dumps(_obj(v)).encode()))  # type: ignore[arg-type]
    out.append(("choice-int", json.dumps(_obj([5])).encode()))
    if chat:
        out.append(("delta-list", json.dumps(_obj([{"index": 0, "delta": ["x"]}])).encode()))
    for v in ([1], "x", 7):
        out.append((f"usage-{type(v).__name__}", json.dumps(_obj([], usage=v)).encode()))
    for v in ("3", -1, 2.0, 10**30):
        out.append((f"usage-count-{type(v).__name__}", json.dumps(_obj([], usage={"completion_tokens": v})).encode()))
    out.append(("usage-5000-digits", b'{"choices":[],"usage":{"completion_tokens":' + b"7" * 5000 + b"}}"))
    out.append(("not-json", b"{this is not json"))
    out.append(("json-array", b"[1,2,3]"))
    out.append(("json-string", b'"hello"'))
    out.append(("bomb-list", b"[" * 100_000 + b"]" * 100_000))
    out.append(("bomb-dict", b'{"a":' * 50_000 + b"1" + b"}" * 50_000))
    out.append(("bomb-in-choices", b'{"choices":' + b"[" * 200 + b"]" * 200 + b"}"))
    out.append(("echo-key-not-json", b"oops {AUTH} oops"))
    out.append(("huge-event", b'{"choices":[{"index":0,"text":"' + b"a" * (1 << 21) + b'"}]}'))
    return out


def case_bad_event(rng: random.Random, chat: bool) -> Case:
    st = valid_stream(rng, chat, text_events=rng.randint(0, 4))
    name, payload = rng.choice(_bad_events(chat))
    pos = rng.randint(0, st.terminal)
    evs = st.events[:pos] + [b"data: " + payload + b"\n\n"] + st.events[pos:]
    raw = frame(echo(b"".join(evs)), rng, rng.choice(FRAMINGS))
    return Case(f"event-{name}", Script(split(raw, rng)), chat, False, {"malformed-event"})


def case_error_event(rng: random.Random, chat: bool) -> Case:
    st = valid_stream(rng, chat, text_events=rng.randint(0, 3))
    msg = rng.choice([b'{"error":{"message":"bad key {AUTH_JSON}","code":500}}', b'{"error":"denied for {AUTH_JSON}"}',
                      b'{"error":{"message":' + b"[" * 30 + b"]" * 30 + b"}}"])
    evs = st.events[: st.terminal] + [b"data: " + msg + b"\n\n"] + st.events[st.terminal :]
    raw = frame(echo(b"".join(evs)), rng, rng.choice(FRAMINGS))
    return Case("stream-error-event", Script(split(raw, rng)), chat, False, {"stream-error"})


def case_http_error(rng: random.Random, chat: bool) -> Case:
    status = rng.choice([400, 401, 403, 404, 422, 429, 500, 502, 503])
    body = rng.choice([
        b'{"error":{"message":"invalid api key: {AUTH_JSON}"}}',
        b"<html><body><h1>500</h1><pre>Authorization: {AUTH}</pre></body></html>",
        b'{"detail":"ignore_eos is not a valid parameter"}',
        b"[" * 100_000,
        b"x" * (2 << 20),
        b"",
    ])
    body = echo(body)
    framing = rng.choice(["length", "chunked", "close"])
    head = b"HTTP/1.1 %d Error\r\nContent-Type: text/plain\r\n" % status
    if framing == "length":
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    elif framing == "chunked":
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(body, rng)
    else:
        raw = head + b"Connection: close\r\n\r\n" + body
    return Case(f"http-{status}-{framing}", Script(split(raw, rng)), chat, False, {"http-status"})


def case_empty(rng: random.Random, chat: bool) -> Case:
    return Case("closed-without-response", Script([]), chat, False, {"disconnected"})


def case_stall(rng: random.Random, chat: bool) -> Case:
    st = valid_stream(rng, chat)
    body = b"".join(st.events[: st.terminal])
    raw = SSE_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(body, rng, last=False)
    return Case("stall-open", Script(split(raw, rng), close=False), chat, False, {"timeout"}, timeout_s=0.4)


GENERATORS = [  # (weight, generator)
    (20, case_valid), (5, case_stopped_at_once), (2, case_finish_reason_echoes_key), (8, case_no_terminal),
    (12, case_cut), (6, case_length_mismatch), (10, case_bad_head), (8, case_bad_chunk), (18, case_bad_event),
    (4, case_error_event), (6, case_http_error), (1, case_empty), (1, case_stall),
]


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(f"{seed}:{index}")
    gen = rng.choices([g for _, g in GENERATORS], weights=[w for w, _ in GENERATORS])[0]
    return gen(rng, rng.random() < 0.5)


# ------------------------------------------------------------------------------------------------
# /v1/models bodies (the client's start)
MODELS_BODIES = [
    MODELS_OK,
    b'{"data":null}', b'{"data":7}', b'{"data":"x"}', b'{"data":[1,2,{"id":5},{"id":null}]}', b"[]", b"null",
    b"[" * 100_000 + b"]" * 100_000, b'{"data":' + b"[" * 50_000 + b"]" * 50_000 + b"}", b"not json",
    b'{"data":[{"id":"other-model"}]}', b'{"data":[{"id":"' + b"m" * 5000 + b'"}]}', b"\xff\xfe\x00",
]
MODELS_HEADS = [
    lambda body: response(200, body),
    lambda body: b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n" + body,
    lambda body: b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n" + body,
    lambda body: b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n" + body,
    lambda body: response(401, b'{"error":"bad key {AUTH}"}'),
    lambda body: response(500, b"Authorization: {AUTH}"),
    lambda body: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(body) + 100) + body,
]
