"""Serving hardware, not client hardware (issue 22)."""

from __future__ import annotations

import json

import pytest

from benchseal.errors import UsageError
from benchseal.hw.serving import load_server_hardware, serving_inventory


def _server_report(tmp_path):
    from tests.helpers.bundle_factory import make_sample_bundle

    root = make_sample_bundle(tmp_path / "server-bundle", program=None)
    return root / "hardware.json"


def test_external_endpoint_without_serving_inventory_has_none():
    report, rec = serving_inventory(external=True, endpoint="https://user:secret@api.example.com/v1")
    assert report is None and rec["source"] == "none"
    assert "--server-hardware" in rec["detail"] and "secret" not in rec["detail"]


def test_external_endpoint_with_the_servers_hw_report(tmp_path):
    path = _server_report(tmp_path)
    report, rec = serving_inventory(external=True, server_hardware=path)
    assert report.compute.gpus == 2 and rec["source"] == "server-file" and rec["hosts"] == ["gpu-node-01"]
    assert len(rec["sha256"]) == 64
    assert load_server_hardware(path.parent)[1]["sha256"] == rec["sha256"]  # a bundle folder works too


def test_refusals(tmp_path):
    path = _server_report(tmp_path)
    with pytest.raises(UsageError, match="external endpoint"):
        serving_inventory(external=False, server_hardware=path)
    with pytest.raises(UsageError, match="not both"):
        serving_inventory(external=True, server_hardware=path, ray_address="127.0.0.1:6379")
    with pytest.raises(UsageError, match="not found"):
        serving_inventory(external=True, server_hardware=tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"gpus": []}))
    with pytest.raises(UsageError, match="not a benchseal hardware report"):
        serving_inventory(external=True, server_hardware=bad)


def test_local_engine_inventories_this_host():
    report, rec = serving_inventory(external=False)
    assert report is not None and rec["source"] == "local"
