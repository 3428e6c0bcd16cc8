"""MFU, MBU and energy ground truth on synthetic records, hardware and telemetry."""

from __future__ import annotations

import pytest

from benchseal.bench.utilisation.flops import FlopsModel
from benchseal.bench.utilisation.mfu import NOTE_UNKNOWN_GPU, annotate

from tests.helpers import flops_synthetic as syn
from tests.helpers.flops_configs import TINY

CFG = TINY["llama"]


def test_hand_derived_request_flops_match_model():
    assert FlopsModel.from_config(CFG).request_flops(syn.PROMPT, syn.OUTPUT) == syn.REQUEST == 19_706_368
    fm = FlopsModel.from_config(CFG)
    assert fm.weight_bytes(2) == syn.WEIGHT_BYTES_BF16
    assert fm.kv_cache_bytes_per_token(2) == syn.KV_BYTES_PER_TOKEN_BF16


def test_mfu_and_mbu_ground_truth(tmp_path):
    s = syn.summary()
    out = annotate(s, syn.records(), model_config=CFG, hardware=syn.hardware(), dtype="bfloat16", num_gpus=2)
    u = out.utilisation
    achieved = 4 * syn.REQUEST / syn.DURATION_S
    assert u["achieved_flops_per_s"] == pytest.approx(achieved, rel=1e-12)
    assert u["requests_counted"] == 4
    assert u["peak_tflops"] == 200.0 and u["peak_bandwidth_gbs"] == 2000.0 and u["gpus"] == 2
    assert u["mfu"] == pytest.approx(achieved / 200e12, rel=1e-12)
    # decode: B = 4 x 5 s / 10 s = 2 sequences; each step reads the weights once and, per sequence,
    # the KV cache of (context + 1) tokens, averaged over contexts 100..109 -> 105.5 tokens
    batch = 2.0
    bytes_per_step = syn.WEIGHT_BYTES_BF16 + batch * syn.KV_BYTES_PER_TOKEN_BF16 * 105.5
    assert u["decode_batch_mean"] == batch
    assert u["decode_bytes_per_step"] == pytest.approx(bytes_per_step, rel=1e-12)
    assert u["mbu"] == pytest.approx(bytes_per_step / 0.5 / 2000e9, rel=1e-12)
    assert u["dtype"] == "bf16" and u["note"] is None
    assert out.energy is None  # no telemetry given
    assert s.utilisation is None  # the input is not modified
    one_gpu = annotate(s, syn.records(), model_config=CFG, hardware=syn.hardware(), dtype="bf16", num_gpus=1)
    assert one_gpu.utilisation["mfu"] == pytest.approx(2 * u["mfu"], rel=1e-12)


def test_energy_ground_truth(tmp_path):
    csv_path = syn.telemetry_csv(tmp_path / "telemetry.csv", gpus=2, watts=300.0)
    out = annotate(syn.summary(), syn.records(), model_config=CFG, hardware=syn.hardware(), dtype="bf16",
                   telemetry_csv=csv_path)
    e = out.energy
    assert e["energy_j"] == pytest.approx(2 * 300.0 * syn.DURATION_S, rel=1e-9)  # 6000 J
    assert e["avg_power_w"] == pytest.approx(600.0, rel=1e-9)
    assert e["j_per_output_token"] == pytest.approx(6000.0 / (4 * syn.OUTPUT), rel=1e-9)
    assert e["j_per_request"] == pytest.approx(1500.0, rel=1e-9)
    assert e["output_tokens_per_j"] == pytest.approx(4 * syn.OUTPUT / 6000.0, rel=1e-9)
    assert e["samples"] == 11  # t0 .. t0+10 inclusive
    assert e["window_unix_s"] == [syn.T0, syn.T0 + syn.DURATION_S]


