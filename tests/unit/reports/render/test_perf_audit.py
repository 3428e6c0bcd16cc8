"""The report's perf-audit sections: audits, intervals with the client ceiling, records flags, and an
op: present claim shown as reported."""

from __future__ import annotations

from pathlib import Path

from benchseal.reports.render.perf_audit import audit_table, interval_table, records_table, shown_status, status_label
from benchseal.reports.render.view import BundleView


def _view(**perf):
    lp = {"load_point": "concurrency=4", "output_token_throughput": 40000.0,
          "ttft_ms": {"n": 8, "ci95": {"p50": [10.0, 80.0], "p99": [70.0, None]}},
          "e2el_ms": {"n": 8, "ci95": {"p99": [90.0, None]}},
          "throughput_ci95": {"request_throughput": [3.0, 9.0], "output_token_throughput": [300.0, 900.0]},
          "client_ceiling": {"status": "measured", "request_throughput": 900.0}, "client_bound_fraction": 0.62,
          "client_bound": True}
    return BundleView(root=Path("."), run={}, hardware={"gpus": [{"name": "NVIDIA H100 80GB HBM3"}]},
                      perf={"model": "Llama-3.1-8B", "load_points": [lp], **perf})


def test_audit_rows_and_none_without_audits():
    v = _view(audits=[{"name": "cache", "status": "fail", "detail": "response cache", "touches": ["*"]}])
    assert audit_table(v) == (["audit", "status", "detail"], [["cache", "fail", "response cache"]])
    assert audit_table(_view()) is None


def test_interval_rows_show_missing_bounds_and_the_certificate():
    heads, (row,) = interval_table(_view())
    assert row[:5] == ["concurrency=4", 8, "10 – 80", "70 – —", "90 – —"]
    assert row[-1] == "900 req/s; reached 62% — client-bound"


def test_records_flag_and_reported_status():
    heads, (row,) = records_table(_view())
    assert row[0] == "concurrency=4" and row[2] == "2.884e+04"
    assert shown_status({"op": "present", "status": "PASS"}) == "REPORTED"
    assert shown_status({"op": "present", "status": "INCONCLUSIVE"}) == "INCONCLUSIVE"
    assert status_label("REPORTED") == "已报告 / reported" and status_label("PASS") == "通过 / PASS"
