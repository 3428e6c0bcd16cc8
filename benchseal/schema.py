"""The shared data model of benchseal (pydantic v2).

Every model forbids unknown fields and every top-level document carries ``schema_version``.
Field names carry their unit (``ttft_ms``, ``energy_j``, ``memory_total_bytes``). Integers that
can exceed 2**53 are serialised as decimal strings in JSON (see :data:`BigInt`).

Nothing heavy is imported here: only pydantic and the standard library.

Sections (each owned by one component; change a section only from that component's work):
hardware (hw) · model (bench.inspect) · performance (bench.perf) · evaluation (evaluators)
· claims (claims) · run manifest (reports).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

SCHEMA_VERSION = "1"

_JS_SAFE = 2**53


def _bigint_in(v: Any) -> Any:
    if isinstance(v, str) and v.lstrip("-").isdigit():
        return int(v)
    return v


def _bigint_out(v: int) -> int | str:
    return str(v) if abs(v) >= _JS_SAFE else v


BigInt = Annotated[int, BeforeValidator(_bigint_in), PlainSerializer(_bigint_out, when_used="json")]
"""An int that is written as a string in JSON when it is >= 2**53 (not exactly representable in JS)."""


class Strict(BaseModel):
    """Base for all benchseal models: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


# ================================================================================================
# hardware (benchseal.hw)
# ================================================================================================
class GpuPeak(Strict):
    """Dense (never sparse) datasheet peaks for one GPU model, from configs/gpus.yaml."""

    spec_id: str  # key in configs/gpus.yaml, e.g. "h100-sxm5-80gb"
    display_name: str | None = None  # e.g. "NVIDIA H100 SXM5 80GB"
    tflops: dict[str, float]  # dtype -> dense peak TFLOPS (fp64, fp32, tf32, bf16, fp16, fp8, int8 (TOPS))
    memory_bandwidth_gbs: float  # GB/s (10^9 bytes per second)
    sources: list[str] = Field(default_factory=list)


class GpuInfo(Strict):
    index: int
    name: str
    hostname: str | None = None  # the server this GPU is in (set for multi-node inventories)
    uuid: str | None = None
    serial: str | None = None
    pci_bus_id: str | None = None
    memory_total_bytes: BigInt | None = None
    driver_version: str | None = None
    cuda_driver_version: str | None = None  # e.g. "12.4"
    compute_capability: str | None = None  # e.g. "9.0"
    sm_clock_mhz: int | None = None
    sm_clock_max_mhz: int | None = None
    mem_clock_mhz: int | None = None
    mem_clock_max_mhz: int | None = None
    power_limit_w: float | None = None  # enforced
    power_limit_default_w: float | None = None
    ecc_enabled: bool | None = None
    mig_enabled: bool | None = None
    pcie_gen: int | None = None
    pcie_width: int | None = None
    nvlink_active_links: int | None = None
    temperature_c: float | None = None
    peak: GpuPeak | None = None  # None when the model is not in configs/gpus.yaml (never guessed)
    notes: list[str] = Field(default_factory=list)


class HostInfo(Strict):
    hostname: str
    cpu_model: str | None = None
    cpu_cores_logical: int | None = None
    cpu_cores_physical: int | None = None
    ram_bytes: BigInt | None = None
    os: str | None = None
    kernel: str | None = None
    python: str | None = None
    packages: dict[str, str | None] = Field(default_factory=dict)  # torch, transformers, vllm, lm_eval, nvidia-ml-py
    # network interfaces (name, kind ethernet/infiniband, speed_mbps, state) read from /sys; empty where unknown
    nics: list[dict[str, Any]] = Field(default_factory=list)


class ComputeRow(Strict):
    """One line of the 算力规模 table: one GPU model on one server."""

    server: str
    vendor: str
    model: str
    count: int
    spec_id: str | None = None
    tflops_per_gpu: dict[str, float] = Field(default_factory=dict)
    tflops_total: dict[str, float] = Field(default_factory=dict)
    memory_bandwidth_gbs_total: float | None = None


class ComputeTable(Strict):
    servers: int
    gpus: int
    rows: list[ComputeRow] = Field(default_factory=list)
    total_tflops: dict[str, float] = Field(default_factory=dict)  # dtype -> sum over known GPUs
    unknown_gpus: list[str] = Field(default_factory=list)  # names without a configs/gpus.yaml entry
    notes: list[str] = Field(default_factory=list)


