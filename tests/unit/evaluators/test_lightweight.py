"""The lightweight comparison (benchseal.evaluators.lightweight): the pure derivation, the reference
checks, and the claims that read it."""

from __future__ import annotations

import pytest

from benchseal.errors import UsageError
from benchseal.evaluators.lightweight import check_reference, derive_lightweight, oriented_ratio, weights_bytes
from benchseal.io import write_json


def _model(weights: int) -> dict:
    return {"files": [{"path": "model.safetensors", "sha256": "a" * 64, "size_bytes": str(weights)},
                      {"path": "tokenizer.json", "sha256": "b" * 64, "size_bytes": 1000}]}


def _lp(name: str, tput: float, ttft: float, e2el: float, completed: int = 8) -> dict:
    return {"load_point": name, "completed": completed, "failed": 0, "output_token_throughput": tput,
            "ttft_ms": {"n": completed, "p99": ttft}, "e2el_ms": {"n": completed, "p99": e2el}}


def _perf(memory: dict | None, lps: list[dict], sha: str = "w" * 64, backend: str = "hf") -> dict:
    caps = {"memory": memory} if memory is not None else {}
    return {"backend": backend, "workload": {"sha256": sha}, "load_points": lps, "capabilities": caps,
            "load": {"concurrency": [1, 2]}}


def _parity(tasks: list[tuple[str, float, float]], missing: list[str] | None = None) -> dict:
    return {"required_ratio": 0.99, "passed": True, "missing": missing or [],
            "tasks": [{"suite": "demo", "task": t, "metric": "acc", "filter": "none", "reference": r, "candidate": c,
                       "agreement": 0.9} for t, r, c in tasks]}


FULL_MEM = {"weights_bytes": 1000, "peak_bytes": 4000, "peak_kind": "process_peak_rss", "device": "cpu", "dtype": "float32"}
LIGHT_MEM = {"weights_bytes": 500, "peak_bytes": 3000, "peak_kind": "process_peak_rss", "device": "cpu", "dtype": "bfloat16"}


def test_every_ratio_is_light_over_full():
    rep = derive_lightweight(
        full_model=_model(2000), light_model=_model(1000),
        full_perf=_perf(FULL_MEM, [_lp("concurrency=1", 100, 10, 200), _lp("concurrency=2", 150, 20, 300)]),
        light_perf=_perf(LIGHT_MEM, [_lp("concurrency=1", 80, 12, 250), _lp("concurrency=2", 180, 15, 240),
                                     _lp("concurrency=4", 1, 1, 1)]),
        parity=_parity([("mc", 0.5, 0.49), ("gen", 0.2, 0.25)]))
    assert rep.weights == {"full_bytes": 2000, "light_bytes": 1000, "bytes_ratio": 0.5}
    assert rep.memory["weights_ratio"] == 0.5 and rep.memory["peak_ratio"] == 0.75
    assert rep.memory["peak_kind"] == "process_peak_rss"
    lps = {lp["load_point"]: lp for lp in rep.perf["load_points"]}
    assert set(lps) == {"concurrency=1", "concurrency=2"}  # only load points both runs measured
    assert lps["concurrency=1"]["output_token_throughput_ratio"] == pytest.approx(0.8)
    assert lps["concurrency=2"]["ttft_p99_ratio"] == pytest.approx(0.75)
    assert rep.perf["min_output_token_throughput_ratio"] == pytest.approx(0.8)
    assert rep.perf["max_ttft_p99_ratio"] == pytest.approx(1.2)
    assert rep.perf["max_e2el_p99_ratio"] == pytest.approx(1.25)
    assert rep.parity["min_ratio"] == pytest.approx(0.98)
    assert rep.parity["min_agreement"] == 0.9
    assert rep.unavailable == {}


def test_weights_bytes_counts_weight_files_only():
    assert weights_bytes(_model(123)) == 123
    assert weights_bytes({"files": [{"path": "config.json", "size_bytes": 9}]}) is None
    assert weights_bytes(None) is None


def test_parity_ratio_is_oriented_and_zero_scores_are_handled():
    assert oriented_ratio(0.5, 0.25, True) == 0.5
    assert oriented_ratio(2.0, 4.0, False) == 0.5  # lower is better: twice the perplexity is half as good
    assert oriented_ratio(0.0, 0.0, True) == 1.0
    assert oriented_ratio(0.0, 0.3, True) is None
    rep = derive_lightweight(full_model=None, light_model=None, full_perf=None, light_perf=None,
                             parity=_parity([("mc", 0.5, 0.5), ("gen", 0.0, 0.1)]),
                             higher_is_better={"demo/mc/acc": True})
    assert rep.parity["min_ratio"] == 1.0 and rep.parity["undefined_ratio_tasks"] == ["demo/gen"]


