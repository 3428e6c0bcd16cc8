#!/usr/bin/env python3
"""Side-by-side peers: benchseal's perf client vs GuideLLM vs ``vllm bench serve``, one run.

Every tool is run as its own command line (its CLI, its defaults, its own JSON output, parsed
here) against the SAME benchseal test server process(es) on 127.0.0.1, interleaved repeat by
repeat so they see the same host load:

(a) throughput: a zero-delay server; each tool streams ``--requests`` requests of ``--tokens``
    output tokens at closed-loop concurrency ``--concurrency``; reported: each tool's own achieved
    requests/s (completed / its own measured duration), the median over ``--repeats``, and the
    ratio benchseal/peer;
(b) accuracy: a server that injects TTFT ``--ttft-ms`` and ITL ``--itl-ms``; each tool's reported
    TTFT / ITL / TPOT p50 and p99 minus the value that is true *under that tool's own
    definition* (GuideLLM's TPOT includes the first token: (TTFT + (n-1) ITL) / n), i.e. the
    measurement error of each instrument. The server's own send lateness (/stats) is recorded per
    run, so an error the server caused is not blamed on a client.

A peer that cannot be found or fails is recorded with its exit status and the tail of its output
instead of a number. The peers live in their own virtual environments (docs/PERFORMANCE.md says
how they were installed); none is imported here.

    .venv/bin/python scripts/bench_peers.py --out /tmp/bench_peers.json \\
        --fragment docs/PERFORMANCE.md
    .venv/bin/python scripts/bench_peers.py --render /tmp/bench_peers.json --out - \\
        --fragment docs/PERFORMANCE.md      # re-render only
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchseal.testing.server import spawn

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- bench_peers:begin -->", "<!-- bench_peers:end -->"
TOOLS = ("benchseal", "guidellm", "vllm")
NOTOK = "benchseal-no-client-tokenizer"  # throughput only: benchseal without the client-side token cross-check


def _stats(url: str) -> dict:
    try:
        return json.loads(urllib.request.urlopen(url + "/stats", timeout=5).read())
    except OSError as exc:
        return {"error": str(exc)}


def _tail(text: str, n: int = 1500) -> str:
    return text[-n:].strip()


def _run_cmd(cmd: list[str], env: dict, timeout_s: float) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s, cwd=ROOT)
    except FileNotFoundError as exc:
        return 127, f"not found: {exc}", 0.0
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return 124, f"timed out after {timeout_s:g} s\n{out}", time.perf_counter() - t0
    return proc.returncode, (proc.stdout or "") + "\n" + (proc.stderr or ""), time.perf_counter() - t0


# --- one command line per tool -------------------------------------------------------------------------


def cmd_benchseal(a, url: str, out: Path, conc: int, n: int, tokens: int) -> list[str]:
    exe = str(Path(sys.executable).parent / "benchseal")
    return [exe, "perf", "--backend", "openai", "--model", "test-model", "--base-url", url, "--tokenizer", a.tokenizer,
            "--input-len", str(a.input_len), "--output-len", str(tokens), "--num-prompts", "64",
            "--concurrency", str(conc), "--num-requests", str(n), "--warmup", "0", "--no-progress", "--json",
            "--out", str(out)]


def cmd_benchseal_notok(a, url: str, out: Path, conc: int, n: int, tokens: int) -> list[str]:
    prompts = out / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": " ".join(["hello"] * a.input_len), "max_tokens": tokens}) + "\n"
                               for _ in range(64)))
    exe = str(Path(sys.executable).parent / "benchseal")
    return [exe, "perf", "--backend", "openai", "--model", "test-model", "--base-url", url, "--prompts", str(prompts),
            "--concurrency", str(conc), "--num-requests", str(n), "--warmup", "0", "--no-progress", "--json",
            "--out", str(out)]


def cmd_guidellm(a, url: str, out: Path, conc: int, n: int, tokens: int) -> list[str]:
    return [a.guidellm, "run",
            "--backend", f"kind=openai_http,target={url},model=test-model,request_format=/v1/completions",
            "--profile", f"kind=concurrent,streams={conc}", "--constraint", f"kind=max_requests,count={n}",
            "--tokenizer", f"kind=huggingface_auto,model={a.tokenizer}",
            "--data", f"kind=synthetic_text,prompt_tokens={a.input_len},output_tokens={tokens}",
            "--output", f"kind=json,path={out / 'guidellm.json'}", "--disable-console"]


def cmd_vllm(a, url: str, out: Path, conc: int, n: int, tokens: int) -> list[str]:
    return [a.vllm, "bench", "serve", "--backend", "openai", "--base-url", url, "--endpoint", "/v1/completions",
            "--model", "test-model", "--tokenizer", a.tokenizer, "--dataset-name", "random",
            "--random-input-len", str(a.input_len), "--random-output-len", str(tokens), "--num-prompts", str(n),
            "--max-concurrency", str(conc), "--request-rate", "inf", "--ignore-eos", "--disable-tqdm",
            "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,99",
            "--save-result", "--result-dir", str(out), "--result-filename", "vllm.json"]


# --- parse each tool's own JSON ------------------------------------------------------------------------


def parse_benchseal(out: Path) -> dict:
    lp = json.loads((out / "perf" / "summary.json").read_text())["load_points"][0]
    q = lambda k, p: lp[k][p]  # noqa: E731
    return {"completed": lp["completed"], "failed": lp["failed"], "duration_s": lp["duration_s"],
            "req_s": lp["request_throughput"],
            "ttft_ms": {"p50": q("ttft_ms", "p50"), "p99": q("ttft_ms", "p99")},
            "itl_ms": {"p50": q("itl_ms", "p50"), "p99": q("itl_ms", "p99")},
            "tpot_ms": {"p50": q("tpot_ms", "p50"), "p99": q("tpot_ms", "p99")},
            "output_tokens_mean": lp["output_token_throughput"] / lp["request_throughput"] if lp["request_throughput"] else None}


def parse_guidellm(out: Path) -> dict:
    b = json.loads((out / "guidellm.json").read_text())["benchmarks"][0]
    m = b["metrics"]

    def q(k: str) -> dict:
        s = m[k]["successful"]
        return {"p50": s["percentiles"]["p50"], "p99": s["percentiles"]["p99"]}

    ok = int(m["request_totals"]["successful"])
    failed = int(m["request_totals"]["errored"]) + int(m["request_totals"]["incomplete"])
    out_tok = m["output_token_count"]["successful"]
    return {"completed": ok, "failed": failed, "duration_s": b["duration"], "req_s": ok / b["duration"],
            "ttft_ms": q("time_to_first_token_ms"), "itl_ms": q("inter_token_latency_ms"),
            "tpot_ms": q("time_per_output_token_ms"), "output_tokens_mean": out_tok.get("mean")}


def parse_vllm(out: Path) -> dict:
    r = json.loads((out / "vllm.json").read_text())
    g = lambda k: {"p50": r.get(f"p50_{k}_ms", r.get(f"median_{k}_ms")), "p99": r.get(f"p99_{k}_ms")}  # noqa: E731
    ok = r.get("completed")
    return {"completed": ok, "failed": r.get("failed", (r.get("num_prompts") or 0) - (ok or 0)),
            "duration_s": r.get("duration"), "req_s": r.get("request_throughput"),
            "ttft_ms": g("ttft"), "itl_ms": g("itl"), "tpot_ms": g("tpot"),
            "output_tokens_mean": (r.get("total_output_tokens") or 0) / ok if ok else None}


CMDS = {"benchseal": cmd_benchseal, NOTOK: cmd_benchseal_notok, "guidellm": cmd_guidellm, "vllm": cmd_vllm}
PARSERS = {"benchseal": parse_benchseal, NOTOK: parse_benchseal, "guidellm": parse_guidellm, "vllm": parse_vllm}


def run_tool(a, tool: str, url: str, conc: int, n: int, tokens: int, env: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"peer-{tool}-") as tmp:
        out = Path(tmp)
        cmd = CMDS[tool](a, url, out, conc, n, tokens)
        _stats(url)  # reset the server's lateness counters
        load0 = os.getloadavg()[0]
        rc, text, wall = _run_cmd(cmd, env, a.timeout)
        res: dict = {"tool": tool, "command": " ".join(shlex.quote(c) for c in cmd), "exit": rc, "wall_s": round(wall, 2),
                     "loadavg_1m": [round(load0, 2), round(os.getloadavg()[0], 2)], "server_lateness_ms": _stats(url)}
        try:
            if rc != 0:
                raise RuntimeError(f"exit {rc}")
            res.update(PARSERS[tool](out))
        except Exception as exc:  # a peer that fails is recorded, not fatal
            res["error"] = f"{type(exc).__name__}: {exc}"
            res["output_tail"] = _tail(text)
        return res


# --- summary ---------------------------------------------------------------------------------------------


def _med(vals: list) -> float | None:
    vals = [v for v in vals if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else None


def truth(tool: str, metric: str, ttft: float, itl: float, n: int) -> float:
    if tool == "guidellm" and metric == "tpot_ms":
        return (ttft + (n - 1) * itl) / n  # GuideLLM: E2EL / output tokens (includes the first token)
    return {"ttft_ms": ttft, "itl_ms": itl, "tpot_ms": itl}[metric]


def summarize(a, runs: dict) -> dict:
    s: dict = {"throughput": {}, "accuracy": {}}
    for tool in (*TOOLS, NOTOK):
        tr = [r for r in runs["throughput"] if r["tool"] == tool]
        good = [r for r in tr if "error" not in r]
        s["throughput"][tool] = {
            "runs": len(tr), "ok_runs": len(good), "req_s_median": _med([r["req_s"] for r in good]),
            "req_s_all": [round(r["req_s"], 1) for r in good], "failed_requests": sum(r.get("failed") or 0 for r in good),
            "errors": sorted({r["error"] + ": " + r.get("output_tail", "")[-400:] for r in tr if "error" in r})}
        if tool == NOTOK:
            continue
        ac = [r for r in runs["accuracy"] if r["tool"] == tool and "error" not in r]
        acc: dict = {"runs": len(ac), "errors": sorted({r["error"] + ": " + r.get("output_tail", "")[-400:]
                                                        for r in runs["accuracy"] if r["tool"] == tool and "error" in r})}
        for metric in ("ttft_ms", "itl_ms", "tpot_ms"):
            t = truth(tool, metric, a.ttft_ms, a.itl_ms, a.delay_tokens)
            acc[metric] = {"truth": round(t, 3)}
            for p in ("p50", "p99"):
                v = _med([r[metric][p] for r in ac])
                acc[metric][p] = None if v is None else round(v, 3)
                acc[metric][f"{p}_error"] = None if v is None else round(v - t, 3)
        acc["output_tokens_mean"] = _med([r.get("output_tokens_mean") for r in ac])
        acc["server_lateness_p99_ms"] = _med([(r["server_lateness_ms"] or {}).get("p99_ms") for r in ac])
        s["accuracy"][tool] = acc
    bs = s["throughput"]["benchseal"]["req_s_median"]
    for tool in (NOTOK, *TOOLS[1:]):
        peer = s["throughput"][tool]["req_s_median"]
        s["throughput"][tool]["ratio_benchseal_over_peer"] = round(bs / peer, 2) if bs and peer else None
    return s


def _f(v, nd=2) -> str:
    return "—" if v is None else f"{v:,.{nd}f}"


def _signed(v, nd=2) -> str:
    if v is None:
        return "—"
    text = f"{v:+.{nd}f}"
    return text.replace("-0.00", "+0.00") if text == f"{-0.0:+.{nd}f}" else text


def markdown(a, res: dict) -> str:
    s, m = res["summary"], res["meta"]
    lines = [BEGIN, "### Side by side with GuideLLM and `vllm bench serve` (`scripts/bench_peers.py`)", "",
             f"Command: `{m['command']}`", "",
             f"Run {m['date']} on {m['machine']}; load average (1 min) {m['loadavg_start']} at the start and "
             f"{m['loadavg_end']} at the end (other engineers' jobs share the 2 cores; the test server too). "
             f"Versions: {m['versions']}.", "",
             f"**(a) Throughput**, zero-delay server, {a.tokens} output tokens per request, closed loop at "
             f"concurrency {a.concurrency}, {a.requests} requests per run, no warm-up, median of {a.repeats} "
             "interleaved runs; req/s = completed / the tool's own measured duration:", "",
             "| tool | req/s (median) | all runs | failed | benchseal / tool |", "| --- | --- | --- | --- | --- |"]
    for tool in (*[t for t in TOOLS if t in m["tools"]], *([NOTOK] if s["throughput"][NOTOK]["runs"] else [])):
        t = s["throughput"][tool]
        if t["ok_runs"]:
            lines.append(f"| {tool} | {_f(t['req_s_median'], 0)} | {', '.join(f'{x:,.0f}' for x in t['req_s_all'])} | "
                         f"{t['failed_requests']} | {_f(t.get('ratio_benchseal_over_peer'))} |")
        else:
            lines.append(f"| {tool} | could not run: {(t['errors'] or ['?'])[0][:300]!s} | | | |".replace("\n", " "))
    lines += ["", f"`{NOTOK}`: the same benchseal command with a prompt file instead of `--tokenizer`, so the "
              "client does not re-count every output with the tokenizer on its event loop (the default run does, to "
              "cross-check the server's usage counts; vLLM re-tokenises after its timed run).",
              "", f"**(b) Accuracy**, server injecting TTFT {a.ttft_ms:g} ms and ITL {a.itl_ms:g} ms, "
              f"{a.delay_tokens} tokens, concurrency {a.delay_concurrency}, {a.delay_requests} requests, median of "
              f"{a.repeats} runs. Each cell: reported value (error = reported − truth under that tool's definition), ms:", "",
              "| tool | TTFT p50 | TTFT p99 | ITL p50 | ITL p99 | TPOT p50 (truth) | TPOT p99 | mean output tokens counted | server late p99 |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for tool in [t for t in TOOLS if t in m["tools"]]:
        t = s["accuracy"][tool]
        if not t["runs"]:
            lines.append(f"| {tool} | could not run: {(t['errors'] or ['?'])[0][:300]!s} | | | | | | | |".replace("\n", " "))
            continue
        c = lambda k, p: f"{_f(t[k][p])} ({_signed(t[k][p + '_error'])})"  # noqa: E731
        lines.append(f"| {tool} | {c('ttft_ms', 'p50')} | {c('ttft_ms', 'p99')} | {c('itl_ms', 'p50')} | {c('itl_ms', 'p99')} | "
                     f"{c('tpot_ms', 'p50')} [{_f(t['tpot_ms']['truth'])}] | {c('tpot_ms', 'p99')} | "
                     f"{_f(t['output_tokens_mean'], 1)} | {_f(t['server_lateness_p99_ms'])} |")
    lines += ["", "Definitions differ (docs/metrics.md): GuideLLM's TTFT starts after the TCP connect, its ITL is a "
              "per-request average ((E2EL − TTFT)/(n − 1)) and its TPOT includes the first token (E2EL / n); vLLM's "
              "TTFT includes the connect and its ITL pools every gap. This server sends `usage` in the same chunk as "
              "the finish reason; vLLM's client then ignores the usage and re-tokenises the streamed text, so its "
              "output-token count above (and the TPOT divided by it) is the tokenizer's count of the text, not the "
              "tokens generated (ENVIRONMENT.md also notes it counts that final chunk as one more gap). "
              f"Raw results: `{m['out']}`.", END]
    return "\n".join(lines)


def write_fragment(path: Path, text: str) -> None:
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)


def _version(cmd: list[str], env: dict) -> str:
    rc, text, _ = _run_cmd(cmd, env, 120)
    return text.strip().splitlines()[-1][:80] if rc == 0 and text.strip() else f"unavailable (exit {rc})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guidellm", default="/tmp/peer-guidellm/bin/guidellm")
    ap.add_argument("--vllm", default="/tmp/peer-vllm/bin/vllm")
    ap.add_argument("--tokenizer", help="local tiny model dir (default: build one with benchseal.testing.tiny)")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--no-notok", action="store_true", help=f"skip the {NOTOK} throughput row")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--input-len", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ttft-ms", type=float, default=30.0)
    ap.add_argument("--itl-ms", type=float, default=5.0)
    ap.add_argument("--delay-tokens", type=int, default=32)
    ap.add_argument("--delay-requests", type=int, default=200)
    ap.add_argument("--delay-concurrency", type=int, default=4)
    ap.add_argument("--server-nice", type=int, default=0, help="renice the test server (0 = same priority)")
    ap.add_argument("--timeout", type=float, default=600.0, help="per tool run")
    ap.add_argument("--out", required=True, help="results JSON")
    ap.add_argument("--fragment", help="markdown file whose bench_peers section is (re)written")
    ap.add_argument("--render", metavar="RESULTS_JSON",
                    help="only re-render the markdown (and --fragment) from a results file of an earlier run")
    a = ap.parse_args()
    if a.render:
        res = json.loads(Path(a.render).read_text())
        fragment = a.fragment
        a = ap.parse_args(shlex.split(res["meta"]["command"])[1:])
        md = markdown(a, res)
        print(md)
        if fragment:
            write_fragment(Path(fragment), md)
        return 0
    tools = [t for t in a.tools.split(",") if t]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "VLLM_TARGET_DEVICE": "cpu", "TOKENIZERS_PARALLELISM": "false", "NO_COLOR": "1"}
    tmpdir = tempfile.TemporaryDirectory(prefix="bench-peers-")
    if not a.tokenizer:
        from benchseal.testing.tiny import build_tiny_model

        a.tokenizer = str(build_tiny_model(Path(tmpdir.name) / "tiny"))
    meta = {"command": " ".join(shlex.quote(x) for x in ["scripts/bench_peers.py", *sys.argv[1:]]),
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
            "loadavg_start": round(os.getloadavg()[0], 2), "out": a.out, "tools": tools,
            "versions": ", ".join([
                "benchseal (this checkout)",
                "GuideLLM " + (_version([a.guidellm, "--version"], env).split(":")[-1].strip()
                               if shutil.which(a.guidellm) else "not installed"),
                "vLLM " + (_version([str(Path(a.vllm).parent / "python"), "-c", "import vllm; print(vllm.__version__)"], env)
                           if shutil.which(a.vllm) else "not installed")])}
    runs: dict = {"throughput": [], "accuracy": []}
    try:
        fast = spawn(nice=a.server_nice)
        slow = spawn(ttft_ms=a.ttft_ms, itl_ms=a.itl_ms, nice=a.server_nice)
        try:
            for rep in range(a.repeats):
                order = tools[rep % len(tools):] + tools[: rep % len(tools)]  # rotate who goes first
                for tool in order + ([NOTOK] if "benchseal" in tools and not a.no_notok else []):
                    r = run_tool(a, tool, fast.url, a.concurrency, a.requests, a.tokens, env)
                    r["repeat"] = rep
                    runs["throughput"].append(r)
                    print(f"[throughput] {tool} rep {rep}: {r.get('req_s', r.get('error'))}", file=sys.stderr, flush=True)
                for tool in order:
                    r = run_tool(a, tool, slow.url, a.delay_concurrency, a.delay_requests, a.delay_tokens, env)
                    r["repeat"] = rep
                    runs["accuracy"].append(r)
                    print(f"[accuracy] {tool} rep {rep}: ttft {r.get('ttft_ms', r.get('error'))}", file=sys.stderr, flush=True)
        finally:
            fast.stop()
            slow.stop()
    finally:
        tmpdir.cleanup()
    meta["loadavg_end"] = round(os.getloadavg()[0], 2)
    res = {"meta": meta, "summary": summarize(a, runs), "runs": runs}
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    md = markdown(a, res)
    print(md)
    if a.fragment:
        write_fragment(Path(a.fragment), md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