class NodeInventory(Strict):
    host: HostInfo
    gpus: list[GpuInfo] = Field(default_factory=list)
    nvml_available: bool = False
    nvml_error: str | None = None


class HardwareReport(Strict):
    schema_version: str = SCHEMA_VERSION
    host: HostInfo
    gpus: list[GpuInfo] = Field(default_factory=list)
    compute: ComputeTable
    nvml_available: bool = False
    nvml_error: str | None = None
    nodes: list[NodeInventory] = Field(default_factory=list)  # filled for multi-node (Ray) inventories
    # multi-node: nodes, GPUs per node, GPU interconnect per node (NVLink / PCIe from NVML), NICs per node
    topology: dict[str, Any] | None = None
    microbench: dict[str, Any] | None = None


# ================================================================================================
# model (benchseal.bench: params, digests)
# ================================================================================================
class UnusedWeights(Strict):
    """Stored tensors no module of the architecture takes (never counted): one entry per name pattern."""

    name: str  # the tensor name with layer / expert indices written '#'
    tensors: int
    elements: BigInt
    why: str


class ParamCount(Strict):
    total: BigInt
    active: BigInt  # per token; equals total for dense models
    embedding: BigInt
    non_embedding: BigInt
    method: Literal["safetensors-header", "config-meta", "gguf", "pickle"]
    architecture: str | None = None
    dtype: str | None = None
    breakdown: dict[str, BigInt] = Field(default_factory=dict)  # embedding, lm_head, attention, mlp, experts, norms, other
    notes: list[str] = Field(default_factory=list)
    excluded: dict[str, BigInt] = Field(default_factory=dict)  # stored elements not counted, by reason (scales, mtp…)
    quantization: str | None = None  # quant_method whose counting rule was applied (gptq, awq, fp8, …)
    experts: int | None = None  # routed experts per MoE layer
    experts_per_token: int | None = None  # routed experts active per token
    tensors: int | None = None  # tensors (or parameters) counted
    # active per token under each vendor convention (docs/model-inspection.md): all, no_input_embedding,
    # no_embedding_or_head, no_vision_audio. Empty in bundles written before it existed.
    active_by_convention: dict[str, BigInt] = Field(default_factory=dict)
    # stored tensors the architecture does not build (transformers' ignore patterns, or no module takes them):
    # their elements are excluded['not_built_by_architecture'], never part of total (bench/model/unused.py)
    not_built: list[UnusedWeights] = Field(default_factory=list)


class FileDigest(Strict):
    path: str  # relative to the model root, POSIX separators
    sha256: str
    size_bytes: BigInt


class ModelCard(Strict):
    schema_version: str = SCHEMA_VERSION
    source: str  # the path or name the user gave
    architecture: str | None = None
    model_type: str | None = None
    dtype: str | None = None
    params: ParamCount  # the headline count
    params_by_method: dict[str, ParamCount] = Field(default_factory=dict)
    discrepancies: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)  # architecture card (layers, hidden, heads, experts…)
    files: list[FileDigest] = Field(default_factory=list)
    model_digest: str | None = None  # sha256 over sorted (path, sha256) lines


# ================================================================================================
# performance (benchseal.bench: perf)
# ================================================================================================
FailureCause = Literal[
    "truncated",  # the response ended before [DONE] or a finish_reason (close, short body, early last chunk)
    "framing",  # invalid HTTP/1.1 (bad Content-Length, chunk framing, head too large, not HTTP)
    "malformed-event",  # an SSE event that is not JSON, too deep or too large, or a field of the wrong type
    "stream-error",  # the server sent an error event in the stream
    "no-output",  # [DONE] arrived before any text and without a finish_reason
    "http-status",  # the response status was not 200
    "timeout",  # no complete response within the request timeout
    "connect",  # the connection could not be opened
    "disconnected",  # the connection closed before a response head arrived
    "bad-request",  # the client could not build the request (e.g. chat messages to /v1/completions)
    "cancelled",  # the run was interrupted while the request was in flight
    "client",  # an unexpected error inside the client (a bug; the message names it)
]


