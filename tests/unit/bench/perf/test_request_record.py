"""The openai backend builds its records without pydantic's per-call field walk
(``backends.openai.request_record``): each must be the RequestRecord that validation would build from
the same values, behave as one, and serialise to the same line."""

from __future__ import annotations

import asyncio
import json

from benchseal.bench.perf.backends.openai import OpenAIBackend, request_record
from benchseal.bench.perf.backends.stream import StreamExchange
from benchseal.schema import RequestRecord

VALUES = [
    {"load_point": "concurrency=4", "request_id": 7, "send_s": 0.5, "first_token_s": 0.52, "end_s": 0.9,
     "chunk_s": [0.52, 0.6, 0.9], "prompt_tokens": 12, "output_tokens": 3, "output_tokens_server": 3,
     "status": "ok", "http_status": 200, "finish_reason": "length", "finish_count": 1, "max_tokens": 3},
    {"load_point": "rate=2.0", "request_id": 0, "send_s": 1.0, "end_s": 1.5, "status": "error",
     "error": "http-500: boom", "cause": "http-status", "http_status": 500, "server_timing": {"queue_time_ms": 1.5}},
    {"load_point": "c", "request_id": 3, "send_s": 0.0, "status": "timeout", "cause": "timeout", "chunk_s": []},
]


def test_the_record_equals_a_validated_one():
    for values in VALUES:
        fast = request_record(dict(values))
        slow = RequestRecord(**values)
        assert fast == slow
        assert fast.model_dump() == slow.model_dump()
        assert fast.model_dump_json() == slow.model_dump_json()
        assert fast.model_fields_set == slow.model_fields_set
        assert RequestRecord.model_validate_json(fast.model_dump_json()) == slow


def test_the_record_is_a_working_model():
    rec = request_record(dict(VALUES[0]))
    rec.prompt_id = 5  # the load generator sets its own fields on it
    assert rec.prompt_id == 5 and "prompt_id" in rec.model_fields_set
    copy = rec.model_copy(update={"warmup": True})
    assert copy.warmup and not rec.warmup and copy.chunk_s == rec.chunk_s
    other = request_record(dict(VALUES[0]))
    assert other.prompt_id is None and other.chunk_s == rec.chunk_s
    assert request_record({"load_point": "x", "request_id": 1, "send_s": 0.0, "status": "ok"}).chunk_s == []


def test_records_do_not_share_mutable_defaults():
    a = request_record({"load_point": "x", "request_id": 1, "send_s": 0.0, "status": "ok"})
    b = request_record({"load_point": "x", "request_id": 2, "send_s": 0.0, "status": "ok"})
    a.chunk_s.append(1.0)
    assert b.chunk_s == [] and RequestRecord(load_point="x", request_id=3, send_s=0.0, status="ok").chunk_s == []


def test_the_backend_record_matches_validation():
    """A whole record as the backend makes it from a parsed stream."""
    loop = asyncio.new_event_loop()
    try:
        ex = StreamExchange(loop, False)
        ex.head(200, {"content-type": "text/event-stream"}, 10.0)
        ev = '{"choices":[{"index":0,"text":%s,"finish_reason":%s}]%s}'
        body = b"".join(b"data: " + (ev % (json.dumps(t), f, u)).encode() + b"\n\n" for t, f, u in [
            ("a", "null", ""), (" b", "null", ""),
            ("", '"length"', ',"usage":{"prompt_tokens":4,"completion_tokens":2}')]) + b"data: [DONE]\n\n"
        ex.body(body, 10.25)
        ex.end(10.5)
    finally:
        loop.close()
    be = OpenAIBackend(model="m", preflight=False)
    fields = {"load_point": "c", "request_id": 9, "max_tokens": 2, "prompt_tokens_client": 4}
    rec = be._record(fields, ex, 10.0, 9.0, "ok")
    assert rec == RequestRecord.model_validate(rec.model_dump())
    assert rec.chunk_s == [1.25, 1.25] and rec.send_s == 1.0 and rec.end_s == 1.25 and rec.output_tokens == 2
    assert rec.prompt_tokens == 4 and rec.finish_reason == "length" and rec.first_content_s == 1.25
