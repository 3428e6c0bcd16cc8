"""The openai client's stream rules without a server: JSON bounds, secret scrubbing, failure accounting."""

from __future__ import annotations

import pytest

from benchseal.bench.perf.backends.openai import MAX_JSON_DEPTH, OpenAIBackend, _depth_ok, safe_json
from benchseal.bench.perf.metrics import mostly_failed, summarize_load_point
from benchseal.schema import PerfReport, RequestRecord


def test_json_depth_is_bounded_and_strings_do_not_count():
    assert _depth_ok(b'{"a":[1,{"b":2}]}')
    assert _depth_ok('{"text":"' + "[" * 500 + '"}')  # brackets inside a string
    assert not _depth_ok("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    for bomb in (b"[" * 100_000, b'{"a":' * 10_000, b'{"n":' + b"1" * 5000 + b"}"):
        with pytest.raises(ValueError):
            safe_json(bomb)


def test_every_known_secret_is_scrubbed(monkeypatch):
    monkeypatch.setenv("BS_UNIT_KEY", "sk-a/b+c")
    be = OpenAIBackend(model="m", base_url="http://u:pw-secret@127.0.0.1:9", api_key_env="BS_UNIT_KEY", preflight=False)
    text = 'raw sk-a/b+c json sk-a\\/b+c url sk-a%2Fb%2Bc pw pw-secret'
    assert be.scrub(text) == "raw *** json *** url *** pw ***"
    assert be.scrub_bytes(b"Bearer sk-a/b+c") == b"Bearer ***"


def rec(i, status="ok", chunks=(1.0, 1.1), cause=None, error=None, out=2):
    return RequestRecord(load_point="lp", request_id=i, send_s=0.5, first_token_s=chunks[0] if chunks else None,
                         end_s=1.5, chunk_s=list(chunks), output_tokens=out, status=status, cause=cause, error=error)


def test_stopped_early_and_failure_causes():
    records = [rec(0), rec(1, chunks=(), out=1), rec(2, "error", (), "truncated", "truncated: cut", 0),
               rec(3, "error", (), "truncated", "truncated: cut again", 0), rec(4, "error", (), None, "http-422: no", 0),
               rec(5, "timeout", (), None, "timeout: slow", 0), rec(6, "error", (), None, "malformed-sse: old bundle", 0)]
    s = summarize_load_point(records, load_point="lp", mode="concurrency")
    assert (s.completed, s.failed, s.stopped_early) == (2, 5, 1)
    assert s.ttft_ms.n == 1 and s.e2el_ms.n == 2
    assert s.failure_causes == {"http-status": 1, "malformed-event": 1, "timeout": 1, "truncated": 2}
    d = s.dominant_failure
    assert (d.cause, d.count, d.example) == ("truncated", 2, "truncated: cut") and d.share == pytest.approx(2 / 7)
    report = PerfReport(backend="openai", model="m", load_points=[s])
    assert mostly_failed(report).startswith("load point lp: 5 of 7 requests failed, most with cause truncated (2)")
    fine = summarize_load_point(records[:3], load_point="lp", mode="concurrency")
    assert mostly_failed(PerfReport(backend="openai", model="m", load_points=[fine])) is None
