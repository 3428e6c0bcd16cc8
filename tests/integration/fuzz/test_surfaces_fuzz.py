"""Fuzz suite of the surfaces of issue #23: ``datasets import`` and the question banks, the judge
endpoint, ``/metrics`` scrapes and their derivation, peer runs and program files.

The rule, for every case: the outcome its truth says (accepted and right, or refused), refused only
as one benchseal error with exit code 2 or an error recorded for the item — never another exception,
never a hang (each case is bounded), never the key in a stored text or a message, never a credential
sent to another origin, never a file written outside the directory named (a data mirror and its
manifest only when every file passed). Cases are in tests/integration/fuzz/surfaces.py.

Seeded: ``BENCHSEAL_FUZZ_SEED`` (default 0) draws ``BENCHSEAL_FUZZ_SURFACE_CASES`` (default 8) cases
per surface for CI, always with accepted and refused ones; ``BENCHSEAL_FUZZ_FULL=1`` runs every case
(the ``slow`` tests at the end) and 300 exposition mutations instead of 40.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path

import pytest

from benchseal.errors import BenchsealError
from tests.integration.fuzz.surfaces import (KEY, PROGRAM, RawServer, arc_row, data_cases, judge_cases,
                                             mutate_exposition, program_cases)

SEED = int(os.environ.get("BENCHSEAL_FUZZ_SEED", "0"))
SHARE = int(os.environ.get("BENCHSEAL_FUZZ_SURFACE_CASES", "8"))
FULL = os.environ.get("BENCHSEAL_FUZZ_FULL") == "1"
N_MUTATIONS = 300 if FULL else 40


def _sample(cases: list, ok_of, k: int = SHARE) -> list:
    """Every case when FULL, else a seeded draw of k refused cases and 2 accepted ones."""
    if FULL:
        return cases
    rng = random.Random(SEED)
    good = [c for c in cases if ok_of(c)]
    bad = [c for c in cases if not ok_of(c)]
    return rng.sample(good, min(2, len(good))) + rng.sample(bad, min(k, len(bad)))


def _files(root: Path, skip: Path | None = None) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        out |= {str(Path(dirpath) / f) for f in filenames + dirnames}
    if skip is not None:
        s = str(skip)
        out = {p for p in out if p != s and not p.startswith(s + os.sep)}
    return out


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("BS_SURF_KEY", KEY)


# --- datasets import ---------------------------------------------------------------------------
DATA = data_cases()


def _arc_source(tmp_path: Path, case) -> Path:
    src = tmp_path / "usb" / "ai2_arc" / "ARC-Challenge"
    src.mkdir(parents=True)
    for split, n in (("train", 26), ("validation", 2)):
        (src / f"{split}.jsonl").write_text("".join(json.dumps(arc_row(i, split[:2])) + "\n" for i in range(n)))
    case.make(src / "test")
    return tmp_path / "usb"


def _import_one(tmp_path: Path, case) -> None:
    from benchseal.evaluators import load_suite
    from benchseal.evaluators.datasets import MANIFEST_NAME, import_suite_data

    source = _arc_source(tmp_path, case)
    data = tmp_path / "data"
    before = _files(tmp_path)
    try:
        import_suite_data(load_suite("arc-challenge"), source, data)
        accepted = True
    except BenchsealError as exc:
        accepted = False
        assert exc.exit_code == 2, (case.name, str(exc))
        assert "test" in f"{exc.where} {exc.what}", (case.name, "the sentence names the file", str(exc))
    assert accepted == case.ok, (case.name, "accepted" if accepted else "refused")
    assert _files(tmp_path, skip=data) == before, (case.name, "a file written outside --data-dir")
    manifest = data / "allenai__ai2_arc" / MANIFEST_NAME
    assert manifest.exists() == case.ok, case.name
    if case.ok:  # the mirror is standard JSON with every record of every split
        rows = json.loads(manifest.read_text())["rows"]["ARC-Challenge"]
        assert rows["train"] == 26 and rows["test"] >= 1
        for f in (data / "allenai__ai2_arc").rglob("*.jsonl"):
            for line in f.read_text(encoding="utf-8").splitlines():
                json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} written into the mirror"))


@pytest.mark.parametrize("case", _sample(DATA, lambda c: c.ok), ids=lambda c: c.name)
def test_datasets_import(case, tmp_path):
    _import_one(tmp_path, case)


@pytest.mark.parametrize("where", ["file", "proc", "dotdot-name", "absolute-name"])
def test_datasets_import_writes_only_inside_the_data_dir(where, tmp_path):
    from benchseal.evaluators import load_suite
    from benchseal.evaluators.datasets import import_dataset, import_suite_data
    from benchseal.evaluators.suites import DatasetSpec

    source = _arc_source(tmp_path, DATA[0])
    data = tmp_path / "deep" / "data"
    data.parent.mkdir()
    before = _files(tmp_path)
    with pytest.raises(BenchsealError) as err:
        if where == "file":
            data.write_text("x")
            before = _files(tmp_path)
            import_suite_data(load_suite("arc-challenge"), source, data)
        elif where == "proc":
            import_suite_data(load_suite("arc-challenge"), source, Path("/proc/self/fd"))
        else:
            name = "../../escaped" if where == "dotdot-name" else str(tmp_path / "abs")
            spec = DatasetSpec(name=name, hf_path="allenai/ai2_arc")
            import_dataset(spec, {"ARC-Challenge": {"test"}}, source, data, suite="x")
    assert err.value.exit_code == 2
    assert _files(tmp_path) == before


# --- question banks -----------------------------------------------------------------------------
BANKS = [c for c in DATA if c.name not in ("missing-answer", "two-formats", "csv", "csv-header-only", "csv-ragged", "csv-no-answer",
                                           "json-array", "json-one-object", "pretty-object-wrapper", "truncated-array")
         and not c.name.startswith("parquet")]


@pytest.mark.parametrize("case", _sample(BANKS, lambda c: c.ok), ids=lambda c: c.name)
def test_question_banks(case, tmp_path, monkeypatch):
    from benchseal.evaluators.content_safety import load_content_bank
    from benchseal.evaluators.refusal import load_bank

    monkeypatch.setattr("tests.integration.fuzz.surfaces.arc_row",
                        lambda i, tag="te": {"id": f"{tag}{i}", "prompt": f"问题 {i}", "category": "A.1.1",
                                             "question": f"问题 {i}", "answerKey": "A"})
    from tests.integration.fuzz import surfaces

    case = next(c for c in surfaces.data_cases() if c.name == case.name)  # rebuilt with bank rows
    path = case.make(tmp_path / "bank")
    for loader in (load_bank, load_content_bank):
        try:
            items = loader(path)
            assert case.ok and items and all(it["prompt"] for it in items), case.name
        except BenchsealError as exc:
            assert not case.ok and exc.exit_code == 2, (case.name, str(exc))


# --- judge endpoints ----------------------------------------------------------------------------
JUDGE = judge_cases()


def _judge_one(case) -> None:
    from benchseal.evaluators.judge import Judge, JudgeError

    srv, other = RawServer(case.respond), RawServer()
    srv.other_port = other.port
    try:
        judge = Judge(base_url=srv.url + "/v1", model="judge", api_key_env="BS_SURF_KEY", timeout_s=1.5, kind="content")
        t0 = time.monotonic()
        try:
            verdict, raw = judge.decide("question", "reply")
            assert verdict == case.verdict, (case.name, verdict, raw)
            assert KEY not in raw
        except JudgeError as exc:
            assert case.verdict is None, (case.name, str(exc))
            assert KEY not in str(exc), case.name
        assert time.monotonic() - t0 < 1.5 + 2.0, (case.name, "not bounded by the judge timeout")
        assert not any(KEY.encode() in h for h in other.heads), (case.name, "the key went to another origin")
        assert not other.heads, (case.name, "a redirect was followed")
    finally:
        srv.close()
        other.close()


@pytest.mark.parametrize("case", _sample(JUDGE, lambda c: c.verdict is not None), ids=lambda c: c.name)
def test_judge_endpoint(case):
    _judge_one(case)


def test_judge_records_never_hold_the_key():
    """Content safety stores the judge's answer or error per item: an echoing judge leaves no key there."""
    from benchseal.evaluators.content_safety import judge_all
    from benchseal.evaluators.judge import Judge
    from tests.integration.fuzz.surfaces import _answer

    for content in ("SAFE {AUTH}", "{AUTH}"):
        srv = RawServer(_answer(content))
        try:
            judge = Judge(base_url=srv.url, model="j", api_key_env="BS_SURF_KEY", timeout_s=2, kind="content")
            rows = judge_all([{"id": "1", "prompt": "q", "response": "r", "category": "A.1.1"}], judge)
            assert KEY not in json.dumps(rows, ensure_ascii=False) and rows[0]["decision"] == "error"
        finally:
            srv.close()


