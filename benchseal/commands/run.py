"""`benchseal run PROGRAM`: every stage a program needs, one bundle, verdicts, optional signature."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchseal.bench.perf.backends.spec import add_backend_args
from benchseal.bench.perf.backends.spec import spec_from_args as backend_spec_from_args
from benchseal.commands._common import add_judge_args, add_key_flag, check_judge_args
from benchseal.errors import UsageError


def add_model_args(p: argparse.ArgumentParser) -> None:
    add_backend_args(p, default="hf", model_help="local model directory, or the served model name for --backend openai")
    p.add_argument("--model-path", help="local model files for parameters, digests, FLOPs and the tokenizer (default: --model when it is a directory)")
    p.add_argument("--trust-remote-code", action="store_true", help="allow model code from the checkpoint (refused by default)")


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run every stage a funding program needs and write a (signed) evidence bundle",
        description="Run hardware inventory, model inspection, performance, utilisation and evaluation for a program, "
        "check its claims, render the report and sign the bundle. Exit 0 only when every required claim passes; "
        "1 when one fails or is inconclusive; 3 when a stage failed (the bundle is kept, marked partial).",
    )
    p.add_argument("program", help="program id (see `benchseal programs`) or a program YAML path")
    add_model_args(p)
    p.add_argument("--out", required=True, type=Path, help="new bundle directory")
    p.add_argument("--workload", help="workload profile name or YAML (default: the program's)")
    p.add_argument("--suite", action="append", dest="suites", help="evaluation suite (repeatable; default: the program's)")
    p.add_argument("--eval-backend", choices=["hf", "vllm", "openai"])
    p.add_argument("--data-dir", help="local evaluation data directory (see `benchseal datasets`)")
    p.add_argument("--limit", type=float, help="evaluate only N docs per task (marks the eval not claim-grade)")
    p.add_argument("--allow-unsafe-code", action="store_true",
                   help="let suites that execute model-written code run (HumanEval); only in a disposable sandbox")
    p.add_argument("--stages", help="measurement stages to run, e.g. hw,model,perf,eval (default: the program's stages)")
    p.add_argument("--should-refuse", metavar="FILE", help="JSONL bank of questions the model should refuse (safety alignment)")
    p.add_argument("--should-answer", metavar="FILE", help="JSONL bank of questions the model should answer (over-refusal)")
    p.add_argument("--refusal-rules", metavar="FILE", help="refusal rule set (YAML; default configs/suites/refusal/rules.yaml)")
    p.add_argument("--content-bank", metavar="FILE",
                   help='JSONL content bank, one {"id", "prompt", "category"} per line: the generated-content safety '
                        "assessment runs in the eval stage (eval/content-safety/, as `benchseal eval content-safety`)")
    p.add_argument("--content-sample", type=int, default=None, metavar="N",
                   help="content questions drawn at random (default 1000, TC260-003 §9.3; all when the bank is smaller)")
    add_judge_args(p, "the judge model of the safety tests (refusal banks and content bank)")
    p.add_argument("--judge-all", action="store_true",
                   help="refusal banks: send every reply to the judge, not only those the rules cannot decide "
                        "(programs with requires_judge, e.g. chengdu-2025, need it)")
    p.add_argument("--safety-max-gen-toks", type=int, metavar="N",
                   help="tokens generated per reply in the safety tests (default 64 for the refusal banks, 256 for the content bank)")
    p.add_argument("--server-hardware", metavar="FILE",
                   help="the serving host's inventory, from `benchseal hw --out FILE` run there (--backend openai: this "
                        "machine is only the client; without it compute claims are INCONCLUSIVE)")
    p.add_argument("--parity-reference", metavar="BUNDLE", help="reference bundle for parity (model migrated or quantised)")
    p.add_argument("--lightweight-of", metavar="FULL_BUNDLE",
                   help="this model is a lightweight variant of the model measured in FULL_BUNDLE (same program, workload "
                        "and suites): compare weights, memory, latency, throughput and accuracy parity with it "
                        "(implies --parity-reference FULL_BUNDLE)")
    p.add_argument("--no-audits", action="store_true",
                   help="perf: no audit probes and no client-overhead certificate (docs/metrics.md, Audits)")
    p.add_argument("--skip-audit", action="append", metavar="NAME[:REASON]",
                   help="perf: skip one audit, recording the reason (repeatable)")
    add_key_flag(p, "--reference-key", "the --parity-reference / --lightweight-of bundle")
    p.add_argument("--threshold", action="append", default=[], metavar="CLAIM=VALUE",
                   help="set an applicant-set KPI's threshold (template programs such as chengdu-2025, within the floors "
                        "the program states; a published program's thresholds are refused; repeatable)")
    s = p.add_argument_group("scale (docs/scale-out.md)")
    s.add_argument("--plan", dest="plan_gpu", metavar="GPU_ID",
                   help="refuse, before any GPU time is spent, a vLLM layout (--tensor/--pipeline/--data-parallel-size, "
                        "--enable-expert-parallel) that cannot fit GPUs of this configs/gpus.yaml id")
    s.add_argument("--ray-address", metavar="ADDR",
                   help="an existing Ray cluster (benchseal never starts one): inventory and NVML telemetry of every "
                        "node, vllm-serve's Ray executor joins it, load workers (--workers in the workload) run as Ray actors")
    s.add_argument("--eval-concurrency", type=int, default=None, metavar="N",
                   help="requests in flight when evaluating through a served endpoint (default 1)")
    p.add_argument("--key", type=Path, action="append",
                   help="private key (from `benchseal keygen`: ECDSA P-256, Ed25519 or SM2) to sign the bundle; repeat "
                        "it to sign with several keys (one envelope, one signature per key)")
    p.add_argument("--passphrase-env", metavar="VAR", action="append",
                   help="variable holding the key passphrase (default BENCHSEAL_KEY_PASSPHRASE); once for all keys or "
                        "once per --key")
    p.set_defaults(func=run)


def parse_thresholds(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        cid, sep, value = item.partition("=")
        try:
            if not sep or not cid.strip():
                raise ValueError
            out[cid.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--threshold {item!r} is not CLAIM=NUMBER", hint="e.g. --threshold ttft-p99=1500") from None
    return out


def spec_from_args(args: argparse.Namespace, **extra):
    from benchseal.pipeline import MEASUREMENT_STAGES, RunSpec

    if args.stages is None:  # the stages the program needs
        from benchseal.claims import load_program

        stages = list(load_program(args.program).stages)
    else:
        stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = sorted(set(stages) - set(MEASUREMENT_STAGES))
    if unknown:
        raise UsageError(f"unknown stage(s) {', '.join(unknown)}", hint=f"choose from {', '.join(MEASUREMENT_STAGES)}")
    if args.threshold:  # refused before anything runs: a published program's thresholds are not the applicant's
        from benchseal.claims import load_program

        load_program(args.program, thresholds=parse_thresholds(args.threshold))
    if bool(args.should_refuse) != bool(args.should_answer):
        raise UsageError("--should-refuse and --should-answer go together", hint="give both refusal banks, or neither")
    judged = check_judge_args(args, hint="give both to judge the safety tests' replies, or neither (rules alone)")
    if judged and not (args.should_refuse or args.content_bank):
        raise UsageError("a judge was given but there is nothing for it to judge",
                         hint="add --should-refuse/--should-answer or --content-bank, or drop the --judge-* flags")
    if args.judge_all and not judged:
        raise UsageError("--judge-all needs a judge", hint="add --judge-base-url and --judge-model")
    if args.judge_all and not args.should_refuse:
        raise UsageError("--judge-all applies to the refusal banks, and none were given",
                         hint="add --should-refuse and --should-answer, or drop --judge-all (the content bank is always judged whole)")
    if args.content_sample is not None and not args.content_bank:
        raise UsageError("--content-sample needs --content-bank", hint="name the content bank, or drop --content-sample")
    if args.content_sample is not None and args.content_sample < 1:
        raise UsageError(f"--content-sample must be at least 1, not {args.content_sample}")
    if args.safety_max_gen_toks is not None and args.safety_max_gen_toks < 1:
        raise UsageError(f"--safety-max-gen-toks must be at least 1, not {args.safety_max_gen_toks}")
    if args.safety_max_gen_toks is not None and not (args.should_refuse or args.content_bank):
        raise UsageError("--safety-max-gen-toks applies to the safety tests, and none were given",
                         hint="add --should-refuse/--should-answer or --content-bank, or drop --safety-max-gen-toks")
    lightweight_of = getattr(args, "lightweight_of", None)
    parity_reference = args.parity_reference
    if lightweight_of:
        if parity_reference and Path(parity_reference).resolve() != Path(lightweight_of).resolve():
            raise UsageError("--lightweight-of and --parity-reference name different bundles",
                             hint="the light model's parity is measured against the full model: give only --lightweight-of")
        parity_reference = lightweight_of
    model_path = args.model_path or (args.model if Path(args.model).exists() else None)
    if getattr(args, "reference_key", None) and not parity_reference:
        raise UsageError("--reference-key names the key of a reference bundle, and none was given",
                         hint="add --parity-reference or --lightweight-of, or drop --reference-key")
    extra.setdefault("reference_key", [str(k) for k in getattr(args, "reference_key", None) or []])  # pipeline.claims.verify_reference
    return RunSpec(
        program=args.program,
        backend=backend_spec_from_args(args),
        model_path=model_path,
        workload=args.workload,
        eval_suites=args.suites,
        eval_backend=args.eval_backend,
        eval_limit=args.limit,
        allow_unsafe_code=args.allow_unsafe_code,
        data_dir=args.data_dir,
        stages=stages,
        trust_remote_code=args.trust_remote_code,
        thresholds=parse_thresholds(args.threshold),
        should_refuse=args.should_refuse,
        should_answer=args.should_answer,
        refusal_rules=args.refusal_rules,
        content_bank=args.content_bank,
        judge_base_url=args.judge_base_url,
        judge_model=args.judge_model,
        judge_api_key_env=args.judge_api_key_env,
        judge_all=args.judge_all,
        safety_max_gen_toks=args.safety_max_gen_toks,
        parity_reference=parity_reference,
        lightweight_of=lightweight_of,
        audits=not getattr(args, "no_audits", False),
        skip_audits=_skip_audits(args),
        server_hardware=getattr(args, "server_hardware", None),
        plan_gpu=getattr(args, "plan_gpu", None),
        ray_address=getattr(args, "ray_address", None),
        **({"eval_concurrency": args.eval_concurrency} if getattr(args, "eval_concurrency", None) is not None else {}),
        **({"content_sample": args.content_sample} if args.content_sample is not None else {}),  # else RunSpec's default
        **extra,
    )


def _skip_audits(args) -> dict[str, str]:
    from benchseal.commands.perf import audit_options

    opts = audit_options(argparse.Namespace(no_audits=False, skip_audit=getattr(args, "skip_audit", None)))
    return dict(opts.skip) if opts is not None else {}


def print_summary(result, console) -> None:
    from rich.table import Table

    from benchseal.commands._common import fmt_num

    if result.claims is not None:
        table = Table(title=f"Claims — {result.claims.program}")
        for col in ("claim", "severity", "status", "observed", "threshold", "reason"):
            table.add_column(col, no_wrap=col in ("claim", "severity", "status"))  # identifiers whole; the reason wraps
        colour = {"PASS": "green", "FAIL": "red", "INCONCLUSIVE": "yellow"}
        for v in result.claims.verdicts:
            table.add_row(
                v.claim_id, v.severity, f"[{colour[v.status]}]{v.status}[/]",
                fmt_num(v.observed),
                f"{v.op} {fmt_num(v.threshold)}" if v.threshold is not None else v.op, v.reason,
            )
        console.print(table)
    console.print(f"run status: {result.manifest.status}; bundle: {result.out}"
                  + ("; signed" if result.signed else "; not signed"))


def run(args: argparse.Namespace) -> int:
    from benchseal.commands._common import console
    from benchseal.pipeline import Pipeline
    from benchseal.reports.seal.keys import load_private_key, resolve_passphrase

    spec = spec_from_args(args)  # the backend spec refuses a key given instead of a variable name
    keys, passphrases = args.key or [], []
    if keys:  # checked before the run, so a long measurement is not lost to a bad key
        envs = args.passphrase_env or [None]
        if len(envs) not in (1, len(keys)):
            from benchseal.errors import UsageError

            raise UsageError(f"{len(envs)} --passphrase-env for {len(keys)} --key",
                             hint="give --passphrase-env once for all keys or once per --key")
        passphrases = [resolve_passphrase(e) for e in envs] * (len(keys) if len(envs) == 1 else 1)
        for k, phrase in zip(keys, passphrases):
            load_private_key(k, phrase)
    key = keys[0] if len(keys) == 1 else (keys or None)
    passphrase = passphrases[0] if len(passphrases) == 1 else (passphrases or None)
    con = console(stderr=True)
    result = Pipeline(spec, args.out, log=lambda m: con.print(m, markup=False)).run(key=key, passphrase=passphrase)
    if result.preflight_error is not None:  # the input was refused: nothing measured, claimed or signed
        con.print(f"benchseal run: {result.preflight_error}\nnothing was measured or signed; {result.out}/run.json "
                  "records the refusal (the directory may be reused for the next run)", markup=False)
        return result.exit_code
    print_summary(result, con)
    if result.interrupted:
        from benchseal.redact import scrub

        con.print(scrub(f"benchseal run: {result.interrupted}; the bundle is kept (run status: {result.manifest.status}"
                        + (", signed)" if result.signed else ", not signed)")), markup=False)
    return result.exit_code
