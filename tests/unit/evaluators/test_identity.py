"""Served-model identity: the pure comparison, the records, and the claim gate (issue 22)."""

from __future__ import annotations

import pytest

from benchseal.claims import check, load_program
from benchseal.claims.identity_gate import model_identity_problem
from benchseal.evaluators.identity import TOLERANCES, bound_identity, compare, not_established


def _lp(values):
    return [None] + list(values)


def test_compare_matches_within_the_dtype_tolerance_and_not_beyond():
    local = [_lp([-2.0, -1.5, -3.25]), _lp([-0.5, -7.0])]
    near = [_lp([-2.05, -1.45, -3.2]), _lp([-0.52, -7.1])]
    assert compare(near, local, "bfloat16")["status"] == "matched"
    assert compare(near, local, "float32")["status"] == "mismatched"  # 0.05 nats is beyond float32's 0.01
    far = [_lp([-5.0, -0.1, -9.0]), _lp([-3.0, -1.0])]
    res = compare(far, local, "bfloat16")
    assert res["status"] == "mismatched" and res["max_abs_diff"] == pytest.approx(6.0)  # |-9.0 - -3.0|
    assert "outside the bfloat16 tolerance" in res["reason"]


def test_a_different_tokenisation_is_a_mismatch():
    res = compare([_lp([-1.0, -2.0])], [_lp([-1.0, -2.0, -3.0])], "float16")
    assert res["status"] == "mismatched" and "different tokenizer" in res["reason"]


def test_every_tolerance_is_below_the_gap_between_different_models():
    for dtype, (mean_tol, max_tol) in TOLERANCES.items():
        assert 0 < mean_tol <= max_tol <= 1.0, dtype


def test_bound_needs_the_digested_files():
    b = bound_identity("vllm-serve", model_dir="/m", model_digest="ab" * 32, files=["a.safetensors"],
                       command=["vllm", "serve", "/m"])
    assert b["status"] == "bound" and b["files"] == ["a.safetensors"] and b["command"][0] == "vllm"
    assert bound_identity("hf", model_dir=None, model_digest=None, files=None, command=None)["status"] == "not-established"


@pytest.mark.parametrize("ident,problem", [
    ({"status": "bound", "method": "m", "detail": "d"}, None),
    ({"status": "matched", "method": "m", "detail": "d"}, None),
    ({"status": "mismatched", "method": "probe", "detail": "mean 3 nats"}, "which is mismatched: mean 3 nats"),
    (not_established("no --model-path"), "which is not-established: no --model-path"),
    (None, "run.json has no served_model_identity"),
])
def test_gate(ident, problem):
    run = {"status": "complete"} | ({"served_model_identity": ident} if ident else {})
    got = model_identity_problem({"run": run}, True)
    assert (got is None) if problem is None else (problem in got)
    assert model_identity_problem({"run": run}, False) is None


def test_hunan_and_songjiang_perf_claims_require_identity_shenzhen_service_claims_do_not():
    req = {p: {c.id for c in load_program(p).claims if c.requires_model_identity}
           for p in ("hunan-2025", "songjiang-2025", "shenzhen-2025")}
    assert {"latency-ttft-p99", "latency-e2e-p99", "throughput-max"} <= req["hunan-2025"]
    assert "serving-throughput" in req["songjiang-2025"]
    assert req["shenzhen-2025"] == set()


def test_identity_requiring_claims_inconclusive_on_a_sample_bundle(tmp_path):
    import json

    from benchseal.claims import load_evidence
    from tests.helpers.bundle_factory import make_sample_bundle

    root = make_sample_bundle(tmp_path / "b")
    prog = load_program("hunan-2025")
    bound = {v.claim_id: v for v in check(prog, load_evidence(root)).verdicts}
    assert bound["throughput-max"].status == "PASS"
    run = json.loads((root / "run.json").read_text())
    run["served_model_identity"] = {"status": "mismatched", "method": "probe:prompt-logprobs/1",
                                    "detail": "mean |Δ logprob| 2.1 nats"}
    (root / "run.json").write_text(json.dumps(run))
    got = {v.claim_id: v for v in check(prog, load_evidence(root)).verdicts}
    for cid in ("throughput-max", "latency-ttft-p99", "latency-e2e-p99"):
        assert got[cid].status == "INCONCLUSIVE" and "mismatched" in got[cid].reason
    assert got["params-scale"].status == bound["params-scale"].status  # a model-file claim is not gated


def test_the_engine_command_is_recorded_without_secrets():
    b = bound_identity("vllm-serve", model_dir="/m", model_digest="ab" * 32, files=[],
                       command=["vllm", "serve", "/m", "--api-key", "sk-secret-123"])
    assert "sk-secret-123" not in str(b)


def test_report_first_block_states_the_identity(tmp_path):
    import json

    from benchseal.reports.render import write_reports
    from tests.helpers.bundle_factory import make_sample_bundle

    root = make_sample_bundle(tmp_path / "b")
    run = json.loads((root / "run.json").read_text())
    run["served_model_identity"] = {"status": "mismatched", "method": "probe:prompt-logprobs/1",
                                    "detail": "mean |Δ logprob| 2.1 nats"}
    run["serving_hardware"] = {"source": "none", "detail": "external endpoint; give --server-hardware"}
    (root / "run.json").write_text(json.dumps(run))
    (root / "hardware.json").unlink()
    write_reports(root)
    md = (root / "report.md").read_text()
    first_block = md.split("\n## ")[0]  # the title and the verdict banner
    assert "Served model identity: MISMATCHED — mean |Δ logprob| 2.1 nats" in first_block
    assert "受测模型身份：不匹配" in first_block
    provenance = md.split("\n## ")[1]
    assert "serving hardware not inventoried" in provenance and "gpu-node-01" not in provenance
    html = (root / "report.html").read_text()
    assert html.index("Served model identity: MISMATCHED") < html.index("<h2>")


def test_identity_for_run_engines(tmp_path):
    from benchseal.bench.perf.backends.spec import HFSpec, VLLMServeSpec
    from benchseal.evaluators.identity import identity_for_run

    m = tmp_path / "m"
    m.mkdir()
    card = {"model_digest": "cd" * 32, "files": [{"path": "model.safetensors", "sha256": "ef" * 32}]}
    rec = identity_for_run(VLLMServeSpec(model=str(m)), model_path=str(m), model_card=card,
                           command=["vllm", "serve", "--model", str(m)])
    assert rec["status"] == "bound" and rec["files"] == ["model.safetensors"] and rec["model_digest"] == "cd" * 32
    assert identity_for_run(HFSpec(model=str(m)), model_path=str(m), model_card=card)["status"] == "bound"
    other = tmp_path / "other"
    other.mkdir()
    rec = identity_for_run(HFSpec(model=str(other)), model_path=str(m), model_card=card)
    assert rec["status"] == "not-established" and "digested files are" in rec["detail"]
    rec = identity_for_run(HFSpec(model="org/name"), model_path=str(m), model_card=card)
    assert rec["status"] == "not-established" and "by name" in rec["detail"]