def test_what_cannot_be_derived_is_absent_with_a_reason():
    rep = derive_lightweight(full_model=_model(2000), light_model=None,
                             full_perf=_perf(FULL_MEM, [_lp("concurrency=1", 100, 10, 200)]),
                             light_perf=_perf(None, [_lp("concurrency=1", 100, 10, 200)], backend="openai"),
                             parity=None)
    assert "bytes_ratio" not in rep.weights and "light" in rep.unavailable["weights.bytes_ratio"]
    assert "weights_ratio" not in rep.memory and "'openai' backend" in rep.unavailable["memory.weights_ratio"]
    assert "peak_ratio" not in rep.memory
    assert "parity.min_ratio" in rep.unavailable
    assert rep.perf["min_output_token_throughput_ratio"] == 1.0


def test_peak_memory_of_different_kinds_is_not_compared():
    gpu = {**LIGHT_MEM, "peak_kind": "cuda_max_memory_allocated"}
    rep = derive_lightweight(full_model=None, light_model=None, full_perf=_perf(FULL_MEM, []), light_perf=_perf(gpu, []))
    assert rep.memory["weights_ratio"] == 0.5 and "peak_ratio" not in rep.memory
    assert "different kinds" in rep.unavailable["memory.peak_ratio"]


def test_different_workloads_give_no_perf_ratios():
    rep = derive_lightweight(full_model=None, light_model=None, full_perf=_perf(FULL_MEM, [_lp("c", 1, 1, 1)], sha="a"),
                             light_perf=_perf(LIGHT_MEM, [_lp("c", 1, 1, 1)], sha="b"))
    assert "load_points" not in rep.perf
    assert "different workloads" in rep.unavailable["perf.min_output_token_throughput_ratio"]


def test_missing_parity_task_leaves_parity_unavailable():
    rep = derive_lightweight(full_model=None, light_model=None, full_perf=None, light_perf=None,
                             parity=_parity([("mc", 0.5, 0.5)], missing=["demo/gen exact_match,none"]))
    assert "min_ratio" not in rep.parity and "lacks" in rep.unavailable["parity.min_ratio"]


def _full_bundle(tmp_path, *, sha="w" * 64, suites=("demo",)):
    root = tmp_path / "full"
    write_json(root / "perf" / "summary.json", _perf(FULL_MEM, [], sha=sha))
    for s in suites:
        write_json(root / "eval" / s / "results.json", {"suite": s})
    write_json(root / "eval" / "parity" / "results.json", {"suite": "parity"})  # not a suite of the run
    return root


def test_reference_with_another_workload_load_or_suites_is_refused(tmp_path):
    root = _full_bundle(tmp_path)
    check_reference(root, workload_sha256="w" * 64, load={"concurrency": [1, 2]}, suites=["demo"])
    check_reference(root, workload_sha256="w" * 64, load={"concurrency": [1, 2]}, suites=None)
    with pytest.raises(UsageError, match="another workload"):
        check_reference(root, workload_sha256="x" * 64, load=None, suites=None)
    with pytest.raises(UsageError, match="another load"):
        check_reference(root, workload_sha256="w" * 64, load={"concurrency": [1]}, suites=None)
    with pytest.raises(UsageError, match="other suites"):
        check_reference(root, workload_sha256="w" * 64, load=None, suites=["demo", "gsm8k"])
    with pytest.raises(UsageError, match="not a folder"):
        check_reference(tmp_path / "nope", workload_sha256=None, load=None, suites=None)
    with pytest.raises(UsageError, match="no perf/summary.json"):
        check_reference(root / "eval", workload_sha256=None, load=None, suites=None)


# --- the claims of hunan-2025 over this evidence ---------------------------------------------------
def _verdicts(lightweight: dict | None, run_stages: dict | None = None) -> dict:
    from benchseal.claims import check, load_program

    data = {"run": {"status": "complete", "stages": run_stages or {"perf": {"status": "complete"}}}}
    if lightweight is not None:
        # an honest pair: a signed full bundle of another checkpoint with the same tokenizer, served at its own dtype
        data["lightweight"] = {**lightweight, "reference": {
            **lightweight.get("reference", {}), "backend_dtype": "auto", "model_digest": "f" * 64,
            "signature": {"verified": True, "keyid": "full-key", "public_key_sha256": "5e" * 32}}}
        data["model"] = {**_model(1000), "model_digest": "1" * 64}
        data["references"] = {"lightweight_model": {**_model(2000), "model_digest": "f" * 64}}
    return {v.claim_id: v for v in check(load_program("hunan-2025"), data).verdicts if v.claim_id.startswith("lightweight")}


