"""The eval stage: lm-eval suites, the refusal banks, the generated-content safety assessment and
parity against a reference bundle (eval/…), through the backend the run measures."""

from __future__ import annotations

from pathlib import Path

from benchseal.errors import UsageError
from benchseal.pipeline.base import RunContext, Stage
from benchseal.pipeline.model import model_digest


class EvalStage(Stage):
    name = "eval"

    def preflight(self, ctx: RunContext) -> None:
        """Every suite exists and its data matches its manifest; the safety banks load and the judge answers."""
        check_eval_data(ctx)
        check_safety_inputs(ctx)

    def skip_reason(self, ctx: RunContext) -> str | None:
        if not wants_eval(ctx):
            return "no evaluation suite, refusal bank, content bank or parity reference requested"
        if ctx.server_down and uses_server(ctx):
            return f"not run: the server is down ({ctx.server_down})"
        return None

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.evaluators.stage import run_eval_stage
        from benchseal.pipeline.identity import record_identity

        s = ctx.spec
        if s.backend.uses_server:
            ctx.server_url()  # a managed server is up, so its command can be recorded
        record_identity(ctx)
        if s.eval_backend is None:
            backend, options = s.backend.eval_target(ctx.server_url() if s.backend.uses_server else None)
        else:  # an explicit choice: hf/vllm on the local weights, openai on the server
            backend = s.eval_backend
            options = {"base_url": ctx.server_url(), "api_key_env": getattr(s.backend, "api_key_env", None)} \
                if backend == "openai" else {}
        return run_eval_stage(
            ctx.out, suites=eval_suites(ctx), model=s.model, backend=backend, tokenizer=s.model_path,
            base_url=options.get("base_url"), api_key_env=options.get("api_key_env"), device=options.get("device"),
            extra=options.get("extra"), data_dir=Path(s.data_dir) if s.data_dir else None,
            limit=s.eval_limit, model_digest=model_digest(ctx), refusal=refusal_inputs(ctx),
            allow_unsafe_code=s.allow_unsafe_code, concurrency=s.eval_concurrency if backend == "openai" else 1,
            content=content_inputs(ctx), parity_reference=Path(s.parity_reference) if s.parity_reference else None,
            reference_signature=ctx.extras.get("reference_signature"),
        )


def eval_suites(ctx: RunContext) -> list[str]:
    if ctx.spec.eval_suites is not None:
        return list(ctx.spec.eval_suites)
    return list(ctx.program.eval_suites) if ctx.program else []


def wants_eval(ctx: RunContext) -> bool:
    s = ctx.spec
    return bool(eval_suites(ctx) or s.should_refuse or s.content_bank or s.parity_reference)


def uses_server(ctx: RunContext) -> bool:
    """Whether the evaluation goes through the served endpoint (and so needs the server up)."""
    s = ctx.spec
    return s.eval_backend == "openai" or (s.eval_backend is None and s.backend.uses_server)


def refusal_inputs(ctx: RunContext):
    from benchseal.evaluators.stage import RefusalInputs

    s = ctx.spec
    if not s.should_refuse:
        return None
    return RefusalInputs(should_refuse=Path(s.should_refuse), should_answer=Path(s.should_answer),
                         rules=Path(s.refusal_rules) if s.refusal_rules else None,
                         judge_base_url=s.judge_base_url, judge_model=s.judge_model,
                         judge_api_key_env=s.judge_api_key_env, judge_all=s.judge_all,
                         **({"max_gen_toks": s.safety_max_gen_toks} if s.safety_max_gen_toks else {}))


def content_inputs(ctx: RunContext):
    from benchseal.evaluators.stage import ContentSafetyInputs

    s = ctx.spec
    if not s.content_bank:
        return None
    return ContentSafetyInputs(bank=Path(s.content_bank), sample=s.content_sample,
                               judge_base_url=s.judge_base_url, judge_model=s.judge_model,
                               judge_api_key_env=s.judge_api_key_env,
                               **({"max_gen_toks": s.safety_max_gen_toks} if s.safety_max_gen_toks else {}))


def check_eval_data(ctx: RunContext) -> None:
    """Every suite the run evaluates exists and its data (--data-dir) matches its manifest."""
    from benchseal.evaluators.datasets import verify_suite_data
    from benchseal.evaluators.suites import load_suite

    for name in eval_suites(ctx):
        suite = load_suite(name)
        unsafe = [t.task for t in suite.tasks if t.unsafe_code]
        if unsafe and not ctx.spec.allow_unsafe_code:
            raise UsageError(f"suite '{suite.name}' runs model-written code ({', '.join(unsafe)})",
                             hint="run it only in a disposable sandbox, with --allow-unsafe-code")
        data_dir = Path(ctx.spec.data_dir) if ctx.spec.data_dir else suite.default_data_dir()
        if data_dir is None:
            raise UsageError(f"suite '{suite.name}' needs --data-dir",
                             hint=f"prepare it with 'benchseal datasets prepare {suite.name} --data-dir DIR'")
        verify_suite_data(suite, data_dir)


def check_safety_inputs(ctx: RunContext) -> None:
    """The safety banks load (a malformed bank is one sentence, before anything is measured), and the
    judge answers one test request through the same client the eval stage uses."""
    from benchseal.evaluators.stage import check_safety_inputs as _check

    s = ctx.spec
    _check(refusal_inputs(ctx), content_inputs(ctx))
    if s.judge_model and (s.should_refuse or s.content_bank):
        from benchseal.evaluators.stage import probe_judge

        ctx.log(f"[preflight] {probe_judge(s.judge_base_url, s.judge_model, s.judge_api_key_env)}")


def check_prompt_logprobs(ctx: RunContext) -> None:
    """Loglikelihood suites scored through the server need prompt logprobs: asked once in the pre-flight,
    before the perf stage spends its time, rather than found missing when the eval stage starts."""
    from benchseal.evaluators.backends import api_root, auth_header, probe_prompt_logprobs
    from benchseal.evaluators.suites import load_suite

    if not any(t.scoring == "loglikelihood" for name in eval_suites(ctx) for t in load_suite(name).tasks):
        return
    _, options = ctx.spec.backend.eval_target(None)
    probe_prompt_logprobs(api_root(options["base_url"]) + "/completions", ctx.spec.backend.model,
                          auth_header(options.get("api_key_env")))
