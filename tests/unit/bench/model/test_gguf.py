"""GGUF: logical element counts from the header only, checked against gguf-py's own reader."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from benchseal.bench.model.gguf_io import GGML_TYPES, read_gguf  # noqa: E402
from benchseal.bench.model.params import count_params  # noqa: E402

H, F, E, V = 64, 128, 4, 96


def _write(path, *, moe: bool, tokens: int = 200):
    w = gguf.GGUFWriter(str(path), "qwen3moe" if moe else "llama")
    w.add_block_count(1)
    w.add_token_list([f"t{i}" for i in range(tokens)])  # a long string array, skipped by our reader
    w.add_token_scores([0.0] * tokens)  # a long scalar array, skipped in one seek
    if moe:
        w.add_expert_count(E)
        w.add_expert_used_count(2)
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    w.add_tensor("token_embd.weight", gguf.quants.quantize(f32(V, H), gguf.GGMLQuantizationType.Q8_0),
                 raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.attn_q.weight", f32(H, H).astype(np.float16))
    w.add_tensor("blk.0.attn_norm.weight", f32(H))
    if moe:
        w.add_tensor("blk.0.ffn_gate_inp.weight", f32(E, H))
        w.add_tensor("blk.0.ffn_up_exps.weight", gguf.quants.quantize(f32(E, F, H), gguf.GGMLQuantizationType.Q8_0),
                     raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    else:
        w.add_tensor("blk.0.ffn_up.weight", f32(F, H))
    w.add_tensor("output_norm.weight", f32(H))
    w.add_tensor("output.weight", f32(V, H))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.mark.parametrize("moe", [False, True])
def test_gguf_counts_match_gguf_reader(tmp_path, moe):
    path = _write(tmp_path / "m.gguf", moe=moe)
    ref = gguf.GGUFReader(str(path))
    truth = sum(int(t.n_elements) for t in ref.tensors)
    g = read_gguf(path)
    assert [t.name for t in g.tensors] == [t.name for t in ref.tensors]
    assert [t.numel for t in g.tensors] == [int(t.n_elements) for t in ref.tensors]
    assert [t.nbytes for t in g.tensors] == [int(t.n_bytes) for t in ref.tensors]
    assert g.metadata["tokenizer.ggml.tokens"] == {"array_length": 200}
    pc = count_params(path)
    assert pc.method == "gguf" and pc.architecture == ("qwen3moe" if moe else "llama")
    assert pc.total == truth
    assert pc.breakdown["embedding"] == V * H and pc.breakdown["lm_head"] == V * H
    if moe:
        assert pc.breakdown["experts"] == E * F * H and pc.breakdown["router"] == E * H
        assert pc.active == truth - E * F * H + 2 * F * H
    else:
        assert pc.active == truth and pc.breakdown["mlp"] == F * H


def test_gguf_type_table_matches_gguf_py():
    for tid, (name, block, size) in GGML_TYPES.items():
        t = gguf.GGMLQuantizationType(tid)
        assert t.name == name and gguf.GGML_QUANT_SIZES[t] == (block, size)


def test_gguf_cli_json(tmp_path, run_cli):
    path = _write(tmp_path / "m.gguf", moe=False)
    code, out, _ = run_cli("params", path, "--json")
    assert code == 0 and json.loads(out)["method"] == "gguf"


@pytest.mark.parametrize("damage", ["truncate-header", "truncate-data", "magic", "tensor-count"])
def test_gguf_bad_input(tmp_path, run_cli, damage):
    path = _write(tmp_path / "m.gguf", moe=False)
    data = path.read_bytes()
    if damage == "truncate-header":
        path.write_bytes(data[:200])
    elif damage == "truncate-data":
        os.truncate(path, len(data) - 100)
    elif damage == "magic":
        path.write_bytes(b"GGUX" + data[4:])
    else:
        path.write_bytes(data[:8] + (2**60).to_bytes(8, "little") + data[16:])
    code, out, err = run_cli("params", path)
    assert code == 2 and out == "" and "Traceback" not in err and str(path) in err
    assert {"truncate-header": "truncated", "truncate-data": "out of bounds", "magic": "bad magic",
            "tensor-count": "tensor count 1152921504606846976 needs more bytes"}[damage] in err