def test_energy_needs_a_wall_clock_anchor(tmp_path):
    csv_path = syn.telemetry_csv(tmp_path / "telemetry.csv")
    out = annotate(syn.summary(started_at=None), syn.records(), model_config=CFG, hardware=syn.hardware(),
                   dtype="bf16", telemetry_csv=csv_path)
    assert out.energy is None


def test_unknown_gpu_gets_no_mfu_and_says_why():
    out = annotate(syn.summary(), syn.records(), model_config=CFG, hardware=syn.hardware(known=False), dtype="bf16")
    u = out.utilisation
    assert u["mfu"] is None and u["mbu"] is None and u["peak_tflops"] is None
    assert NOTE_UNKNOWN_GPU in u["note"] and "Mystery GPU" in u["note"]
    assert u["achieved_flops_per_s"] == pytest.approx(4 * syn.REQUEST / syn.DURATION_S)  # still measured


def test_no_gpu_and_missing_dtype_peak():
    out = annotate(syn.summary(), syn.records(), model_config=CFG, hardware=None, dtype="bf16")
    assert out.utilisation["mfu"] is None and "no GPU" in out.utilisation["note"]
    out = annotate(syn.summary(), syn.records(), model_config=CFG, hardware=syn.hardware(), dtype="fp8")
    assert out.utilisation["mfu"] is None and "no dense fp8 peak" in out.utilisation["note"]
    assert out.utilisation["mbu"] is not None  # bandwidth does not depend on the dtype's compute peak


def test_annotate_is_pure_and_json_safe():
    from benchseal.io import dumps

    args = dict(model_config=CFG, hardware=syn.hardware(), dtype="bf16")
    a = annotate(syn.summary(), syn.records(), **args)
    b = annotate(syn.summary(), list(reversed(syn.records())), **args)
    assert a == b
    dumps(a)  # no NaN / inf


def test_unsupported_architecture_keeps_energy_and_says_why(tmp_path):
    csv_path = syn.telemetry_csv(tmp_path / "telemetry.csv")
    out = annotate(syn.summary(), syn.records(), model_config={"model_type": "rwkv"}, hardware=syn.hardware(),
                   dtype="bf16", telemetry_csv=csv_path)
    assert out.utilisation["mfu"] is None and out.utilisation["achieved_flops_per_s"] is None
    assert "rwkv" in out.utilisation["note"]
    assert out.energy["energy_j"] == pytest.approx(6000.0)


def test_energy_window_excludes_warmup(tmp_path):
    """duration_s starts at the first counted send, so the energy window must too: here warm-up
    takes the first 2 s (at 1000 W) and the counted requests run 2..12 s (at 100 W)."""
    import csv

    from benchseal.schema import RequestRecord

    recs = [RequestRecord(load_point="concurrency=2", request_id=90, warmup=True, send_s=0.0, first_token_s=0.5,
                          end_s=1.9, prompt_tokens=syn.PROMPT, output_tokens=syn.OUTPUT, status="ok")]
    recs += [RequestRecord(load_point="concurrency=2", request_id=i, send_s=2.0, first_token_s=2.5, end_s=12.0,
                           prompt_tokens=syn.PROMPT, output_tokens=syn.OUTPUT, status="ok") for i in range(4)]
    path = tmp_path / "telemetry.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["t_wall", "t_mono", "gpu", "power_w", "energy_mj"])
        for k in range(15):
            t = syn.T0 + k
            joules = 1000.0 * min(k, 2) + 100.0 * max(k - 2, 0)
            w.writerow([f"{t:.3f}", f"{k:.3f}", 0, 1000.0 if k < 2 else 100.0, int(joules * 1000)])
    out = annotate(syn.summary(), recs, model_config=CFG, hardware=syn.hardware(gpus=1), dtype="bf16",
                   telemetry_csv=path)
    assert out.energy["window_unix_s"] == [syn.T0 + 2.0, syn.T0 + 12.0]
    assert out.energy["energy_j"] == pytest.approx(100.0 * syn.DURATION_S, rel=1e-9)