class RequestRecord(Strict):
    """One request as measured by the client. Times are seconds on a monotonic clock relative to
    the start of its load point (``LoadPointSummary.started_at`` gives the wall-clock anchor)."""

    load_point: str  # id of the load point, e.g. "concurrency=4" or "rate=2.0"
    request_id: int  # sequence number within the load point (send order)
    prompt_id: int | None = None  # GenRequest.request_id of the workload prompt that was sent
    warmup: bool = False
    scheduled_s: float | None = None  # intended send time (open loop)
    send_s: float
    first_token_s: float | None = None
    end_s: float | None = None
    chunk_s: list[float] = Field(default_factory=list)  # arrival time of every content chunk
    chunk_tokens: list[int] | None = None  # tokens per chunk when known
    prompt_tokens: int | None = None  # the count used for throughput (server usage when given)
    output_tokens: int | None = None
    prompt_tokens_server: int | None = None
    output_tokens_server: int | None = None
    prompt_tokens_client: int | None = None
    output_tokens_client: int | None = None
    output_token_ids: int | None = None  # output token ids the server streamed (vLLM return_token_ids)
    max_tokens: int | None = None  # requested output length
    status: Literal["ok", "error", "timeout", "cancelled"]
    error: str | None = None
    http_status: int | None = None
    finish_reason: str | None = None  # as reported by the server ("length", "stop", …)
    # the server's own timings of this request, where it returns them (vLLM --enable-per-request-metrics):
    # time_to_first_token_ms (scheduled -> first token), queue_time_ms, generation_time_ms, mean_itl_ms, tokens_per_second
    server_timing: dict[str, float] | None = None
    # Why a request failed, from a closed list (docs/metrics.md, "Request status"); None when ok or
    # when the backend does not classify (the summary then uses the error message's prefix).
    cause: FailureCause | None = None
    # the first event whose text is not whitespace only (the openai backend; None where not recorded:
    # the first chunk then stands for it). A blank first chunk before the real tokens shows as a gap.
    first_content_s: float | None = None
    finish_count: int | None = None  # events that carried a finish_reason (exactly one expected)
    # Several senders (perf --workers N): which one sent it, and for Ray load workers (--ray-address) the
    # Ray node it ran on. Its times are on that sender's own monotonic clock (docs/metrics.md, "Load workers").
    worker: int | None = None
    node_id: str | None = None


class Stats(Strict):
    n: int
    mean: float | None = None
    stdev: float | None = None
    min: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    # 95% intervals ([low, high]; None where the sample is too small for that bound) on p50…p99
    # (order statistics) and the mean (bench.perf.uncertainty; docs/metrics.md "Uncertainty")
    ci95: dict[str, list[float | None]] | None = None


class DominantFailure(Strict):
    """The most frequent failure cause of a load point (ties: the cause name first in sort order)."""

    cause: str
    count: int
    share: float  # count / counted requests of the load point
    example: str | None = None  # the error message of the first request with this cause


class LoadPointSummary(Strict):
    load_point: str
    mode: Literal["concurrency", "rate", "offline"]
    concurrency: int | None = None
    rate: float | None = None  # requests per second (open loop)
    burstiness: float | None = None
    started_at: str | None = None  # ISO 8601 wall clock of t=0
    ended_at: str | None = None  # ISO 8601 wall clock when the load point ended (telemetry window)
    duration_s: float  # first counted send to last counted end (see docs/metrics.md)
    completed: int
    failed: int
    warmup_excluded: int = 0
    ttft_ms: Stats
    tpot_ms: Stats
    itl_ms: Stats
    e2el_ms: Stats
    request_throughput: float  # completed requests per second
    output_token_throughput: float  # output tokens per second
    total_token_throughput: float  # (prompt + output) tokens per second
    goodput: float | None = None  # requests per second meeting every SLO
    slo: dict[str, float] = Field(default_factory=dict)
    token_accounting: dict[str, Any] = Field(default_factory=dict)  # mismatches, length checks
    utilisation: dict[str, Any] | None = None  # mfu, mbu, achieved flops (bench.utilisation)
    energy: dict[str, Any] | None = None  # energy_j, j_per_output_token, avg_power_w (from NVML counter)
    errors: dict[str, int] = Field(default_factory=dict)  # error message class -> count
    stopped_early: int = 0  # completed requests whose stream carried no text (excluded from TTFT)
    failure_causes: dict[str, int] = Field(default_factory=dict)  # failure cause -> count (docs/metrics.md)
    dominant_failure: DominantFailure | None = None  # the most frequent cause, when any request failed
    schedule_lag_ms: Stats | None = None  # open loop: send time minus scheduled time
    interrupted: bool = False  # the load point was cut short (server died, Ctrl-C)
    ttfc_ms: Stats | None = None  # time to first content: first non-whitespace text − send (docs/metrics.md)
    throughput_ci95: dict[str, list[float]] | None = None  # 95% intervals on the three throughputs
    repeat: int | None = None  # --repeats: which repeat of its load point this is (1-based)
    steady_state: dict[str, Any] | None = None  # throughputs in [first counted send, last counted send]
    client_ceiling: dict[str, Any] | None = None  # the client's own ceiling on a null server (bench.perf.certificate)
    client_bound_fraction: float | None = None  # request_throughput / the ceiling's
    client_bound: bool | None = None  # the fraction reached CLIENT_BOUND_FRACTION: no throughput claim


