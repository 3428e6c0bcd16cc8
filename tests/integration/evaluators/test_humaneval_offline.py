"""(e) HumanEval runs offline after `benchseal datasets import` (issue 13): no Hub, an empty Hugging Face
cache, evaluate's code_eval taken from the copy benchseal ships and installs next to the data.

The CLI runs in subprocesses so that HF_HOME (evaluate reads it once, at import) really is the empty
folder of this test, and nothing an earlier test cached can help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchseal.errors import ExitCode
from benchseal.evaluators.datasets import METRICS_DIR, write_mirror
from tests.helpers import REPO

PROBLEMS = [  # the openai/openai_humaneval schema, as the dataset publishes it
    {"task_id": "HumanEval/0", "prompt": 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n',
     "canonical_solution": "    return a + b\n", "test": "\n\ndef check(candidate):\n    assert candidate(2, 3) == 5\n",
     "entry_point": "add"},
    {"task_id": "HumanEval/1", "prompt": 'def is_even(n: int) -> bool:\n    """True when n is even."""\n',
     "canonical_solution": "    return n % 2 == 0\n",
     "test": "\n\ndef check(candidate):\n    assert candidate(4)\n    assert not candidate(3)\n", "entry_point": "is_even"},
    {"task_id": "HumanEval/2", "prompt": 'def shout(s: str) -> str:\n    """Upper-case s."""\n',
     "canonical_solution": "    return s.upper()\n", "test": "\n\ndef check(candidate):\n    assert candidate('a') == 'A'\n",
     "entry_point": "shout"},
]
# the shipped humaneval suite, with generation cut to 16 tokens (the task's own 1024 take minutes on CPU)
SHORT_SUITE = "name: humaneval-short\nkind: custom\nincludes: [humaneval]\nprotocol:\n  gen_kwargs: {max_gen_toks: 16}\n"


def _env(hf_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(PYTHONPATH=str(REPO), HF_HOME=str(hf_home), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               HF_EVALUATE_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    return env


def _cli(env: dict[str, str], *argv: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "benchseal", *map(str, argv)], env=env, capture_output=True,
                          text=True, timeout=900, cwd=env["HF_HOME"])


def test_humaneval_runs_offline_after_import(tiny_llama: Path, tmp_path: Path):
    import pandas as pd

    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    env = _env(hf_home)
    src = tmp_path / "usb" / "openai_humaneval"
    src.mkdir(parents=True)
    pd.DataFrame(PROBLEMS).to_parquet(src / "test-00000-of-00001.parquet")
    data = tmp_path / "data"
    r = _cli(env, "datasets", "import", "humaneval", "--source", tmp_path / "usb", "--data-dir", data, "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    verified = json.loads(r.stdout)["verified"]
    metric = verified["metrics"]["code_eval"]
    shipped = json.loads((REPO / "benchseal" / "configs" / "metrics" / "code_eval" / "SOURCE.json").read_text())
    assert {f["path"]: f["sha256"] for f in metric["manifest"]["files"]} == {
        n: rec["sha256"] for n, rec in shipped["files"].items()}

    # the installed copy really scores offline: the canonical solutions pass
    check = ("import json, sys, evaluate; m = evaluate.load(sys.argv[1]); "
             "print(json.dumps(m.compute(references=json.loads(sys.argv[2]), predictions=json.loads(sys.argv[3]), k=[1])[0]))")
    refs = [p["test"] + f"\ncheck({p['entry_point']})" for p in PROBLEMS]
    preds = [[p["prompt"] + p["canonical_solution"]] for p in PROBLEMS]
    r = subprocess.run([sys.executable, "-c", check, str(data / METRICS_DIR / "code_eval" / "code_eval.py"), json.dumps(refs),
                        json.dumps(preds)], env=env | {"HF_ALLOW_CODE_EVAL": "1"}, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"pass@1": 1.0}

    suite = tmp_path / "humaneval-short.yaml"
    suite.write_text(SHORT_SUITE)
    out = tmp_path / "bundle"
    base = ("eval", "run", suite, "--model", tiny_llama, "--device", "cpu", "--data-dir", data, "--out", out, "--json")
    r = _cli(env, *base)  # without the opt-in: refused before anything runs
    assert r.returncode == ExitCode.BAD_INPUT and "--allow-unsafe-code" in r.stderr and "Traceback" not in r.stderr
    r = _cli(env, *base, "--allow-unsafe-code")  # HF_ALLOW_CODE_EVAL is not in env: benchseal sets it for the run
    assert r.returncode == 0, r.stderr[-4000:]
    rep = json.loads(r.stdout)
    head = [x for x in rep["results"] if x["headline"]]
    assert [(x["task"], x["metric"], x["filter"], x["n"], x["benchmark"]) for x in head] == [
        ("humaneval", "pass@1", "create_test", 3, "HumanEval")]
    assert 0.0 <= head[0]["value"] <= 1.0  # the random tiny model writes garbage: 0 is expected
    assert rep["claim_grade"] is False
    assert any("evaluated 3 items; the official HumanEval split has 164" in x for x in rep["not_claim_grade_reasons"])
    assert head[0]["fingerprint"]["data_manifest_sha256"] == verified["sha256"]
    # the bundle records which metric code scored the run, and the rendered task loads exactly that file
    ev = out / "eval" / "humaneval-short"
    manifest = json.loads((ev / "manifest.json").read_text())
    assert manifest["metrics"]["code_eval"]["manifest_sha256"] == metric["manifest_sha256"]
    [binding] = manifest["metric_bindings"]
    assert binding["file"] == "builtin-humaneval/utils.py" and binding["path"] == str(
        (data / METRICS_DIR / "code_eval" / "code_eval.py").resolve())
    assert json.dumps(binding["path"]) in (ev / "tasks" / "builtin-humaneval" / "utils.py").read_text()
    samples = [json.loads(line) for line in (ev / "samples_humaneval.jsonl").read_text().splitlines()]
    assert len(samples) == 3 and all(s["filtered_resps"][0][0].startswith(s["doc"]["prompt"]) for s in samples)
    # nothing came from (or went to) the Hub's module cache: evaluate only copied the local file it was given
    modules = hf_home / "modules" / "evaluate_modules" / "metrics"
    assert sorted(p.name for p in modules.iterdir() if p.is_dir()) == ["code_eval"]
    assert not list(hf_home.rglob("evaluate-metric--code_eval"))


def test_humaneval_without_prepare_or_import_fails_with_one_sentence(run_cli, tmp_path: Path):
    """A mirror written by hand (or by a benchseal before the metric was installed) lacks code_eval:
    the run stops before lm-eval with what to run, exit 2, no traceback."""
    data = tmp_path / "data"
    write_mirror(data / "openai__openai_humaneval", {"default": {"test": PROBLEMS}}, dataset="openai__openai_humaneval",
                 hf_path="openai/openai_humaneval")
    code, out, err = run_cli("eval", "run", "humaneval", "--model", "unused", "--device", "cpu", "--data-dir", data,
                             "--out", tmp_path / "b", "--allow-unsafe-code")
    assert code == ExitCode.BAD_INPUT and out == "" and "Traceback" not in err
    assert "the evaluate metric 'code_eval' that suite 'humaneval' scores with (builtin-humaneval/utils.py) is not " \
           "installed in the data directory" in " ".join(err.split())
    assert "benchseal datasets import humaneval --source DIR" in " ".join(err.split())
    assert not (tmp_path / "b" / "eval" / "humaneval" / "results.json").exists()
    # the same data after `datasets import` (from the mirror itself, as copied to an air-gapped machine) verifies
    code, out, err = run_cli("datasets", "import", "humaneval", "--source", data, "--data-dir", tmp_path / "data2")
    assert code == 0, err
    code, out, err = run_cli("datasets", "verify", "humaneval", "--data-dir", tmp_path / "data2")
    assert code == 0 and "metric code_eval (evaluate v0.4.6" in out
