"""The repeated-event fast path (backends/template.py) gives exactly what the full parser gives.

Every stream below is fed twice to a StreamExchange: once as is, once with templates turned off (every
event parsed in full); the outcome (texts, chunk times, first content, finish, usage, token ids, the
cause and error of a failure) must be identical. The streams are built to trip a byte-level shortcut:
escapes, quotes and control characters in the text, invalid UTF-8, duplicate and nested ``text``
keys, whitespace, a usage or error or finish arriving in an event shaped like the others, token ids,
chat deltas with reasoning. A seeded sample of random mutations of the template's bytes runs too.

Runs of template events (``EventTemplate.run``, several events of one read taken at once) are checked
the same way: each stream is also fed with templates on and runs off, and with reads cut at seeded
random places, plus event-stream framing built to trip a byte-level shortcut (``data:`` without its
space, CRLF line ends, comments and other fields, an event over several ``data:`` lines, NUL bytes).
"""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from benchseal.bench.perf.backends import stream as stream_mod
from benchseal.bench.perf.backends.stream import StreamExchange
from benchseal.bench.perf.backends.template import RUN_WINDOW, EventTemplate, make_template

P = '{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"index":0,'
C = '{"id":"chat-1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,'


def ev(obj: str | bytes) -> bytes:
    return b"data: " + (obj.encode() if isinstance(obj, str) else obj) + b"\n\n"


def text_ev(t: str, tail: str = ',"finish_reason":null}]}') -> bytes:
    return ev(P + '"text":' + json.dumps(t, ensure_ascii=False) + tail)


def raw_text_ev(raw: bytes, tail: bytes = b',"finish_reason":null}]}') -> bytes:
    return ev(P.encode() + b'"text":"' + raw + b'"' + tail)


def chat_ev(content: str, extra: str = "") -> bytes:
    return ev(C + '"delta":{' + extra + '"content":' + json.dumps(content) + '},"finish_reason":null}]}')


FIN = ev(P + '"text":"","finish_reason":"length"}]}')
DONE = b"data: [DONE]\n\n"


