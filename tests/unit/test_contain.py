"""Issue 11 (contained runs), the parts without servers: signals, stage containment, exit codes,
secrets, and key files that used to print tracebacks or hang."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal import interrupts
from benchseal.errors import RunInterrupted, UsageError


@pytest.fixture
def handlers():
    saved = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    interrupts.reset()
    interrupts.install()
    yield
    interrupts.reset()
    for s, h in saved.items():
        signal.signal(s, h)


# --- signals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_each_signal_interrupts_once_and_is_recorded(handlers, sig):
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), getattr(signal, sig))
        signal.sigtimedwait([], 0) if hasattr(signal, "sigtimedwait") else None
        for _ in range(1000):
            pass
    assert interrupts.requested() == sig
    os.kill(os.getpid(), signal.SIGINT)  # a repeated signal does not cut the cleanup short
    for _ in range(1000):
        pass
    with pytest.raises(RunInterrupted, match="interrupted"):
        interrupts.check()


def test_swallowed_interrupt_still_stops_the_next_stage(handlers):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
    except BaseException:  # a bare except in third-party code (tokenizer loading)
        pass
    with pytest.raises(RunInterrupted, match="SIGTERM"):
        interrupts.check()


def test_deferred_signal_is_only_recorded(handlers):
    with interrupts.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
    assert interrupts.requested() == "SIGTERM"


def test_cli_exits_3_when_a_signal_was_swallowed(monkeypatch, capsys):
    """The flaky Ctrl-C test's exit 0: a KeyboardInterrupt swallowed during start-up let the command
    finish normally. The flag survives and the CLI ends the command as interrupted."""
    from benchseal import cli

    def swallowing(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
        except KeyboardInterrupt:
            pass
        return 0

    saved = signal.getsignal(signal.SIGINT)
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda *commands: _with_func(parser, swallowing))
    code = cli.main(["programs"])
    assert code == 3 and "interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is saved  # the caller's handlers are restored
    interrupts.reset()


def _with_func(parser, func):
    parser.set_defaults(func=func)
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for sub in action.choices.values():
            sub.set_defaults(func=func)
    return parser


# --- secrets --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["sk-proj-4f9c2b7d1e8a6c3b", "hf_AbCdEfGh1234567890XyZ", "Bearer abc.def", "a b"])
def test_api_key_env_that_is_a_key_is_refused_without_echo(value, monkeypatch):
    from benchseal.redact import check_api_key_env

    monkeypatch.delenv(value, raising=False) if value.isidentifier() else None
    with pytest.raises(UsageError) as exc:
        check_api_key_env(value)
    assert value not in exc.value.message and "--api-key-env" in exc.value.message


def test_api_key_env_value_is_registered_for_scrubbing(monkeypatch):
    from benchseal.redact import check_api_key_env
    from benchseal.redact import scrub

    monkeypatch.setenv("CONTAIN_UNIT_KEY", "sk-unit-91a2b3c4d5")
    assert check_api_key_env("CONTAIN_UNIT_KEY") == "sk-unit-91a2b3c4d5"
    assert "sk-unit-91a2b3c4d5" not in scrub("server said: bad key sk-unit-91a2b3c4d5")
    monkeypatch.delenv("CONTAIN_UNIT_KEY")
    with pytest.raises(UsageError, match="CONTAIN_UNIT_KEY"):  # an ordinary unset name is named
        check_api_key_env("CONTAIN_UNIT_KEY")


def test_cli_error_printer_scrubs_known_secrets(capsys):
    from benchseal.cli import _error
    from benchseal.redact import register_secret

    register_secret("pass-phrase-xyz")
    _error("benchseal sign", "the server echoed pass-phrase-xyz")
    assert "pass-phrase-xyz" not in capsys.readouterr().err


# --- the pipeline: every stage contained --------------------------------------------------------------
def _pipeline(tmp_path, stages, **kw):
    from benchseal.bench.perf.backends.spec import HFSpec
    from benchseal.pipeline import Pipeline, RunSpec

    spec = RunSpec(program="hunan-2025", backend=HFSpec(model=str(tmp_path)), stages=stages, **kw)
    return Pipeline(spec, tmp_path / "b", log=lambda m: None)


def _key(tmp_path):
    from benchseal.reports.seal.keys import generate_keypair

    return generate_keypair(tmp_path / "k", passphrase=b"unit-pass").private_key_path


def test_a_library_error_in_a_stage_is_recorded_and_the_bundle_is_finished(tmp_path, monkeypatch):
    from benchseal.redact import register_secret

    p = _pipeline(tmp_path, ["hw", "perf"])
    register_secret("s3cr3t-value")
    monkeypatch.setattr(p.preflight, "run", lambda ctx: [])
    monkeypatch.setattr(p.stages["hw"], "run", lambda ctx: (_ for _ in ()).throw(RuntimeError("logprobs are not supported s3cr3t-value")))
    monkeypatch.setattr(p.stages["perf"], "run", lambda ctx: [])
    result = p.run(key=_key(tmp_path), passphrase=b"unit-pass")
    run = json.loads((p.out / layout.RUN_JSON).read_text())
    assert run["stages"]["hw"]["status"] == "failed" and "RuntimeError: logprobs are not supported" in run["stages"]["hw"]["error"]
    assert "s3cr3t-value" not in (p.out / layout.RUN_JSON).read_text()
    assert run["stages"]["perf"]["status"] == "complete"  # later independent stages still run
    assert result.exit_code == 3 and result.signed and run["status"] == "partial"
    for name in (layout.CLAIMS_JSON, layout.REPORT_HTML, layout.STATEMENT_DSSE):
        assert (p.out / name).is_file()


def test_bad_input_in_a_stage_exits_2(tmp_path, monkeypatch):
    p = _pipeline(tmp_path, ["hw"])
    monkeypatch.setattr(p.preflight, "run", lambda ctx: (_ for _ in ()).throw(UsageError("the model path does not exist")))
    result = p.run()
    assert result.exit_code == 2
    run = json.loads((p.out / layout.RUN_JSON).read_text())
    assert run["stages"]["hw"]["status"] == "skipped" and "pre-flight" in run["stages"]["hw"]["error"]


def test_signal_after_measuring_still_writes_reports_and_signature(tmp_path, monkeypatch, handlers):
    """Ctrl-C while the report is written used to leave a 'complete' bundle without report or signature."""
    import benchseal.reports.render.write as write_mod

    p = _pipeline(tmp_path, ["hw"])
    monkeypatch.setattr(p.preflight, "run", lambda ctx: [])
    monkeypatch.setattr(p.stages["hw"], "run", lambda ctx: [])
    real = write_mod.write_reports

    def interrupted_write(*a, **kw):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass
        return real(*a, **kw)

    monkeypatch.setattr(write_mod, "write_reports", interrupted_write)
    result = p.run(key=_key(tmp_path), passphrase=b"unit-pass")
    assert result.interrupted and result.exit_code == 3 and result.signed
    assert (p.out / layout.REPORT_HTML).is_file() and (p.out / layout.STATEMENT_DSSE).is_file()


def test_signal_during_a_stage_marks_it_interrupted_and_skips_the_rest(tmp_path, monkeypatch, handlers):
    p = _pipeline(tmp_path, ["hw", "perf"])
    monkeypatch.setattr(p.preflight, "run", lambda ctx: [])

    def hw(ctx):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10**6):
            pass
        return []

    monkeypatch.setattr(p.stages["hw"], "run", hw)
    result = p.run(key=_key(tmp_path), passphrase=b"unit-pass")
    run = json.loads((p.out / layout.RUN_JSON).read_text())
    assert run["stages"]["hw"]["status"] == "interrupted" and run["stages"]["perf"]["status"] == "skipped"
    assert "SIGTERM" in run["stages"]["perf"]["error"]
    assert result.exit_code == 3 and result.signed and run["status"] == "partial"


def test_mostly_failed_names_the_dominant_cause():
    from benchseal.pipeline import mostly_failed
    from benchseal.schema import PerfReport

    class LP:
        load_point, completed, failed, errors = "concurrency=1", 1, 9, {"http-422": 8, "timeout": 1}

    report = PerfReport.model_construct(load_points=[LP()])
    msg = mostly_failed(report)
    assert "9 of 10 requests failed" in msg and "http-422 (8)" in msg
    LP.completed, LP.failed = 9, 1
    assert mostly_failed(report) is None


# --- key files -----------------------------------------------------------------------------------------
def test_key_path_that_is_a_fifo_is_refused_without_reading(tmp_path):
    from benchseal.reports.seal.keys import load_private_key, load_public_key

    fifo = tmp_path / "k.pem"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        load_private_key(fifo, b"x")
    with pytest.raises(UsageError, match="not a regular file"):
        load_public_key(fifo)


def test_non_utf8_passphrase_is_a_usage_error(monkeypatch):
    from benchseal.reports.seal.keys import resolve_passphrase

    monkeypatch.setenv("CONTAIN_PASS", os.fsdecode(b"p\xffw"))
    with pytest.raises(UsageError, match="not valid UTF-8"):
        resolve_passphrase("CONTAIN_PASS")


def test_public_key_with_unknown_algorithm_is_a_usage_error(tmp_path):
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from benchseal.reports.seal.keys import load_public_key

    der = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    oid = bytes.fromhex("06082a8648ce3d030107")  # P-256 -> an unknown curve: UnsupportedAlgorithm
    bad = der.replace(oid, bytes.fromhex("06082a8648ce3d030109"))
    pem = tmp_path / "pub.pem"
    pem.write_bytes(b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(bad) + b"-----END PUBLIC KEY-----\n")
    with pytest.raises(UsageError, match="PEM public key"):
        load_public_key(pem)


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_keygen_out_that_is_not_a_directory_is_a_usage_error(tmp_path, where):
    from benchseal.reports.seal.keys import generate_keypair

    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(UsageError):
        generate_keypair(f if where == "file" else f / "sub", passphrase=b"pw")


def test_keygen_out_under_proc_is_a_usage_error():
    from benchseal.reports.seal.keys import generate_keypair

    if not Path("/proc").is_dir():
        pytest.skip("no /proc")
    with pytest.raises(UsageError, match="cannot write the key pair"):
        generate_keypair(Path("/proc"), passphrase=b"pw")


def test_eval_refuses_a_key_given_to_api_key_env_without_echoing_it(run_cli, tmp_path):
    key = "sk-proj-4f9c2b7d1e8a6c3b5d7f9e1a2c4b6d8f"
    code, out, err = run_cli("eval", "run", "demo", "--backend", "openai", "--model", "m", "--base-url",
                             "http://127.0.0.1:9/v1", "--api-key-env", key, "--out", tmp_path / "b")
    assert code == 2 and key not in out + err and "api-key-env" in err
    assert not any(key.encode() in f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())
