"""NVML probe and the 算力规模 table, replaying values recorded from real hardware."""

from __future__ import annotations

import pytest

from benchseal.hw import compute_table, merge_compute_tables, probe, report_from_nodes
from benchseal.schema import HardwareReport, NodeInventory
from tests.helpers import REPO



def test_no_driver(no_gpu):
    r = probe()
    assert r.nvml_available is False and r.gpus == []
    assert "LibraryNotFound" in r.nvml_error
    assert r.compute.gpus == 0 and r.compute.rows == []
    assert r.host.hostname and r.host.python


def test_h100_fixture(fake_nvml):
    fake_nvml("nvml_h100_sxm5_x2.json")
    r = probe()
    assert r.nvml_available and r.nvml_error is None and len(r.gpus) == 2
    g = r.gpus[0]
    assert g.name == "NVIDIA H100 80GB HBM3" and g.pci_bus_id == "00000000:19:00.0"
    assert g.memory_total_bytes == 81559 * 2**20
    assert (g.driver_version, g.cuda_driver_version, g.compute_capability) == ("550.90.07", "12.4", "9.0")
    assert (g.sm_clock_mhz, g.sm_clock_max_mhz, g.mem_clock_mhz, g.mem_clock_max_mhz) == (345, 1980, 2619, 2619)
    assert (g.power_limit_w, g.power_limit_default_w) == (700.0, 700.0)
    assert g.ecc_enabled is True and g.mig_enabled is False
    assert g.nvlink_active_links == 18 and g.temperature_c == 39.0
    # unsupported fields: None + a note, the rest survives
    assert g.serial is None and "serial: not supported" in g.notes
    assert g.uuid is None and g.pcie_gen is None and "pcie_gen: not supported" in g.notes
    assert g.peak.spec_id == "h100-sxm5-80gb"
    row, = r.compute.rows
    assert (row.count, row.model, row.vendor) == (2, "NVIDIA H100 SXM5 80GB", "NVIDIA")
    assert row.tflops_total["bf16"] == 2 * 989.5 and r.compute.total_tflops["fp8"] == 2 * 1979
    assert row.memory_bandwidth_gbs_total == 6700


def test_a800_and_a100_fixtures(fake_nvml):
    fake_nvml("nvml_a800_sxm4_80gb_x2.json")
    r = probe()
    assert [g.temperature_c for g in r.gpus] == [49.0, 42.0]
    assert r.gpus[1].pci_bus_id == "00000000:2A:00.0" and r.gpus[0].power_limit_w == 400.0
    assert r.gpus[0].nvlink_active_links is None and "nvlink_active_links: not supported" in r.gpus[0].notes
    assert r.compute.total_tflops["bf16"] == 624 and "fp8" not in r.compute.total_tflops
    fake_nvml("nvml_a100_sxm4_80gb.json")
    g, = probe().gpus
    assert (g.serial, g.uuid, g.driver_version, g.cuda_driver_version) == (
        "1324621114474", "GPU-a75cda02-62ce-2c30-9150-555ef08935e2", "470.103.01", "11.4")
    assert g.memory_total_bytes is None and g.peak.spec_id == "a100-sxm4-80gb"


def test_unknown_gpu_gets_no_peak(fake_nvml, monkeypatch):
    mod = fake_nvml("nvml_a100_sxm4_80gb.json")
    monkeypatch.setattr(mod, "nvmlDeviceGetName", lambda h: "NVIDIA H100 80GB HBM3 Experimental")
    r = probe()
    assert r.gpus[0].peak is None and any("no configs/gpus.yaml entry" in n for n in r.gpus[0].notes)
    assert r.compute.unknown_gpus == ["NVIDIA H100 80GB HBM3 Experimental"]
    assert r.compute.total_tflops == {} and r.compute.rows[0].tflops_total == {}


def test_compute_table_is_pure_and_rederivable(fake_nvml):
    fake_nvml("nvml_h100_sxm5_x2.json")
    r = probe()
    data = r.model_dump(mode="json")
    again = HardwareReport.model_validate(data)
    assert compute_table(again.gpus, again.host.hostname) == r.compute


def test_mixed_and_multinode_totals(fake_nvml):
    fake_nvml("nvml_h100_sxm5_x2.json")
    h = probe().gpus
    fake_nvml("nvml_a800_sxm4_80gb_x2.json")
    a = probe().gpus
    t1 = compute_table(h + [g.model_copy(update={"index": g.index + 2}) for g in a], "s1")
    assert [r.count for r in t1.rows] == [2, 2]
    assert t1.total_tflops["bf16"] == 2 * 989.5 + 2 * 312
    assert t1.total_tflops["fp8"] == 2 * 1979  # A800 defines no fp8
    assert any("fp8" in n and "include only" in n for n in t1.notes)
    t2 = compute_table(a, "s2")
    m = merge_compute_tables([t1, t2])
    assert (m.servers, m.gpus) == (2, 6) and m.total_tflops["bf16"] == 2 * 989.5 + 4 * 312


def test_report_from_nodes_dedupes_servers(fake_nvml):
    fake_nvml("nvml_h100_sxm5_x2.json")
    from benchseal.hw import probe_node

    n = probe_node()
    rep = report_from_nodes([n, NodeInventory.model_validate(n.model_dump())])
    assert rep.compute.servers == 2 and rep.compute.gpus == 4
    assert [r.server for r in rep.compute.rows] == [n.host.hostname, n.host.hostname + "#2"]
    assert len(rep.nodes) == 2 and rep.compute.total_tflops["bf16"] == 4 * 989.5


def test_record_script_round_trips_through_replay(fake_nvml, tmp_path):
    """scripts/record_nvml_fixture.py writes the format the replay reads: record from a replayed
    H100, replay the recording, and the probe sees the same inventory."""
    import json
    import runpy
    from pathlib import Path

    fake_nvml("nvml_h100_sxm5_x2.json")
    before = probe()
    script = runpy.run_path(str(REPO / "scripts" / "record_nvml_fixture.py"))
    data = script["record"](False)
    assert data["devices"][0]["serial"] == {"error": "NotSupported"}
    import sys

    from tests.helpers.nvml_replay import make_fake_pynvml

    sys.modules["pynvml"] = make_fake_pynvml(data)  # restored by the fake_nvml fixture's monkeypatch
    after = probe()
    strip = {"temperature_c"}  # identical here too, but it is a live reading in general
    assert [g.model_dump(exclude=strip) for g in after.gpus] == [g.model_dump(exclude=strip) for g in before.gpus]
    assert after.compute == before.compute
