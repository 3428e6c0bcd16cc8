"""The audit probes against the test server: each audit passes on the honest server and catches
the server built to have its fault (benchseal.testing.server quirks)."""

from __future__ import annotations

import pytest

from benchseal.bench.perf.audits import derive_audits
from benchseal.bench.perf.audits.probes import AuditOptions
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.run import LoadSpec, run_perf
from benchseal.io import iter_jsonl, read_json
from benchseal.schema import RequestRecord

pytestmark = pytest.mark.serial  # timing measurements: alone under pytest-xdist (tests/conftest.py)


def _prompts(n: int, max_tokens: int = 8) -> list[GenRequest]:
    return [GenRequest(request_id=i, prompt=f"prompt {i} of the audit workload", max_tokens=max_tokens) for i in range(n)]


def _run(srv, tmp_path, *, prompts=64, load=None, skip=None):
    be = OpenAIBackend(model="test-model", base_url=srv.url, preflight=False, ignore_eos=True)
    load = load or LoadSpec(concurrency=[1, 2], num_requests=24)
    report = run_perf(be, _prompts(prompts), load, tmp_path, progress=False,
                      audits=AuditOptions(skip=dict(skip or {})))
    return {a.name: a for a in report.audits}, report


def _rederived(tmp_path):
    summary = read_json(tmp_path / "perf" / "summary.json")
    recs = [RequestRecord.model_validate(r) for r in iter_jsonl(tmp_path / "perf" / "requests.jsonl")]
    rows = list(iter_jsonl(tmp_path / "perf" / "audits.jsonl"))
    return summary, [a.model_dump(mode="json") for a in derive_audits(summary, recs, rows)]


def test_every_audit_passes_on_the_honest_server(spawn_test_server, tmp_path):
    srv = spawn_test_server(itl_ms=4)
    audits, report = _run(srv, tmp_path)
    assert {n: a.status for n, a in audits.items()} == dict.fromkeys(
        ("first-content", "output-consistency", "prompt-reuse", "cache", "accuracy-under-load"), "pass"), audits
    summary, again = _rederived(tmp_path)
    assert summary["audits"] == again
    assert summary["capabilities"]["event_loop"].startswith(("asyncio", "uvloop"))  # bench.perf.loadgen.eventloop
    # every accuracy item ran under the audit load, which ran until they were answered (bench.perf.audits.load)
    assert audits["accuracy-under-load"].detail.startswith("4 of 4 "), audits["accuracy-under-load"].detail
    (load,) = [r for r in iter_jsonl(tmp_path / "perf" / "audits.jsonl") if r.get("probe") == "accuracy-load"]
    assert load["stopped_after_probes"] and load["after"] == "concurrency=2" and load["ok"] == load["sent"] > 0
    assert all(lp.ttfc_ms is not None and lp.ttfc_ms.n == lp.ttft_ms.n for lp in report.load_points)


def test_response_cache_is_caught(spawn_test_server, tmp_path):
    srv = spawn_test_server(itl_ms=4, quirk="cache")
    audits, _ = _run(srv, tmp_path, skip={"accuracy-under-load": "not this test"})
    assert audits["cache"].status == "fail" and "response cache" in audits["cache"].detail
    assert audits["accuracy-under-load"].status == "not-run" and audits["accuracy-under-load"].detail == "not this test"


def test_wrong_usage_counts_are_caught(spawn_test_server, tmp_path):
    srv = spawn_test_server(itl_ms=1, quirk="usage")
    audits, _ = _run(srv, tmp_path, load=LoadSpec(concurrency=[2], num_requests=8), skip={"cache": "-"})
    a = audits["output-consistency"]
    assert a.status == "fail" and "output above max_tokens" in a.detail and a.touches == ["*"]


def test_wrong_usage_counts_are_caught_by_the_servers_token_ids(spawn_test_server, tmp_path):
    srv = spawn_test_server(itl_ms=1, quirk="usage")
    be = OpenAIBackend(model="test-model", base_url=srv.url, preflight=False, extra_body={"return_token_ids": True})
    report = run_perf(be, _prompts(8), LoadSpec(concurrency=[2], num_requests=8), tmp_path, progress=False,
                      audits=AuditOptions(skip={"cache": "-", "accuracy-under-load": "-"}))
    a = {x.name: x for x in report.audits}["output-consistency"]
    assert a.status == "fail" and "server usage and its streamed token ids disagree: 8" in a.detail, a.detail


