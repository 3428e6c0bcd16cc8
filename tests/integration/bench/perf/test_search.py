"""SLA search: against a test server that serves 4 requests at once (a known knee at concurrency 4),
the search brackets the knee one step apart and keeps every probed point; verify re-derives it."""

from __future__ import annotations

import json

from benchseal.bench.perf.metrics import recompute_perf_report
from benchseal.bench.perf.search import SearchSpec, evaluate, next_level
from benchseal.io import iter_jsonl, read_json
from benchseal.schema import RequestRecord
import pytest

pytestmark = pytest.mark.serial  # timing measurements: alone under pytest-xdist (tests/conftest.py)


def test_search_order_doubles_then_bisects():
    spec = SearchSpec(mode="concurrency")
    hist: list[tuple[float, bool]] = []
    knee = 11
    while (lvl := next_level(spec, hist)) is not None:
        hist.append((lvl, lvl <= knee))
    assert [h[0] for h in hist] == [1, 2, 4, 8, 16, 12, 10, 11]
    rate = SearchSpec(mode="rate", start=1, tolerance=0.1)
    hist = []
    while (lvl := next_level(rate, hist)) is not None:
        hist.append((lvl, lvl <= 5.3))
    met = max(h for h, ok in hist if ok)
    missed = min(h for h, ok in hist if not ok)
    assert met <= 5.3 < missed and missed - met <= 0.1 * met


def test_search_finds_the_knee_of_the_test_server(spawn_test_server, tmp_path, run_cli):
    srv = spawn_test_server(ttft_ms=20, itl_ms=10, capacity=4)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"p {i}", "max_tokens": 8}) + "\n" for i in range(400)))
    out = tmp_path / "b"
    code, _, err = run_cli("perf", "--base-url", srv.url, "--model", "test-model", "--prompts", prompts, "--num-requests", "24",
                           "--slo", "ttft_ms=60", "--search", "concurrency", "--search-max", "16", "--no-audits",
                           "--out", out, "--no-progress")
    assert code == 0, err
    summary = read_json(out / "perf" / "summary.json")
    s = summary["search"]
    assert s["best"] == 4 and s["next_missed"] == 5 and s["resolution"] == 1, s
    assert [p["level"] for p in s["probed"]] == [1, 2, 4, 8, 6, 5]
    assert [lp["load_point"] for lp in summary["load_points"]] == [p["load_point"] for p in s["probed"]]
    recs = [RequestRecord.model_validate(r) for r in iter_jsonl(out / "perf" / "requests.jsonl")]
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary
    summary["search"]["best"] = 8  # an edited outcome is caught by verify's recomputation
    assert recompute_perf_report(summary, recs).model_dump(mode="json")["search"]["best"] == 4
    assert evaluate(SearchSpec(mode="concurrency"), [])["outcome"] == "no probed load met the SLOs"


def test_search_without_slo_is_a_usage_error(run_cli, tmp_path, test_server):
    code, _, err = run_cli("perf", "--base-url", test_server.url, "--model", "test-model", "--search", "rate",
                           "--out", tmp_path / "b")
    assert code == 2 and "SLA search needs SLOs" in err and "Traceback" not in err
