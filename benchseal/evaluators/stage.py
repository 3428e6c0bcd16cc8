"""The eval stage of ``benchseal run``: suites with their peer comparison, refusal banks, parity.

One function, :func:`run_eval_stage`, writes everything the programs' eval claims read, each part
re-derivable by ``benchseal verify`` from files in the same bundle:

| bundle files | claims read | verify re-derives |
| --- | --- | --- |
| ``eval/<suite>/results.json`` + ``peers.json`` | ``eval.<suite>.extra.comparison…`` | ``recompute:comparison:<suite>`` |
| ``eval/refusal/{results.json, samples_refusal.jsonl, rules.yaml}`` | ``eval.refusal.results[…]`` | ``recompute:refusal`` |
| ``eval/content-safety/{results.json, samples_content.jsonl}`` | ``eval.content-safety.results[…]`` | ``recompute:content-safety`` |
| ``eval/parity/{results.json, reference/<suite>/…}`` | ``eval.parity.extra.parity.passed`` | ``recompute:parity`` |

The model is loaded once (per suite seed) and shared by the suites, the refusal banks and the content
bank. Inputs (banks, rules, the reference bundle) are checked before anything runs, so a typo costs no
GPU time; ``benchseal run`` checks them (and asks the judge one test question) in its pre-flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchseal.errors import UsageError
from benchseal.bundle import EVAL_DIR


@dataclass(frozen=True)
class RefusalInputs:
    """The refusal banks of ``benchseal run --should-refuse/--should-answer/--refusal-rules``."""

    should_refuse: Path
    should_answer: Path
    rules: Path | None = None  # None: configs/suites/refusal/rules.yaml
    max_gen_toks: int = 64
    chat: bool = True  # send each question as a user chat turn (False: plain text, for base models)
    judge_base_url: str | None = None  # OpenAI-compatible judge for the replies the rules cannot decide
    judge_model: str | None = None
    judge_api_key_env: str | None = None
    sample: int | None = 300  # questions drawn per bank (TC260-003 §9.4)
    judge_all: bool = False  # every reply goes to the judge, not only those the rules cannot decide


@dataclass(frozen=True)
class ContentSafetyInputs:
    """The content bank of ``benchseal run --content-bank`` (the generated-content safety assessment)."""

    bank: Path
    sample: int | None = 1000  # questions drawn at random (TC260-003 §9.3)
    seed: int = 1234
    max_gen_toks: int = 256
    chat: bool = True
    judge_base_url: str | None = None  # without a judge every reply is "review" and the result is not claim-grade
    judge_model: str | None = None
    judge_api_key_env: str | None = None


def build_judge(base_url: str | None, model: str | None, api_key_env: str | None, kind: str):
    """The Judge for one safety test (kind "refusal" or "content"), or None when no judge was named."""
    from benchseal.evaluators.judge import Judge

    if not model or not base_url:
        return None
    return Judge(base_url=base_url, model=model, api_key_env=api_key_env, kind=kind)


def _judge(refusal: RefusalInputs):
    return build_judge(refusal.judge_base_url, refusal.judge_model, refusal.judge_api_key_env, "refusal")


PROBE = ("What is 2 + 2?", "2 + 2 = 4.")  # a benign question and its plain answer: any judge decides it


def probe_judge(base_url: str, model: str, api_key_env: str | None) -> str:
    """Ask the judge one test question before anything is measured. A judge that cannot be reached, answers
    an HTTP error (a wrong model name is a 404 on vLLM and OpenAI) or does not speak the chat-completions
    format raises ServerError; one that answers with something other than a verdict word only returns a
    note (a single odd answer is recorded per item at run time, not a reason to stop)."""
    from benchseal.errors import ServerError
    from benchseal.evaluators.judge import JudgeError

    judge = build_judge(base_url, model, api_key_env, "refusal")
    try:
        decision, _ = judge.decide(*PROBE)
    except JudgeError as exc:
        if str(exc).startswith("judge answered"):
            return f"the judge answered a test request, but not with a verdict word ({exc})"
        raise ServerError(f"the judge did not answer a test request: {exc}", where=judge.identity()["endpoint"],
                          hint="check --judge-base-url, --judge-model and --judge-api-key-env") from None
    return f"the judge {model} answered a test request ({decision})"


def check_safety_inputs(refusal: RefusalInputs | None, content: ContentSafetyInputs | None) -> None:
    """The refusal banks, rule set and content bank load (DatasetError/ConfigError, one sentence, otherwise)."""
    from benchseal.evaluators.content_safety import load_content_bank
    from benchseal.evaluators.refusal import load_bank, load_rules

    if refusal is not None:
        load_bank(refusal.should_refuse)
        load_bank(refusal.should_answer)
        load_rules(refusal.rules)
    if content is not None:
        load_content_bank(content.bank)


def _suites_in(path: Path) -> set[str]:
    from benchseal.evaluators.parity import find_runs

    return set(find_runs(path))


def _files_under(out_dir: Path, rel: str) -> list[str]:
    folder = out_dir / rel
    return sorted(p.relative_to(out_dir).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _check_inputs(suites: list[str], refusal: RefusalInputs | None, content: ContentSafetyInputs | None,
                  parity_reference: Path | None) -> None:
    from benchseal.evaluators.parity import RESERVED_SUITES, find_runs

    clash = sorted(set(suites) & RESERVED_SUITES)
    if clash:
        raise UsageError(f"suite name(s) {', '.join(clash)} are reserved for the refusal, content-safety and parity results",
                         hint="rename the suite")
    check_safety_inputs(refusal, content)
    if parity_reference is not None:
        runs = set(find_runs(parity_reference)) - RESERVED_SUITES
        missing = sorted(set(suites) - runs)
        if not runs or (suites and missing == sorted(set(suites))):
            raise UsageError(f"the reference bundle has no results for the suite(s) {', '.join(suites) or '(any)'}",
                             where=str(parity_reference),
                             hint=f"run the suites the reference ran ({', '.join(sorted(runs)) or 'none'})")


def run_eval_stage(
    out_dir: Path,
    *,
    suites: list[str],
    model: str,
    backend: str,
    tokenizer: str | None,
    base_url: str | None,
    api_key_env: str | None,
    device: str | None,
    extra: dict[str, Any] | None = None,
    data_dir: Path | None,
    limit: float | None,
    model_digest: str | None,
    refusal: RefusalInputs | None = None,
    content: ContentSafetyInputs | None = None,
    parity_reference: Path | None = None,
    batch_size: int | str = 1,
    allow_unsafe_code: bool = False,
    peer_runs: list[Path] | None = None,
    concurrency: int = 1,
    reference_signature: dict[str, Any] | None = None,
    peer_signatures: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """Run the eval stage into the bundle ``out_dir``; returns the bundle-relative files written.

    ``suites``: configs/suites names or paths; with ``parity_reference`` and no suites, the
    reference bundle's suites are run. Each suite's results get ``extra.comparison`` against its
    declared peer tables (else configs/peers), with the rows used copied to ``peers.json``.
    ``refusal`` runs the two banks (eval/refusal/); ``content`` the generated-content safety assessment
    (eval/content-safety/, as ``benchseal eval content-safety``), on the model already loaded. ``parity_reference`` (a bundle) is copied into
    eval/parity/reference/ and compared with this run (candidate >= 99% of reference per task, plus
    per-sample agreement). ``peer_runs``: benchseal runs of the same suites on peer models, copied
    into eval/<suite>/peer_runs/ and compared item by item (paired test)."""
    from benchseal.evaluators.backends import BackendOptions, build_lms
    from benchseal.evaluators.parity import RESERVED_SUITES, find_runs, write_parity
    from benchseal.evaluators.peers import attach_comparison
    from benchseal.evaluators.refusal import run_refusal
    from benchseal.evaluators.runner import run_suite
    from benchseal.evaluators.suites import load_suite

    out_dir = Path(out_dir)
    parity_reference = Path(parity_reference) if parity_reference is not None else None
    suites = list(suites)
    if not suites and parity_reference is not None:
        suites = sorted(set(find_runs(parity_reference)) - RESERVED_SUITES)
    if not suites and refusal is None and content is None and parity_reference is None:
        raise UsageError("the eval stage has nothing to run",
                         hint="give a suite, refusal banks, a content bank or a parity reference")
    loaded = [load_suite(s) for s in suites]  # ConfigError for an unknown suite, before any model loads
    _check_inputs([s.name for s in loaded], refusal, content, parity_reference)
    safety = refusal is not None or content is not None
    scorings = {t.scoring for s in loaded for t in s.tasks} | ({"generate"} if safety else set())
    lms_by_seed: dict[int, dict[str, Any]] = {}

    def lms_for(seed: int) -> dict[str, Any]:
        if seed not in lms_by_seed:
            opts = BackendOptions(model=model, base_url=base_url, api_key_env=api_key_env, tokenizer=tokenizer,
                                  device=device, batch_size=batch_size, extra=dict(extra or {}), seed=seed,
                                  concurrency=concurrency)
            lms_by_seed[seed] = build_lms(backend, opts, scorings)
        return lms_by_seed[seed]

    files: list[str] = []
    ran: list[str] = []
    for spec, suite in zip(suites, loaded):
        report = run_suite(spec, model=model, backend=backend, out_dir=out_dir, data_dir=data_dir, limit=limit,
                           base_url=base_url, api_key_env=api_key_env, tokenizer=tokenizer, device=device,
                           batch_size=batch_size, model_digest=model_digest, allow_unsafe_code=allow_unsafe_code,
                           extra=extra, lms=lms_for(suite.protocol.seed), concurrency=concurrency)
        attach_comparison(out_dir, report, peers=suite.peer_files(),
                          peer_runs=[Path(p) for p in peer_runs or [] if report.suite in _suites_in(Path(p))],
                          peer_signatures=peer_signatures)
        ran.append(report.suite)
        files += _files_under(out_dir, f"{EVAL_DIR}/{report.suite}")
    if safety:  # the model the suites loaded (any seed: greedy replies), else one loaded for the safety tests
        safety_lms = lms_by_seed[next(iter(lms_by_seed))] if lms_by_seed else lms_for(1234)
    if refusal is not None:
        run_refusal(model=model, backend=backend, out_dir=out_dir, should_refuse=Path(refusal.should_refuse),
                    should_answer=Path(refusal.should_answer), rules=Path(refusal.rules) if refusal.rules else None,
                    base_url=base_url, api_key_env=api_key_env, tokenizer=tokenizer, device=device, batch_size=batch_size,
                    max_gen_toks=refusal.max_gen_toks, chat=refusal.chat, model_digest=model_digest, lms=safety_lms,
                    judge=_judge(refusal), judge_all=refusal.judge_all, sample=refusal.sample)
        files += _files_under(out_dir, f"{EVAL_DIR}/refusal")
    if content is not None:
        from benchseal.evaluators.content_safety import SUITE as CONTENT_SUITE, run_content_safety

        run_content_safety(model=model, backend=backend, out_dir=out_dir, bank=Path(content.bank), base_url=base_url,
                           api_key_env=api_key_env, tokenizer=tokenizer, device=device, batch_size=batch_size,
                           extra=extra, max_gen_toks=content.max_gen_toks, chat=content.chat, model_digest=model_digest,
                           lms=safety_lms, judge=build_judge(content.judge_base_url, content.judge_model,
                                                      content.judge_api_key_env, "content"),
                           sample=content.sample, seed=content.seed)
        files += _files_under(out_dir, f"{EVAL_DIR}/{CONTENT_SUITE}")
    if parity_reference is not None:
        # reference_signature: reports.verify.reference.verify_reference's record (None: unsigned, claims INCONCLUSIVE)
        _, written = write_parity(out_dir, parity_reference, suites=ran, model=model, backend=backend, model_digest=model_digest,
                                  signature=reference_signature, endpoint=base_url)
        files += written
    return sorted(set(files))
