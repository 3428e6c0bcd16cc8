"""Helpers for the signing and verification tests (no tests here).

``verifiable_bundle(dir)`` starts from the shared synthetic bundle (tests/reports/bundle_factory.py)
and re-derives every summary with benchseal's own functions (perf summary from the raw records,
eval results from lm-eval's raw output, model digest from the file digests, compute table from the
GPU list, claims from the evidence), so that the bundle verifies; the tests then break it on purpose.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from benchseal import bundle as layout
from benchseal.io import iter_jsonl, read_json, write_json
from benchseal.reports.seal.keys import KeyInfo, generate_keypair

PASSPHRASE = "tr0ub4dor & 3 -- benchseal test passphrase"
QWEN2_7B_CONFIG = {
    "model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
    "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064, "tie_word_embeddings": False,
    "max_position_embeddings": 32768,
}


def _raw_lm_eval(report: dict) -> dict:
    """lm-eval's results dict (the shape run_suite writes to lm_eval_results.json) for a results.json."""
    raw: dict = {"results": {}, "n-shot": {}, "versions": {}, "n-samples": {}, "lm_eval_version": report.get("lm_eval_version")}
    for r in report["results"]:
        task, filt = r["task"], r.get("filter", "none")
        raw["results"].setdefault(task, {"alias": task})[f"{r['metric']},{filt}"] = r["value"]
        if r.get("stderr") is not None:
            raw["results"][task][f"{r['metric']}_stderr,{filt}"] = r["stderr"]
        if r.get("num_fewshot") is not None:
            raw["n-shot"][task] = r["num_fewshot"]
        if r.get("n") is not None:
            raw["n-samples"][task] = {"original": r["n"], "effective": r["n"]}
    return raw


def _write_telemetry(path: Path) -> None:
    """60 s of NVML samples for 2 GPUs in the format of benchseal.hw.telemetry, from 2025-06-01T08:00:00Z."""
    from datetime import datetime, timezone

    from benchseal.hw.telemetry import COLUMNS

    t0 = datetime(2025, 6, 1, 8, tzinfo=timezone.utc).timestamp()
    lines = [",".join(COLUMNS)]
    for k in range(241):
        for gpu in range(2):
            power = 400 + 5 * (k % 9) + gpu
            lines.append(f"{t0 + k * 0.25:.6f},{k * 0.25:.6f},{gpu},{power},{k * 100_000 + gpu * 7},1980,2619,{60 + k % 30},"
                         f"{30 + k % 20},{60_000_000_000 + k},{55 + k % 5},0,")
    path.write_text("\n".join(lines) + "\n")


def rederive_summaries(root: Path) -> None:
    """Rewrite every summary of the bundle from its raw evidence with benchseal's functions."""
    from benchseal.bench.perf.metrics import recompute_perf_report
    from benchseal.claims import check, load_evidence, load_program
    from benchseal.evaluators import results_from_lm_eval
    from benchseal.hw.compute import compute_table
    from benchseal.schema import HardwareReport

    from benchseal.bench.utilisation.mfu import annotate
    from benchseal.schema import RequestRecord

    hw = HardwareReport.model_validate(read_json(root / layout.HARDWARE_JSON))
    hw = hw.model_copy(update={"compute": compute_table(hw.gpus, hw.host.hostname)})
    write_json(root / layout.HARDWARE_JSON, hw)
    if (root / layout.PERF_SUMMARY).is_file():
        records = [RequestRecord.model_validate(r) for r in iter_jsonl(root / layout.PERF_REQUESTS)]
        perf = recompute_perf_report(read_json(root / layout.PERF_SUMMARY), records)
        model = read_json(root / layout.MODEL_JSON)
        model["config"] = {**QWEN2_7B_CONFIG, **model["config"]}  # the factory's card is abridged
        write_json(root / layout.MODEL_JSON, model)
        config = {"model_type": model.get("model_type"), **model["config"]}
        telemetry = root / layout.TELEMETRY_CSV
        if telemetry.is_file():
            _write_telemetry(telemetry)
        points = [annotate(lp, records, model_config=config, hardware=hw, dtype="bf16",
                           telemetry_csv=telemetry if telemetry.is_file() else None) for lp in perf.load_points]
        write_json(root / layout.PERF_SUMMARY, perf.model_copy(update={"load_points": points}))
    model = read_json(root / layout.MODEL_JSON)
    try:
        from benchseal.schema import FileDigest

        files = [FileDigest.model_validate(f) for f in model["files"]]
        model["model_digest"] = importlib.import_module("benchseal.bench.model.digest").model_digest(files)
    except ImportError:  # not written yet: leave the model digest out so its check is skipped
        model["model_digest"], model["files"] = None, []
    write_json(root / layout.MODEL_JSON, model)
    import shutil

    from benchseal.evaluators.peers import attach_comparison
    from benchseal.schema import EvalReport

    for name in ("refusal", "content-safety", "parity"):  # synthetic, without the raw replies / reference run: drop them
        shutil.rmtree(root / layout.EVAL_DIR / name, ignore_errors=True)
    for suite_dir in sorted((root / layout.EVAL_DIR).glob("*/")):
        report = read_json(suite_dir / layout.EVAL_RESULTS)
        raw = _raw_lm_eval(report)
        write_json(suite_dir / "lm_eval_results.json", raw)
        fresh = results_from_lm_eval(raw, suite=report["suite"], limit=None, protocol=report["protocol"])
        report["results"] = [r.model_dump(mode="json") for r in fresh]
        report["model_digest"] = model["model_digest"]
        compared = "comparison" in report["extra"]
        report["extra"].pop("comparison", None)
        write_json(suite_dir / layout.EVAL_RESULTS, report)
        if compared:  # re-derive it from the real peer tables, with peers.json beside it
            attach_comparison(root, EvalReport.model_validate(report))
    if (root / layout.LIGHTWEIGHT_JSON).is_file():  # its light-side inputs were rewritten above
        from benchseal.evaluators.lightweight import bundle_lightweight

        stored = read_json(root / layout.LIGHTWEIGHT_JSON)
        write_json(root / layout.LIGHTWEIGHT_JSON, bundle_lightweight(root, reference=stored.get("reference")))
    run = read_json(root / layout.RUN_JSON)
    if (run.get("served_model_identity") or {}).get("status") == "bound":  # bound to the digest re-derived above
        run["served_model_identity"]["model_digest"] = model["model_digest"]
        run["served_model_identity"]["files"] = [f["path"] for f in model.get("files") or []]  # the files it digests
        write_json(root / layout.RUN_JSON, run)
    if run.get("program"):  # as a run writes them: the program checked, and its verdicts
        write_json(root / layout.PROGRAM_JSON, load_program(run["program"]))
        write_json(root / layout.CLAIMS_JSON, check(load_program(run["program"]), load_evidence(root)))


def verifiable_bundle(directory: Path, **kwargs) -> Path:
    from tests.helpers.bundle_factory import make_sample_bundle

    root = make_sample_bundle(directory, **kwargs)
    rederive_summaries(root)
    return root


def new_keys(directory: Path, algorithm: str = "ecdsa-p256") -> KeyInfo:
    return generate_keypair(directory, algorithm=algorithm, passphrase=PASSPHRASE.encode())


def copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
