"""Server-side metrics against real local servers: the controllable test server's /metrics (vLLM's
format, its own measured delays as ground truth), a server without metrics, hostile responses, and
`benchseal perf` end to end."""

from __future__ import annotations

import http.server
import json
import math
import threading
import time
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.bench.perf import server_metrics as sm
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.spec import OpenAISpec
from benchseal.bench.perf.run import LoadSpec, run_perf
from benchseal.io import iter_jsonl, read_json
from benchseal.reports.verify.policy import BundleContext
from benchseal.reports.verify.server_metrics import ServerMetricsCheck
from benchseal.testing.server import TTFT_BUCKETS

REQS = [GenRequest(request_id=i, prompt="one two three four five", max_tokens=6) for i in range(4)]


def _run(url: str, out: Path, **spec_kw):
    spec = OpenAISpec(model="test-model", base_url=url + "/v1", **spec_kw)
    load = LoadSpec(concurrency=[1, 3], num_requests=9, warmup_requests=2)
    return run_perf(spec.build(out), REQS, load, out, progress=False)


def test_server_figures_match_the_test_servers_own_measurements(spawn_test_server, tmp_path):
    srv = spawn_test_server(ttft_ms=30, itl_ms=4, per_request_metrics=True)
    report = _run(srv.url, tmp_path, server_metrics_interval_s=0.1)
    assert report.status == "complete"
    doc = read_json(tmp_path / layout.PERF_SERVER_METRICS)
    assert doc["status"] == "collected" and doc["source"] == "discovered" and doc["url"] == srv.url + "/metrics"
    records = [r for r in iter_jsonl(tmp_path / layout.PERF_REQUESTS)]
    assert all(r["server_timing"] and "time_to_first_token_ms" in r["server_timing"] for r in records)
    scrapes = list(iter_jsonl(tmp_path / layout.PERF_SERVER_SCRAPES))
    assert {s["phase"] for s in scrapes} == {"start", "interval", "end"} and all(s["ok"] for s in scrapes)
    assert [lp["load_point"] for lp in doc["load_points"]] == ["concurrency=1", "concurrency=3"]
    for lp in doc["load_points"]:
        mine = [r for r in records if r["load_point"] == lp["load_point"]]
        assert lp["status"] == "ok" and lp["warmup_included"] == 2 and len(mine) == 11
        # counters: exactly the requests and tokens the server reported in usage (warm-up included)
        assert lp["requests"] == 11 and lp["generation_tokens"] == sum(r["output_tokens_server"] for r in mine)
        assert lp["prompt_tokens"] == sum(r["prompt_tokens_server"] for r in mine)
        # the histogram mean is the mean of what the server measured per request (same observations)
        server_ttft = sorted(r["server_timing"]["time_to_first_token_ms"] for r in mine)
        assert lp["ttft_ms"]["n"] == 11 and lp["ttft_ms"]["mean_ms"] == pytest.approx(sum(server_ttft) / 11, rel=1e-9)
        # the estimated median lies in the bucket that holds the true median
        med = server_ttft[5] / 1e3
        hi = next(b for b in TTFT_BUCKETS if med <= b)
        lo = max([0.0] + [b for b in TTFT_BUCKETS if b < hi])
        assert lo * 1e3 <= lp["ttft_ms"]["p50_ms"] <= hi * 1e3
        rc = lp["reconciliation"]
        assert rc["client_requests"] == 11 and rc["server_requests"] == 11
        assert rc["usage_output_tokens"] == rc["server_generation_tokens"]
        assert rc["ttft_overhead_ms"] == pytest.approx(rc["client_ttft_mean_ms"] - rc["server_ttft_mean_ms"])
        assert rc["per_request_ttft_overhead_ms"]["n"] == 11
        assert lp["running"]["n"] >= 1 and lp["queue_ms"]["mean_ms"] == 0.0
    (res,) = ServerMetricsCheck().check(BundleContext(tmp_path, {}))
    assert res.ok and not res.skipped, res.detail


def test_a_server_without_metrics_is_recorded_and_the_run_goes_on(spawn_test_server, tmp_path):
    srv = spawn_test_server(metrics=False)
    report = _run(srv.url, tmp_path)
    assert report.status == "complete" and len(report.load_points) == 2
    doc = read_json(tmp_path / layout.PERF_SERVER_METRICS)
    assert doc["status"] == "unavailable" and "exposes no metrics (HTTP 404" in doc["reason"]
    assert all(lp["status"] == "unavailable" and "exposes no metrics" in lp["reason"] for lp in doc["load_points"])
    scrapes = list(iter_jsonl(tmp_path / layout.PERF_SERVER_SCRAPES))
    assert len(scrapes) == 1 and scrapes[0]["http_status"] == 404  # not asked again
    (res,) = ServerMetricsCheck().check(BundleContext(tmp_path, {}))
    assert res.ok


