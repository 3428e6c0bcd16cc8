"""Issue 11, the transport and stream part: each defect found against hostile servers, one test each.

A request is complete only when its stream ends with ``[DONE]`` or a ``finish_reason``; anything
else fails with a precise cause. The client never raises, never hangs, and never writes the API key.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.metrics import mostly_failed, summarize_load_point
from benchseal.bench.perf.run import LoadSpec, run_perf
from benchseal.errors import ServerError
from benchseal.io import read_json
from benchseal.testing.hostile import HostileServer, Script, response

KEY = "sk-hostile-0b5e1f7c2a9d"
SSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"


def ev(text=None, finish=None, chat=False) -> bytes:
    c = {"index": 0, "finish_reason": finish}
    if chat:
        c["delta"] = {} if text is None else {"content": text}
    else:
        c["text"] = text or ""
    return b"data: " + json.dumps({"id": "x", "choices": [c]}).encode() + b"\n\n"


FIVE = b"".join(ev(f"t{i} ") for i in range(5))  # five tokens, no [DONE], no finish_reason
DONE = b"data: [DONE]\n\n"


def chunked(body: bytes, last: bool = True) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7))
    return out + (b"0\r\n\r\n" if last else b"")


@pytest.fixture(scope="module")
def hostile():
    with HostileServer(hold_s=5.0) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("BS_HOSTILE_KEY", KEY)


def send(srv, pieces, *, close=True, chat=False, timeout_s=3.0, max_tokens=8):
    srv.script = Script(list(pieces), close=close)

    async def main():
        be = OpenAIBackend(model="test-model", base_url=srv.url, api_key_env="BS_HOSTILE_KEY", preflight=False,
                           endpoint_kind="chat" if chat else "completions")
        try:
            prompt = [{"role": "user", "content": "hi"}] if chat else "hi"
            req = GenRequest(request_id=0, prompt=prompt, max_tokens=max_tokens)
            return await asyncio.wait_for(be.send(req, load_point="lp", t0=time.perf_counter(), timeout_s=timeout_s),
                                          timeout_s + 5)
        finally:
            await be.close()

    rec = asyncio.run(main())
    assert KEY not in rec.model_dump_json()
    return rec


# --- it lies: streams that end without [DONE] and without finish_reason --------------------------
@pytest.mark.parametrize("raw", [
    SSE + b"Connection: close\r\n\r\n" + FIVE,  # close-delimited, cut after 5 tokens
    b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + FIVE,  # the same over HTTP/1.0
    SSE + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(FIVE),  # chunked, properly terminated early
    SSE + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(FIVE, last=False),  # no terminating chunk before close
    SSE + b"Content-Length: %d\r\n\r\n" % (len(FIVE) + len(DONE)) + FIVE,  # shorter than its Content-Length
    SSE + b"Content-Length: %d\r\n\r\n" % (len(FIVE) - 3) + FIVE + DONE,  # Content-Length smaller than the body
], ids=["close-delimited", "http10", "chunked-early-end", "chunked-no-last-chunk", "short-body", "length-smaller"])
def test_stream_without_done_or_finish_is_truncated(hostile, raw):
    rec = send(hostile, [raw])
    assert rec.status == "error" and rec.cause == "truncated", rec.error
    assert rec.error.startswith("truncated: ") and "[DONE]" in rec.error


def test_content_length_larger_and_connection_kept_is_a_timeout(hostile):
    raw = SSE + b"Content-Length: %d\r\n\r\n" % (len(FIVE) + 500) + FIVE
    rec = send(hostile, [raw], close=False, timeout_s=0.5)
    assert rec.status == "timeout" and rec.cause == "timeout"


def test_chunk_without_crlf_is_a_framing_error(hostile):
    # the CRLF after the first chunk's data is missing; [DONE] follows in a well-formed chunk
    raw = SSE + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s" % (len(FIVE), FIVE) + b"%x\r\n%s\r\n0\r\n\r\n" % (len(DONE), DONE)
    rec = send(hostile, [raw])
    assert rec.status == "error" and rec.cause == "framing", rec.error


@pytest.mark.parametrize("finish_first", [True, False])
def test_complete_streams_are_ok(hostile, finish_first):
    body = FIVE + ev(None, "length") + (DONE if finish_first else b"")
    raw = SSE + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body)
    rec = send(hostile, [raw], max_tokens=5)
    assert rec.status == "ok" and rec.finish_reason == "length" and len(rec.chunk_s) == 5 and rec.cause is None
    rec = send(hostile, [SSE + b"Connection: close\r\n\r\n" + FIVE + DONE])  # close-delimited with [DONE]
    assert rec.status == "ok"


# --- it lies: fields of the wrong type -------------------------------------------------------------
@pytest.mark.parametrize("chat, event", [
    (False, {"choices": [{"index": 0, "text": 5}]}),
    (False, {"choices": [{"index": 0, "text": ["a"]}]}),
    (False, {"choices": [{"index": 0, "text": {"a": 1}}]}),
    (True, {"choices": [{"index": 0, "delta": {"content": 5}}]}),
    (True, {"choices": [{"index": 0, "delta": {"content": ["a"]}}]}),
    (True, {"choices": [{"index": 0, "delta": {"content": {"a": 1}}}]}),
    (False, {"choices": [{"index": 0, "text": "a", "finish_reason": {"type": "stop"}}]}),
    (False, {"choices": [{"index": 0, "text": "a", "finish_reason": 1}]}),
    (False, {"choices": 3}),  # choices as an int, bool or dict: TypeError/KeyError before
    (False, {"choices": True}),
    (False, {"choices": {"0": {"text": "a"}}}),
])
def test_fields_of_the_wrong_type_are_malformed_events(hostile, chat, event):
    body = ev("ok", chat=chat) + b"data: " + json.dumps(event).encode() + b"\n\n" + ev(None, "stop", chat=chat) + DONE
    rec = send(hostile, [SSE + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body)], chat=chat)
    assert rec.status == "error" and rec.cause == "malformed-event", rec.error


# --- it lies: a model that stops at once is not a failed request ------------------------------------
def test_stop_after_one_eos_token_without_text_is_completed_and_stopped_early(hostile):
    usage = b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'
    body = ev(None, "stop") + usage + DONE
    rec = send(hostile, [SSE + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body)])
    assert rec.status == "ok" and rec.finish_reason == "stop" and rec.chunk_s == [] and rec.first_token_s is None
    assert rec.output_tokens == 1 and rec.output_tokens_server == 1
    normal = send(hostile, [SSE + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(FIVE + ev(None, "length") + DONE)], max_tokens=5)
    s = summarize_load_point([rec, normal.model_copy(update={"request_id": 1})], load_point="lp", mode="concurrency")
    assert (s.completed, s.failed, s.stopped_early) == (2, 0, 1)
    assert s.ttft_ms.n == 1 and s.e2el_ms.n == 2  # excluded from TTFT only


# --- it lies: [DONE] before or without any token (issue 28) ----------------------------------------
@pytest.mark.parametrize("body", [DONE, DONE + FIVE, ev("") + DONE,
                                  b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\n' + DONE],
                         ids=["done-only", "done-then-tokens", "empty-text-then-done", "usage-then-done"])
def test_done_before_any_token_is_never_ok(hostile, body):
    rec = send(hostile, [SSE + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body)])
    assert rec.status == "error" and rec.cause == "no-output", rec.error
    assert rec.error.startswith("no-output: ")


# --- it crashes or hangs ----------------------------------------------------------------------------
@pytest.mark.parametrize("length", [b"abc", b"9" * 5000, b"-3", b"1e3"])
def test_bad_content_length_is_a_framing_error_not_a_traceback_or_hang(hostile, length):
    raw = SSE + b"Content-Length: " + length + b"\r\n\r\n" + FIVE + DONE
    start = time.perf_counter()
    rec = send(hostile, [raw], close=False, timeout_s=3.0)
    assert rec.status == "error" and rec.cause == "framing", rec.error
    assert time.perf_counter() - start < 2.5  # answered at once, not by the request timeout


@pytest.mark.parametrize("bomb", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                                  b'{"choices":[{"text":"a","x":' + b"[" * 5000 + b"]" * 5000 + b"}]}"])
def test_json_bomb_event_is_a_malformed_event(hostile, bomb):
    body = ev("a") + b"data: " + bomb + b"\n\n" + ev(None, "stop") + DONE
    rec = send(hostile, [SSE + b"Content-Length: %d\r\n\r\n" % len(body) + body])
    assert rec.status == "error" and rec.cause == "malformed-event", rec.error


@pytest.mark.parametrize("body, served", [
    (b'{"data":null}', None), (b'{"data":7}', None), (b"[" * 100_000 + b"]" * 100_000, None),
    (b'{"data":' + b"[" * 50_000 + b"]" * 50_000 + b"}", None), (b'{"data":[{"id":"test-model"},{"id":3}]}', ["test-model"]),
])
def test_hostile_models_listing_starts_or_fails_cleanly(hostile, body, served):
    hostile.script = Script([], models=response(200, body), models_close=True)

    async def main():
        be = OpenAIBackend(model="test-model", base_url=hostile.url, preflight=False)
        try:
            await be.start()
            return be.served_models
        finally:
            await be.close()

    assert asyncio.run(main()) == served


def test_models_listing_with_bad_framing_is_a_server_error(hostile):
    hostile.script = Script([], models=b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}", models_close=True)
    be = OpenAIBackend(model="test-model", base_url=hostile.url, preflight=False)
    with pytest.raises(ServerError, match="invalid HTTP response"):
        asyncio.run(be.start())


# --- it leaks secrets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    response(401, b'{"error":{"message":"invalid key Bearer ' + KEY.encode() + b'"}}'),
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<pre>Authorization: {AUTH}</pre>",
    SSE + b"Connection: close\r\n\r\n" + ev("a") + b'data: {"error":{"message":"upstream rejected {AUTH}"}}\n\n',
    SSE + b"Connection: close\r\n\r\n" + b"data: not json {AUTH} " + b"x" * 290 + b"\n\n",
    SSE + b"Connection: close\r\n\r\n" + b"data: " + b"y" * 270 + b" not json {AUTH}\n\n",  # the key across the clip
    SSE + b"Connection: close\r\n\r\n" + ev("a", "stop {AUTH}") + DONE,  # even in a finish_reason of a success
], ids=["401-json", "500-html", "error-event", "malformed-event", "key-at-clip", "finish-reason"])
def test_echoed_api_key_never_reaches_a_record(hostile, raw):
    rec = send(hostile, [raw])  # send() asserts the key is nowhere in the record
    assert "***" in (rec.error or rec.finish_reason or "") or len(rec.error or "") >= 290
    assert any(b"Authorization: Bearer " + KEY.encode() in r for r in hostile.script.requests)  # it was sent


# --- it lies: a run whose every request failed -----------------------------------------------------
def test_all_requests_failed_names_the_dominant_cause(hostile, tmp_path):
    body = b'{"detail":"ignore_eos: extra inputs are not permitted"}'
    hostile.script = Script([b"HTTP/1.1 422 Unprocessable\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)])
    be = OpenAIBackend(model="test-model", base_url=hostile.url, preflight=False)
    reqs = [GenRequest(request_id=i, prompt="hi", max_tokens=4) for i in range(6)]
    report = run_perf(be, reqs, LoadSpec(concurrency=[2]), tmp_path, progress=False)
    (lp,) = report.load_points
    assert (lp.completed, lp.failed) == (0, 6) and lp.failure_causes == {"http-status": 6}
    assert lp.dominant_failure.cause == "http-status" and lp.dominant_failure.share == 1.0
    assert "ignore_eos" in lp.dominant_failure.example
    msg = mostly_failed(report)
    assert msg.startswith("load point concurrency=2: 6 of 6 requests failed, most with cause http-status (6)")
    summary = read_json(tmp_path / "perf" / "summary.json")
    assert summary["load_points"][0]["dominant_failure"]["cause"] == "http-status"


def test_chat_workload_to_completions_fails_client_side_with_bad_request(hostile, tmp_path):
    be = OpenAIBackend(model="test-model", base_url=hostile.url, preflight=False)
    reqs = [GenRequest(request_id=i, prompt=[{"role": "user", "content": "hi"}], max_tokens=4) for i in range(4)]
    report = run_perf(be, reqs, LoadSpec(concurrency=[1]), tmp_path, progress=False)
    lp = report.load_points[0]
    assert lp.failure_causes == {"bad-request": 4} and "--endpoint chat" in lp.dominant_failure.example
    assert "bad-request" in mostly_failed(report)


def test_cli_exits_3_with_one_sentence_when_most_requests_failed(hostile, tmp_path, run_cli, tiny_llama):
    ok = SSE + b"Connection: close\r\n\r\n" + ev("a") + ev(None, "length") + DONE  # the preflight passes
    hostile.script = Script([b"HTTP/1.1 422 Unprocessable\r\nConnection: close\r\n\r\n"
                             b'{"detail":"ignore_eos is not supported; key {AUTH}"}'], first=[ok])
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"p {i}", "max_tokens": 4}) + "\n" for i in range(5)))
    out = tmp_path / "bundle"
    code, stdout, stderr = run_cli("perf", "--base-url", hostile.url, "--model", "test-model", "--api-key-env",
                                   "BS_HOSTILE_KEY", "--tokenizer", tiny_llama, "--prompts", prompts, "--out", out,
                                   "--no-progress")
    assert code == 3, stderr
    assert "Traceback" not in stderr and "5 of 5 requests failed, most with cause http-status (5)" in stderr
    assert KEY not in stdout + stderr
    for f in out.rglob("*"):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f


def test_server_closing_idle_keep_alive_connections_fails_nothing(hostile, tmp_path):
    """The server closes every connection after its response without saying so: a pooled connection
    found closed before any response byte is not a failure; the request is sent again once."""
    body = FIVE + ev(None, "length") + DONE
    hostile.script = Script([SSE + b"Content-Length: %d\r\n\r\n" % len(body) + body])
    be = OpenAIBackend(model="test-model", base_url=hostile.url, preflight=False)
    reqs = [GenRequest(request_id=i, prompt="hi", max_tokens=5) for i in range(12)]
    report = run_perf(be, reqs, LoadSpec(concurrency=[1, 3]), tmp_path, progress=False)
    assert [(lp.completed, lp.failed) for lp in report.load_points] == [(12, 0), (12, 0)]
