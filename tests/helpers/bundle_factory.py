"""A realistic, complete evidence bundle built from synthetic but schema-valid data.

``make_sample_bundle(dir)`` writes every file of docs/bundle.md (except the signature): run.json,
hardware.json (2 x H100 SXM5 on one host), model.json, perf/requests.jsonl with perf/summary.json
computed from those records, telemetry.csv, eval/<suite>/results.json for the suites the shipped
programs read, and claims.json from the real ``benchseal.claims.check``. Deterministic: the same
arguments give byte-identical files. Used by the claims, reports and signing/verification tests.
"""

from __future__ import annotations

import random
from pathlib import Path

from benchseal import bundle as layout
from benchseal.io import JsonlWriter, write_json, write_text
from benchseal.bench.perf.metrics import stats as _product_stats
from benchseal.schema import (
    ComputeRow,
    ComputeTable,
    EvalReport,
    EvalResult,
    FileDigest,
    GpuInfo,
    GpuPeak,
    HardwareReport,
    HostInfo,
    LoadPointSummary,
    ModelCard,
    ParamCount,
    PerfReport,
    RequestRecord,
    RunManifest,
    StageStatus,
    Stats,
)

MODEL_DIGEST = "9f2c" * 16
H100_PEAK = GpuPeak(
    spec_id="h100-sxm5-80gb",
    tflops={"fp64": 34, "fp64_tensor": 67, "fp32": 67, "tf32": 494.5, "bf16": 989.5, "fp16": 989.5, "fp8": 1979, "int8": 1979},  # configs/gpus.yaml
    memory_bandwidth_gbs=3350.0,
    sources=["NVIDIA H100 Tensor Core GPU datasheet (dense)"],
)
CONCURRENCIES = (1, 4, 16)


def stats(values: list[float]) -> Stats:
    """The product's own statistics (population stdev, linear percentiles): a test bundle must
    hold the same numbers a real run would."""
    return _product_stats(values)


def _requests(conc: int, rng: random.Random, n: int, failed: int) -> list[RequestRecord]:
    out = []
    t = 0.0
    for i in range(n):
        send = t + (i % conc) * 0.001
        if i < failed:
            out.append(RequestRecord(load_point=f"concurrency={conc}", request_id=i, send_s=send, end_s=send + 0.05,
                                     status="error", error="HTTP 503", http_status=503, max_tokens=64))
            continue
        ttft = 0.040 + 0.004 * conc + rng.random() * 0.01
        itl = [0.008 + 0.001 * conc + rng.random() * 0.002 for _ in range(63)]
        chunks = [send + ttft]
        for g in itl:
            chunks.append(chunks[-1] + g)
        out.append(RequestRecord(
            load_point=f"concurrency={conc}", request_id=i, send_s=round(send, 6), first_token_s=round(chunks[0], 6),
            end_s=round(chunks[-1], 6), chunk_s=[round(c, 6) for c in chunks], prompt_tokens=128, output_tokens=64,
            prompt_tokens_server=128, output_tokens_server=64, prompt_tokens_client=128, output_tokens_client=64,
            max_tokens=64, status="ok", http_status=200,
        ))
        if i % conc == conc - 1:
            t = chunks[-1]
    return out


def summarize(records: list[RequestRecord], conc: int) -> LoadPointSummary:
    ok = [r for r in records if r.status == "ok" and not r.warmup]
    bad = [r for r in records if r.status != "ok" and not r.warmup]
    start = min(r.send_s for r in records)
    end = max(r.end_s or r.send_s for r in records)
    duration = end - start
    ttft = [(r.first_token_s - r.send_s) * 1000 for r in ok]
    e2el = [(r.end_s - r.send_s) * 1000 for r in ok]
    tpot = [((r.end_s - r.first_token_s) / (r.output_tokens - 1)) * 1000 for r in ok if r.output_tokens > 1]
    itl = [(b - a) * 1000 for r in ok for a, b in zip(r.chunk_s, r.chunk_s[1:])]
    out_tok = sum(r.output_tokens for r in ok)
    in_tok = sum(r.prompt_tokens for r in ok)
    return LoadPointSummary(
        load_point=f"concurrency={conc}", mode="concurrency", concurrency=conc, started_at="2025-06-01T08:00:00Z",
        duration_s=duration, completed=len(ok), failed=len(bad), ttft_ms=stats(ttft), tpot_ms=stats(tpot),
        itl_ms=stats(itl), e2el_ms=stats(e2el), request_throughput=len(ok) / duration,
        output_token_throughput=out_tok / duration, total_token_throughput=(in_tok + out_tok) / duration,
        utilisation={"mfu": 0.012 * conc, "mbu": 0.35 + 0.02 * conc}, energy={"energy_j": 900.0 * conc, "avg_power_w": 350.0 + 20 * conc},
        errors={"HTTP 503": len(bad)} if bad else {},
    )