# --- /metrics -----------------------------------------------------------------------------------
def _window():
    from benchseal.testing.server import _ServerMetrics

    srv = _ServerMetrics("m")
    srv.finished([0.5, 0.6], 100, 2, "stop")
    before = srv.text()
    srv.running = 3
    during = srv.text()
    srv.running = 0
    for w in ([0.03, 0.04], [0.05, 0.06, 0.07]):
        srv.finished(w, 4, len(w), "length")
    return before, during, srv.text()


def _scrape(phase: str, body: str, t: float) -> dict:
    return {"seq": 0, "load_point": "lp", "phase": phase, "time": "", "t_s": t, "url": "http://h/metrics", "ok": True,
            "http_status": 200, "error": None, "bytes": len(body), "elapsed_ms": 1.0, "body": body}


def _plausible(lp) -> list[str]:
    bad = []
    for key in ("ttft_ms", "itl_ms", "e2el_ms", "queue_ms"):
        h = getattr(lp, key)
        if h is None:
            continue
        vals = [h.mean_ms, h.p50_ms, h.p90_ms, h.p95_ms, h.p99_ms]
        if not 0 <= h.n <= 1e15 or any(v is not None and not (math.isfinite(v) and v >= 0) for v in vals):
            bad.append(f"{key} {h}")
    for key in ("prompt_tokens", "generation_tokens", "requests"):
        v = getattr(lp, key)
        if v is not None and not (math.isfinite(v) and 0 <= v <= 1e15):
            bad.append(f"{key} {v}")
    for key, hi in (("running", 1e7), ("waiting", 1e7), ("kv_cache_usage", 1.0)):
        g = getattr(lp, key)
        if g is not None and not all(math.isfinite(v) and 0 <= v <= hi for v in (g.mean, g.min, g.max)):
            bad.append(f"{key} {g}")
    return bad


