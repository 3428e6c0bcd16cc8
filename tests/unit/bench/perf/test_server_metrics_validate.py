"""Exposition validation (server_metrics.validate): an implausible series is dropped with its reason
and never becomes a figure or a reconciliation; a plausible scrape is untouched. Also the CLI range
checks of --server-metrics-interval and --server-metrics, and the scrubbing of a scraped body."""

from __future__ import annotations

import re

import pytest

from benchseal.bench.perf import server_metrics as sm
from benchseal.bench.perf.backends.spec import OpenAISpec
from tests.unit.bench.perf.test_server_metrics import _rec, _run_window, _scrape

TTFT = "vllm:time_to_first_token_seconds"


def _derive(end_text: str, *, during_text: str | None = None):
    before, during, after, _ = _run_window([[0.03, 0.04], [0.05, 0.06]])
    scrapes = [_scrape("lp", "start", before, 0.0), _scrape("lp", "interval", during_text or during, 0.5),
               _scrape("lp", "end", end_text if end_text is not None else after, 1.0)]
    recs = [_rec("lp", i, ttft_s=0.03, e2e_s=0.04) for i in range(2)]
    return sm.derive_load_point(scrapes, "lp", recs, model="m"), after, during


def _edit(text: str, pattern: str, repl: str) -> str:
    out, n = re.subn(pattern, repl, text, flags=re.M)
    assert n, pattern
    return out


def test_a_plausible_window_is_untouched():
    lp, _, _ = _derive(None)
    assert lp.status == "ok" and not lp.notes and lp.ttft_ms.n == 2


@pytest.mark.parametrize("figure,pattern,repl,why", [
    ("ttft", rf'^({re.escape(TTFT)}_bucket{{engine="0",le="0.001".*}}) \S+$', r"\1 -5000.0", "bucket count"),
    ("ttft", rf'^({re.escape(TTFT)}_bucket{{engine="0",)le="0.001"', r'\1le="-5"', "bound of -5"),
    ("ttft", rf'^({re.escape(TTFT)}_sum{{.*}}) \S+$', r"\1 -5000.0", "_sum of -5000"),
    ("ttft", rf'^({re.escape(TTFT)}_count{{.*}}) \S+$', r"\1 2000.0", "differs from its +Inf bucket"),
    ("ttft", rf'^({re.escape(TTFT)}_bucket{{engine="0",le="\+Inf".*}}) \S+$', r"\1 0.0", "decrease"),
    ("generation_tokens", r"^(vllm:generation_tokens_total{.*}) \S+$", r"\1 1e300", "counter value of 1e+300"),
    ("prompt_tokens", r"^(vllm:prompt_tokens_total{.*}) \S+$", r"\1 NaN", "counter value of nan"),
])
def test_implausible_histograms_and_counters_are_dropped_with_their_reason(figure, pattern, repl, why):
    _, after, _ = _derive(None)
    lp, _, _ = _derive(_edit(after, pattern, repl))
    assert getattr(lp, figure if figure not in sm.HISTOGRAMS else f"{figure}_ms") is None
    assert "dropped as implausible" in lp.absent[figure] and why in lp.absent[figure], lp.absent[figure]
    assert any(n.startswith("dropped vllm:") for n in lp.notes) and lp.status == "partial"
    if figure == "ttft":
        assert lp.reconciliation.server_ttft_mean_ms is None and lp.reconciliation.ttft_overhead_ms is None


def test_duplicate_series_are_dropped_not_summed():
    _, after, _ = _derive(None)
    line = next(ln for ln in after.splitlines() if ln.startswith("vllm:prompt_tokens_total{"))
    lp, _, _ = _derive(after + line + "\n")
    assert lp.prompt_tokens is None and "duplicate series" in lp.absent["prompt_tokens"]


@pytest.mark.parametrize("gauge,value,why", [("vllm:kv_cache_usage_perc", "5.0", "fraction"),
                                             ("vllm:num_requests_running", "-3", "requests"),
                                             ("vllm:num_requests_waiting", "1e30", "requests")])
def test_gauges_outside_their_meaning_are_dropped(gauge, value, why):
    _, _, during = _derive(None)
    lp, _, _ = _derive(None, during_text=_edit(during, rf"^({re.escape(gauge)}{{.*}}) \S+$", rf"\1 {value}"))
    key = {"vllm:kv_cache_usage_perc": "kv_cache_usage", "vllm:num_requests_running": "running",
           "vllm:num_requests_waiting": "waiting"}[gauge]
    assert getattr(lp, key) is None and why in lp.absent[key] and "dropped" in lp.absent[key]


def test_verify_rederives_the_same_drops():
    _, after, _ = _derive(None)
    bad = _edit(after, rf'^({re.escape(TTFT)}_sum{{.*}}) \S+$', r"\1 -1.0")
    lp, _, _ = _derive(bad)
    again, _, _ = _derive(bad)
    assert lp.model_dump() == again.model_dump()


@pytest.mark.parametrize("kw,msg", [({"server_metrics_interval_s": 1e-9}, "greater than or equal to 0.01"),
                                    ({"server_metrics_interval_s": float("inf")}, "finite"),
                                    ({"server_metrics_interval_s": 1e9}, "less than or equal"),
                                    ({"server_metrics_url": ""}, "empty"), ({"server_metrics_url": "  "}, "empty")])
def test_cli_values_are_range_checked(kw, msg):
    with pytest.raises(ValueError, match=msg):
        OpenAISpec(model="m", **kw)
    with pytest.raises(ValueError):
        sm.ServerMetricsOptions(interval_s=kw.get("server_metrics_interval_s", 2.0), url=kw.get("server_metrics_url"))


def test_per_request_metrics_outside_their_meaning_are_left_out():
    got = sm.per_request_timing({"time_to_first_token_ms": -5000.0, "queue_time_ms": 1e300, "mean_itl_ms": 12.5})
    assert got == {"mean_itl_ms": 12.5}