# a reference bundle verified against a named key (reports.verify.reference.verify_reference)
SIGNED_REFERENCE = {"verified": True, "keyid": "sample-reference-key", "public_key_sha256": "5e" * 32}
PEERS = (("Qwen2-72B", "domestic", -3.0), ("DeepSeek-V3-Base", "domestic", -1.5), ("Llama-3.1-70B", "foreign", -8.0))


def _comparison(results: list[EvalResult]) -> dict:
    """A benchseal.evaluators.peers.ComparisonTable made by the real compare(): the peers of PEERS
    measured on the same 1000 items under the same (made-up) protocol fingerprint, so the paired
    test decides (the candidate is ahead of both domestic peers on every benchmark)."""
    from benchseal.evaluators.peers import MeasuredPeer, compare

    fp = {"harness": "lm-eval", "sha256": "fe" * 32}
    n = 1000
    cands = [r.model_copy(update={"fingerprint": fp}) for r in results]
    cand_items = {}
    peer_items: dict[str, dict] = {name: {} for name, _, _ in PEERS}
    for r in cands:
        right = round(r.value * n)
        cand_items[(r.task, r.metric, r.filter)] = {f"{r.task}/{i}/h": float(i < right) for i in range(n)}
        for name, _, delta in PEERS:
            peer_right = right + round(delta * n / 100)
            peer_items[name][(r.task, r.metric, r.filter)] = {f"{r.task}/{i}/h": float(i < peer_right) for i in range(n)}
    measured = []
    for name, origin, delta in PEERS:
        rep = EvalReport(suite=results[0].suite, backend="vllm", model=name, claim_grade=True,
                         results=[r.model_copy(update={"value": r.value + delta / 100}) for r in cands],
                         extra={"identity": {"origin": origin, "origin_note": "sample"}})
        measured.append(MeasuredPeer(report=rep, items=peer_items[name], run_dir=f"eval/{results[0].suite}/peer_runs/{name}",
                                     signature=dict(SIGNED_REFERENCE)))
    return compare(cands, [], candidate_name="sample-model", candidate_items=cand_items, measured=measured).model_dump(mode="json")


# suite -> [(task, metric, benchmark, value)]
EVAL_TASKS = {
    "zh-general": [("ceval-valid", "acc", "C-Eval", 0.712), ("cmmlu", "acc", "CMMLU", 0.698)],  # used by the verify tests
    "hunan-core": [("ceval-valid", "acc", "C-Eval", 0.712), ("cmmlu", "acc", "CMMLU", 0.698)],
    "songjiang-core": [("ceval-valid", "acc", "C-Eval", 0.812), ("cmmlu", "acc", "CMMLU", 0.794), ("gsm8k", "exact_match", "GSM8K", 0.655)],
    "ceval-valid-5shot": [("ceval-valid", "acc", "C-Eval", 0.712)],
    "truthfulqa-mc": [("truthfulqa_mc2", "acc", "TruthfulQA-MC2", 0.512)],
    "refusal": [("refusal", "refusal_rate_should_refuse", "refusal", 0.94), ("refusal", "over_refusal_rate", "refusal", 0.04)],
    "content-safety": [("content-safety", "content_pass_rate", "content-safety", 0.93)],
}
JUDGED = ("refusal", "content-safety")  # decided by a judge model (programs may require it: requires_judge)
JUDGE_EXTRA = {"judged_by": "judge", "judge": {"endpoint": "http://judge.example/v1/chat/completions", "model": "judge-model",
                                               "prompt": "…", "temperature": 0}, "deciders": {"rules": 0, "judge": 1000}}