def test_model_swapped_under_load_is_caught(spawn_test_server, tmp_path):
    # cache probe off; 4 items at rest are the first 4 requests, then another model answers
    srv = spawn_test_server(itl_ms=4, quirk="swap", quirk_after=4)
    audits, _ = _run(srv, tmp_path, load=LoadSpec(concurrency=[2], num_requests=24), skip={"cache": "-"})
    a = audits["accuracy-under-load"]
    assert a.status == "fail" and a.detail.startswith("0 of 4 greedy items"), a.detail


def test_blank_first_chunk_gateway_is_caught(spawn_test_server, tmp_path):
    srv = spawn_test_server(ttft_ms=250, itl_ms=1, quirk="blank_first")
    audits, report = _run(srv, tmp_path, load=LoadSpec(concurrency=[4], num_requests=8),
                          skip={"cache": "-", "accuracy-under-load": "-"})
    a = audits["first-content"]
    assert a.status == "fail" and "ttfc_ms" in a.detail
    lp = report.load_points[0]
    assert lp.ttft_ms.p50 < 100 <= 240 <= lp.ttfc_ms.p50  # the blank came at once; the text after ~250 ms


def test_prompts_resent_across_load_points_are_caught(spawn_test_server, tmp_path):
    srv = spawn_test_server()
    audits, _ = _run(srv, tmp_path, prompts=4, load=LoadSpec(concurrency=[1, 2], num_requests=6),
                     skip={"cache": "-", "accuracy-under-load": "-"})
    a = audits["prompt-reuse"]
    assert a.status == "fail" and "num_prompts to at least 12" in a.detail


def test_cli_writes_audits_and_refuses_an_unknown_one(spawn_test_server, tmp_path, run_cli):
    import json

    srv = spawn_test_server(itl_ms=2)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"prompt {i} here", "max_tokens": 6}) + "\n" for i in range(12)))
    out = tmp_path / "b"
    code, _, err = run_cli("perf", "--base-url", srv.url, "--model", "test-model", "--prompts", prompts,
                           "--concurrency", "1,2", "--num-requests", "6", "--skip-audit", "cache:too slow here",
                           "--out", out, "--no-progress")
    assert code == 0, err
    audits = {a["name"]: a for a in read_json(out / "perf" / "summary.json")["audits"]}
    assert audits["cache"] == {"name": "cache", "status": "not-run", "detail": "too slow here", "touches": []}
    assert audits["prompt-reuse"]["status"] == "pass" and audits["output-consistency"]["status"] == "pass"
    code, _, err = run_cli("perf", "--base-url", srv.url, "--model", "test-model", "--prompts", prompts,
                           "--skip-audit", "bogus", "--out", tmp_path / "c")
    assert code == 2 and "unknown audit 'bogus'" in err and "Traceback" not in err


def test_repeats_send_unique_prompts_and_record_their_spread(spawn_test_server, tmp_path):
    from benchseal.bench.perf.metrics import recompute_perf_report

    srv = spawn_test_server(itl_ms=1)
    audits, report = _run(srv, tmp_path, prompts=24, load=LoadSpec(concurrency=[2], num_requests=6, repeats=3),
                          skip={"cache": "-", "accuracy-under-load": "-"})
    assert [(lp.load_point, lp.repeat) for lp in report.load_points] == [
        ("concurrency=2", 1), ("concurrency=2#2", 2), ("concurrency=2#3", 3)]
    assert audits["prompt-reuse"].status == "pass"  # 18 requests, 18 distinct prompts
    assert report.repeat_spread["concurrency=2"]["request_throughput"]["n"] == 3
    summary, _ = _rederived(tmp_path)
    recs = [RequestRecord.model_validate(r) for r in iter_jsonl(tmp_path / "perf" / "requests.jsonl")]
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary


def test_certificate_before_each_load_point(spawn_test_server, tmp_path):
    from benchseal.bench.perf.metrics import recompute_perf_report

    srv = spawn_test_server(ttft_ms=20, itl_ms=20)
    _, report = _run(srv, tmp_path, prompts=16, load=LoadSpec(concurrency=[1, 2], num_requests=4),
                     skip={"cache": "-", "accuracy-under-load": "-"})
    for lp in report.load_points:
        ceil = lp.client_ceiling
        assert ceil["status"] == "measured" and ceil["concurrency"] == lp.concurrency
        assert lp.client_bound is False and 0 < lp.client_bound_fraction < CLIENT_BOUND
    summary, _ = _rederived(tmp_path)
    recs = [RequestRecord.model_validate(r) for r in iter_jsonl(tmp_path / "perf" / "requests.jsonl")]
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary


CLIENT_BOUND = 0.5
