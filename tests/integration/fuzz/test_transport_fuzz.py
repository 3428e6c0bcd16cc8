"""Transport fuzz suite: the openai client against hostile HTTP servers (127.0.0.1 only).

The rule, checked for every case: a record (never an exception or a traceback logged by the event
loop), within the case's time bound (no hang), ``ok`` exactly when the response was valid and
complete (no wrong success, no wrong failure), a failure cause from the allowed set, and the API
key nowhere in the record. Seeded: ``BENCHSEAL_FUZZ_SEED`` (default 0); ``BENCHSEAL_FUZZ_CASES``
(default 300, the CI share) sets how many cases run.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import pytest

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.errors import BenchsealError
from benchseal.testing.hostile import HostileServer, Script
from tests.integration.fuzz.cases import KEY, MODELS_BODIES, MODELS_HEADS, Case, frame, make_case, valid_stream

N_CASES = int(os.environ.get("BENCHSEAL_FUZZ_CASES", "500"))
N_CLI_CASES = max(6, N_CASES // 60)  # whole `benchseal perf` runs (about 1 s each)
SEED = int(os.environ.get("BENCHSEAL_FUZZ_SEED", "0"))
HANG_MARGIN_S = 3.0  # a case may take its request timeout plus this much


@pytest.fixture(scope="module")
def hostile(monkeypatch_module):
    monkeypatch_module.setenv("BS_FUZZ_KEY", KEY)
    with HostileServer(hold_s=5.0) as srv:
        yield srv


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


async def _run_case(srv: HostileServer, case: Case) -> dict:
    """One case; returns the findings (empty when the rule holds)."""
    loop = asyncio.get_running_loop()
    logged: list = []
    loop.set_exception_handler(lambda lp, ctx: logged.append(ctx.get("exception") or ctx.get("message")))
    srv.script = case.script
    be = OpenAIBackend(model="test-model", base_url=srv.url, api_key_env="BS_FUZZ_KEY", preflight=False,
                       endpoint_kind="chat" if case.chat else "completions")
    req = GenRequest(request_id=0, prompt="hi" if not case.chat else [{"role": "user", "content": "hi"}],
                     max_tokens=case.max_tokens)
    t0 = time.perf_counter()
    findings: dict = {}
    rec = None
    try:
        rec = await asyncio.wait_for(be.send(req, load_point="fuzz", t0=t0, timeout_s=case.timeout_s),
                                     case.timeout_s + HANG_MARGIN_S)
    except asyncio.TimeoutError:
        findings["hang"] = f"no record within {case.timeout_s + HANG_MARGIN_S:g} s"
    except Exception as exc:  # noqa: BLE001 - a traceback is the finding
        findings["traceback"] = f"{type(exc).__name__}: {exc}"
    finally:
        await be.close()
    await asyncio.sleep(0)
    if logged:
        findings["traceback"] = f"logged by the event loop: {logged[0]!r}"
    if rec is not None:
        if case.expect_ok and rec.status != "ok":
            findings["wrong_failure"] = rec.error
        if not case.expect_ok and rec.status == "ok":
            findings["wrong_success"] = f"expected {sorted(case.causes)}"
        if not case.expect_ok and rec.status != "ok" and rec.cause not in case.causes:
            findings["wrong_cause"] = f"{rec.cause} not in {sorted(case.causes)}: {rec.error}"
        if KEY in rec.model_dump_json():
            findings["secret_leak"] = rec.error
        if rec.status != "ok" and not (rec.error and rec.error.startswith(f"{rec.cause}:") or rec.cause == "http-status"):
            findings["unclear_error"] = rec.error
    return findings


def test_transport_fuzz(hostile):
    """The CI share: N_CASES generated cases, 0 tracebacks, 0 hangs, 0 wrong successes, 0 leaks."""
    async def main():
        out = []
        for i in range(N_CASES):
            case = make_case(SEED, i)
            out.append((i, case, await _run_case(hostile, case)))
        return out

    results = asyncio.run(main())
    kinds = Counter(c.name.split("-")[0] for _, c, _ in results)
    bad = [(i, c.name, f) for i, c, f in results if f]
    summary = Counter(k for _, _, f in bad for k in f)
    assert not bad, (f"{len(bad)} of {len(results)} cases broke the rule ({dict(summary)}); "
                     f"first: {bad[:5]}; case kinds: {dict(kinds)}")
    # the generator really produced both sides of the rule
    assert sum(c.expect_ok for _, c, _ in results) >= N_CASES // 10
    assert sum(not c.expect_ok for _, c, _ in results) >= N_CASES // 2


def test_models_listing_never_crashes(hostile):
    """``start`` against hostile ``/v1/models`` responses (every head x body): it starts, or raises
    one benchseal error (exit 2 or 3) without the key; never another exception, never a hang."""
    async def one(raw: bytes):
        hostile.script = Script([], models=raw, models_close=True)
        be = OpenAIBackend(model="test-model", base_url=hostile.url, api_key_env="BS_FUZZ_KEY", preflight=False,
                           connect_timeout_s=2.0)
        try:
            await asyncio.wait_for(be.start(), 8.0)
            return None
        except BenchsealError as exc:
            return exc
        finally:
            await be.close()

    async def main():
        return [(h, b, await one(MODELS_HEADS[h](MODELS_BODIES[b])))
                for h in range(len(MODELS_HEADS)) for b in range(len(MODELS_BODIES))]

    results = asyncio.run(main())
    for h, b, exc in results:
        if exc is not None:
            assert KEY not in str(exc) and exc.exit_code in (2, 3), (h, b, str(exc))
    outcomes = Counter(type(e).__name__ if e else "started" for _, _, e in results)
    assert outcomes["started"] and outcomes["ServerError"] and outcomes["UsageError"], outcomes


def test_cli_exit_codes(hostile, run_cli, tiny_llama, tmp_path):
    """Whole ``benchseal perf`` runs against generated cases (the preflight request answered
    correctly, every measured request by the case): exit 0 for a valid case, exit 3 naming an
    allowed cause when every request fails; never a traceback; the key in no output and no file."""
    import json
    import random

    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"p {i}", "max_tokens": 8}) + "\n" for i in range(3)))
    seen = Counter()
    for i in range(N_CLI_CASES):
        case = make_case(SEED + 1, i)
        if case.chat:
            continue  # the prompts file is plain text (completions)
        rng = random.Random(i)
        ok = frame(b"".join(valid_stream(rng, False).events), rng, "close")
        hostile.script = Script(case.script.pieces, close=case.script.close, first=[ok])
        out = tmp_path / f"b{i}"
        code, stdout, stderr = run_cli("perf", "--base-url", hostile.url, "--model", "test-model", "--api-key-env",
                                       "BS_FUZZ_KEY", "--tokenizer", tiny_llama, "--prompts", prompts, "--out", out,
                                       "--no-progress", "--timeout", "2")
        assert "Traceback" not in stderr, (case.name, stderr)
        assert KEY not in stdout + stderr, case.name
        for f in out.rglob("*"):
            if f.is_file():
                assert KEY.encode() not in f.read_bytes(), (case.name, f)
        if case.expect_ok:
            assert code == 0, (case.name, stderr)
        else:
            assert code == 3 and "most requests failed" in stderr, (case.name, code, stderr)
            assert any(f"most with cause {c} (" in stderr for c in case.causes), (case.name, stderr)
        seen[case.expect_ok] += 1
    assert seen[True] and seen[False], seen