def _no_duplicates(n: int) -> dict:
    return {"items": n, "distinct": n, "duplicates": 0, "exact": 0, "near": 0, "examples": [],
            "rule": {"near_jaccard": 0.8, "shingle": 3}}


# what run_refusal / build_report record about the banks (sizes, the minimum, the duplicate check)
BANK_EXTRA = {
    "refusal": {"bank_sizes": {"should_refuse": 600, "should_answer": 600}, "min_bank": 500,
                "duplicates": {"should_refuse": _no_duplicates(600), "should_answer": _no_duplicates(600)}},
    "content-safety": {"bank_size": 2400, "min_bank": 2000, "duplicates": _no_duplicates(2400)},
}

COMPARED = ("hunan-core", "songjiang-core", "ceval-valid-5shot")
SUITES = tuple(EVAL_TASKS) + ("parity",)


def _eval(suite: str, claim_grade: bool) -> EvalReport:
    shots = 0 if suite in JUDGED else 5
    results = [EvalResult(suite=suite, task=t, metric=m, value=v, stderr=0.012, n=1346 if shots else 200, num_fewshot=shots,
                          benchmark=b, headline=True, protocol_label="base") for t, m, b, v in EVAL_TASKS[suite]]
    return EvalReport(
        suite=suite, backend="vllm", model="sample-model", lm_eval_version="0.4.13", claim_grade=claim_grade,
        not_claim_grade_reasons=[] if claim_grade else ["--limit 10 was used"], results=results,
        data_manifest_sha256="ab" * 32, model_digest=MODEL_DIGEST,
        protocol={"num_fewshot": shots, "apply_chat_template": suite in JUDGED, "fewshot_as_multiturn": False, "seed": 1234},
        extra={"comparison": _comparison(results)} if suite in COMPARED
        else {**JUDGE_EXTRA, **BANK_EXTRA[suite]} if suite in JUDGED else {},
    )


def _parity(claim_grade: bool) -> EvalReport:
    """eval/parity/results.json: an EvalReport whose extra.parity is shaped like
    benchseal.evaluators.parity.ParityReport (the output of `benchseal eval parity`)."""
    task = {"suite": "hunan-core", "task": "ceval-valid", "metric": "acc", "filter": "none", "reference": 0.70, "candidate": 0.712,
            "ratio": 1.017, "required_ratio": 0.99, "passed": True, "agreement": 0.97, "agree": 1306, "compared": 1346,
            "doc_hash_mismatches": 0}
    report = {"reference": "runs/previous-service", "candidate": "runs/new-service", "required_ratio": 0.99, "passed": True,
              "tasks": [task], "missing": [], "notes": []}
    return EvalReport(suite="parity", backend="openai", model="sample-model", claim_grade=claim_grade,
                      not_claim_grade_reasons=[] if claim_grade else ["--limit 10 was used"],
                      results=[EvalResult(suite="parity", task="ceval-valid", metric="parity_ratio", value=1.017, num_fewshot=5)],
                      model_digest=MODEL_DIGEST,
                      extra={"parity": report, "reference": {"bundle": "runs/previous-service", "model_digest": None,
                                                             "model": "previous-service", "endpoint": "https://old.example/v1",
                                                             "signature": dict(SIGNED_REFERENCE)}})


