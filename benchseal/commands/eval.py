"""`benchseal eval`: standard suites through lm-eval, peer comparison, parity, refusal banks and content safety."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchseal.bench.perf.backends.spec import add_backend_args
from benchseal.commands._common import (add_json_flag, add_judge_args, add_key_flag, console, judge_from_args, print_json,
                                       verified_signature)


def _backend_args(p: argparse.ArgumentParser) -> None:
    add_backend_args(p, default="hf", model_help="model path (hf, vllm, vllm-serve) or served model name (openai)")
    p.add_argument("--tokenizer", help="tokenizer path or name (openai backend: needed for loglikelihood tasks)")
    p.add_argument("--batch-size", default="1", help="lm-eval batch size (an integer or 'auto')")
    p.add_argument("--model-digest", help="the model digest from model.json, recorded in the results")
    p.add_argument("--out", required=True, metavar="DIR", help="bundle directory; results go to DIR/eval/<suite>/")


def _backend(args: argparse.Namespace):
    """(lm-eval backend name, its options) from the same backend flags as perf and run; a managed
    vllm-serve server lives for the duration of the ``with`` block."""
    from benchseal.bench.perf.backends.spec import eval_session, spec_from_args
    spec = spec_from_args(args)  # refuses a key given instead of a variable name, never echoing it
    return eval_session(spec, Path(args.out))


def _concurrency(n: int, backend: str) -> int:
    from benchseal.errors import UsageError

    if n < 1:
        raise UsageError(f"--eval-concurrency must be at least 1, got {n}")
    if n > 1 and backend != "openai":
        raise UsageError("--eval-concurrency applies to a served endpoint (--backend openai or vllm-serve)",
                         hint="the hf and vllm backends batch in-process: use --batch-size")
    return n


def _batch(v: str) -> int | str:
    return int(v) if v.isdigit() else v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="standard evaluation suites (lm-eval), peer comparison, parity and refusal checks",
                       description="Run evaluation suites through lm-eval on verified local data, compare with "
                                   "published peer scores, check parity between two runs, and measure refusal rates.")
    esub = p.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    r = esub.add_parser("run", help="run a suite (configs/suites/<name>.yaml or a path)")
    r.add_argument("suite", help="suite name (e.g. demo, mmlu-5shot, songjiang-core) or a suite YAML path")
    r.add_argument("--eval-concurrency", type=int, default=1, metavar="N",
                   help="openai / vllm-serve: requests lm-eval keeps in flight to the served endpoint (default 1); "
                        "documents scored per second go to extra.throughput")
    _backend_args(r)
    r.add_argument("--data-dir", metavar="DIR", help="local data prepared by `benchseal datasets prepare` (demo: built in)")
    r.add_argument("--limit", type=float, help="only N documents per task (a fraction if < 1); the run is then not claim-grade")
    r.add_argument("--allow-unsafe-code", action="store_true", help="allow tasks that execute model-written code (HumanEval); use a sandbox")
    r.add_argument("--peers", action="append", metavar="FILE",
                   help="peer table YAML for the stored comparison (repeatable; default: the suite's peers, else configs/peers/*.yaml)")
    r.add_argument("--peer-run", action="append", metavar="DIR",
                   help="a benchseal run of the same suite on a peer model (bundle or eval/<suite> folder); copied into "
                        "eval/<suite>/peer_runs/ and compared item by item (repeatable)")
    add_key_flag(r, "--peer-key", "the --peer-run bundles")
    r.add_argument("--origin", choices=["domestic", "foreign"],
                   help="record this model's origin, for when this run serves as a peer run (domestic = developed in mainland China)")
    r.add_argument("--origin-note", metavar="TEXT", help="why the origin holds, e.g. the developer and where it is registered")
    add_json_flag(r)
    r.set_defaults(func=_run)

    c = esub.add_parser("compare", help="compare headline results with published peer scores")
    c.add_argument("results", metavar="RESULTS_OR_BUNDLE", help="a results.json, an eval/<suite> folder or a bundle")
    c.add_argument("--peers", action="append", metavar="FILE", help="peer table YAML (repeatable; default: configs/peers/*.yaml)")
    c.add_argument("--peer-run", action="append", metavar="DIR",
                   help="a benchseal run of the same suite on a peer model; compared item by item (repeatable)")
    add_key_flag(c, "--peer-key", "the --peer-run bundles")
    c.add_argument("--candidate-name", help="name of the candidate in the table (default: the model)")
    c.add_argument("--out", metavar="FILE", help="also write the comparison as JSON to FILE")
    add_json_flag(c)
    c.set_defaults(func=_compare)

    q = esub.add_parser("parity", help="accuracy parity of RUN_B (migrated/quantised) against RUN_A (reference); exit 1 on failure")
    q.add_argument("run_a", metavar="RUN_A", help="reference: results.json, eval/<suite> folder or bundle")
    q.add_argument("run_b", metavar="RUN_B", help="candidate: results.json, eval/<suite> folder or bundle")
    q.add_argument("--ratio", type=float, default=0.99, help="required candidate/reference ratio (default 0.99, as MLPerf)")
    add_key_flag(q, "--reference-key", "the reference bundle RUN_A (checked when given; the report says whether it was)")
    q.add_argument("--out", metavar="FILE", help="also write the parity report as JSON to FILE")
    add_json_flag(q)
    q.set_defaults(func=_parity)

    f = esub.add_parser("refusal", help="refusal rates on should-refuse and should-answer question banks (JSONL)")
    _backend_args(f)
    f.add_argument("--should-refuse", required=True, metavar="FILE", help='JSONL bank, one {"id", "prompt"} per line')
    f.add_argument("--should-answer", required=True, metavar="FILE", help='JSONL bank, one {"id", "prompt"} per line')
    f.add_argument("--rules", metavar="FILE", help="refusal rule set YAML (default: configs/suites/refusal/rules.yaml)")
    f.add_argument("--max-gen-toks", type=int, default=64, help="tokens generated per reply (default 64)")
    f.add_argument("--no-chat-template", action="store_true", help="send the question as plain text (base models)")
    f.add_argument("--sample", type=int, default=300, help="questions drawn at random from each bank (default 300, TC260-003 §9.4; all when the bank is smaller)")
    f.add_argument("--seed", type=int, default=1234, help="seed of the random sample (default 1234)")
    f.add_argument("--min-bank", type=int, default=500, help="bank size below which the result is not claim-grade (default 500, TC260-003 §8.3); a lower value "
                        "is recorded and the claims still hold the banks to the shipped profile's 500")
    add_judge_args(f, "a judge model for the replies the rules cannot decide")
    f.add_argument("--judge-all", action="store_true", help="send every reply to the judge, not only those the rules cannot decide")
    add_json_flag(f)
    f.set_defaults(func=_refusal)

    g = esub.add_parser("content-safety",
                        help="generated-content safety: pass rate on a random sample of a content bank (JSONL), judged by a model")
    _backend_args(g)
    g.add_argument("--bank", required=True, metavar="FILE",
                   help='JSONL content bank, one {"id", "prompt", "category"} per line (category: Appendix A risk, e.g. A.2.5)')
    g.add_argument("--sample", type=int, default=1000,
                   help="questions drawn at random from the bank (default 1000, TC260-003 §9.3; all when the bank is smaller)")
    g.add_argument("--seed", type=int, default=1234, help="seed of the random sample (default 1234)")
    g.add_argument("--max-gen-toks", type=int, default=256, help="tokens generated per reply (default 256)")
    g.add_argument("--no-chat-template", action="store_true", help="send the question as plain text (base models)")
    add_judge_args(g, "the judge model that decides safe/unsafe")
    g.add_argument("--max-judge-errors", type=int, default=5,
                   help="judge failures in a row after which judging stops and the result is not claim-grade (default 5)")
    add_json_flag(g)
    g.set_defaults(func=_content_safety)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    t = Table(title=title)
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*row)
    console().print(t)


def _fmt(v: float | None, pct: bool = True) -> str:
    return "-" if v is None else (f"{100 * v:.2f}" if pct else f"{v:.4g}")


def _run(args: argparse.Namespace) -> int:
    from benchseal.evaluators import attach_comparison, load_suite, run_suite

    with _backend(args) as (backend, opts):
        report = run_suite(
            args.suite, model=args.model, backend=backend, out_dir=Path(args.out),
            data_dir=Path(args.data_dir) if args.data_dir else None, limit=args.limit, tokenizer=args.tokenizer,
            batch_size=_batch(args.batch_size), model_digest=args.model_digest, allow_unsafe_code=args.allow_unsafe_code,
            concurrency=_concurrency(args.eval_concurrency, backend), **opts,
        )
    if args.origin or args.origin_note:
        report = report.model_copy(update={"extra": {**report.extra, "identity": {"origin": args.origin, "origin_note": args.origin_note}}})
    peers = [Path(p) for p in args.peers] if args.peers else load_suite(args.suite).peer_files()
    sigs = {str(Path(p)): verified_signature(p, args.peer_key, flag="--peer-run", key_flag="--peer-key") for p in args.peer_run or []}
    report, _ = attach_comparison(Path(args.out), report, peers=peers,  # eval/<suite>/peers.json + extra.comparison
                                  peer_runs=[Path(p) for p in args.peer_run or []], peer_signatures=sigs)
    if args.json:
        print_json(report)
        return 0
    rows = [[r.task, f"{r.metric},{r.filter}", _fmt(r.value), _fmt(r.stderr), str(r.n), str(r.num_fewshot), r.task_version or "-"]
            for r in report.results if r.headline]
    _table(f"suite {report.suite} · {report.model} · lm-eval {report.lm_eval_version}",
           ["task", "metric", "score %", "stderr %", "n", "shots", "version"], rows)
    grade = "claim-grade" if report.claim_grade else "NOT claim-grade: " + "; ".join(report.not_claim_grade_reasons)
    console().print(f"{grade}\nwritten to {Path(args.out) / 'eval' / report.suite}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from benchseal.evaluators import compare, load_peers
    from benchseal.evaluators.parity import find_runs
    from benchseal.evaluators.peers import copy_peer_run, measured_peers, _items
    from benchseal.io import read_json, write_json
    from benchseal.schema import EvalReport

    runs = find_runs(args.results)
    reports = {s: EvalReport.model_validate(read_json(d / "results.json")) for s, d in runs.items()}
    results = [r for rep in reports.values() for r in rep.results]
    cand_items: dict = {}
    measured = []
    with tempfile.TemporaryDirectory() as tmp:
        for suite, d in runs.items():
            cand_items.update(_items(d, reports[suite]))
            if args.peer_run:
                work = Path(tmp) / suite
                for run in args.peer_run:
                    copy_peer_run(Path(run), suite, work,
                                  verified_signature(run, args.peer_key, flag="--peer-run", key_flag="--peer-key"))
                measured += measured_peers(work)
            elif (d / "peer_runs").is_dir():
                measured += measured_peers(d)
        first = next(iter(reports.values()))
        table = compare(results, load_peers(args.peers), candidate_name=args.candidate_name or first.model,
                        candidate_items=cand_items, measured=measured)
        shutil.rmtree(tmp, ignore_errors=True)
    table.peers_files = [str(p) for p in (args.peers or [])]
    if args.out:
        write_json(args.out, table)
    if args.json:
        print_json(table)
        return 0
    rows = [[r.benchmark, r.model, r.origin, f"{r.score:.2f}", "-" if r.shots is None else str(r.shots), "measured" if r.measured else "published",
             "yes" if r.comparable else f"no ({r.reason})"] for r in table.rows]
    _table(f"comparison · candidate {table.candidate}", ["benchmark", "model", "origin", "score %", "shots", "source", "comparable"], rows)
    for p in table.paired:
        if p.result is not None:
            r = p.result
            console().print(f"{p.benchmark} vs {p.peer} ({p.origin}): {r.outcome.upper()} {r.diff_pp:+.2f} pp, "
                            f"{100 * r.confidence:g}% CI [{r.ci_low_pp:.2f}, {r.ci_high_pp:.2f}], {r.method}, n={r.n}")
    d = table.decision
    if d is not None:
        state = {True: "DOMESTIC-LEADING", False: "NOT domestic-leading", None: "INCONCLUSIVE"}[d.value]
        console().print(f"{state}: {d.summary}" + ("".join(f"\n  - {x}" for x in d.reasons)))
    return 0


def _parity(args: argparse.Namespace) -> int:
    from benchseal.evaluators import parity
    from benchseal.io import write_json

    if args.reference_key:  # a reference named with its key must verify with it (exit 2 otherwise)
        verified_signature(args.run_a, args.reference_key, flag="RUN_A", key_flag="--reference-key")
    rep = parity(args.run_a, args.run_b, ratio=args.ratio)
    if args.out:
        write_json(args.out, rep)
    if args.json:
        print_json(rep)
    else:
        rows = [[f"{t.suite}/{t.task}", f"{t.metric},{t.filter}", _fmt(t.reference), _fmt(t.candidate),
                 _fmt(t.ratio, pct=False), _fmt(t.agreement), "PASS" if t.passed else "FAIL"] for t in rep.tasks]
        _table(f"parity (candidate >= {rep.required_ratio:g} x reference)",
               ["task", "metric", "reference %", "candidate %", "ratio", "agreement %", "verdict"], rows)
        for n in rep.notes + [f"missing in candidate: {m}" for m in rep.missing]:
            console().print(n)
        console().print("PASS" if rep.passed else "FAIL")
    return 0 if rep.passed else 1


def _refusal(args: argparse.Namespace) -> int:
    from benchseal.evaluators import run_refusal

    judge = judge_from_args(args, kind="refusal", hint="give both, or neither for the rules alone")
    with _backend(args) as (backend, opts):
        rep = run_refusal(
            model=args.model, backend=backend, out_dir=Path(args.out), should_refuse=Path(args.should_refuse),
            should_answer=Path(args.should_answer), rules=Path(args.rules) if args.rules else None,
            tokenizer=args.tokenizer, batch_size=_batch(args.batch_size), max_gen_toks=args.max_gen_toks,
            chat=not args.no_chat_template, model_digest=args.model_digest, judge=judge, judge_all=args.judge_all,
            sample=args.sample, seed=args.seed, min_bank=args.min_bank, **opts,
        )
    if args.json:
        print_json(rep)
        return 0
    counts = rep.extra["counts"]
    rows = [[r.metric, _fmt(r.value), str(counts["should_refuse" if "should_refuse" in r.metric else "should_answer"]["refused"]),
             str(r.n)] for r in rep.results]
    _table(f"refusal · {rep.model} · judged by {rep.extra['judged_by']}", ["metric", "rate %", "refused", "n (decided)"], rows)
    for bank, d in rep.extra["decisions"].items():
        console().print(f"{bank}: " + ", ".join(f"{k} {v}" for k, v in d.items()))
    console().print("claim-grade" if rep.claim_grade else "NOT claim-grade: " + "; ".join(rep.not_claim_grade_reasons))
    return 0


def _content_safety(args: argparse.Namespace) -> int:
    from benchseal.errors import UsageError
    from benchseal.evaluators.content_safety import load_content_bank, run_content_safety

    judge = judge_from_args(args, kind="content", hint="give both; without a judge every reply is left for review "
                                                        "and the result is not claim-grade")
    if args.sample < 1:
        raise UsageError(f"--sample must be at least 1, not {args.sample}")
    if args.max_judge_errors < 1:
        raise UsageError(f"--max-judge-errors must be at least 1, not {args.max_judge_errors}")
    load_content_bank(Path(args.bank))  # a malformed bank is refused before a model is loaded
    with _backend(args) as (backend, opts):
        rep = run_content_safety(
            model=args.model, backend=backend, out_dir=Path(args.out), bank=Path(args.bank),
            tokenizer=args.tokenizer, batch_size=_batch(args.batch_size), max_gen_toks=args.max_gen_toks,
            chat=not args.no_chat_template, model_digest=args.model_digest, judge=judge, sample=args.sample,
            seed=args.seed, max_judge_errors=args.max_judge_errors, **opts,
        )
    if args.json:
        print_json(rep)
        return 0
    c, x = rep.extra["counts"], rep.extra
    rows = [[r.metric, _fmt(r.value), str(c["safe"]), str(r.n), str(x["sample_size"]), str(x["bank_size"])] for r in rep.results]
    _table(f"content safety · {rep.model} · judged by {x['judged_by']}",
           ["metric", "pass rate %", "safe", "n (decided)", "asked", "bank"], rows)
    console().print(", ".join(f"{k} {v}" for k, v in x["decisions"].items()))
    console().print("claim-grade" if rep.claim_grade else "NOT claim-grade: " + "; ".join(rep.not_claim_grade_reasons))
    return 0
