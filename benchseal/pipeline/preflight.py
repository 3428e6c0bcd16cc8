"""The pre-flight stage: everything that can be checked before anything is measured, one sentence per
failure. It runs the general checks, then each selected stage's own ``preflight`` hook, then the
checks that ask the served endpoint (reachable, serving the model, answering a request shaped like the
workload's, prompt logprobs when loglikelihood suites are scored through it)."""

from __future__ import annotations

import os
from pathlib import Path

from benchseal.errors import UsageError
from benchseal.pipeline.base import RunContext, Stage
from benchseal.pipeline.spec import PREFLIGHT


class PreflightStage(Stage):
    name = PREFLIGHT

    def __init__(self, stages: list[Stage] | None = None) -> None:
        self.stages = list(stages or [])  # the run's measurement stages, whose hooks this stage calls

    def selected(self, spec) -> bool:
        return True

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.pipeline.eval import check_prompt_logprobs, wants_eval
        from benchseal.pipeline.perf import check_server

        s = ctx.spec  # the backend's and the judge's key variables were checked before run.json
        if s.model_path and not Path(s.model_path).exists():
            raise UsageError("the model path does not exist", where=s.model_path, hint="check --model-path")
        if s.backend.kind in ("hf", "vllm", "vllm-serve"):
            check_local_model(s.backend.model)
        for flag, value in (("--should-refuse", s.should_refuse), ("--should-answer", s.should_answer),
                            ("--refusal-rules", s.refusal_rules), ("--content-bank", s.content_bank)):
            if value and not Path(value).is_file():
                raise UsageError(f"the file given to {flag} does not exist", where=value)
        if s.parity_reference and not Path(s.parity_reference).is_dir():
            raise UsageError("the parity reference bundle does not exist", where=s.parity_reference)
        if s.data_dir and not Path(s.data_dir).is_dir():
            raise UsageError("the --data-dir directory does not exist", where=s.data_dir,
                             hint="see `benchseal datasets` for how to prepare it")
        if s.ray_address:  # the cluster must answer before anything is measured (benchseal never starts one)
            from benchseal.hw.cluster import connect

            connect(s.ray_address, "A run on a Ray cluster (--ray-address)")
        if s.plan_gpu:  # before anything starts on a GPU
            from benchseal.pipeline.scale import check_plan

            check_plan(ctx)
        for stage in self.stages:
            if ctx.has_stage(stage.name):
                stage.preflight(ctx)
        wants = ctx.has_stage("eval") and wants_eval(ctx)
        if s.backend.kind == "openai" and (ctx.has_stage("perf") or wants):
            check_server(ctx)
        if s.backend.kind == "openai" and s.eval_backend is None and ctx.has_stage("eval"):
            check_prompt_logprobs(ctx)
        return []


def check_local_model(model: str) -> None:
    """A local backend's model must be a directory here (or, for a hub id, already in the local cache)."""
    p = Path(model).expanduser()
    if p.exists():
        return
    if p.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1:
        raise UsageError("the model path does not exist", where=model, hint="pass --model with a local model directory")
    if model.count("/") == 1:  # "org/name": a hub id, usable when cached (benchseal does not download)
        try:
            from huggingface_hub import try_to_load_from_cache

            if isinstance(try_to_load_from_cache(model, "config.json"), str):
                return
        except Exception:
            pass
        if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"):
            raise UsageError("the model is neither a local directory nor in the Hugging Face cache (offline)",
                             where=model, hint="pass --model with a local model directory")
    # a bare name (a served model name for a --vllm-command, a hub alias): left to the backend