def test_an_unreachable_metrics_url_never_fails_the_run(spawn_test_server, tmp_path):
    srv = spawn_test_server()
    report = _run(srv.url, tmp_path, server_metrics_url="http://127.0.0.1:9/metrics", server_metrics_interval_s=0.2)
    assert report.status == "complete" and all(lp.completed == 9 for lp in report.load_points)
    doc = read_json(tmp_path / layout.PERF_SERVER_METRICS)
    assert doc["source"] == "configured" and doc["status"] == "unavailable" and "no successful scrape of" in doc["reason"]
    assert all("no successful scrape at the load point's start" in lp["reason"] for lp in doc["load_points"])


def test_no_server_metrics_writes_nothing(spawn_test_server, tmp_path):
    srv = spawn_test_server()
    _run(srv.url, tmp_path, no_server_metrics=True)
    assert not (tmp_path / layout.PERF_SERVER_METRICS).exists() and not (tmp_path / layout.PERF_SERVER_SCRAPES).exists()


class _Hostile(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/huge":
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"x 1\n" * 4096)
        elif self.path == "/slow":
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"# slow\n")
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path == "/gzip":
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(b"\x1f\x8b junk")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/metrics")
            self.end_headers()
        else:
            self.send_response(500)
            self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def hostile():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_scrapes_are_bounded_in_size_and_time(hostile):
    big = sm.scrape(hostile + "/huge", max_bytes=100_000)
    assert not big["ok"] and "larger than 100,000 bytes" in big["error"] and big["body"] is None
    slow = sm.scrape(hostile + "/slow", timeout_s=0.5)
    assert not slow["ok"] and "longer than 0.5 s" in slow["error"] and slow["elapsed_ms"] < 2000
    assert "Content-Encoding" in sm.scrape(hostile + "/gzip")["error"]
    red = sm.scrape(hostile + "/redirect")
    assert not red["ok"] and red["http_status"] == 302  # redirects are not followed
    assert sm.scrape(hostile + "/other")["error"] == "HTTP 500"
    assert "not an http(s) URL" in sm.scrape("file:///etc/passwd")["error"]


def test_cli_perf_collects_and_reports(spawn_test_server, tiny_llama, tmp_path, run_cli):
    srv = spawn_test_server(ttft_ms=20, itl_ms=5)
    out = tmp_path / "b"
    code, _, err = run_cli("perf", "--base-url", srv.url + "/v1", "--model", "test-model", "--tokenizer", tiny_llama,
                           "--input-len", "8", "--output-len", "4", "--concurrency", "2", "--num-requests", "6",
                           "--server-metrics-interval", "0.02", "--no-progress", "--out", out,
                           "--skip-audit", "cache:not this test")
    assert code == 0, err
    doc = read_json(out / layout.PERF_SERVER_METRICS)
    (lp,) = doc["load_points"]
    # the accuracy probes ran under a load sent after the closing scrape: the window holds the 6 measured requests
    assert lp["status"] == "ok" and lp["requests"] == 6
    audits = {a["name"]: a["status"] for a in read_json(out / layout.PERF_SUMMARY)["audits"]}
    assert audits["accuracy-under-load"] == "pass" and audits["prompt-reuse"] == "pass", audits
    rc = lp["reconciliation"]
    # client-counted tokens (the client tokenizer) next to the server's counters
    assert rc["client_output_tokens"] is not None and rc["server_generation_tokens"] == rc["usage_output_tokens"]
    code, _, err = run_cli("perf", "--base-url", srv.url, "--model", "test-model", "--no-server-metrics",
                           "--server-metrics", "http://127.0.0.1:9/metrics", "--tokenizer", tiny_llama, "--out", tmp_path / "c")
    assert code == 2 and "contradict" in err


def test_run_bundle_carries_server_metrics_that_verify_recomputes_and_the_report_shows(spawn_test_server, tiny_llama,
                                                                                       tmp_path, run_cli):
    from benchseal.reports.verify import verify_bundle

    srv = spawn_test_server(model="tiny", ttft_ms=10, itl_ms=2, per_request_metrics=True)
    out = tmp_path / "b"
    code, _, err = run_cli("run", "hunan-2025", "--backend", "openai", "--base-url", srv.url, "--model", "tiny",
                           "--model-path", tiny_llama, "--stages", "hw,perf", "--workload", "demo-cpu",
                           "--server-metrics-interval", "0.05", "--out", out)
    assert code in (0, 1), err[-2000:]
    doc = read_json(out / layout.PERF_SERVER_METRICS)
    assert doc["status"] == "collected" and all(lp["status"] in ("ok", "partial") for lp in doc["load_points"])
    report = verify_bundle(out, public_keys=None, trusted_dir=None, require_signature=False)
    (check,) = [c for c in report.checks if c.name == "recompute:server-metrics"]
    assert check.ok and not check.skipped, check.detail
    md = (out / layout.REPORT_MD).read_text()
    assert "client/server reconciliation" in md and doc["load_points"][0]["load_point"] in md.split("reconciliation", 1)[1]