class PerfReport(Strict):
    schema_version: str = SCHEMA_VERSION
    backend: str
    model: str
    endpoint: str | None = None  # never contains credentials
    workload: dict[str, Any] = Field(default_factory=dict)  # resolved workload incl. prompt-set sha256
    load_points: list[LoadPointSummary] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    status: Literal["complete", "partial"] = "complete"  # partial: server died or run interrupted
    load: dict[str, Any] = Field(default_factory=dict)  # resolved LoadSpec
    capabilities: dict[str, Any] = Field(default_factory=dict)  # what the backend honoured
    audits: list["PerfAudit"] = Field(default_factory=list)  # audit probes (docs/metrics.md, "Audits")
    repeat_spread: dict[str, Any] | None = None  # --repeats: run-to-run spread per load point (bench.perf.repeats)
    search: dict[str, Any] | None = None  # --search: the SLA search's probed points and outcome (bench.perf.search)


class PerfAudit(Strict):
    """One audit of a performance run (bench.perf.audits): re-derived by verify from the raw records."""

    name: str  # first-content, output-consistency, cache, accuracy-under-load, prompt-reuse
    status: Literal["pass", "fail", "not-run"]
    detail: str  # the numbers behind the status, or why it was not run
    touches: list[str] = Field(default_factory=list)  # the summary figures a failure makes inconclusive ("*": all)


class ServerHistogram(Strict):
    """A server histogram over one load point: the difference of two cumulative scrapes."""

    n: int  # observations in the window
    mean_ms: float | None = None  # delta _sum / delta _count
    p50_ms: float | None = None  # estimated from the buckets (Prometheus histogram_quantile)
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    family: str | None = None  # the metric family it came from
    bucket_bounds_ms: list[float] = Field(default_factory=list)  # finite upper bounds: the estimates' resolution


class ServerGauge(Strict):
    """A server gauge sampled by the scrapes taken during one load point."""

    n: int
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    family: str | None = None


class Reconciliation(Strict):
    """Client against server for one load point (docs/metrics.md, "Reconciliation")."""

    client_requests: int  # successful requests (warm-up included: the server saw them too)
    server_requests: float | None = None
    client_ttft_mean_ms: float | None = None
    server_ttft_mean_ms: float | None = None
    ttft_overhead_ms: float | None = None  # client minus server: transport, HTTP, (de)tokenisation
    client_e2el_mean_ms: float | None = None
    server_e2el_mean_ms: float | None = None
    e2el_overhead_ms: float | None = None
    client_prompt_tokens: int | None = None  # counted by the client tokenizer
    usage_prompt_tokens: int | None = None  # the server's usage field, summed
    server_prompt_tokens: float | None = None  # the server's /metrics counter
    client_output_tokens: int | None = None
    usage_output_tokens: int | None = None
    server_generation_tokens: float | None = None
    per_request_ttft_overhead_ms: Stats | None = None  # client TTFT - (server queue + TTFT), per request


