"""Every bad model input: one clear message naming the file, exit 2, no traceback."""

from __future__ import annotations

import json
import struct

import pytest

from benchseal.bench.model.safetensors_io import MAX_HEADER_BYTES
from benchseal.testing.safetensors_files import header_for, write_raw, write_sharded, write_st


GOOD = {"a.weight": ("F32", [4]), "b.weight": ("F32", [4])}


def _run(run_cli, path, *extra):
    code, out, err = run_cli("params", path, *extra)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and out == ""
    assert err.count("\n") == 1, err  # one line
    return err


def _header_bytes(mutate) -> tuple[bytes, int]:
    header, size = header_for(GOOD)
    mutate(header)
    return json.dumps(header).encode(), size


def test_truncated_file(tmp_path, run_cli):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"\x10\x00\x00")
    err = _run(run_cli, f)
    assert "truncated" in err and str(f) in err


def test_truncated_data_section(tmp_path, run_cli):
    hb, size = _header_bytes(lambda h: None)
    f = write_raw(tmp_path / "model.safetensors", hb, size - 4)
    err = _run(run_cli, f)
    assert "out of bounds" in err and "truncated" in err and str(f) in err


def test_header_length_beyond_file(tmp_path, run_cli):
    hb, size = _header_bytes(lambda h: None)
    f = write_raw(tmp_path / "model.safetensors", hb, 0, declared_len=len(hb) + size + 100)
    err = _run(run_cli, f)
    assert "beyond the file size" in err and str(f) in err


@pytest.mark.parametrize("declared", [MAX_HEADER_BYTES + 1, 2**63 - 1, 2**64 - 1])
def test_absurd_header_length_is_never_allocated(tmp_path, run_cli, declared):
    f = tmp_path / "model.safetensors"
    f.write_bytes(struct.pack("<Q", declared) + b"{}")
    err = _run(run_cli, f)
    assert "absurd" in err and str(f) in err


def test_invalid_json(tmp_path, run_cli):
    f = write_raw(tmp_path / "model.safetensors", b'{"a.weight": {"dtype": "F32",', 16)
    err = _run(run_cli, f)
    assert "invalid JSON" in err and str(f) in err


def test_offsets_out_of_bounds(tmp_path, run_cli):
    hb, size = _header_bytes(lambda h: h["b.weight"].update(data_offsets=[48, 64]))  # data section holds 32 bytes
    f = write_raw(tmp_path / "model.safetensors", hb, size)
    err = _run(run_cli, f)
    assert "out of bounds" in err and "b.weight" in err


def test_offsets_overlapping(tmp_path, run_cli):
    hb, size = _header_bytes(lambda h: h["b.weight"].update(data_offsets=[8, 24]))
    f = write_raw(tmp_path / "model.safetensors", hb, 32)
    err = _run(run_cli, f)
    assert "overlapping" in err and "a.weight" in err and "b.weight" in err


def test_unknown_dtype(tmp_path, run_cli):
    hb, size = _header_bytes(lambda h: h["a.weight"].update(dtype="F128"))
    f = write_raw(tmp_path / "model.safetensors", hb, size)
    err = _run(run_cli, f)
    assert "unknown dtype 'F128'" in err and str(f) in err


def test_shape_and_byte_size_disagree(tmp_path, run_cli):
    hb, size = _header_bytes(lambda h: h["a.weight"].update(shape=[5]))
    f = write_raw(tmp_path / "model.safetensors", hb, size)
    err = _run(run_cli, f)
    assert "a.weight" in err and "needs 20 bytes" in err and "span 16" in err


def test_missing_shard(tmp_path, run_cli):
    root = write_sharded(tmp_path / "m", [{"a.weight": ("F32", [4])}, {"b.weight": ("F32", [4])}])
    (root / "model-00002-of-00002.safetensors").unlink()
    err = _run(run_cli, root)
    assert "shard 'model-00002-of-00002.safetensors'" in err and "missing" in err and "index.json" in err


def test_index_names_tensor_not_in_shard(tmp_path, run_cli):
    root = write_sharded(tmp_path / "m", [{"a.weight": ("F32", [4])}, {"b.weight": ("F32", [4])}])
    idx = root / "model.safetensors.index.json"
    doc = json.loads(idx.read_text())
    doc["weight_map"]["c.weight"] = "model-00001-of-00002.safetensors"
    idx.write_text(json.dumps(doc))
    assert "c.weight" in _run(run_cli, root)


def test_empty_directory(tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    err = _run(run_cli, tmp_path / "empty")
    assert "no config.json and no weight files" in err and str(tmp_path / "empty") in err


def test_missing_path(tmp_path, run_cli):
    assert "does not exist" in _run(run_cli, tmp_path / "nope")


def test_unknown_model_type(tmp_path, run_cli):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no-such-arch", "hidden_size": 8}))
    err = _run(run_cli, tmp_path)
    assert "model_type 'no-such-arch'" in err and "config.json" in err


def test_invalid_config_json(tmp_path, run_cli):
    (tmp_path / "config.json").write_text("{")
    assert "invalid JSON" in _run(run_cli, tmp_path)


def test_inconsistent_config(tmp_path, run_cli):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 10, "num_attention_heads": 3}))
    err = _run(run_cli, tmp_path)
    assert "could not build the architecture" in err


def test_unknown_model_type_with_weights_is_noted(tmp_path, run_cli):
    write_st(tmp_path / "model.safetensors", GOOD)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no-such-arch"}))
    code, out, _ = run_cli("params", tmp_path, "--json", "--cross-check")
    doc = json.loads(out)
    assert code == 0 and doc["total"] == 8
    assert any("config-meta count not made" in n and "no-such-arch" in n for n in doc["notes"])


def test_digest_bad_inputs(tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli("digest", tmp_path / "empty")
    assert code == 2 and "no weight, config or tokenizer files" in err
    (tmp_path / "m").mkdir()
    write_st(tmp_path / "m" / "model.safetensors", GOOD)
    (tmp_path / "bad.json").write_text('{"x": 1}')
    code, _, err = run_cli("digest", tmp_path / "m", "--check", tmp_path / "bad.json")
    assert code == 2 and "not a digest list" in err and "Traceback" not in err