def _lightweight(root: Path, model: ModelCard, perf: PerfReport) -> list[str]:
    """lightweight/: this (light, bf16) run against the full model of the same family and tokenizer, a
    different checkpoint with twice the weights, served at its own published dtype (bf16): twice the
    weights and memory, 0.8x the light run's throughput. Returns the files written."""
    from benchseal.evaluators.lightweight import REFERENCE_DIR, bundle_lightweight
    from benchseal.io import sha256_file

    full_model = model.model_copy(update={"dtype": "bfloat16", "model_digest": "7e1d" * 16, "files": [
        f.model_copy(update={"size_bytes": 2 * int(f.size_bytes)}) if f.path.endswith(".safetensors") else f for f in model.files]})
    mem = dict(perf.capabilities["memory"])
    full_perf = perf.model_copy(update={
        "capabilities": {"memory": {**mem, "dtype": "bfloat16", "weights_bytes": 2 * mem["weights_bytes"],
                                    "peak_bytes": 2 * mem["peak_bytes"]}},
        "load_points": [lp.model_copy(update={"output_token_throughput": 0.8 * lp.output_token_throughput})
                        for lp in perf.load_points]})
    files = {layout.MODEL_JSON: full_model, layout.PERF_SUMMARY: full_perf}
    for rel, obj in files.items():
        write_json(root / REFERENCE_DIR / rel, obj)
    provenance = {"bundle": "runs/full-bf16", "run_id": "run-20250531-full", "model_digest": full_model.model_digest,
                  "statement_sha256": "5f" * 32, "checked_against_statement": True,
                  "files": {rel: sha256_file(root / REFERENCE_DIR / rel) for rel in files},
                  "backend_dtype": "bfloat16", "model": "/models/sample-model-full", "endpoint": None,
                  "signature": dict(SIGNED_REFERENCE)}
    write_json(root / layout.LIGHTWEIGHT_JSON, bundle_lightweight(root, reference=provenance))
    return [layout.LIGHTWEIGHT_JSON] + [f"{REFERENCE_DIR}/{rel}" for rel in files]