class ServerLoadPoint(Strict):
    load_point: str
    status: Literal["ok", "partial", "unavailable"]  # partial: some figures absent (see absent)
    reason: str | None = None  # why unavailable
    dialect: str | None = None  # vllm, sglang
    model_label: str | None = None  # the model_name label whose series were used (None: all summed)
    scrapes: int = 0  # successful scrapes of this load point
    failed_scrapes: int = 0
    window_s: float | None = None  # start scrape to end scrape
    warmup_included: int = 0  # warm-up requests inside the window
    malformed_lines: int = 0
    ttft_ms: ServerHistogram | None = None
    itl_ms: ServerHistogram | None = None
    e2el_ms: ServerHistogram | None = None
    queue_ms: ServerHistogram | None = None
    prompt_tokens: float | None = None
    generation_tokens: float | None = None
    requests: float | None = None  # finished requests counted by the server
    requests_by_finish_reason: dict[str, float] = Field(default_factory=dict)
    running: ServerGauge | None = None
    waiting: ServerGauge | None = None
    kv_cache_usage: ServerGauge | None = None  # fraction 0-1
    absent: dict[str, str] = Field(default_factory=dict)  # figure -> why it is absent
    notes: list[str] = Field(default_factory=list)
    reconciliation: Reconciliation | None = None


class ServerMetricsReport(Strict):
    """perf/server_metrics.json: figures derived from perf/server_scrapes.jsonl."""

    schema_version: str = SCHEMA_VERSION
    source: Literal["discovered", "configured"]
    url: str | None = None  # never contains credentials
    model: str | None = None  # the served model name whose model_name series are selected
    interval_s: float
    status: Literal["collected", "unavailable"]
    reason: str | None = None
    load_points: list[ServerLoadPoint] = Field(default_factory=list)


# ================================================================================================
# evaluation (benchseal.evaluators)
# ================================================================================================
class EvalResult(Strict):
    suite: str
    task: str
    metric: str  # e.g. "acc", "acc_norm", "exact_match"
    filter: str = "none"
    value: float
    stderr: float | None = None
    n: int | None = None
    num_fewshot: int | None = None
    apply_chat_template: bool = False
    fewshot_as_multiturn: bool = False
    limit: float | None = None  # set when --limit was used (not claim-grade)
    task_version: str | None = None
    benchmark: str | None = None  # the name used in peer tables (configs/peers), e.g. "MMLU"
    headline: bool = False  # the suite's headline metric for this task (the one compared with peers)
    protocol_label: str | None = None  # peer-comparison protocol, e.g. "base" or "chat"
    # the protocol fingerprint (benchseal.evaluators.fingerprint): harness and version, task and
    # version, shots and sampler, prompt template hash, metric and filter, split, data manifest,
    # chat flags, generation settings, and its own "sha256". Two scores are compared only when equal.
    fingerprint: dict[str, Any] | None = None


class EvalReport(Strict):
    schema_version: str = SCHEMA_VERSION
    suite: str
    backend: str
    model: str
    lm_eval_version: str | None = None
    claim_grade: bool
    not_claim_grade_reasons: list[str] = Field(default_factory=list)
    results: list[EvalResult] = Field(default_factory=list)
    data_manifest_sha256: str | None = None
    model_digest: str | None = None
    protocol: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)  # refusal rates, parity, peer comparison


# ================================================================================================
# claims (benchseal.claims)
# ================================================================================================
Severity = Literal["required", "advisory", "informational"]
Op = Literal[">=", ">", "<=", "<", "==", "present"]


class ComparisonRule(Strict):
    """How per-benchmark paired outcomes against measured peers become one verdict (e.g. 国内领先).

    Data in the program file (docs/claims.md); applied by benchseal.evaluators.peers.decide."""

    benchmarks: list[str] | None = None  # the listed tasks (peer-table benchmark names); None: every headline one
    peer_origin: Literal["domestic", "foreign", "any"] = "domestic"  # which peers count
    peer_origin_definition: str = "developed by an organisation based in mainland China"  # why they count
    peers: list[str] | None = None  # only these peer models count (None: every peer of that origin)
    test: Literal["paired_bootstrap", "mcnemar"] = "paired_bootstrap"
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    margin_pp: float = Field(default=0.0, ge=0.0)  # a lead needs the interval's lower end above +margin
    resamples: int = Field(default=10000, ge=100)
    seed: int = 1234
    # behind_none_lead_one: behind no counted peer on any listed benchmark and ahead on at least one;
    # lead_all: ahead of every counted peer on every listed benchmark; behind_none: behind on none
    decision: Literal["behind_none_lead_one", "lead_all", "behind_none"] = "behind_none_lead_one"
    min_peers: int = Field(default=1, ge=1)  # counted peers each listed benchmark needs to be decided


