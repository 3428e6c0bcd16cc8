"""On a real GPU: NVML inventory, telemetry and the microbenchmark (skipped without a GPU)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.gpu


def test_real_probe_and_microbench(tmp_path):
    from benchseal.hw import TelemetrySampler, probe

    r = probe(microbench=True)
    assert r.nvml_available and r.gpus
    g = r.gpus[0]
    assert g.uuid and g.memory_total_bytes and g.driver_version
    mb = r.microbench
    assert mb["matmul"]["bf16"]["tflops"] > 0 and mb["memory_copy"]["gbs"] > 0
    if g.peak:  # achieved can never exceed the dense datasheet peak by much (boost clocks aside)
        assert mb["matmul"]["bf16"]["ratio_to_peak"] < 1.1
        assert mb["memory_copy"]["ratio_to_peak"] < 1.1
    with TelemetrySampler(tmp_path / "t.csv", interval_s=0.05) as s:
        time.sleep(1.0)
    assert s.result.available and s.result.samples >= 10