def outcome(data: bytes, chat: bool, templates: bool, monkeypatch, pieces: int = 1, *, runs: bool = True,
            cuts: list[int] | None = None) -> tuple:
    """What a StreamExchange makes of ``data`` fed in ``pieces`` equal reads (or cut at ``cuts``),
    with templates on or off, and with runs of template events on or off."""
    loop = asyncio.new_event_loop()
    try:
        with monkeypatch.context() as m:
            if not templates:
                m.setattr(stream_mod, "make_template", lambda *a: None)
            if not runs:
                m.setattr(EventTemplate, "run", lambda *a: None)
            ex = StreamExchange(loop, chat)
            ex.head(200, {"content-type": "text/event-stream"}, 0.0)
            if cuts is None:
                step = max(1, len(data) // pieces)
                cuts = list(range(step, len(data), step))
            bounds = [0, *sorted(set(cuts)), len(data)]
            for i, (start, stop) in enumerate(zip(bounds, bounds[1:])):
                ex.body(data[start:stop], float(i + 1))
            ex.end(99.0)
            return (ex.texts, ex.chunks, ex.first_content, ex.finish, ex.n_finish, ex.usage, ex.n_token_ids,
                    ex.cause, ex.error, ex.done_seen, ex.n_events)
    finally:
        loop.close()


STREAMS = {
    "plain": [text_ev(f"w{i} ") for i in range(8)] + [FIN, DONE],
    "unicode text": [text_ev("你好"), text_ev("世界 "), text_ev("😀")] + [FIN, DONE],
    "escaped quote later": [text_ev("a"), text_ev('say "hi"'), text_ev("b")] + [FIN, DONE],
    "backslash escapes": [text_ev("a"), raw_text_ev(b"\\u0041"), raw_text_ev(b"\\n"), text_ev("b"), FIN, DONE],
    "raw control character": [text_ev("a"), raw_text_ev(b"x\ty"), text_ev("b"), FIN, DONE],
    "raw newline is malformed": [text_ev("a"), raw_text_ev(b"x\x01y"), FIN, DONE],
    "invalid utf-8": [text_ev("a"), raw_text_ev(b"\xff\xfe"), FIN, DONE],
    "bare quote breaks the JSON": [text_ev("a"), raw_text_ev(b'x"y'), FIN, DONE],
    "usage in a same-shaped event": [text_ev("a"), text_ev("b", ',"finish_reason":null}],"usage":{"completion_tokens":7}}'),
                                     text_ev("c"), FIN, DONE],
    "finish in a same-shaped event": [text_ev("a"), text_ev("b", ',"finish_reason":"stop"}]}'), DONE],
    "error after text": [text_ev("a"), ev('{"error":{"message":"boom"}}'), DONE],
    "duplicate text key": [ev(P + '"text":"a","text":"b","finish_reason":null}]}'),
                           ev(P + '"text":"c","text":"d","finish_reason":null}]}'), FIN, DONE],
    "nested text key": [ev(P + '"text":"a","finish_reason":null,"x":{"text":"a"}}]}'),
                        ev(P + '"text":"b","finish_reason":null,"x":{"text":"a"}}]}'), FIN, DONE],
    "escaped text elsewhere": [ev('{"x":{"text":"a"},"choices":[{"index":0,"text":"\\u0061","finish_reason":null}]}'),
                               ev('{"x":{"text":"b"},"choices":[{"index":0,"text":"\\u0061","finish_reason":null}]}'),
                               FIN, DONE],
    "whitespace around the colon": [ev(P + '"text" :  "a","finish_reason":null}]}'),
                                    ev(P + '"text" :  "b","finish_reason":null}]}'), FIN, DONE],
    "token ids": [ev(P + '"token_ids":[5],"text":"a","finish_reason":null}]}'),
                  ev(P + '"token_ids":[5],"text":"b","finish_reason":null}]}'),
                  ev(P + '"token_ids":[6,7],"text":"c","finish_reason":null}]}'), FIN, DONE],
    "two choices": [ev('{"choices":[{"index":0,"text":"a","finish_reason":null},{"index":1,"text":"z"}]}'),
                    ev('{"choices":[{"index":0,"text":"b","finish_reason":null},{"index":1,"text":"z"}]}'), FIN, DONE],
    "whitespace-only text then content": [text_ev(" "), text_ev("\u3000"), text_ev("x"), FIN, DONE],
    "empty text events": [text_ev(""), text_ev(""), text_ev("a"), FIN, DONE],
    "text turns into a number": [text_ev("a"), ev(P + '"text":5,"finish_reason":null}]}'), FIN, DONE],
    "no finish, no done": [text_ev("a"), text_ev("b")],
    "brackets in text": [text_ev("a"), text_ev("[[{{"), text_ev("}}]]"), FIN, DONE],
}
CHAT = {
    "chat plain": [chat_ev("", '"role":"assistant",'), chat_ev("a"), chat_ev("b"), chat_ev("c"),
                   ev(C + '"delta":{},"finish_reason":"length"}]}'), DONE],
    "chat reasoning": [chat_ev("a"), ev(C + '"delta":{"reasoning_content":"r","content":"b"},"finish_reason":null}]}'),
                       ev(C + '"delta":{"reasoning_content":"s","content":"c"},"finish_reason":null}]}'), chat_ev("d"), DONE],
    "chat content null": [chat_ev("a"), ev(C + '"delta":{"content":null},"finish_reason":null}]}'), chat_ev("b"), DONE],
    "chat content key as a value": [ev(C + '"delta":{"content":"a","role":"content"},"finish_reason":null}]}'),
                                    ev(C + '"delta":{"content":"b","role":"content"},"finish_reason":null}]}'), DONE],
}


# Event-stream framing around template-shaped events (the runs work on the wire bytes).
T = [text_ev(f"w{i} ") for i in range(6)]
WIRE = {
    "data without its space": T[:3] + [b"data:" + T[3][6:]] + T[4:] + [FIN, DONE],
    "crlf line ends later": T[:3] + [T[3].replace(b"\n", b"\r\n")] + T[4:] + [FIN, DONE],
    "crlf everywhere": [t.replace(b"\n", b"\r\n") for t in T] + [FIN, DONE],
    "comment between events": T[:2] + [b": keep-alive\n\n"] + T[2:] + [FIN, DONE],
    "comment inside an event": T[:2] + [b": c\n" + T[2]] + T[3:] + [FIN, DONE],
    "event and id fields": T[:2] + [b"event: message\nid: 7\n" + T[2]] + T[3:] + [FIN, DONE],
    "an event over two data lines": T[:2] + [b"data: " + T[2][6:-2].replace(b'"text"', b'\ndata: "text"') + b"\n\n"]
    + T[3:] + [FIN, DONE],
    "extra blank lines": T[:2] + [b"\n\n\n"] + T[2:] + [FIN, DONE],
    "raw control characters inside a run": T[:2] + [raw_text_ev(b"x\x1fy"), raw_text_ev(b"\x10"), raw_text_ev(b"\x7f")]
    + T[2:] + [FIN, DONE],
    "nul bytes in the stream": T[:2] + [b"\x00\n\n"] + T[2:] + [FIN, DONE],
    "done inside the run": T[:3] + [DONE] + T[3:] + [FIN, DONE],
    "last event cut short": T + [T[0][:-1]],
    "no blank line after the last event": T + [FIN[:-2]],
    "an event without its blank line": T[:2] + [T[2][:-1]] + T[3:] + [FIN, DONE],
    "an event line without its end": T[:2] + [T[2][:-2]] + T[3:] + [FIN, DONE],
    "a long run": [text_ev(f"t{i} ") for i in range(3 * RUN_WINDOW // len(T[0]))] + [FIN, DONE],
    "a run of unicode and empty texts": [text_ev(x) for x in ["a", "", "你", "", " ", "😀", "b"]] + [FIN, DONE],
}


@pytest.mark.parametrize("name", sorted(STREAMS) + sorted(CHAT) + sorted(WIRE))
@pytest.mark.parametrize("pieces", [1, 7])
def test_the_fast_path_equals_the_full_parser(name, pieces, monkeypatch):
    chat = name in CHAT
    data = b"".join({**STREAMS, **CHAT, **WIRE}[name])
    full = outcome(data, chat, False, monkeypatch, pieces)
    assert outcome(data, chat, True, monkeypatch, pieces) == full
    assert outcome(data, chat, True, monkeypatch, pieces, runs=False) == full


@pytest.mark.parametrize("name", sorted(STREAMS) + sorted(CHAT) + sorted(WIRE))
def test_runs_equal_the_full_parser_at_random_read_boundaries(name, monkeypatch):
    """The same streams read in pieces cut at seeded random places (mid-event, mid-character)."""
    chat = name in CHAT
    data = b"".join({**STREAMS, **CHAT, **WIRE}[name])
    events = {**STREAMS, **CHAT, **WIRE}[name]
    at_events = [sum(map(len, events[:i])) for i in range(1, len(events))]  # each read starts an event
    rng = random.Random(f"cuts {name}")
    for cuts in [at_events] + [rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 12))) for _ in range(6)]:
        assert (outcome(data, chat, True, monkeypatch, cuts=cuts)
                == outcome(data, chat, False, monkeypatch, cuts=cuts)), cuts


