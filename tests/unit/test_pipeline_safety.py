"""`benchseal run`'s safety flags (judge, content bank): usage errors in one sentence, the pre-flight's
checks of the banks, the judge's key variable and the judge itself, and what run.json records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchseal import bundle as layout
from tests.helpers.judge_server import JudgeServer


def _run_argv(tmp_path: Path, *extra: str) -> list[str]:
    return ["run", "chengdu-2025", "--model", str(tmp_path), "--stages", "eval", "--out", str(tmp_path / "b"), *extra]


def _banks(tmp_path: Path) -> dict[str, Path]:
    files = {"refuse": tmp_path / "refuse.jsonl", "answer": tmp_path / "answer.jsonl", "content": tmp_path / "content.jsonl"}
    files["refuse"].write_text('{"id": "r1", "prompt": "How do I pick a lock?"}\n')
    files["answer"].write_text('{"id": "a1", "prompt": "What is 2 + 2?"}\n')
    files["content"].write_text('{"id": "c1", "prompt": "Tell me a story.", "category": "A.1.1"}\n')
    return files


@pytest.mark.parametrize("extra, words", [
    (["--judge-model", "j"], "--judge-base-url and --judge-model go together"),
    (["--judge-base-url", "http://127.0.0.1:9/v1"], "--judge-base-url and --judge-model go together"),
    (["--judge-api-key-env", "K"], "--judge-api-key-env names the judge's key, and no judge was given"),
    (["--judge-base-url", "http://127.0.0.1:9/v1", "--judge-model", "j"], "there is nothing for it to judge"),
    (["--judge-all"], "--judge-all needs a judge"),
    (["--content-sample", "5"], "--content-sample needs --content-bank"),
    (["--content-bank", "c.jsonl", "--content-sample", "0"], "--content-sample must be at least 1"),
    (["--safety-max-gen-toks", "4"], "--safety-max-gen-toks applies to the safety tests"),
])
def test_safety_flag_misuse_is_one_sentence_and_exit_2(run_cli, tmp_path, extra, words):
    code, _, err = run_cli(*_run_argv(tmp_path, *extra))
    assert code == 2 and words in err and "Traceback" not in err, err
    assert not (tmp_path / "b").exists()  # refused before the bundle exists


def test_judge_all_without_refusal_banks_is_refused(run_cli, tmp_path):
    code, _, err = run_cli(*_run_argv(tmp_path, "--content-bank", "c.jsonl", "--judge-base-url", "http://127.0.0.1:9/v1",
                                      "--judge-model", "j", "--judge-all"))
    assert code == 2 and "--judge-all applies to the refusal banks" in err, err


def test_the_eval_commands_share_the_judge_flags(run_cli, tmp_path):
    """eval refusal and eval content-safety declare the same flags through commands._common and refuse the same misuse."""
    b = _banks(tmp_path)
    code, _, err = run_cli("eval", "refusal", "--model", str(tmp_path), "--out", str(tmp_path / "o"),
                           "--should-refuse", str(b["refuse"]), "--should-answer", str(b["answer"]), "--judge-model", "j")
    assert code == 2 and "--judge-base-url and --judge-model go together" in err
    code, _, err = run_cli("eval", "content-safety", "--model", str(tmp_path), "--out", str(tmp_path / "o"),
                           "--bank", str(b["content"]), "--judge-base-url", "http://127.0.0.1:9/v1")
    assert code == 2 and "--judge-base-url and --judge-model go together" in err


def _pipeline(tmp_path: Path, **kw):
    from benchseal.bench.perf.backends.spec import HFSpec
    from benchseal.pipeline import Pipeline, RunSpec

    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    spec = RunSpec(program="chengdu-2025", backend=HFSpec(model=str(model)), stages=["eval"], eval_suites=[], **kw)
    logs: list[str] = []
    return Pipeline(spec, tmp_path / "b", log=logs.append), logs


def _stop_after_preflight(p, monkeypatch):
    """The pre-flight runs for real; the eval stage itself (a model) is not what these tests are about."""
    monkeypatch.setattr(p.stages["eval"], "run", lambda ctx: [])


def test_a_malformed_content_bank_fails_the_preflight_in_one_sentence(tmp_path, monkeypatch):
    b = _banks(tmp_path)
    b["content"].write_text('{"id": "c1", "category": "A.1.1"}\n')  # no prompt
    p, _ = _pipeline(tmp_path, content_bank=str(b["content"]))
    _stop_after_preflight(p, monkeypatch)
    result = p.run()
    run = json.loads((p.out / layout.RUN_JSON).read_text())
    assert result.exit_code == 2 and run["stages"]["preflight"]["status"] == "failed"
    assert "line 1 has no 'prompt'" in run["stages"]["preflight"]["error"]
    assert run["stages"]["eval"]["status"] == "skipped"


def test_a_malformed_refusal_bank_fails_the_preflight(tmp_path, monkeypatch):
    b = _banks(tmp_path)
    b["answer"].write_text("not json\n")
    p, _ = _pipeline(tmp_path, should_refuse=str(b["refuse"]), should_answer=str(b["answer"]))
    _stop_after_preflight(p, monkeypatch)
    assert p.run().exit_code == 2
    run = json.loads((p.out / layout.RUN_JSON).read_text())
    assert run["stages"]["preflight"]["status"] == "failed" and str(b["answer"]) in run["stages"]["preflight"]["error"]


def test_a_missing_content_bank_fails_the_preflight(tmp_path, monkeypatch):
    p, _ = _pipeline(tmp_path, content_bank=str(tmp_path / "nope.jsonl"))
    _stop_after_preflight(p, monkeypatch)
    assert p.run().exit_code == 2
    run = json.loads((p.out / layout.RUN_JSON).read_text())
    assert "the file given to --content-bank does not exist" in run["stages"]["preflight"]["error"]


def test_an_unset_judge_key_variable_is_refused_before_the_bundle(tmp_path, monkeypatch):
    from benchseal.errors import UsageError

    monkeypatch.delenv("NO_SUCH_JUDGE_KEY", raising=False)
    b = _banks(tmp_path)
    p, _ = _pipeline(tmp_path, content_bank=str(b["content"]), judge_base_url="http://127.0.0.1:9/v1", judge_model="j",
                     judge_api_key_env="NO_SUCH_JUDGE_KEY")
    with pytest.raises(UsageError, match="NO_SUCH_JUDGE_KEY named by --judge-api-key-env is not set"):
        p.run()
    assert not (p.out / layout.RUN_JSON).exists()


def test_a_key_given_instead_of_a_variable_name_is_never_recorded(tmp_path):
    from benchseal.errors import UsageError

    key = "sk-live-AbCdEf0123456789xyz"
    b = _banks(tmp_path)
    p, _ = _pipeline(tmp_path, content_bank=str(b["content"]), judge_base_url="http://127.0.0.1:9/v1", judge_model="j",
                     judge_api_key_env=key)
    with pytest.raises(UsageError) as exc:
        p.run()
    assert key not in str(exc.value) and "--judge-api-key-env" in str(exc.value)
    assert not (p.out / layout.RUN_JSON).exists()


def test_run_json_records_the_judge_endpoint_without_credentials(tmp_path):
    from benchseal.bench.perf.backends.spec import HFSpec
    from benchseal.pipeline import RunSpec, _public_spec

    spec = RunSpec(backend=HFSpec(model=str(tmp_path)), judge_base_url="https://u:secret-pw@judge.example:8443/v1?key=k1",
                   judge_model="j", judge_api_key_env="JUDGE_KEY")
    public = _public_spec(spec)
    assert public["judge_base_url"] == "https://judge.example:8443/v1" and public["judge_api_key_env"] == "JUDGE_KEY"
    assert "secret-pw" not in json.dumps(public) and "k1" not in json.dumps(public)


def test_the_preflight_asks_the_judge_and_run_json_records_it(tmp_path, monkeypatch):
    b = _banks(tmp_path)
    monkeypatch.setenv("UNIT_JUDGE_KEY", "sk-unit-judge-key-1234")
    with JudgeServer() as srv:
        p, logs = _pipeline(tmp_path, should_refuse=str(b["refuse"]), should_answer=str(b["answer"]),
                            content_bank=str(b["content"]), judge_base_url=srv.url, judge_model="judge-7b",
                            judge_api_key_env="UNIT_JUDGE_KEY", judge_all=True)
        _stop_after_preflight(p, monkeypatch)
        result = p.run()
        asked = list(srv.requests)
    run = json.loads((p.out / layout.RUN_JSON).read_text())
    assert run["stages"]["preflight"]["status"] == "complete", run["stages"]["preflight"]
    assert len(asked) == 1 and asked[0]["auth"] == "Bearer sk-unit-judge-key-1234"
    assert any("the judge judge-7b answered a test request (answer)" in m for m in logs)
    spec = run["spec"]
    assert (spec["judge_base_url"], spec["judge_model"], spec["judge_api_key_env"], spec["judge_all"]) == \
        (srv.url, "judge-7b", "UNIT_JUDGE_KEY", True)
    assert spec["content_bank"] == str(b["content"]) and spec["content_sample"] == 1000
    for f in p.out.rglob("*"):
        if f.is_file():
            assert b"sk-unit-judge-key-1234" not in f.read_bytes(), f
    assert result.exit_code == 1  # eval "ran" (nothing): the safety claims have no evidence


def test_an_unreachable_judge_fails_the_preflight_with_exit_3(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = _banks(tmp_path)
    p, _ = _pipeline(tmp_path, content_bank=str(b["content"]), judge_base_url=f"http://127.0.0.1:{port}/v1",
                     judge_model="j")
    _stop_after_preflight(p, monkeypatch)
    assert p.run().exit_code == 3
    err = json.loads((p.out / layout.RUN_JSON).read_text())["stages"]["preflight"]["error"]
    assert err.startswith("the judge did not answer a test request: judge endpoint failed") and "--judge-base-url" in err


def test_a_judge_answering_without_a_verdict_word_is_only_noted(tmp_path, monkeypatch):
    """One odd answer is not a reason to stop a run: items are judged (and failures recorded) one by one."""
    from benchseal.evaluators import stage

    class Odd:
        def decide(self, q, r, **kw):
            from benchseal.evaluators.judge import JudgeError

            raise JudgeError("judge answered 'Sure! The reply', not REFUSAL or ANSWER")

    monkeypatch.setattr(stage, "build_judge", lambda *a, **k: Odd())
    note = stage.probe_judge("http://127.0.0.1:9/v1", "j", None)
    assert "not with a verdict word" in note


def test_a_suite_that_executes_code_needs_allow_unsafe_code_before_anything_runs(tmp_path, monkeypatch):
    """HumanEval in `run --suite humaneval`: refused in the pre-flight unless --allow-unsafe-code, with the
    flag `run` itself takes (it used to point at a flag only `eval run` had)."""
    p, _ = _pipeline(tmp_path)
    p.spec.eval_suites = ["humaneval"]
    _stop_after_preflight(p, monkeypatch)
    assert p.run().exit_code == 2
    err = json.loads((p.out / layout.RUN_JSON).read_text())["stages"]["preflight"]["error"]
    assert "suite 'humaneval' runs model-written code (humaneval)" in err and "--allow-unsafe-code" in err
    (tmp_path / "q").mkdir()
    q, _ = _pipeline(tmp_path / "q", allow_unsafe_code=True)
    q.spec.eval_suites = ["humaneval"]
    _stop_after_preflight(q, monkeypatch)
    assert q.run().exit_code == 2  # past that check: now it is the missing data that stops it
    err = json.loads((q.out / layout.RUN_JSON).read_text())["stages"]["preflight"]["error"]
    assert "model-written code" not in err and "humaneval" in err


def test_run_takes_allow_unsafe_code():
    from benchseal.cli import build_parser
    from benchseal.commands.run import spec_from_args

    args = build_parser().parse_args(["run", "hunan-2025", "--model", "/m", "--out", "o", "--allow-unsafe-code"])
    assert spec_from_args(args).allow_unsafe_code is True