class Claim(Strict):
    id: str
    title_zh: str
    title_en: str
    clause_zh: str  # the program text the claim comes from
    clause_en: str  # an English gloss
    metric: str  # path into the evidence, e.g. "model.params.total" (language: docs/claims.md)
    op: Op
    threshold: bool | int | float | str | None = None
    threshold_text: str | None = None  # the threshold as the program writes it, e.g. "8亿以上"
    unit: str | None = None
    severity: Severity = "required"
    stage: str | None = None  # the pipeline stage that produces the evidence (hw, model, perf, eval, …)
    max_failed_fraction: float | None = None  # perf claims: override the program's failed-request limit
    applicant_sets: bool = False  # the threshold is chosen by the applicant (KPI templates)
    # the least demanding threshold the program accepts from the applicant (applicant_sets claims):
    # for >= / > the lowest, for <= / < the highest (e.g. TC260-003's 95 % refusal rate)
    threshold_floor: float | None = None
    comparison_rule: ComparisonRule | None = None  # metric names a stored comparison; the rule decides it
    # eval claims on judged results (refusal, content-safety): every decision must come from a judge
    # model (extra.deciders has no "rules" decision); otherwise INCONCLUSIVE (docs/claims.md)
    requires_judge: bool = False
    # the figure must come from the applicant's own model: run.json's served_model_identity is "bound" or
    # "matched", otherwise INCONCLUSIVE (docs/claims.md)
    requires_model_identity: bool = False
    notes_zh: str | None = None
    notes_en: str | None = None


class Verdict(Strict):
    claim_id: str
    status: Literal["PASS", "FAIL", "INCONCLUSIVE"]
    severity: Severity
    metric: str
    op: Op
    observed: bool | int | float | str | None = None  # ints >= 2**53 are written as strings
    threshold: bool | int | float | str | None = None
    unit: str | None = None
    margin: float | None = None  # observed - threshold, signed so that >= 0 means the claim holds
    reason: str
    evidence: list[str] = Field(default_factory=list)  # bundle paths
    title_zh: str | None = None
    title_en: str | None = None
    clause_zh: str | None = None
    clause_en: str | None = None
    # the recorded discrepancies that gate this claim (claims.gates), e.g. "params-headline"; shown
    # next to the claim in the report; a non-empty list means INCONCLUSIVE
    flags: list[str] = Field(default_factory=list)


class ClaimsReport(Strict):
    schema_version: str = SCHEMA_VERSION
    program: str
    verdicts: list[Verdict] = Field(default_factory=list)
    out_of_scope: list[dict[str, str]] = Field(default_factory=list)
    passed: bool  # every required claim PASS
    program_version: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)  # PASS / FAIL / INCONCLUSIVE -> number


# ================================================================================================
# run manifest (benchseal.reports / pipeline)
# ================================================================================================
class StageStatus(Strict):
    status: Literal["pending", "running", "complete", "failed", "skipped", "interrupted"]
    error: str | None = None
    files: list[str] = Field(default_factory=list)
    started_at: str | None = None
    ended_at: str | None = None


class RunManifest(Strict):
    schema_version: str = SCHEMA_VERSION
    tool: str = "benchseal"
    tool_version: str
    run_id: str
    program: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)  # resolved run spec (no secrets)
    # every applicant choice that decides whether a figure can back a claim (benchseal.claims.choices):
    # program file, thresholds, workload file, suites, config folders, limit, banks, judge, references
    choices: dict[str, Any] = Field(default_factory=dict)
    started_at: str
    ended_at: str | None = None
    status: Literal["running", "complete", "partial", "failed"]
    stages: dict[str, StageStatus] = Field(default_factory=dict)
    files: list[str] = Field(default_factory=list)
    # which model served the figures: {status: bound|matched|mismatched|not-established, method, detail, …}
    # (evaluators/identity.py; docs/bundle.md)
    served_model_identity: dict[str, Any] | None = None
    # where the serving hardware inventory comes from: {source: local|ray|server-bundle|none, detail, …}
    # (hw/serving.py; docs/hardware.md)
    serving_hardware: dict[str, Any] | None = None
