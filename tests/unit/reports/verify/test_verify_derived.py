"""Issue 21: the four derived fields a key holder could edit and re-sign are re-derived by verify
(reports/verify/derived.py): claim_grade, lm-eval aggregates, deciders, request counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.io import iter_jsonl, read_json, write_json
from benchseal.reports.verify import verify_bundle
from benchseal.reports.verify.derived import DERIVED_CHECKS


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from tests.helpers.sign_support import verifiable_bundle

    return verifiable_bundle(tmp_path_factory.mktemp("derived") / "b")


@pytest.fixture
def bundle(base, tmp_path):
    import shutil

    return Path(shutil.copytree(base, tmp_path / "b"))


def _checks(root: Path) -> dict[str, object]:
    report = verify_bundle(root, require_signature=False, policies=DERIVED_CHECKS)
    return {c.name: c for c in report.checks}


def _failed(root: Path) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in _checks(root).values() if not c.ok]


def test_the_honest_bundle_passes_every_rederivation(bundle):
    assert _failed(bundle) == []


def test_claim_grade_of_a_limited_run_is_caught(bundle):
    f = bundle / layout.EVAL_DIR / "hunan-core" / layout.EVAL_RESULTS
    rep = read_json(f)
    for r in rep["results"]:
        r["limit"] = 20.0  # a --limit 20 run, re-labelled claim-grade
    rep["claim_grade"], rep["not_claim_grade_reasons"] = True, []
    write_json(f, rep)
    failed = _failed(bundle)
    assert any(x.startswith("rederive:claim-grade:hunan-core") and "--limit 20" in x for x in failed), failed


def _suite_with_samples(root: Path, stored: float) -> Path:
    d = root / layout.EVAL_DIR / "own-suite"
    d.mkdir(parents=True)
    rows = [{"doc_id": i, "doc_hash": f"h{i}", "filter": "none", "acc": float(i % 2)} for i in range(4)]
    with open(d / "samples_t.jsonl", "w") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
    write_json(d / "lm_eval_results.json", {"results": {"t": {"acc,none": stored}}})
    write_json(d / layout.EVAL_RESULTS, {"suite": "own-suite", "backend": "hf", "model": "m", "claim_grade": False,
                                         "results": [{"suite": "own-suite", "task": "t", "metric": "acc", "value": stored,
                                                      "n": 4, "headline": True}],
                                         "extra": {"samples_files": ["samples_t.jsonl"]}})
    return d


def test_an_aggregate_edited_against_its_per_sample_log_is_caught(bundle):
    _suite_with_samples(bundle, 0.5)
    assert _checks(bundle)["rederive:aggregates:own-suite/t"].ok
    write_json(bundle / layout.EVAL_DIR / "own-suite" / "lm_eval_results.json", {"results": {"t": {"acc,none": 0.75}}})
    failed = _failed(bundle)
    assert any("own-suite/t" in x and "mean of its 4 per-sample scores is 0.5" in x for x in failed), failed
    (bundle / layout.EVAL_DIR / "own-suite" / "samples_t.jsonl").unlink()  # the log removed: nothing to re-derive from
    assert any("no per-sample log" in x for x in _failed(bundle))


def test_deciders_edited_against_the_per_sample_records_are_caught(bundle):
    d = bundle / layout.EVAL_DIR / "refusal"
    d.mkdir(parents=True, exist_ok=True)
    rows = [{"bank": "should_refuse", "id": str(i), "response": "I can't help with that.", "rule_decision": "refusal",
             "rule": "cant", "judge": None, "decision": "refusal"} for i in range(3)]
    with open(d / "samples_refusal.jsonl", "w") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
    extra = {"judged_by": "rules+judge", "judge": {"endpoint": "http://j/v1", "model": "j"}, "deciders": {"rules": 0, "judge": 3}}
    write_json(d / layout.EVAL_RESULTS, {"suite": "refusal", "backend": "hf", "model": "m", "claim_grade": False, "extra": extra})
    failed = _failed(bundle)
    assert any(x.startswith("rederive:deciders:refusal") and "the samples give {'rules': 3, 'judge': 0}" in x for x in failed), failed


def test_dropped_failures_are_caught_against_the_load_spec(bundle):
    from tests.helpers.sign_support import rederive_summaries

    run = read_json(bundle / layout.RUN_JSON)
    run["spec"]["workload"] = "own"  # not the program's: only the request count is checked here
    write_json(bundle / layout.RUN_JSON, run)
    summary = read_json(bundle / layout.PERF_SUMMARY)
    summary["load"] = {"num_requests": 24}
    write_json(bundle / layout.PERF_SUMMARY, summary)
    assert _checks(bundle)["rederive:request-counts"].ok
    recs = [r for r in iter_jsonl(bundle / layout.PERF_REQUESTS)]
    kept = [r for i, r in enumerate(recs) if not (r["load_point"] == "concurrency=4" and i % 12 == 0)]  # two dropped
    with open(bundle / layout.PERF_REQUESTS, "w") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in kept))
    rederive_summaries(bundle)  # the summary recomputed from what is left: consistent, but short of the spec
    summary = read_json(bundle / layout.PERF_SUMMARY)
    summary["load"] = {"num_requests": 24}
    write_json(bundle / layout.PERF_SUMMARY, summary)
    failed = _failed(bundle)
    assert any("concurrency=4: the load spec asks for 24 requests, perf/requests.jsonl holds 22" in x for x in failed), failed


def test_a_load_spec_other_than_the_programs_workload_is_caught(bundle):
    summary = read_json(bundle / layout.PERF_SUMMARY)
    summary["load"] = {"num_requests": 3, "concurrency": [1]}
    write_json(bundle / layout.PERF_SUMMARY, summary)
    failed = _failed(bundle)
    assert any("differs from the program's workload 'hunan-deployment'" in x for x in failed), failed


def test_a_reference_is_verified_against_a_named_key(tmp_path, base):
    import shutil

    from benchseal.errors import BundleError, UsageError
    from benchseal.reports.seal.statement import sign_bundle
    from benchseal.reports.verify.reference import verify_reference
    from tests.helpers.sign_support import PASSPHRASE, new_keys

    ref = Path(shutil.copytree(base, tmp_path / "ref"))
    keys = new_keys(tmp_path / "k")
    other = new_keys(tmp_path / "k2")
    sign_bundle(ref, keys.private_key_path, PASSPHRASE.encode())
    rec = verify_reference(ref, keys.public_key_path, flag="--parity-reference", key_flag="--reference-key")
    assert rec["verified"] and rec["keyid"] and rec["model_digest"] == read_json(ref / layout.MODEL_JSON)["model_digest"]
    with pytest.raises(UsageError, match="needs --reference-key"):
        verify_reference(ref, None, flag="--parity-reference", key_flag="--reference-key")
    with pytest.raises(BundleError, match="does not verify"):
        verify_reference(ref, other.public_key_path, flag="--parity-reference", key_flag="--reference-key")
    summary = read_json(ref / layout.PERF_SUMMARY)  # edited after signing, statement re-hashed without the key
    summary["load_points"][0]["output_token_throughput"] *= 2
    write_json(ref / layout.PERF_SUMMARY, summary)
    with pytest.raises(BundleError, match="does not verify"):
        verify_reference(ref, keys.public_key_path, flag="--lightweight-of", key_flag="--reference-key")


def test_the_run_verifies_its_reference_before_anything_runs(tmp_path, base):
    """pipeline.claims.verify_reference: with --reference-key the record is kept for the eval and
    lightweight stages and named in run.json choices; a wrong key stops the run (exit 2); without a key
    the reference is recorded unsigned (its claims are INCONCLUSIVE) and the log says so."""
    import shutil
    from types import SimpleNamespace

    from benchseal.errors import BundleError
    from benchseal.pipeline.claims import verify_reference
    from benchseal.reports.seal.statement import sign_bundle
    from tests.helpers.sign_support import PASSPHRASE, new_keys

    ref = Path(shutil.copytree(base, tmp_path / "ref"))
    keys, other = new_keys(tmp_path / "k"), new_keys(tmp_path / "k2")
    sign_bundle(ref, keys.private_key_path, PASSPHRASE.encode())

    def ctx(key):
        spec = SimpleNamespace(lightweight_of=str(ref), parity_reference=str(ref), reference_key=[str(key)] if key else [])
        return SimpleNamespace(spec=spec, extras={}, manifest=SimpleNamespace(choices={}), log=logged.append)

    logged: list[str] = []
    good = ctx(keys.public_key_path)
    verify_reference(good)
    assert good.extras["reference_signature"]["verified"] and good.manifest.choices["references"]["signature"]["keyid"]
    with pytest.raises(BundleError, match="does not verify"):
        verify_reference(ctx(other.public_key_path))
    unsigned = ctx(None)
    verify_reference(unsigned)
    assert unsigned.extras["reference_signature"] is None and "without --reference-key" in logged[-1]
