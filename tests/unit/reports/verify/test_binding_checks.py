"""verify re-derives what run.json says the figures are bound to (issue 22)."""

from __future__ import annotations

import json
from pathlib import Path

from benchseal.evaluators.identity import compare
from benchseal.reports.verify.binding import ModelIdentityCheck, ServingHardwareCheck
from benchseal.reports.verify.policy import BundleContext
from tests.helpers.bundle_factory import make_sample_bundle


def _ctx(root: Path) -> BundleContext:
    return BundleContext(bundle_dir=root, trusted_keys={}, require_signature=False)


def _edit_run(root: Path, **kw) -> None:
    run = json.loads((root / "run.json").read_text())
    run.update(kw)
    (root / "run.json").write_text(json.dumps(run))


def _outcomes(check, root):
    return [(c.outcome, c.detail) for c in check.check(_ctx(root))]


def test_bound_is_checked_against_model_json(tmp_path):
    root = make_sample_bundle(tmp_path / "b", program=None)
    assert _outcomes(ModelIdentityCheck(), root)[0][0] == "PASS"
    run = json.loads((root / "run.json").read_text())
    _edit_run(root, served_model_identity=run["served_model_identity"] | {"model_digest": "00" * 32})
    out = _outcomes(ModelIdentityCheck(), root)
    assert out[0][0] == "FAIL" and "model digest is not model.json's" in out[0][1]


def test_probe_status_is_re_derived_from_the_stored_scores(tmp_path):
    root = make_sample_bundle(tmp_path / "b", program=None)
    ep, loc = [[None, -2.0, -1.0]], [[None, -5.0, -0.2]]
    res = compare(ep, loc, "bfloat16")
    ident = {"status": res["status"], "method": "probe:prompt-logprobs/1", "detail": res["reason"], "dtype": "bfloat16",
             "endpoint_logprobs": ep, "local_logprobs": loc, "tolerance": res["tolerance"], "tokens": res["tokens"],
             "mean_abs_diff": res["mean_abs_diff"], "max_abs_diff": res["max_abs_diff"]}
    assert ident["status"] == "mismatched"
    _edit_run(root, served_model_identity=ident)
    assert _outcomes(ModelIdentityCheck(), root)[0][0] == "PASS"
    _edit_run(root, served_model_identity=ident | {"status": "matched"})  # a forged "matched"
    out = _outcomes(ModelIdentityCheck(), root)
    assert out[0][0] == "FAIL" and "re-derives as mismatched" in out[0][1]
    _edit_run(root, served_model_identity={k: v for k, v in ident.items() if k != "endpoint_logprobs"} | {"status": "matched"})
    assert _outcomes(ModelIdentityCheck(), root)[0][0] == "FAIL"


def test_serving_hardware(tmp_path):
    from benchseal.io import sha256_file

    root = make_sample_bundle(tmp_path / "b", program=None)
    assert _outcomes(ServingHardwareCheck(), root)[0][0] == "PASS"
    _edit_run(root, serving_hardware={"source": "none", "detail": "external endpoint"})
    out = _outcomes(ServingHardwareCheck(), root)
    assert out[0][0] == "FAIL" and "client as the server" in out[0][1]
    _edit_run(root, serving_hardware={"source": "server-file", "sha256": sha256_file(root / "hardware.json"),
                                      "hosts": ["gpu-node-01"]})
    assert _outcomes(ServingHardwareCheck(), root)[0][0] == "PASS"
    (root / "hardware.json").write_text((root / "hardware.json").read_text().replace("gpu-node-01", "client-laptop"))
    assert _outcomes(ServingHardwareCheck(), root)[0][0] == "FAIL"


def test_write_serving_hardware_keeps_the_servers_bytes(tmp_path):
    from benchseal.hw.serving import serving_inventory, write_serving_hardware
    from benchseal.io import sha256_file

    src = make_sample_bundle(tmp_path / "server", program=None) / "hardware.json"
    report, rec = serving_inventory(external=True, server_hardware=src)
    out = tmp_path / "out"
    out.mkdir()
    assert write_serving_hardware(out, report, rec) == ["hardware.json"]
    assert sha256_file(out / "hardware.json") == rec["sha256"]
    assert write_serving_hardware(tmp_path, None, {"source": "none"}) == []
