"""recompute:perf-audits: the audits of perf/summary.json re-derived from the raw files; an edit fails."""

from __future__ import annotations

import json

from benchseal.bench.perf.audits import derive_audits
from benchseal.io import write_json
from benchseal.reports.verify.audits import PerfAuditsCheck
from benchseal.reports.verify.policy import BundleContext
from benchseal.schema import PerfReport
from tests.unit.bench.perf.audits.test_records import rec


def _bundle(tmp_path, *, tamper=False, drop_rows=False):
    recs = [rec(i) for i in range(6)]
    rows = [{"skip": "cache", "reason": "asked to"}]
    report = PerfReport(backend="openai", model="m")
    report.audits = derive_audits(report.model_dump(mode="json"), recs, rows)
    if tamper:
        report.audits[0] = report.audits[0].model_copy(update={"status": "fail"})
    perf = tmp_path / "perf"
    perf.mkdir()
    write_json(perf / "summary.json", report)
    (perf / "requests.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in recs))
    if not drop_rows:
        (perf / "audits.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return BundleContext(tmp_path, {}, require_signature=False)


def _results(ctx):
    return list(PerfAuditsCheck().check(ctx))


def test_rederived_audits_pass(tmp_path):
    (r,) = _results(_bundle(tmp_path))
    assert r.ok and not r.skipped and "5 audit(s) re-derived" in r.detail


def test_an_edited_audit_fails(tmp_path):
    (r,) = _results(_bundle(tmp_path, tamper=True))
    assert not r.ok and "differ" in r.detail and "status" in r.detail


def test_audits_without_their_rows_fail(tmp_path):
    (r,) = _results(_bundle(tmp_path, drop_rows=True))
    assert not r.ok and "perf/audits.jsonl is missing" in r.detail


def test_no_audits_is_skipped(tmp_path):
    (tmp_path / "perf").mkdir()
    write_json(tmp_path / "perf" / "summary.json", PerfReport(backend="openai", model="m"))
    (r,) = _results(BundleContext(tmp_path, {}, require_signature=False))
    assert r.skipped
