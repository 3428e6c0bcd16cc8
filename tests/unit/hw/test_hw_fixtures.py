"""Every NVML replay fixture in tests/helpers/nvml_fixtures (recorded ones from scripts/gpu_check.sh included,
once copied there) gives a complete inventory: every GPU found, matched to a datasheet peak, and an
算力 table that adds up."""

from __future__ import annotations

import json

import pytest

from tests.helpers.nvml_replay import FIXTURES

@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("nvml_*.json")))
def test_fixture_replays_to_a_complete_inventory(fake_nvml, name):
    from benchseal.hw import probe

    data = json.loads((FIXTURES / name).read_text())
    fake_nvml(name)
    rep = probe()
    assert rep.nvml_available and len(rep.gpus) == len(data["devices"])
    recorded = data.get("recorded_by") == "scripts/record_nvml_fixture.py"
    for g in rep.gpus:
        assert g.peak is not None, f"{g.name} is not matched in configs/gpus.yaml"
        if recorded:  # a recording has every field the device reports (pieced-together ones may not)
            assert g.memory_total_bytes and g.driver_version and g.compute_capability
    assert rep.compute.gpus == len(rep.gpus)
    assert rep.compute.total_tflops["bf16"] == pytest.approx(sum(g.peak.tflops["bf16"] for g in rep.gpus))
    if recorded:  # identifiers redacted
        assert all(d["uuid"].startswith("GPU-00000000-") for d in data["devices"] if isinstance(d.get("uuid"), str))
        assert "a redacted host" in data.get("description", "")
