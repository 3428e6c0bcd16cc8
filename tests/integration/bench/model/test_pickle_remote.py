"""Pickled weights are opt-in; remote code is refused unless --trust-remote-code."""

from __future__ import annotations

import json
import shutil

import pytest

from benchseal.testing.safetensors_files import write_st



@pytest.fixture
def pickled(tiny_llama, tmp_path):
    import safetensors.torch as st
    import torch

    d = tmp_path / "pk"
    d.mkdir()
    shutil.copy(tiny_llama / "config.json", d)
    torch.save(st.load_file(tiny_llama / "model.safetensors"), d / "pytorch_model.bin")
    return d


def test_pickle_refused_by_default(pickled, run_cli):
    code, out, err = run_cli("params", pickled)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "pytorch_model.bin" in err and "--allow-pickle" in err and "safetensors" in err


def test_pickle_with_allow_pickle(pickled, tiny_llama, run_cli):
    code, out, err = run_cli("params", pickled, "--allow-pickle", "--json")
    assert code == 0, err
    doc = json.loads(out)
    _, ref, _ = run_cli("params", tiny_llama, "--json")
    assert doc["method"] == "pickle" and doc["total"] == json.loads(ref)["total"]
    assert doc["discrepancies"] == []


def test_pickle_that_is_not_weights_only(tmp_path, run_cli):
    import argparse

    import torch

    torch.save({"x": argparse.Namespace(a=1)}, tmp_path / "model.pt")  # arbitrary objects are refused by weights_only
    code, _, err = run_cli("params", tmp_path / "model.pt", "--allow-pickle")
    assert code == 2 and "weights_only" in err and "Traceback" not in err


REMOTE_CONFIG = '''from transformers import LlamaConfig


class TinyXConfig(LlamaConfig):
    model_type = "benchseal_tinyx"
'''
REMOTE_MODEL = '''from transformers import LlamaForCausalLM

from .configuration_tinyx import TinyXConfig


class TinyXForCausalLM(LlamaForCausalLM):
    config_class = TinyXConfig
'''


@pytest.fixture
def remote(tmp_path, tiny_llama):
    d = tmp_path / "remote"
    d.mkdir()
    cfg = json.loads((tiny_llama / "config.json").read_text())
    cfg.update(model_type="benchseal_tinyx", architectures=["TinyXForCausalLM"],
               auto_map={"AutoConfig": "configuration_tinyx.TinyXConfig",
                         "AutoModelForCausalLM": "modeling_tinyx.TinyXForCausalLM"})
    (d / "config.json").write_text(json.dumps(cfg))
    (d / "configuration_tinyx.py").write_text(REMOTE_CONFIG)
    (d / "modeling_tinyx.py").write_text(REMOTE_MODEL)
    return d


def test_remote_code_refused(remote, run_cli):
    code, out, err = run_cli("params", remote)
    assert code == 2 and "refused" in err and "--trust-remote-code" in err and "Traceback" not in err


def test_remote_code_refused_with_weights_is_said(remote, tiny_llama, run_cli):
    shutil.copy(tiny_llama / "model.safetensors", remote)
    code, out, _ = run_cli("params", remote, "--cross-check")
    assert code == 0 and "refused" in out and "--trust-remote-code" in out


def test_remote_code_trusted(remote, tiny_llama, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    code, out, err = run_cli("params", remote, "--trust-remote-code", "--json")
    assert code == 0, err
    doc = json.loads(out)
    _, ref, _ = run_cli("params", tiny_llama, "--json")
    assert doc["method"] == "config-meta" and doc["total"] == json.loads(ref)["total"]
    assert any("remote code" in n and "executed" in n for n in doc["notes"])


def test_single_safetensors_without_config(tmp_path, run_cli):
    f = write_st(tmp_path / "x.safetensors", {"model.layers.0.mlp.experts.0.w1.weight": ("F16", [4, 4])})
    code, out, _ = run_cli("params", f, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["total"] == doc["active"] == 16
    assert any("experts per token is unknown" in n for n in doc["notes"])