def test_a_run_is_cut_where_its_events_stop_matching():
    payload = (P + '"text":"a","finish_reason":null}]}').encode()
    tpl = make_template(payload, json.loads(payload), False)
    data = b"".join([text_ev("b"), text_ev("c"), text_ev('d"e'), text_ev("f")])
    texts, end = tpl.run(data, 0)
    assert texts == ["b", "c"] and data[end:].startswith(b'data: ' + P.encode() + b'"text":"d\\"e"')
    assert tpl.run(data, end) is None  # an escaped quote: the per-event path decides
    assert tpl.run(b"\n" + data, 0) is None and tpl.run(data[:-1], 0)[0] == ["b", "c"]


def test_the_fast_path_is_taken_for_a_plain_stream(monkeypatch):
    """Two events are parsed in full (the first text event, which makes the template, and the finish);
    the per-event path sees those and [DONE]; the seven text events between are taken by one run."""
    parsed, events = [], []
    real_loads, real_event = stream_mod._loads, StreamExchange._event
    monkeypatch.setattr(stream_mod, "_loads", lambda p: parsed.append(p) or real_loads(p))
    monkeypatch.setattr(StreamExchange, "_event", lambda self, p, t: events.append(p) or real_event(self, p, t))
    loop = asyncio.new_event_loop()
    try:
        ex = StreamExchange(loop, False)
        ex.head(200, {}, 0.0)
        ex.body(b"".join(STREAMS["plain"]), 1.0)
    finally:
        loop.close()
    assert ex.texts == [f"w{i} " for i in range(8)] and ex.chunks == [1.0] * 8 and ex.finish == "length"
    assert len(parsed) == 2 and ex.n_events == 10
    assert len(events) == 3 and events[-1] == b"[DONE]"