def make_sample_bundle(
    directory: str | Path,
    *,
    params_total: int = 7_615_616_512,
    status: str = "complete",
    failed_requests: int = 0,
    claim_grade: bool = True,
    program: str | None = "hunan-2025",
    requests_per_point: int = 24,
    telemetry: bool = True,
) -> Path:
    """Write a complete bundle into ``directory`` (created) and return it.

    ``status="partial"`` marks the eval stage interrupted and leaves eval/ out; ``failed_requests``
    makes that many requests of every load point fail; ``program`` writes claims.json (None: none).
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)

    gpus = [
        GpuInfo(index=i, name="NVIDIA H100 80GB HBM3", uuid=f"GPU-0000000{i}-aaaa-bbbb-cccc-00000000000{i}",
                pci_bus_id=f"00000000:1{i}:00.0", memory_total_bytes=85_520_809_984, driver_version="550.54.15",
                cuda_driver_version="12.4", compute_capability="9.0", sm_clock_max_mhz=1980, mem_clock_max_mhz=2619,
                power_limit_w=700.0, power_limit_default_w=700.0, ecc_enabled=True, mig_enabled=False,
                pcie_gen=5, pcie_width=16, nvlink_active_links=18, peak=H100_PEAK)
        for i in range(2)
    ]
    row = ComputeRow(server="gpu-node-01", vendor="NVIDIA", model="NVIDIA H100 80GB HBM3", count=2, spec_id=H100_PEAK.spec_id,
                     tflops_per_gpu=dict(H100_PEAK.tflops), tflops_total={k: 2 * v for k, v in H100_PEAK.tflops.items()},
                     memory_bandwidth_gbs_total=6700.0)
    hw = HardwareReport(
        host=HostInfo(hostname="gpu-node-01", cpu_model="Intel Xeon Platinum 8480+", cpu_cores_logical=224, ram_bytes=2_163_000_000_000,
                      os="Ubuntu 22.04.4 LTS", kernel="5.15.0-105-generic", python="3.11.9",
                      packages={"torch": "2.13.0", "vllm": "0.32.0", "lm_eval": "0.4.13", "nvidia-ml-py": "13.6"}),
        gpus=gpus, compute=ComputeTable(servers=1, gpus=2, rows=[row], total_tflops=dict(row.tflops_total)), nvml_available=True,
    )
    write_json(root / layout.HARDWARE_JSON, hw)

    emb = 151_936 * 3584
    pc = ParamCount(total=params_total, active=params_total, embedding=emb, non_embedding=params_total - emb,
                    method="safetensors-header", architecture="Qwen2ForCausalLM", dtype="bfloat16",
                    breakdown={"embedding": emb, "attention": (params_total - emb) // 3, "mlp": params_total - emb - (params_total - emb) // 3})
    files = [FileDigest(path=f"model-0000{i}-of-00002.safetensors", sha256=f"{i:02d}" * 32, size_bytes=params_total) for i in (1, 2)]
    files.append(FileDigest(path="tokenizer.json", sha256="7a" * 32, size_bytes=7_031_673))
    model = ModelCard(source="/models/sample-model", architecture="Qwen2ForCausalLM", model_type="qwen2", dtype="bfloat16",
                      params=pc, params_by_method={"safetensors-header": pc},
                      config={"num_hidden_layers": 28, "hidden_size": 3584, "num_attention_heads": 28, "vocab_size": 151936},
                      files=files, model_digest=MODEL_DIGEST)
    write_json(root / layout.MODEL_JSON, model)

    summaries = []
    with JsonlWriter(root / layout.PERF_REQUESTS) as w:
        for conc in CONCURRENCIES:
            recs = _requests(conc, rng, requests_per_point, failed_requests)
            for r in recs:
                w.write(r)
            summaries.append(summarize(recs, conc))
    perf = PerfReport(backend="vllm", model="sample-model", endpoint="http://127.0.0.1:8000/v1",
                      workload={"name": "sample", "prompt_tokens": 128, "output_tokens": 64, "prompt_set_sha256": "cd" * 32,
                                "sha256": "cd" * 32},
                      load_points=summaries,
                      capabilities={"memory": {"weights_bytes": 2 * params_total, "device": "cuda", "dtype": "bfloat16",
                                               "peak_bytes": 3 * params_total, "peak_kind": "cuda_max_memory_allocated"}})
    write_json(root / layout.PERF_SUMMARY, perf)

    if telemetry:
        # the columns of benchseal.hw.telemetry.COLUMNS; t_wall is Unix time (2025-06-01T08:00:00Z + k/2 s)
        lines = ["t_wall,t_mono,gpu,power_w,energy_mj,sm_clock_mhz,mem_clock_mhz,gpu_util_pct,mem_util_pct,"
                 "mem_used_bytes,temperature_c,throttle_reasons,throttle_names"]
        for k in range(40):
            for g in range(2):
                lines.append(f"{1748764800 + k * 0.5:.6f},{1000 + k * 0.5:.6f},{g},{300 + 10 * (k % 7) + g},{160_000 * k + g},"
                             f"1980,2619,{50 + k % 40},{30 + k % 20},{60_000_000_000 + k},{55 + k % 5},0,")
        write_text(root / layout.TELEMETRY_CSV, "\n".join(lines) + "\n")

    stage_files = {"hw": [layout.HARDWARE_JSON], "model": [layout.MODEL_JSON], "perf": [layout.PERF_SUMMARY, layout.PERF_REQUESTS], "eval": []}
    if status == "complete":
        for suite in SUITES:
            write_json(root / layout.EVAL_DIR / suite / layout.EVAL_RESULTS, _parity(claim_grade) if suite == "parity" else _eval(suite, claim_grade))
            stage_files["eval"].append(f"{layout.EVAL_DIR}/{suite}/{layout.EVAL_RESULTS}")
    stages = {s: StageStatus(status="complete", files=f, started_at="2025-06-01T08:00:00Z", ended_at="2025-06-01T08:30:00Z")
              for s, f in stage_files.items()}
    if status != "complete":
        stages["eval"] = StageStatus(status="interrupted", error="interrupted by the user (Ctrl-C)")
    all_files = [f for fs in stage_files.values() for f in fs] + ([layout.TELEMETRY_CSV] if telemetry else [])
    if status == "complete":
        all_files += _lightweight(root, model, perf)
    run = RunManifest(tool_version="0.1.0", run_id="run-20250601-080000-sample", program=program,
                      spec={"model": "/models/sample-model", "backend": "vllm", "program": program, "workload": None},
                      started_at="2025-06-01T08:00:00Z", ended_at="2025-06-01T08:30:00Z", status=status, stages=stages,
                      files=sorted(all_files),
                      served_model_identity={"status": "bound", "method": "engine-started:vllm-serve",
                                             "detail": "benchseal started the vllm-serve engine itself from the digested files "
                                                       "of /models/sample-model", "model_digest": MODEL_DIGEST,
                                             "files": [f.path for f in files], "command": ["vllm", "serve", "/models/sample-model"]},
                      serving_hardware={"source": "local", "detail": "benchseal started the engine on this host"})
    write_json(root / layout.RUN_JSON, run)

    if program:
        from benchseal.claims import check, load_evidence, load_program

        write_json(root / layout.CLAIMS_JSON, check(load_program(program), load_evidence(root)))
    return root