def test_without_a_light_run_the_lightweight_claims_are_inconclusive_never_pass():
    v = _verdicts(None)
    assert {x.status for x in v.values()} == {"INCONCLUSIVE"} and len(v) == 5
    assert all("no lightweight variant measured" in x.reason for x in v.values())
    assert {x.severity for x in v.values()} <= {"advisory", "informational"}
    failed = _verdicts(None, {"perf": {"status": "complete"}, "lightweight": {"status": "failed", "error": "boom"}})
    assert "stage 'lightweight' is failed: boom" in failed["lightweight-memory"].reason


def test_lightweight_claims_follow_the_measured_ratios():
    rep = derive_lightweight(
        full_model=_model(2000), light_model=_model(1000),
        full_perf=_perf(FULL_MEM, [_lp("concurrency=1", 100, 10, 200)]),
        light_perf=_perf(LIGHT_MEM, [_lp("concurrency=1", 80, 12, 250)]),
        parity=_parity([("mc", 0.5, 0.49)])).model_dump(mode="json")
    v = _verdicts(rep)
    assert v["lightweight-memory"].status == "PASS" and v["lightweight-memory"].observed == 0.5
    assert v["lightweight-memory"].evidence == ["lightweight/lightweight.json"]
    assert v["lightweight-accuracy-parity"].status == "FAIL"  # 0.98 < 0.99
    assert v["lightweight-throughput"].status == "PASS" and v["lightweight-throughput"].observed == pytest.approx(0.8)
    heavy = {**rep, "memory": {**rep["memory"], "weights_ratio": 0.7}}
    assert _verdicts(heavy)["lightweight-memory"].status == "FAIL"


def test_an_unmeasured_figure_is_inconclusive_with_its_reason():
    rep = derive_lightweight(full_model=None, light_model=None, full_perf=_perf(FULL_MEM, []),
                             light_perf=_perf(None, [], backend="openai")).model_dump(mode="json")
    v = _verdicts(rep)
    assert v["lightweight-memory"].status == "INCONCLUSIVE"
    assert "reports no memory figures" in v["lightweight-memory"].reason


# --- benchseal verify: recompute:lightweight on the synthetic bundle ------------------------------
@pytest.fixture(scope="module")
def verifiable(tmp_path_factory):
    from tests.helpers.sign_support import verifiable_bundle

    return verifiable_bundle(tmp_path_factory.mktemp("lw") / "b")


def _lightweight_check(bundle):
    from benchseal.reports.verify import verify_bundle

    report = verify_bundle(bundle, public_keys=None, trusted_dir=None, require_signature=False)
    return next(c for c in report.checks if c.name == "recompute:lightweight")


def test_verify_rederives_the_lightweight_comparison_and_catches_edits(verifiable, tmp_path):
    import json
    import shutil

    from benchseal import bundle as layout

    check = _lightweight_check(verifiable)
    assert check.ok and not check.skipped, check.detail
    edited = shutil.copytree(verifiable, tmp_path / "edited")
    lw = json.loads((edited / layout.LIGHTWEIGHT_JSON).read_text())
    lw["memory"]["weights_ratio"] = 0.3
    write_json(edited / layout.LIGHTWEIGHT_JSON, lw)
    check = _lightweight_check(edited)
    assert not check.ok and "memory.weights_ratio" in check.detail
    swapped = shutil.copytree(verifiable, tmp_path / "swapped")
    ref = swapped / "lightweight/reference/model.json"
    ref.write_text(ref.read_text().replace('"bfloat16"', '"float16"'))
    check = _lightweight_check(swapped)
    assert not check.ok and "sha256 differs" in check.detail


def test_lightweight_of_and_another_parity_reference_is_a_usage_error(run_cli, tmp_path):
    code, _, err = run_cli("run", "hunan-2025", "--model", "m", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1",
                           "--lightweight-of", tmp_path / "full", "--parity-reference", tmp_path / "other",
                           "--out", tmp_path / "o")
    assert code == 2 and "different bundles" in err and not (tmp_path / "o").exists()
