"""configs/gpus.yaml: every entry sourced and positive; matching explicit, never guessed."""

from __future__ import annotations

import pytest

from benchseal.errors import ConfigError
from benchseal.hw.specs import DTYPES, load_gpu_specs, match_spec


REQUIRED = ["a100-sxm4-40gb", "a100-sxm4-80gb", "a100-pcie-40gb", "a100-pcie-80gb", "a800-sxm4-80gb",
            "h100-sxm5-80gb", "h100-pcie-80gb", "h100-nvl-94gb", "h800-sxm5-80gb", "h20-96gb", "h200-sxm-141gb",
            "l40s-48gb", "l20-48gb", "l4-24gb", "rtx-4090", "b200-hgx-180gb"]


def test_every_entry_sourced_and_positive():
    specs = load_gpu_specs()
    assert set(REQUIRED) <= set(specs)
    for sid, e in specs.items():
        assert e.sources and all(u.startswith("https://") for u in e.sources), sid
        assert e.memory_bandwidth_gbs > 0, sid
        assert e.tflops and all(k in DTYPES and v > 0 for k, v in e.tflops.items()), sid
        for k, u in e.value_sources.items():
            assert (k in e.tflops or k in ("memory_bandwidth_gbs", "memory_total_mib")) and u.startswith("https://"), (sid, k)
        if e.memory_total_mib is not None:  # NVML's total: cited, and within 10 % of the datasheet size
            assert "memory_total_mib" in e.value_sources or any("memory_total_mib" in n for n in e.notes), sid
            assert abs(e.memory_total_mib * 2**20 / (e.memory_gb * 1e9) - 1) < 0.10, sid


def test_dense_not_sparse_known_values():
    s = load_gpu_specs()
    # NVIDIA prints 1979 TFLOPS BF16 and 3958 FP8 *with sparsity* for H100 SXM: dense is half
    assert s["h100-sxm5-80gb"].tflops["bf16"] == 989.5 and s["h100-sxm5-80gb"].tflops["fp8"] == 1979
    assert s["a100-sxm4-80gb"].tflops["bf16"] == 312 and "fp8" not in s["a100-sxm4-80gb"].tflops
    assert s["l4-24gb"].tflops["fp16"] == 121  # datasheet: 242* with sparsity
    # tensor throughput is never below the non-tensor fp32 figure on these parts
    for sid, e in s.items():
        if "bf16" in e.tflops and "fp32" in e.tflops:
            assert e.tflops["bf16"] >= e.tflops["fp32"], sid


@pytest.mark.parametrize("name,mem,expected", [
    ("NVIDIA H100 80GB HBM3", None, "h100-sxm5-80gb"),
    ("NVIDIA H100 PCIe", None, "h100-pcie-80gb"),
    ("NVIDIA H100 NVL", None, "h100-nvl-94gb"),
    ("NVIDIA A100-SXM4-40GB", None, "a100-sxm4-40gb"),
    ("NVIDIA A100-SXM4-80GB", None, "a100-sxm4-80gb"),
    ("NVIDIA A100 80GB PCIe", None, "a100-pcie-80gb"),
    ("NVIDIA A800-SXM4-80GB", None, "a800-sxm4-80gb"),
    ("NVIDIA H800", None, "h800-sxm5-80gb"),
    ("NVIDIA H200", None, "h200-sxm-141gb"),
    ("NVIDIA H200 NVL", None, "h200-nvl-141gb"),
    ("NVIDIA GeForce RTX 4090", None, "rtx-4090"),
    ("  NVIDIA L40S ", None, "l40s-48gb"),
    ("NVIDIA H20", 97871 * 2**20, "h20-96gb"),
])
def test_match_explicit(name, mem, expected):
    p = match_spec(name, mem)
    assert p is not None and p.spec_id == expected


@pytest.mark.parametrize("name,mem", [
    ("H100", None),                            # substring of several models
    ("NVIDIA H100", None),                     # not an NVML name of any entry
    ("NVIDIA H100 PCIe 2", None),              # not an exact name
    ("NVIDIA H100 80GB HBM3e", None),
    ("NVIDIA L40", None),                      # L40 is not L40S
    ("NVIDIA GeForce RTX 4090 D", None),       # China variant, different peaks
    ("NVIDIA H20", None),                      # memory needed to tell the variants apart
    ("NVIDIA H20", 141 * 10**9),               # the 141 GB variant is not in the table
    ("Tesla V100-SXM2-32GB", None),
    ("", None),
])
def test_unknown_or_ambiguous_is_none(name, mem):
    assert match_spec(name, mem) is None


def test_ambiguous_config_rejected(tmp_path):
    bad = tmp_path / "gpus.yaml"
    bad.write_text(
        'schema_version: "1"\ngpus:\n'
        '  a: {display_name: A, match: {names: ["X"]}, tflops: {fp32: 1}, memory_bandwidth_gbs: 1, sources: ["https://a"]}\n'
        '  b: {display_name: B, match: {patterns: ["X.*"]}, tflops: {fp32: 2}, memory_bandwidth_gbs: 1, sources: ["https://b"]}\n'
    )
    with pytest.raises(ConfigError, match="matches several entries"):
        load_gpu_specs(bad)


def test_entry_without_source_or_with_sparse_key_rejected(tmp_path):
    bad = tmp_path / "gpus.yaml"
    bad.write_text('schema_version: "1"\ngpus:\n'
                   '  a: {display_name: A, match: {names: ["X"]}, tflops: {fp16_sparse: 1}, memory_bandwidth_gbs: 1, sources: []}\n')
    with pytest.raises(ConfigError) as exc:
        load_gpu_specs(bad)
    assert "sources" in exc.value.message and "fp16_sparse" in exc.value.message
