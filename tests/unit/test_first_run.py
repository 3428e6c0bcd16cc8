"""What a new evaluator and a fuzzer hit on a first run (issue 28): messages and flags that must say the
right thing, and bad inputs that must be one sentence with the right exit code."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchseal import bundle as layout
from benchseal.errors import ConfigError, ExitCode, MissingDependency, UsageError


# --- flags and messages -------------------------------------------------------------------------------
def test_programs_list_is_an_alias(run_cli):
    code, out, err = run_cli("programs", "list", "--json")
    assert code == 0, err
    assert [p["id"] for p in json.loads(out)] == [p["id"] for p in json.loads(run_cli("programs", "--json")[1])]


def test_programs_cite_the_official_notice(run_cli):
    code, out, _ = run_cli("programs", "--json")
    for p in json.loads(out):
        src = p["source"]
        assert src and src["title"] and src["issuer"], p["id"]
    code, out, _ = run_cli("programs", "show", "songjiang-2025")
    assert "source: 《松江区加快智算产业发展专项支持实施细则（征求意见稿）》, 上海市松江区数据局, 2025-03-05" in out


def test_a_wrong_passphrase_is_said_in_words(run_cli, sample_bundle_copy, tmp_path, monkeypatch):
    """The scrubber hides known secrets; the passphrase "wrong" must not turn the message into '<redacted> passphrase'."""
    from tests.helpers.sign_support import new_keys

    key = new_keys(tmp_path / "keys")
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", "wrong")
    code, _, err = run_cli("sign", sample_bundle_copy, "--key", key.private_key_path)
    assert code == ExitCode.BAD_INPUT
    assert "error: wrong passphrase for the private key" in err and "redacted" not in err.lower()


def test_params_on_a_tokenizer_json_names_that_file(run_cli, tmp_path):
    tok = tmp_path / "tokenizer.json"
    tok.write_text(json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": {}}}))
    code, _, err = run_cli("params", tok)
    assert code == ExitCode.BAD_INPUT
    assert "tokenizer.json is not a model config" in err and "config.json has no" not in err



def test_perf_help_text(capsys):
    from benchseal.cli import main

    with pytest.raises(SystemExit):
        main(["perf", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: openai) (default: openai)" not in text
    assert "(default: openai)" in text


def test_verify_tally_counts_each_outcome_apart():
    from benchseal.commands._common import tally
    from benchseal.reports.verify.policy import CheckResult

    checks = [CheckResult("a", True, ""), CheckResult("b", True, "", skipped=True),
              CheckResult("c", True, "", not_rederived=True), CheckResult("d", False, "")]
    assert tally(checks) == "1 passed, 1 failed, 1 skipped, 1 not re-derived of 4 checks"


def test_missing_torch_hint_installs_the_cpu_build_first(monkeypatch):
    import importlib.util
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    msg = MissingDependency("transformers", "hf", "building the tiny test model").message
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu && pip install 'benchseal[hf]'" in msg
    assert MissingDependency("cryptography", "dev", "signing").message.endswith("pip install 'benchseal[dev]'.")


def test_tokenizer_hint_names_the_flag_each_command_takes():
    from benchseal.bench.perf.workload import WorkloadSpec, build_workload

    with pytest.raises(UsageError) as e:
        build_workload(WorkloadSpec(kind="synthetic", input_len=8, output_len=4, num_prompts=2), model_path_or_tokenizer=None)
    assert "--tokenizer PATH with benchseal perf or eval, --model-path PATH with benchseal run" in e.value.message


def test_peer_tables_by_id():
    from benchseal.evaluators.peers import load_peers, peer_table_path

    assert peer_table_path("deepseek-v3-base").name == "deepseek-v3-base.yaml"
    assert load_peers(["deepseek-v3-base"])[0].rows
    with pytest.raises(ConfigError) as e:
        peer_table_path("no-such-table")
    assert "deepseek-v3-base" in e.value.message


def test_hf_eval_of_a_missing_model_path_is_one_sentence():
    from benchseal.evaluators.backends import _local_model_exists

    with pytest.raises(UsageError, match="model path does not exist"):
        _local_model_exists("/path/to/tiny-model")
    _local_model_exists("Qwen/Qwen2.5-7B")  # a hub id is left to the backend


def test_verify_excerpt_shows_the_difference():
    from benchseal.reports.verify.rerender import _first_difference

    line = "<td>" + "x" * 300 + "PASS" + "y" * 100 + "</td>"
    out = _first_difference(line.encode(), line.replace("PASS", "FAIL").encode())
    assert "column 305" in out and "PASS" in out and "FAIL" in out


# --- verify blames the right file -----------------------------------------------------------------------
def test_recompute_claims_after_a_summary_edit_names_the_summary(run_cli, tmp_path):
    from benchseal.io import read_json, write_json
    from benchseal.reports.seal.statement import sign_bundle
    from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle

    bundle = verifiable_bundle(tmp_path / "bundle")
    key = new_keys(tmp_path / "keys")
    summary = read_json(bundle / layout.PERF_SUMMARY)
    summary["load_points"][0]["ttft_ms"]["p99"] *= 3
    write_json(bundle / layout.PERF_SUMMARY, summary)
    sign_bundle(bundle, key.private_key_path, PASSPHRASE.encode())
    code, out, _ = run_cli("verify", bundle, "--key", key.public_key_path, "--json")
    failed = {c["name"]: c["detail"] for c in json.loads(out)["checks"] if not c["ok"]}
    assert code == ExitCode.FAILED and "recompute:perf" in failed
    assert "perf/summary.json" in failed["recompute:claims"] and "either claims.json or the evidence" in failed["recompute:claims"]


# --- held-out fuzz residuals ----------------------------------------------------------------------------
@pytest.fixture
def odd_paths(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "fifo")
    return tmp_path


@pytest.mark.parametrize("name,words", [("loop", "symbolic link that loops"), ("dangling", "target does not exist"),
                                        ("fifo", "not a regular file or a directory")])
@pytest.mark.parametrize("command", ["params", "digest", "flops"])
def test_symlink_loops_and_fifos_as_a_checkpoint(run_cli, odd_paths, name, words, command):
    extra = ["--prompt-len", "8", "--output-len", "2"] if command == "flops" else []
    code, out, err = run_cli(command, odd_paths / name, *extra)
    assert code == ExitCode.BAD_INPUT and out == "" and "Traceback" not in err
    assert words in err and len(err.strip().splitlines()) == 1


def _tiny_dir(tmp_path: Path) -> Path:
    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "llama"}))
    return d


@pytest.mark.parametrize("out,words", [(".", "--out names a directory"), ("fifo", "not a regular file"),
                                       ("m/config.json/x.json", "the folder of --out is a file")])
def test_digest_out_that_cannot_be_written(run_cli, odd_paths, monkeypatch, out, words):
    model = _tiny_dir(odd_paths)
    monkeypatch.chdir(odd_paths)
    code, stdout, err = run_cli("digest", model, "--out", out)
    assert code == ExitCode.BAD_INPUT and stdout == "" and words in err and "Traceback" not in err


def test_digest_out_in_an_unwritable_folder(run_cli, tmp_path, monkeypatch):
    model = _tiny_dir(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if Path(p) == locked else real(p, mode, *a, **k))
    code, out, err = run_cli("digest", model, "--out", locked / "d.json")
    assert code == ExitCode.BAD_INPUT and "not writable" in err and not (locked / "d.json").exists()


def test_a_signal_before_the_command_starts_is_exit_3(tmp_path, capsys):
    from benchseal.cli import main

    code = main(["hw", "--out", str(tmp_path / "hw.json")], early_signals=[signal.SIGTERM])
    err = capsys.readouterr().err
    assert code == ExitCode.ENVIRONMENT and "interrupted by SIGTERM before the command started" in err
    assert not (tmp_path / "hw.json").exists()


def test_the_entry_point_records_signals_from_its_first_lines(tmp_path):
    """`benchseal` (benchseal.__main__:entry): a SIGTERM right after the module is imported, before the CLI's
    imports, ends the command with exit 3 and one sentence, not death by the signal (exit 143)."""
    import subprocess
    import sys

    code = ("import os, signal, benchseal.__main__ as m; os.kill(os.getpid(), signal.SIGTERM); "
            "raise SystemExit(m.entry())")
    r = subprocess.run([sys.executable, "-c", code, "hw", "--out", str(tmp_path / "hw.json")], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert r.returncode == ExitCode.ENVIRONMENT, r.stderr
    assert "interrupted by SIGTERM before the command started" in r.stderr and "Traceback" not in r.stderr