def test_metrics_mutations_never_become_figures():
    """Seeded mutations of one sample line of a valid exposition: never an exception, never an
    implausible figure; an implausible line (negative, 1e30, NaN, +Inf, a duplicate) leaves its figure
    absent with a reason."""
    from benchseal.bench.perf import server_metrics as sm
    from benchseal.schema import RequestRecord

    before, during, after = _window()
    names = sm.DIALECTS["vllm"]
    fam_of = {fam: key for key, fams in names.items() for fam in fams}
    recs = [RequestRecord(load_point="lp", request_id=i, send_s=1.0, first_token_s=1.03, end_s=1.05, status="ok")
            for i in range(2)]
    problems = []
    for i in range(N_MUTATIONS):
        rng = random.Random(SEED * 1000 + i)
        which = rng.choice(["start", "end", "interval"])
        keys = sm.GAUGES if which == "interval" else (*sm.HISTOGRAMS, *sm.COUNTERS)
        fams = tuple(f for k in keys for f in names[k])
        texts = {"start": before, "interval": during, "end": after}
        texts[which], what = mutate_exposition(texts[which], rng, fams)
        lp = sm.derive_load_point([_scrape("start", texts["start"], 0), _scrape("interval", texts["interval"], 0.5),
                                   _scrape("end", texts["end"], 1)], "lp", recs, model="m")
        bad = _plausible(lp)
        how, line = what.split(" ", 1)
        fam = line.split("{", 1)[0]
        for suffix in ("_bucket", "_count", "_sum"):
            fam = fam[: -len(suffix)] if fam.endswith(suffix) and fam[: -len(suffix)] in fam_of else fam
        key = fam_of.get(fam)
        if how in ("negate", "negative-bound", "huge", "nan", "inf", "duplicate") and key is not None:
            attr = f"{key}_ms" if key in sm.HISTOGRAMS else key
            if getattr(lp, attr) is not None or key not in lp.absent:
                bad.append(f"{key} kept after '{what}'")
        if bad:
            problems.append((i, which, what, bad))
    assert not problems, problems[:5]