def test_no_template_from_an_event_with_effects():
    for tail in (',"finish_reason":"stop"}]}', ',"finish_reason":null}],"usage":{"completion_tokens":1}}',
                 ',"finish_reason":null}],"error":"x"}', ',"finish_reason":null}],"metrics":{"a":1}}'):
        payload = (P + '"text":"a"' + tail).encode()
        assert make_template(payload, json.loads(payload), False) is None
    payload = (P + '"text":"a\\"b","finish_reason":null}]}').encode()
    assert make_template(payload, json.loads(payload), False) is None  # a backslash anywhere: no template


def mutated(rng: random.Random, data: bytes, alphabet: bytes, keep_head: int, keep_tail: int) -> bytes:
    """``data`` with 1-3 random byte edits (replace, insert, delete) between its first ``keep_head``
    and last ``keep_tail`` bytes."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(keep_head, len(b) - keep_tail)
        op = rng.random()
        if op < 0.4:
            b[i] = rng.choice(alphabet)
        elif op < 0.7:
            b.insert(i, rng.choice(alphabet))
        else:
            del b[i]
    return bytes(b)


def test_seeded_mutations_of_the_templated_bytes(monkeypatch):
    """Random byte edits of a template-shaped event (a seeded sample): the outcome never differs."""
    rng = random.Random(20261207)
    base = text_ev("hello")
    alphabet = b'"\\{}[],: \x00\x1fa\xff\xe4\xbd\xa0nul0'
    for _ in range(150):
        data = base + mutated(rng, text_ev("w"), alphabet, 6, 2) + text_ev("x") + FIN + DONE
        assert outcome(data, False, True, monkeypatch) == outcome(data, False, False, monkeypatch), data


def test_seeded_mutations_of_a_run_on_the_wire(monkeypatch):
    """Random byte edits anywhere in a read of template events (framing included), read whole and at
    random boundaries (a seeded sample): the outcome never differs from the full parser's."""
    rng = random.Random(20261208)
    alphabet = b'"\\{}[],: \x00\x01\x1f\r\na\xff\xe4\xbd\xa0dt0'
    clean = b"".join([text_ev(f"w{i} ") for i in range(8)])
    for _ in range(150):
        data = mutated(rng, clean, alphabet, 0, 0) + FIN + DONE
        cuts = rng.sample(range(1, len(data)), 3)
        for kw in ({}, {"cuts": cuts}):
            assert outcome(data, False, True, monkeypatch, **kw) == outcome(data, False, False, monkeypatch, **kw), data
