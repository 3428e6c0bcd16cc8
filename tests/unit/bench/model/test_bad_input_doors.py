"""Inputs validated at the door (issue 11): safetensors headers, shard indexes, config sizes.
Each case must end in one clear sentence and exit 2: no traceback, no hang, no count of a foreign file."""

from __future__ import annotations

import json
import struct

import pytest

from benchseal.errors import ExitCode


def _st(path, header: bytes, data: bytes = b"") -> None:
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def _header(**tensors) -> bytes:
    return json.dumps(tensors).encode()


def _bad(run_cli, *argv):
    code, out, err = run_cli(*argv)
    assert "Traceback" not in err + out
    assert code == ExitCode.BAD_INPUT, (code, err)
    return err


HEADERS = {
    "json-bomb-depth": b"[" * 5000 + b"]" * 5000,
    "deep-object": b'{"t": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3001,
    "digits-5000": b'{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, ' + b"9" * 5000 + b"]}}",
    "dtype-list": _header(t={"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}),
    "dtype-dict": _header(t={"dtype": {"F32": 1}, "shape": [1], "data_offsets": [0, 4]}),
    "shape-overflow": _header(t={"dtype": "F32", "shape": [2 ** 62] * 8, "data_offsets": [0, 4]}),
    "shape-many-dims": _header(t={"dtype": "F32", "shape": [1] * 100000, "data_offsets": [0, 4]}),
    "bom": b"\xef\xbb\xbf" + _header(t={"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}),
    "utf16": _header(t={"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}).decode().encode("utf-16"),
    "nan-offset": b'{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, NaN]}}',
}


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_malformed_safetensors_header_is_a_clear_error(run_cli, tmp_path, case):
    _st(tmp_path / "model.safetensors", HEADERS[case], b"\0" * 4)
    err = _bad(run_cli, "params", tmp_path / "model.safetensors")
    assert "model.safetensors" in err


def _index(tmp_path, weight_map) -> None:
    _st(tmp_path / "a.safetensors", _header(t={"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}), b"\0" * 4)
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


@pytest.mark.parametrize("shard", ["../outside/b.safetensors", "ABS", "./a.safetensors", "sub/../../x.safetensors"])
def test_index_pointing_outside_the_model_dir_is_refused(run_cli, tmp_path, shard):
    outside = tmp_path / "outside"
    outside.mkdir()
    _st(outside / "b.safetensors", _header(u={"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}), b"\0" * 4000)
    model = tmp_path / "model"
    model.mkdir()
    if shard == "ABS":
        shard = str(outside / "b.safetensors")
    _index(model, {"t": "a.safetensors", "u": shard})
    err = _bad(run_cli, "params", model)
    assert "outside the model directory" in err


def test_index_shard_symlinked_out_of_the_model_dir_is_refused(run_cli, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    _st(outside / "b.safetensors", _header(u={"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}), b"\0" * 4)
    model = tmp_path / "model"
    model.mkdir()
    (model / "b.safetensors").symlink_to(outside / "b.safetensors")
    _index(model, {"t": "a.safetensors", "u": "b.safetensors"})
    assert "outside the model directory" in _bad(run_cli, "params", model)


def test_empty_weight_map_is_refused(run_cli, tmp_path):
    _index(tmp_path, {})
    assert "empty 'weight_map'" in _bad(run_cli, "params", tmp_path)


def test_pickle_index_pointing_outside_is_refused(run_cli, tmp_path):
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": {"t": "../../etc/passwd"}}))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    assert "outside the model directory" in _bad(run_cli, "params", tmp_path, "--allow-pickle")


LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2, "hidden_size": 64,
         "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 512}


@pytest.mark.parametrize("key,value", [
    ("num_hidden_layers", 0), ("num_hidden_layers", -3), ("num_hidden_layers", 2.5), ("num_hidden_layers", True),
    ("num_hidden_layers", 10 ** 5), ("num_hidden_layers", 10 ** 9), ("vocab_size", 0), ("vocab_size", -1),
    ("vocab_size", 1e300), ("num_attention_heads", 0), ("hidden_size", "64"), ("intermediate_size", -128),
])
@pytest.mark.parametrize("command", ["params", "flops"])
def test_config_sizes_are_checked_before_anything_is_built(run_cli, tmp_path, key, value, command):
    (tmp_path / "config.json").write_text(json.dumps({**LLAMA, key: value}))
    argv = ["flops", tmp_path, "--prompt-len", "8", "--output-len", "4"] if command == "flops" else ["params", tmp_path]
    err = _bad(run_cli, *argv)  # 10^9 layers on the meta device is the hang this guards against
    assert key in err
    if key == "num_hidden_layers" and isinstance(value, int) and value > 1000:
        assert "before any model is built" in err


@pytest.mark.parametrize("raw", ["Infinity", "-Infinity", "NaN", "1" + "0" * 5000])
def test_flops_config_with_non_numbers_is_a_clear_error(run_cli, tmp_path, raw):
    (tmp_path / "config.json").write_text(json.dumps(LLAMA)[:-1] + f', "head_dim": {raw}}}')
    _bad(run_cli, "flops", tmp_path / "config.json", "--prompt-len", "8", "--output-len", "4")


def test_flops_reads_a_bundles_model_json(run_cli, tmp_path):
    card = {"schema_version": "1", "source": "x", "model_type": "llama", "params": {}, "config": {
        k: v for k, v in LLAMA.items() if k != "model_type"}}
    (tmp_path / "model.json").write_text(json.dumps(card))
    code, out, err = run_cli("flops", tmp_path / "model.json", "--prompt-len", "8", "--output-len", "4", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["model_type"] == "llama" and result["prefill_flops"] > 0