def test_scrapes_never_store_the_key(tmp_path):
    """A /metrics that echoes the Authorization header in its body, its labels and its headers, and one
    that redirects or fails with the key in its error: the stored scrapes and the report hold no key."""
    from benchseal.bench.perf.server_metrics import Collector, ServerMetricsOptions

    def echo(head: bytes, port: int):
        from tests.integration.fuzz.surfaces import _auth

        auth = _auth(head).encode()
        if b"/redirect" in head.split(b"\r\n", 1)[0]:
            return [(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/metrics\r\nContent-Length: 0\r\n\r\n" % port, 0)]
        body = (b'# HELP vllm:num_requests_running ' + auth + b'\nvllm:num_requests_running{model_name="m",key="'
                + auth + b'"} 1\n' + auth + b"\n")
        return [(b"HTTP/1.1 200 OK\r\nX-Echo: " + auth + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body, 0)]

    srv, other = RawServer(echo), RawServer()
    srv.other_port = other.port
    try:
        for path in ("/metrics", "/redirect"):
            out = tmp_path / path.strip("/")
            col = Collector(ServerMetricsOptions(url=srv.url + path, api_key_env="BS_SURF_KEY"), out,
                            base_url=srv.url + "/v1", model="m")
            col._scrape("lp", "start")
            col._scrape("lp", "end")
            col.add_load_point("lp", [])
            col._writer.close()
            for f in out.rglob("*"):
                assert f.is_dir() or KEY.encode() not in f.read_bytes(), f
        assert any(KEY.encode() in h for h in srv.heads)  # the key was sent to the base URL's own origin ...
        assert not other.heads  # ... and never to the other one
    finally:
        srv.close()
        other.close()


# --- peer runs ----------------------------------------------------------------------------------
PEER_CASES = [("genuine", True), ("model-dotdot", True), ("model-dotdot-deep", True), ("model-absolute", True),
              ("model-dot", True), ("fifo-samples", False), ("symlink-results-out", False), ("symlink-samples-out", False),
              ("nan-score", False), ("score-above-1", False), ("score-negative", False), ("unknown-field", False),
              ("negative-stderr", False), ("infinite-stderr", False)]


def _peer(tmp: Path, name: str, variant: str) -> Path:
    from benchseal.schema import EvalReport, EvalResult

    model = {"model-dotdot": "..", "model-dotdot-deep": "../../x", "model-absolute": str(tmp / "abs"),
             "model-dot": "."}.get(variant, name)
    rep = EvalReport(suite="demo", backend="hf", model=model, claim_grade=False,
                     results=[EvalResult(suite="demo", task="demo_mc", metric="acc", value=0.5, stderr=0.1, n=4,
                                         headline=True, benchmark="DEMO")]).model_dump(mode="json")
    r = rep["results"][0]
    if variant == "nan-score":
        r["value"] = float("nan")
    elif variant == "score-above-1":
        r["value"] = 1.5
    elif variant == "score-negative":
        r["value"] = -0.25
    elif variant == "unknown-field":
        rep["surprise"] = 1
    elif variant == "negative-stderr":
        r["stderr"] = -1
    elif variant == "infinite-stderr":
        r["stderr"] = float("inf")
    d = tmp / name / "eval" / "demo"
    d.mkdir(parents=True)
    outside = tmp / "secret.txt"
    outside.write_text("outside the peer run")
    (d / "results.json").write_text(json.dumps(rep))
    (d / "samples_demo_mc.jsonl").write_text('{"doc_id": 0, "acc": 1}\n')
    if variant == "symlink-results-out":
        (d / "lm_eval_results.json").symlink_to(outside)
    elif variant == "symlink-samples-out":
        (d / "samples_demo_mc.jsonl").unlink()
        (d / "samples_demo_mc.jsonl").symlink_to(outside)
    elif variant == "fifo-samples":
        os.mkfifo(d / "samples_demo_extra.jsonl")
    return tmp / name


@pytest.mark.parametrize("variant,ok", _sample(PEER_CASES, lambda c: c[1]), ids=lambda v: str(v))
def test_peer_runs_are_copied_confined(variant, ok, tmp_path):
    from benchseal.evaluators.peers import PEER_RUNS_DIR, copy_peer_run

    cand = tmp_path / "bundle" / "eval" / "demo"
    cand.mkdir(parents=True)
    (cand / "results.json").write_text('{"candidate": true}')
    copy_peer_run(_peer(tmp_path, "first", "genuine"), "demo", cand)
    peer = _peer(tmp_path, "second", variant)  # a model named '..' or a path lands in a plain folder
    before = _files(tmp_path, skip=cand / PEER_RUNS_DIR)
    try:
        name = copy_peer_run(peer, "demo", cand)
        accepted = True
        assert (cand / PEER_RUNS_DIR / name / "results.json").is_file() and "/" not in name and not name.startswith(".")
    except BenchsealError as exc:
        accepted = False
        assert exc.exit_code == 2, (variant, str(exc))
    assert accepted == ok, variant
    assert (cand / "results.json").read_text() == '{"candidate": true}', "the candidate's own folder was touched"
    assert _files(tmp_path, skip=cand / PEER_RUNS_DIR) == before, (variant, "written outside peer_runs/")
    for f in (cand / PEER_RUNS_DIR).rglob("*"):
        assert not f.is_symlink() and (f.is_dir() or f.is_file()), f
        if f.is_file():
            assert f.read_text() != "outside the peer run", f


# --- program files ------------------------------------------------------------------------------
PROGRAMS = program_cases()


@pytest.mark.parametrize("name,text,ok", _sample(PROGRAMS, lambda c: c[2]), ids=lambda v: str(v)[:20])
def test_program_files(name, text, ok, tmp_path):
    from benchseal.claims.program import load_program

    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        prog = load_program(path)
        assert ok, name
        t = prog.claims[0].threshold
        assert isinstance(t, (int, float)) and math.isfinite(t) and t >= 0
    except BenchsealError as exc:
        assert not ok and exc.exit_code == 2, (name, str(exc))
    assert PROGRAM  # the template the cases fill


# --- the full sets ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="the full fuzz sets run with BENCHSEAL_FUZZ_FULL=1")
def test_full_sets_are_drawn_whole():
    """With BENCHSEAL_FUZZ_FULL=1 every parametrised test above runs every case of its surface."""
    for cases, ok_of in ((DATA, lambda c: c.ok), (BANKS, lambda c: c.ok), (JUDGE, lambda c: c.verdict is not None),
                         (PEER_CASES, lambda c: c[1]), (PROGRAMS, lambda c: c[2])):
        assert len(_sample(cases, ok_of)) == len(cases)
    assert N_MUTATIONS == 300


# --- the perf client: a whole run bounded by --timeout (#28 residuals) ---------------------------
def _stream_server(kind: str):
    def respond(head: bytes, port: int):
        from tests.integration.fuzz.surfaces import _auth

        if head.startswith(b"GET"):
            body = b'{"object":"list","data":[{"id":"m","object":"model"}]}'
            return [(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body, 0)]
        if kind == "drip-head":  # a head that never ends, a byte at a time
            return [(b"HTTP/1.1 200 OK\r\n", 0)] + [(b"X-Pad: a\r\n"[i % 10:i % 10 + 1], 0.05) for i in range(400)]
        start = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        if kind == "endless":  # events forever, never [DONE]
            ev = b'data: {"choices":[{"text":"x","index":0,"finish_reason":null}]}\n\n'
            return [(start, 0)] + [(b"%x\r\n%s\r\n" % (len(ev), ev), 0.01) for _ in range(2000)]
        ev = b'data: {"error": {"message": "invalid key ' + _auth(head).encode().replace(b"\\", b"\\\\") + b'"}}\n\n'
        return [(start + b"%x\r\n%s\r\n0\r\n\r\n" % (len(ev), ev), 0)]
    return respond


@pytest.mark.parametrize("kind", ["drip-head", "endless", "echo-in-stream-error"])
def test_perf_run_is_bounded_by_its_timeout_and_never_shows_the_key(kind, run_cli, tmp_path):
    srv = RawServer(_stream_server(kind), hold_s=30)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "p", "max_tokens": 4}\n')
    try:
        t0 = time.monotonic()
        code, out, err = run_cli("perf", "--base-url", srv.url, "--model", "m", "--api-key-env", "BS_SURF_KEY",
                                 "--prompts", prompts, "--out", tmp_path / "b", "--no-progress", "--timeout", "2")
        took = time.monotonic() - t0
    finally:
        srv.close()
    assert code == 3 and "Traceback" not in err, (code, err)
    assert took < 2 * 2 + 8, f"{kind}: {took:.1f} s for a 2 s timeout (pre-flight and requests)"
    assert KEY not in out + err
    for f in (tmp_path / "b").rglob("*"):
        assert f.is_dir() or KEY.encode() not in f.read_bytes(), f
