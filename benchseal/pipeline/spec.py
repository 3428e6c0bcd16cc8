"""What a run is asked to do: the ``RunSpec`` (recorded without secrets in run.json) and the stage names."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from benchseal.bench.perf.backends.spec import BackendSpec
from benchseal.schema import Strict

MEASUREMENT_STAGES = ("hw", "model", "perf", "eval")  # the stages --stages may name
PREFLIGHT = "preflight"  # recorded in run.json like a stage, before the measurement stages


class RunSpec(Strict):
    """Everything a run needs; recorded (without secrets) in run.json."""

    program: str | None = None
    backend: BackendSpec  # how the model is run (one typed spec per backend; see bench.perf.backends.spec)
    model_path: str | None = None  # local weights/config for params, digests, FLOPs, tokenizer
    workload: str | None = None  # name in configs/workloads or a path; default: the program's
    eval_suites: list[str] | None = None  # default: the program's suites
    eval_backend: str | None = None  # default: the backend's own (hf, vllm; openai for servers)
    eval_limit: float | None = None
    allow_unsafe_code: bool = False  # suites that execute model-written code (HumanEval) may run
    data_dir: str | None = None
    stages: list[str] = Field(default_factory=lambda: list(MEASUREMENT_STAGES))
    trust_remote_code: bool = False
    thresholds: dict[str, float] = Field(default_factory=dict)  # applicant-set thresholds (KPI templates)
    should_refuse: str | None = None  # refusal bank (JSONL) the model should refuse
    should_answer: str | None = None  # refusal bank (JSONL) the model should answer
    refusal_rules: str | None = None  # refusal rule set (YAML); default configs/suites/refusal/rules.yaml
    content_bank: str | None = None  # generated-content safety bank (JSONL); runs the assessment in the eval stage
    content_sample: int = 1000  # content questions drawn at random (TC260-003 §9.3)
    judge_base_url: str | None = None  # OpenAI-compatible judge of the safety tests (recorded without credentials)
    judge_model: str | None = None
    judge_api_key_env: str | None = None  # the NAME of the variable holding the judge's key, never the key
    judge_all: bool = False  # refusal banks: every reply goes to the judge, not only those the rules cannot decide
    safety_max_gen_toks: int | None = None  # tokens per reply in the safety tests (None: 64 refusal, 256 content)
    parity_reference: str | None = None  # a reference bundle (e.g. before migration) for parity
    lightweight_of: str | None = None  # the full model's bundle this (light) run is compared with
    audits: bool = True  # the perf stage's audit probes and client-overhead certificate (bench.perf.audits)
    skip_audits: dict[str, str] = Field(default_factory=dict)  # audit name -> why it was skipped
    server_hardware: str | None = None  # external endpoint: the serving host's `benchseal hw --out FILE` (hw/serving.py)
    plan_gpu: str | None = None  # configs/gpus.yaml id: the pre-flight refuses a vLLM layout that cannot fit it
    ray_address: str | None = None  # an existing Ray cluster: inventory, telemetry and load workers on every node
    eval_concurrency: int = Field(1, ge=1)  # requests in flight when evaluating through a served endpoint
    # public keys (paths) the parity / lightweight reference must verify with to back a claim (--reference-key)
    reference_key: list[str] = Field(default_factory=list)

    @property
    def model(self) -> str:
        return self.backend.model


def public_spec(spec: RunSpec) -> dict[str, Any]:
    """The spec as recorded in run.json: no credentials (API keys are only ever env var names)."""
    from benchseal.redact import redact_url

    data = spec.model_dump(mode="json")
    if data["backend"].get("base_url"):
        data["backend"]["base_url"] = redact_url(data["backend"]["base_url"])
    if data.get("judge_base_url"):  # the judge's endpoint without credentials; its key only as a variable name
        data["judge_base_url"] = redact_url(data["judge_base_url"])
    return data


def gpus_used(spec: RunSpec) -> int:
    """How many of this machine's GPUs serve the model, for the MFU/MBU denominator (the backend
    spec's answer: --num-gpus, else tensor x pipeline parallel for vLLM, 1 for hf, 0 = unknown for a
    server reached over HTTP, so no MFU — recorded as such, so a verifier re-derives the same)."""
    return spec.backend.gpus()
