"""Claim-grade needs the lm-eval task version the suite was written and checked for."""

from __future__ import annotations

from benchseal.evaluators import load_suite
from benchseal.evaluators.runner import claim_grade
from benchseal.schema import EvalResult


def _head(version: str | None) -> list[EvalResult]:
    return [EvalResult(suite="arc-challenge", task="arc_challenge", metric="acc_norm", filter="none", value=0.5,
                       n=1172, task_version=version, headline=True)]


def _prepared(suite) -> dict:
    """A data manifest proving each dataset is the suite's pinned hub commit (what `datasets prepare` records)."""
    return {"sha256": "ab", "datasets": {d.name: {"manifest": {
        "revision": d.revision, "prepared_at": "2026-12-07T00:00:00+00:00",
        "source_files": [{"path": p, "sha256": h} for p, h in (d.source_files or {}).items()]}} for d in suite.data.datasets}}


def _pinned(name: str):
    """The shipped suite with its data manifests pinned (issue 22 pins them in the shipped files; a
    standard suite without pins is not claim-grade: "data-not-pinned", tests/unit/claims/test_trust_boundary.py)."""
    suite = load_suite(name)
    for d in suite.data.datasets:
        d.manifest_sha256 = d.manifest_sha256 or "ab" * 32
    return suite


def test_the_task_version_the_suite_names_is_claim_grade():
    suite = _pinned("arc-challenge")
    assert suite.tasks[0].lm_eval_task_version == "1.0"
    assert claim_grade(suite, _head("1.0"), limit=None, backend_notes=[], manifest=_prepared(suite)) == []
    assert claim_grade(suite, _head("1"), limit=None, backend_notes=[], manifest=_prepared(suite)) == []  # same number


def test_another_task_version_is_not_claim_grade():
    suite = load_suite("arc-challenge")
    reasons = claim_grade(suite, _head("2.0"), limit=None, backend_notes=[], manifest=_prepared(suite))
    assert reasons == ["task arc_challenge: lm-eval ran task version 2.0, the suite was written and checked for "
                       "version 1.0 (its prompt or scoring may differ)"]


def test_every_standard_suite_names_its_task_version():
    from benchseal.evaluators import list_suites

    for s in list_suites():
        suite = load_suite(s["name"] if isinstance(s, dict) else s)
        if suite.kind != "standard":
            continue
        for t in suite.tasks:
            assert t.lm_eval_task_version, f"{suite.name}: task {t.task} names no lm-eval task version"
