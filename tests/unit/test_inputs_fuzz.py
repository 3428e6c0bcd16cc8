"""Seeded, bounded fuzzing of the input doors (issue 11): safetensors headers, model configs (params
and FLOPs), YAML configs (bombs, depth, digits, tags, non-regular paths).

Rule for every case: a clear :class:`~benchseal.errors.BenchsealError` with exit code 2, or a success
that is *right* (checked against the format's own invariants); never another exception (a
traceback), never a hang (a per-case alarm), never a wrong success. ``BENCHSEAL_FUZZ_CASES`` (default
240, split across the generators) and ``BENCHSEAL_FUZZ_SEED`` (default 11) set the size and seed.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import struct
from contextlib import contextmanager

import pytest

from benchseal.errors import BenchsealError, ExitCode

CASES = int(os.environ.get("BENCHSEAL_FUZZ_CASES", "240"))
SEED = int(os.environ.get("BENCHSEAL_FUZZ_SEED", "11"))
CASE_SECONDS = 10


class Hang(Exception):
    pass


@contextmanager
def _deadline(seconds: int):
    def _alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _outcome(fn):
    """('ok', value) or ('error', BenchsealError); anything else is raised as a test failure."""
    try:
        with _deadline(CASE_SECONDS):
            return "ok", fn()
    except Hang as exc:
        pytest.fail(f"hang: {exc}")
    except BenchsealError as exc:
        assert exc.exit_code == ExitCode.BAD_INPUT, f"exit code {exc.exit_code} for bad input: {exc}"
        assert exc.what and "\n" not in exc.what.strip()[:200]
        return "error", exc


def _junk(rng: random.Random, depth: int = 0):
    """A random JSON value: the things a hostile file puts where a number or a name should be."""
    kinds = ["int", "neg", "huge", "float", "bool", "null", "str", "list", "dict", "inf"]
    k = rng.choice(kinds if depth < 3 else kinds[:7])
    return {
        "int": lambda: rng.randint(0, 64), "neg": lambda: -rng.randint(1, 10 ** 6), "huge": lambda: 10 ** rng.randint(19, 60),
        "float": lambda: rng.choice([0.5, 1e300, -2.5, 3.0]), "bool": lambda: rng.random() < 0.5, "null": lambda: None,
        "str": lambda: rng.choice(["", "F32", "x" * 300, "../../etc/passwd", "\u0000"]),
        "list": lambda: [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))],
        "dict": lambda: {"k": _junk(rng, depth + 1)}, "inf": lambda: 2 ** 64,
    }[k]()


# ------------------------------------------------------------------------------------------------
# safetensors headers
# ------------------------------------------------------------------------------------------------
def _valid_header(rng: random.Random) -> dict:
    header, offset = {}, 0
    for i in range(rng.randint(1, 4)):
        shape = [rng.randint(1, 6) for _ in range(rng.randint(1, 3))]
        n = math.prod(shape) * 4
        header[f"t{i}"] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    return header


def _mutate_header(rng: random.Random, header: dict) -> bytes:
    name = rng.choice(sorted(header))
    field = rng.choice(["dtype", "shape", "data_offsets", "entry", "raw", "depth", "digits", "bom", "utf16", "trunc"])
    if field in ("dtype", "shape", "data_offsets"):
        header[name][field] = _junk(rng) if rng.random() < 0.7 else [_junk(rng), _junk(rng)]
    elif field == "entry":
        header[name] = _junk(rng)
    raw = json.dumps(header).encode()
    if field == "raw":
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif field == "depth":
        d = rng.choice([50, 999, 3000, 20000])
        raw = b'{"t": ' + b"[" * d + b"]" * d + b"}"
    elif field == "digits":
        raw = raw.replace(b"[0,", b"[" + b"7" * rng.choice([25, 4301, 5000, 20000]) + b",", 1)
    elif field == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif field == "utf16":
        raw = raw.decode().encode(rng.choice(["utf-16", "utf-16-le", "utf-32"]))
    elif field == "trunc":
        raw = raw[: rng.randint(0, len(raw))]
    return raw


def test_fuzz_safetensors_headers(tmp_path):
    from benchseal.bench.model.safetensors_io import DTYPE_BITS, read_header

    rng = random.Random(SEED)
    n = max(20, CASES * 2 // 5)
    counts = {"ok": 0, "error": 0}
    for i in range(n):
        header = _valid_header(rng)
        raw = _mutate_header(rng, header)
        data = b"\0" * rng.choice([0, 64, 4096])
        path = tmp_path / f"c{i}.safetensors"
        path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
        kind, res = _outcome(lambda: read_header(path))
        counts[kind] += 1
        if kind == "ok":  # a success must be a header that is right by the format's own rules
            for t in res.tensors:
                assert type(t.dtype) is str and t.dtype in DTYPE_BITS and all(type(d) is int and d >= 0 for d in t.shape)
                assert t.numel == math.prod(t.shape)
    assert counts["error"] > n // 2, counts  # the mutations are mostly harmful: most must be refused


# ------------------------------------------------------------------------------------------------
# model configs: FLOPs (no torch) and parameter counts
# ------------------------------------------------------------------------------------------------
LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2, "hidden_size": 64,
         "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 512}
SIZES = ["num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "intermediate_size",
         "vocab_size", "head_dim"]


def test_fuzz_flops_configs():
    from benchseal.bench.model.params_config import SIZE_BOUNDS
    from benchseal.commands.flops import compute

    rng = random.Random(SEED + 1)
    n = max(20, CASES * 2 // 5)
    counts = {"ok": 0, "error": 0}
    for _ in range(n):
        cfg = dict(LLAMA)
        for key in rng.sample(SIZES, rng.randint(1, 3)):
            cfg[key] = _junk(rng) if rng.random() < 0.8 else rng.choice([10 ** 5, 10 ** 9, 2 ** 63])
        kind, res = _outcome(lambda: compute(cfg, prompt_len=rng.randint(1, 64), output_len=rng.randint(1, 8)))
        counts[kind] += 1
        if kind == "ok":
            for key in SIZES:  # success only for sizes that are sane integers
                v = cfg.get(key)
                if v is not None:
                    lo, hi = SIZE_BOUNDS[key]
                    assert type(v) is int and lo <= v <= hi, (key, v)
            for k in ("prefill_flops", "decode_flops", "request_flops", "kv_cache_bytes_per_token"):
                assert math.isfinite(res[k]) and res[k] >= 0, (k, res[k], cfg)
    assert counts["error"] > 0 and counts["ok"] >= 0, counts


@pytest.mark.parametrize("layers", [10 ** 5, 10 ** 7, 10 ** 9])
def test_param_count_of_a_huge_layer_count_is_refused_before_building(layers):
    from benchseal.bench.model.params_config import count_from_config

    kind, exc = _outcome(lambda: count_from_config({**LLAMA, "num_hidden_layers": layers}))
    assert kind == "error" and "before any model is built" in exc.what


# ------------------------------------------------------------------------------------------------
# YAML: bombs, depth, digits, tags, paths that are not regular files
# ------------------------------------------------------------------------------------------------
def _yaml_case(rng: random.Random) -> tuple[str, bool]:
    """(document, must_fail)."""
    kind = rng.choice(["laughs", "depth", "flowdepth", "digits", "tag", "ok", "junk", "list"])
    if kind == "laughs":
        width, levels = rng.randint(5, 12), rng.randint(7, 10)
        lines = ["a0: &a0 [lol]"] + [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(width))}]" for i in range(1, levels)]
        return "gen_kwargs:\n" + "\n".join("  " + ln for ln in lines) + "\n", width ** levels > 2_000_000
    if kind == "depth":
        d = rng.choice([150, 1000, 3000, 6000])
        return "".join("  " * i + f"k{i}:\n" for i in range(d)) + "  " * d + "v\n", True
    if kind == "flowdepth":
        d = rng.choice([150, 3000, 10000])
        return "x: " + "[" * d + "]" * d + "\n", True
    if kind == "digits":
        return f"seed: {'9' * rng.choice([100, 4301, 5000, 50000])}\n", True
    if kind == "tag":
        return rng.choice(["x: !!python/object/apply:os.system ['true']\n", "x: !!python/name:os.system\n",
                           "!!python/object:builtins.dict {}\n"]), True
    if kind == "ok":
        return "name: demo\nseed: 42\nitems: [1, 2, 3]\nnested: {a: {b: c}}\n", False
    if kind == "list":
        return "- a\n- b\n", False
    return "".join(rng.choice("ab:-[]{}&*!| \n'\"#") for _ in range(rng.randint(1, 80))), False


def test_fuzz_yaml(tmp_path):
    from benchseal.io import load_yaml

    rng = random.Random(SEED + 2)
    n = max(20, CASES // 5)
    for i in range(n):
        doc, must_fail = _yaml_case(rng)
        path = tmp_path / f"c{i}.yaml"
        path.write_text(doc)
        kind, _ = _outcome(lambda: load_yaml(path))
        assert not (must_fail and kind == "ok"), doc[:200]


@pytest.mark.parametrize("what", ["workload", "program", "suite"])
@pytest.mark.parametrize("kind", ["directory", "dev-zero", "fifo", "bomb", "deep", "digits"])
def test_config_paths_of_every_kind_are_clear_errors(run_cli, tmp_path, what, kind):
    path = tmp_path / f"x.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "bomb":
        path.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"a{i}: &a{i} [{', '.join(['*a' if i == 0 else f'*a{i - 1}'] * 10)}]\n" for i in range(9)))
    elif kind == "deep":
        path.write_text("x: " + "[" * 3000 + "]" * 3000 + "\n")
    else:
        path.write_text("seed: " + "1" * 5000 + "\n")
    from benchseal.bench.perf.run import load_workload_file
    from benchseal.claims import load_program
    from benchseal.evaluators.suites import load_suite

    fn = {"workload": load_workload_file, "program": load_program, "suite": load_suite}[what]
    kind_, exc = _outcome(lambda: fn(str(path)))
    assert kind_ == "error", what


def test_workload_cli_on_a_directory_exits_2(run_cli, tmp_path):
    code, out, err = run_cli("perf", "--workload", tmp_path, "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                             "--out", tmp_path / "o")
    assert code == ExitCode.BAD_INPUT and "Traceback" not in err + out


# ------------------------------------------------------------------------------------------------
# program ids and config folders
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_id", ["", "../../etc/x", "/abs", "a/b", "..", " spaced"])
def test_program_with_an_empty_or_path_id_does_not_load(tmp_path, bad_id):
    from benchseal.claims import load_program
    from benchseal.io import dumps

    data = json.loads(dumps(load_program("hunan-2025")))
    data["id"] = bad_id
    path = tmp_path / "p.yaml"
    path.write_text(json.dumps(data))
    kind, exc = _outcome(lambda: load_program(path))
    assert kind == "error" and "id" in exc.what
    kind, _ = _outcome(lambda: load_program(bad_id or "."))
    assert kind == "error"


@pytest.mark.parametrize("content", ["", "- a\n- b\n", "x: " + "[" * 3000 + "]" * 3000 + "\n",
                                     "gpus: !!python/object/apply:os.system ['true']\n", "gpus: [\n"])
def test_malformed_gpus_yaml_in_a_config_dir_is_an_error(run_cli, tmp_path, content):
    from benchseal.config import reset_config_dirs

    (tmp_path / "gpus.yaml").write_text(content)
    try:
        code, out, err = run_cli("--config-dir", tmp_path, "hw", "--json")
    finally:
        reset_config_dirs()
    assert code == ExitCode.BAD_INPUT and "gpus.yaml" in err and "Traceback" not in err + out
