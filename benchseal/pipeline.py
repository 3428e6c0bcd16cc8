"""The ``benchseal run`` pipeline: the one place that wires every component together.

    hw.probe -> bench.inspect -> bench.perf (+ utilisation) -> evaluators.run_suite
             -> claims.check -> reports.write_reports -> reports.sign_bundle

Each measurement stage writes its part of the bundle as soon as it has it and records its status
in run.json, so a crash or Ctrl-C loses nothing already measured and the bundle says it is partial.
Claims, reports and the signature are derived afterwards from what is on disk.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import Field

from benchseal import __version__, interrupts
from benchseal import bundle as layout
from benchseal.bench.perf.metrics import mostly_failed  # noqa: F401  (used by _perf; re-exported)
from benchseal.bundle import Bundle
from benchseal.errors import BenchsealError, ExitCode, RunInterrupted, ServerError, UsageError
from benchseal.redact import check_api_key_env, register_secret, scrub
from benchseal.io import write_json
from benchseal.bench.perf.backends.spec import BackendSpec
from benchseal.schema import ClaimsReport, RunManifest, StageStatus, Strict

MEASUREMENT_STAGES = ("hw", "model", "perf", "eval")
PREFLIGHT = "preflight"  # recorded in run.json like a stage, before the measurement stages


class StageFailed(BenchsealError):
    """A stage ran but did not measure what it was asked to (e.g. most requests failed); its files are kept."""

    def __init__(self, what: str, *, files: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(what, hint=hint)
        self.files = list(files or [])


def _scrub_tree(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _scrub_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scrub_tree(v) for v in obj]
    return scrub(obj) if isinstance(obj, str) else obj


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` for an unexpected error, at most 300 characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    msg = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return msg if len(msg) <= 300 else msg[:297] + "..."


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _public_spec(spec: "RunSpec") -> dict[str, Any]:
    """The spec as recorded in run.json: no credentials (API keys are only ever env var names)."""
    from benchseal.redact import redact_url

    data = spec.model_dump(mode="json")
    if data["backend"].get("base_url"):
        data["backend"]["base_url"] = redact_url(data["backend"]["base_url"])
    if data.get("judge_base_url"):  # the judge's endpoint without credentials; its key only as a variable name
        data["judge_base_url"] = redact_url(data["judge_base_url"])
    return data


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

    @property
    def model(self) -> str:
        return self.backend.model


def gpus_used(spec: RunSpec) -> int:
    """How many of this machine's GPUs serve the model, for the MFU/MBU denominator (the backend
    spec's answer: --num-gpus, else tensor x pipeline parallel for vLLM, 1 for hf, 0 = unknown for a
    server reached over HTTP, so no MFU — recorded as such, so a verifier re-derives the same)."""
    return spec.backend.gpus()


@dataclass
class RunResult:
    out: Path
    manifest: RunManifest
    claims: ClaimsReport | None
    signed: bool
    failure_code: int | None = None  # exit code of the first failed stage (2 bad input, 3 environment)
    interrupted: str | None = None  # "interrupted by SIGTERM" when a signal arrived

    @property
    def exit_code(self) -> int:
        """3 when interrupted; else the first failed stage's code (2 bad input, 3 environment/runtime);
        else 1 unless every required claim passed."""
        if self.interrupted:
            return int(ExitCode.ENVIRONMENT)
        if self.failure_code is not None:
            return self.failure_code
        if self.manifest.status != "complete":
            return int(ExitCode.ENVIRONMENT)
        if self.claims is not None and not self.claims.passed:
            return int(ExitCode.FAILED)
        return int(ExitCode.OK)


class Pipeline:
    """Runs the stages of one program on one model and writes the bundle into ``out``.

    Every stage is contained: an error in one is recorded in run.json with its cause (scrubbed of
    secrets), later stages that do not depend on it still run, and claims, report and signature
    are always written, for a partial bundle too. A pre-flight (recorded as the ``preflight``
    stage) checks what can be checked before anything is measured; when it fails nothing is
    measured, and the bundle says why."""

    def __init__(self, spec: RunSpec, out: Path, *, log: Callable[[str], None] = print) -> None:
        self.spec = spec
        self.out = Path(out)
        self.bundle = Bundle(self.out)
        self._log = log
        self.program = None
        self._server = None  # the managed vllm serve, shared by the perf and eval stages
        self._workload = None  # built by the pre-flight (tokenizer loaded once)
        self._server_down: str | None = None  # why the server cannot be used by later stages
        self._failure_code: int | None = None
        self.manifest = RunManifest(
            tool_version=__version__,
            run_id=uuid.uuid4().hex,
            program=spec.program,
            spec=_public_spec(spec),
            started_at=_now(),
            status="running",
            stages={PREFLIGHT: StageStatus(status="pending"), **{s: StageStatus(status="pending") for s in spec.stages}},
        )
        if spec.lightweight_of:  # a derived step after the measurement stages (lightweight/)
            self.manifest.stages["lightweight"] = StageStatus(status="pending")

    def log(self, message: str) -> None:
        self._log(scrub(message))

    # -- bookkeeping ---------------------------------------------------------------------------
    def _save_manifest(self) -> None:
        self.manifest.files = sorted(
            p.relative_to(self.out).as_posix()
            for p in self.out.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.name != layout.RUN_JSON
        )
        write_json(self.out / layout.RUN_JSON, _scrub_tree(self.manifest.model_dump(mode="json")))

    def _fail(self, name: str, message: str, code: int, files: list[str] | None = None) -> None:
        st = self.manifest.stages[name]
        st.status, st.error, st.ended_at = "failed", scrub(message), _now()
        st.files = sorted(files or [])
        if self._failure_code is None:
            self._failure_code = int(code)
        self.log(f"[{name}] failed: {message}")

    def _stage(self, name: str, fn: Callable[[], list[str] | None]) -> None:
        if name not in self.manifest.stages:
            return
        interrupts.check(f"before the {name} stage")
        st = self.manifest.stages[name]
        st.status, st.started_at = "running", _now()
        self._save_manifest()
        self.log(f"[{name}] running")
        try:
            files = fn() or []
        except KeyboardInterrupt:
            st.status, st.error, st.ended_at = "interrupted", interrupts.describe(), _now()
            st.files = self._existing(name)
            raise
        except RunInterrupted as exc:
            if interrupts.requested():  # a signal: stop the run
                st.status, st.error, st.ended_at = "interrupted", scrub(exc.message), _now()
                st.files = self._existing(name)
                raise
            self._server_down = exc.message  # the server died: later stages that need it are skipped
            self._fail(name, exc.message, exc.exit_code, self._existing(name))
        except StageFailed as exc:
            self._fail(name, exc.message, exc.exit_code, exc.files)
        except BenchsealError as exc:
            self._fail(name, exc.message, exc.exit_code, self._existing(name))
        except Exception as exc:  # a library's error (lm-eval, transformers, vLLM): recorded, the run goes on
            if os.environ.get("BENCHSEAL_DEBUG"):
                import traceback

                traceback.print_exc()
            self._fail(name, f"{_one_line(exc)} (set BENCHSEAL_DEBUG=1 for the traceback)", ExitCode.ENVIRONMENT,
                       self._existing(name))
        else:
            st.status, st.files, st.ended_at = "complete", sorted(files), _now()
            self.log(f"[{name}] complete")
        self._save_manifest()

    def _existing(self, name: str) -> list[str]:
        """The files a stage had written when it stopped (perf streams its records as it goes)."""
        candidates = {"hw": [layout.HARDWARE_JSON], "model": [layout.MODEL_JSON],
                      "perf": [layout.PERF_REQUESTS, layout.PERF_SUMMARY, layout.TELEMETRY_CSV]}.get(name, [])
        return [f for f in candidates if (self.out / f).exists()]

    def _skip(self, name: str, why: str) -> None:
        st = self.manifest.stages[name]
        st.status, st.error = "skipped", why
        self.log(f"[{name}] skipped: {why}")

    def _load_program(self):
        if self.spec.program:
            from benchseal.claims import load_program

            self.program = load_program(self.spec.program, thresholds=self.spec.thresholds or None)

    def _hw(self) -> list[str]:
        from benchseal.hw import probe

        write_json(self.out / layout.HARDWARE_JSON, probe())
        return [layout.HARDWARE_JSON]

    def _model(self) -> list[str]:
        from benchseal.bench.model.inspect import inspect_model

        card = inspect_model(
            self.spec.model_path, trust_remote_code=self.spec.trust_remote_code, with_digests=True, progress=False
        )
        write_json(self.out / layout.MODEL_JSON, card)
        return [layout.MODEL_JSON]

    def _workload_file(self) -> Path | None:
        name = self.spec.workload or (self.program.workload if self.program else None)
        if not name:
            return None
        from benchseal.config import config_path

        p = Path(name)
        return p if p.suffix in (".yaml", ".yml") and p.exists() else config_path("workloads", f"{name}.yaml")

    def _workload_specs(self):
        from benchseal.bench.perf.run import LoadSpec, load_workload_file
        from benchseal.bench.perf.workload import WorkloadSpec

        wl_file = self._workload_file()
        if wl_file is not None:
            if not wl_file.is_file():
                raise UsageError("the workload file does not exist", where=str(wl_file),
                                 hint="pass --workload with a name in configs/workloads/ or a YAML path")
            return load_workload_file(wl_file)
        return WorkloadSpec(), LoadSpec()

    def _resolve_endpoint(self, chat_workload: bool) -> None:
        """A chat workload goes to the chat endpoint unless --endpoint said otherwise (then refused)."""
        backend = self.spec.backend
        if not backend.uses_server or not hasattr(backend, "endpoint"):
            return
        explicit = "endpoint" in backend.model_fields_set
        if chat_workload and backend.endpoint != "chat":
            if explicit:
                raise UsageError("the workload sends chat messages but --endpoint completions was given",
                                 hint="drop --endpoint (the chat endpoint is chosen for a chat workload) or pass --endpoint chat")
            self.spec = self.spec.model_copy(update={"backend": backend.model_copy(update={"endpoint": "chat"})})
            self.manifest.spec = _public_spec(self.spec)
            self.log("[preflight] the workload is chat: requests go to the chat endpoint (/v1/chat/completions)")

    def _perf(self) -> list[str]:
        from benchseal.bench.perf.run import client_token_counter, run_perf

        workload, lspec = self._workload if self._workload is not None else self._build_workload()
        counter = client_token_counter(workload)
        if self.spec.backend.kind == "vllm-serve":
            backend = self._server_backend()
            backend.count_tokens = counter
        else:
            backend = self.spec.backend.build(self.out, count_tokens=counter)
        report = run_perf(backend, workload, lspec, self.out, annotate=self._annotator(),
                          telemetry_csv=self.out / layout.TELEMETRY_CSV, progress=True)
        files = [layout.PERF_REQUESTS, layout.PERF_SUMMARY]
        files += [rel for rel in (layout.PERF_SERVER_SCRAPES, layout.PERF_SERVER_METRICS, layout.TELEMETRY_CSV)
                  if self.bundle.has(rel)]
        failed = mostly_failed(report, self.out / layout.PERF_REQUESTS)
        if failed:
            raise StageFailed(f"most requests failed: {failed}", files=files,
                              hint="the records are in perf/requests.jsonl; fix the cause and run again")
        return files

    def _build_workload(self):
        from benchseal.bench.perf.workload import build_workload

        wspec, lspec = self._workload_specs()
        backend = self.spec.backend
        chat = wspec.chat or getattr(backend, "endpoint", None) == "chat"
        self._resolve_endpoint(chat)
        wspec = wspec.model_copy(update={"chat": chat})
        return build_workload(wspec, model_path_or_tokenizer=wspec.tokenizer or self.spec.model_path), lspec

    # -- pre-flight ------------------------------------------------------------------------------
    def _preflight(self) -> list[str]:
        """Everything that can be checked before anything is measured; one sentence per failure."""
        s = self.spec  # the backend's and the judge's key variables were checked by run(), before run.json
        if s.model_path and not Path(s.model_path).exists():
            raise UsageError("the model path does not exist", where=s.model_path, hint="check --model-path")
        if s.backend.kind in ("hf", "vllm", "vllm-serve"):
            _check_local_model(s.backend.model)
        for flag, value in (("--should-refuse", s.should_refuse), ("--should-answer", s.should_answer),
                            ("--refusal-rules", s.refusal_rules), ("--content-bank", s.content_bank)):
            if value and not Path(value).is_file():
                raise UsageError(f"the file given to {flag} does not exist", where=value)
        if s.parity_reference and not Path(s.parity_reference).is_dir():
            raise UsageError("the parity reference bundle does not exist", where=s.parity_reference)
        if s.data_dir and not Path(s.data_dir).is_dir():
            raise UsageError("the --data-dir directory does not exist", where=s.data_dir,
                             hint="see `benchseal datasets` for how to prepare it")
        if "eval" in self.manifest.stages:
            self._check_eval_data()
            self._check_safety_inputs()
        if "perf" in self.manifest.stages and self._workload is None:
            self._workload = self._build_workload()
        if s.backend.kind == "openai" and ("perf" in self.manifest.stages or self._wants_eval()):
            self._check_server()
        if s.backend.kind == "openai" and s.eval_backend is None and "eval" in self.manifest.stages:
            self._check_prompt_logprobs()
        return []

    def _check_prompt_logprobs(self) -> None:
        """Loglikelihood suites scored through the server need prompt logprobs: asked once here, before
        the perf stage spends its time, rather than found missing when the eval stage starts."""
        from benchseal.evaluators.backends import api_root, auth_header, probe_prompt_logprobs
        from benchseal.evaluators.suites import load_suite

        if not any(t.scoring == "loglikelihood" for name in self._eval_suites() for t in load_suite(name).tasks):
            return
        _, options = self.spec.backend.eval_target(None)
        probe_prompt_logprobs(api_root(options["base_url"]) + "/completions", self.spec.backend.model,
                              auth_header(options.get("api_key_env")))

    def _check_safety_inputs(self) -> None:
        """The safety banks load (a malformed bank is one sentence, before anything is measured), and the
        judge answers one test request through the same client the eval stage uses."""
        from benchseal.evaluators.stage import check_safety_inputs

        s = self.spec
        check_safety_inputs(self._refusal_inputs(), self._content_inputs())
        if s.judge_model and (s.should_refuse or s.content_bank):
            from benchseal.evaluators.stage import probe_judge

            self.log(f"[preflight] {probe_judge(s.judge_base_url, s.judge_model, s.judge_api_key_env)}")

    def _check_eval_data(self) -> None:
        """Every suite the run evaluates exists and its data (--data-dir) matches its manifest."""
        from benchseal.evaluators.datasets import verify_suite_data
        from benchseal.evaluators.suites import load_suite

        for name in self._eval_suites():
            suite = load_suite(name)
            unsafe = [t.task for t in suite.tasks if t.unsafe_code]
            if unsafe and not self.spec.allow_unsafe_code:
                raise UsageError(f"suite '{suite.name}' runs model-written code ({', '.join(unsafe)})",
                                 hint="run it only in a disposable sandbox, with --allow-unsafe-code")
            data_dir = Path(self.spec.data_dir) if self.spec.data_dir else suite.default_data_dir()
            if data_dir is None:
                raise UsageError(f"suite '{suite.name}' needs --data-dir",
                                 hint=f"prepare it with 'benchseal datasets prepare {suite.name} --data-dir DIR'")
            verify_suite_data(suite, data_dir)

    def _check_server(self) -> None:
        """Reach the server, check the model is served, send one test request; estimate the perf duration."""
        import asyncio
        import dataclasses
        import time

        backend = self.spec.backend.build(self.out)

        async def probe():
            await backend.start()  # /v1/models, the served model, credentials, one tiny request
            try:
                if self._workload is None:
                    return None
                first = self._workload[0].requests[0]
                n = max(1, min(16, first.max_tokens))
                req = dataclasses.replace(first, max_tokens=n, request_id=-1)
                t0 = time.perf_counter()
                rec = await backend.send(req, load_point="preflight", t0=t0, timeout_s=120.0)
                return rec, n
            finally:
                await backend.close()

        got = asyncio.run(probe())
        if got is None:
            return
        rec, n = got
        if rec.status != "ok":
            code = rec.http_status or 0
            cls = UsageError if 400 <= code < 500 or (rec.error or "").startswith("bad-request") else ServerError
            raise cls(f"the server refused a test request shaped like the workload's: {rec.error}",
                      hint="check --endpoint, --server-ignore-eos and the server's accepted parameters")
        self._estimate(rec, n)

    def _estimate(self, rec, n: int) -> None:
        """A lower bound on the perf stage's duration from the test request (no queueing assumed)."""
        wl, load = self._workload
        if rec.end_s is None or rec.send_s is None:
            return
        ttft = (rec.first_token_s - rec.send_s) if rec.first_token_s is not None else 0.0
        per_tok = max(0.0, (rec.end_s - rec.send_s - ttft) / max(1, n - 1))
        reqs = wl.requests
        mean_out = sum(r.max_tokens for r in reqs) / len(reqs)
        one = ttft + per_tok * mean_out
        total = 0.0
        for _, mode, conc, rate in load.points():
            count = (load.num_requests or len(reqs)) + load.warmup_requests
            if load.duration_s is not None:
                total += load.duration_s
            elif mode == "rate" and rate and rate != float("inf"):
                total += count / rate + one
            else:
                total += count / max(1, conc or 1) * one
        self.log(f"[preflight] estimated perf duration at least {_fmt_duration(total)} "
                 f"({len(load.points())} load points; one request of ~{mean_out:.0f} tokens took about {one:.1f} s)")

    def _server_backend(self):
        """One managed ``vllm serve`` for the whole run: the model is loaded once for perf and eval."""
        if self._server is None:
            self._server = self.spec.backend.build(self.out, keep_server=True)
        return self._server

    def _server_url(self) -> str | None:
        if self.spec.backend.kind != "vllm-serve":
            return getattr(self.spec.backend, "base_url", None)
        import asyncio

        server = self._server_backend()

        async def _up() -> None:
            await server.start()
            await server.close()  # keep_server: only the HTTP client is closed, the server stays

        if not server.running:
            asyncio.run(_up())
        return server.base_url

    def _annotator(self):
        """Adds MFU/MBU/energy per load point from model.json and hardware.json (when present)."""
        card = self.bundle.model()
        if card is None or not card.config:
            return None
        from benchseal.bench.utilisation.mfu import annotate

        config = card.config
        num_gpus = gpus_used(self.spec)
        hardware = self.bundle.hardware()
        dtype = self.spec.backend.weights_dtype()
        dtype = dtype if dtype != "auto" else (card.dtype or "bf16")
        telemetry = self.bundle.path(layout.TELEMETRY_CSV)

        def _annotate(summary, records):
            return annotate(
                summary,
                records,
                model_config=config,
                hardware=hardware,
                dtype=dtype,
                telemetry_csv=telemetry if telemetry.exists() else None,
                num_gpus=num_gpus,
            )

        return _annotate

    def _eval_suites(self) -> list[str]:
        if self.spec.eval_suites is not None:
            return list(self.spec.eval_suites)
        return list(self.program.eval_suites) if self.program else []

    def _eval(self) -> list[str]:
        from benchseal.evaluators.stage import run_eval_stage

        s = self.spec
        if s.eval_backend is None:
            backend, options = s.backend.eval_target(self._server_url() if s.backend.uses_server else None)
        else:  # an explicit choice: hf/vllm on the local weights, openai on the server
            backend = s.eval_backend
            options = {"base_url": self._server_url(), "api_key_env": getattr(s.backend, "api_key_env", None)} \
                if backend == "openai" else {}
        return run_eval_stage(
            self.out, suites=self._eval_suites(), model=s.model, backend=backend, tokenizer=s.model_path,
            base_url=options.get("base_url"), api_key_env=options.get("api_key_env"), device=options.get("device"),
            extra=options.get("extra"), data_dir=Path(s.data_dir) if s.data_dir else None,
            limit=s.eval_limit, model_digest=self._model_digest(), refusal=self._refusal_inputs(),
            allow_unsafe_code=s.allow_unsafe_code,
            content=self._content_inputs(), parity_reference=Path(s.parity_reference) if s.parity_reference else None,
        )

    def _refusal_inputs(self):
        from benchseal.evaluators.stage import RefusalInputs

        s = self.spec
        if not s.should_refuse:
            return None
        return RefusalInputs(should_refuse=Path(s.should_refuse), should_answer=Path(s.should_answer),
                             rules=Path(s.refusal_rules) if s.refusal_rules else None,
                             judge_base_url=s.judge_base_url, judge_model=s.judge_model,
                             judge_api_key_env=s.judge_api_key_env, judge_all=s.judge_all,
                             **({"max_gen_toks": s.safety_max_gen_toks} if s.safety_max_gen_toks else {}))

    def _content_inputs(self):
        from benchseal.evaluators.stage import ContentSafetyInputs

        s = self.spec
        if not s.content_bank:
            return None
        return ContentSafetyInputs(bank=Path(s.content_bank), sample=s.content_sample,
                                   judge_base_url=s.judge_base_url, judge_model=s.judge_model,
                                   judge_api_key_env=s.judge_api_key_env,
                                   **({"max_gen_toks": s.safety_max_gen_toks} if s.safety_max_gen_toks else {}))

    def _check_lightweight(self) -> None:
        """--lightweight-of: refuse, before anything runs, a full bundle measured on another workload,
        load or suites (UsageError, exit 2)."""
        if not self.spec.lightweight_of:
            return
        from benchseal.evaluators.lightweight import check_reference

        if "perf" not in self.spec.stages:
            raise UsageError("--lightweight-of needs the perf stage", hint="add perf to --stages")
        suites = None
        if "eval" in self.spec.stages:
            from benchseal.evaluators.suites import load_suite

            suites = [load_suite(s).name for s in self._eval_suites()] or None  # none: the eval runs the reference's
        if self._workload is None:
            self._workload = self._build_workload()
        workload, lspec = self._workload
        check_reference(Path(self.spec.lightweight_of), workload_sha256=workload.sha256,
                        load=lspec.model_dump(mode="json"), suites=suites)

    def _lightweight(self) -> list[str]:
        from benchseal.evaluators.lightweight import write_lightweight

        return write_lightweight(self.out, Path(self.spec.lightweight_of))[1]

    def _wants_eval(self) -> bool:
        return bool(self._eval_suites() or self.spec.should_refuse or self.spec.content_bank or self.spec.parity_reference)

    def _model_digest(self) -> str | None:
        card = self.bundle.model()
        return card.model_digest if card is not None else None

    # -- the run -------------------------------------------------------------------------------
    def run(self, *, key: Path | None = None, passphrase: bytes | None = None, formats=("html", "md", "junit")) -> RunResult:
        """Pre-flight, the measurement stages, then (always) claims, reports and the signature.
        Never raises for a stage's error or a signal once the bundle exists: the result says what
        happened (``exit_code``); bad arguments found before the bundle is created raise UsageError."""
        register_secret(passphrase)
        check_api_key_env(getattr(self.spec.backend, "api_key_env", None))  # before run.json could record a key
        check_api_key_env(self.spec.judge_api_key_env, flag="--judge-api-key-env")
        kid = None
        if key is not None:  # a key that cannot sign is found before anything is measured
            from benchseal.reports.seal.keys import keyid, load_private_key

            kid = keyid(load_private_key(key, passphrase or b"").public_key())
        self.out.mkdir(parents=True, exist_ok=True)
        if any(self.out.iterdir()):
            raise UsageError(
                "the output directory is not empty", where=str(self.out), hint="choose a new --out directory"
            )
        self._load_program()
        self._check_lightweight()
        if self.program is not None:  # the exact claims checked travel with the evidence
            write_json(self.out / layout.PROGRAM_JSON, self.program)
        self._save_manifest()
        try:
            self._stage(PREFLIGHT, self._preflight)
            if self.manifest.stages[PREFLIGHT].status != "complete":
                why = f"not run: the pre-flight failed ({self.manifest.stages[PREFLIGHT].error})"
                for name, st in self.manifest.stages.items():
                    if st.status == "pending":
                        st.status, st.error = "skipped", why
            else:
                self._measure()
        except (KeyboardInterrupt, RunInterrupted):
            pass  # recorded on the stage; the bundle is finished below
        finally:
            with interrupts.deferred():
                if self._server is not None:
                    self._server.shutdown()
        with interrupts.deferred():  # signals now only mark the run interrupted: the bundle is finished first
            return self._finish(key, passphrase, kid, formats)

    def _measure(self) -> None:
        self._stage("hw", self._hw)
        if "model" in self.manifest.stages:
            if self.spec.model_path:
                self._stage("model", self._model)
            else:
                self._skip("model", "no local model files (--model-path): parameters and digests not measured")
        self._stage("perf", self._perf)
        if "eval" in self.manifest.stages:
            if not self._wants_eval():
                self._skip("eval", "no evaluation suite, refusal bank, content bank or parity reference requested")
            elif self._server_down and self._eval_uses_server():
                self._skip("eval", f"not run: the server is down ({self._server_down})")
            else:
                self._stage("eval", self._eval)
        if "lightweight" in self.manifest.stages:
            self._stage("lightweight", self._lightweight)

    def _eval_uses_server(self) -> bool:
        return self.spec.eval_backend == "openai" or (self.spec.eval_backend is None and self.spec.backend.uses_server)

    def _finish(self, key, passphrase, kid, formats) -> RunResult:
        why = interrupts.requested() and interrupts.describe()
        for st in self.manifest.stages.values():
            if st.status in ("pending", "running"):
                st.status, st.error = "skipped", f"not run: {why or 'the run was interrupted'}"
        bad = any(st.status in ("failed", "interrupted") or (st.status == "skipped" and (st.error or "").startswith("not run"))
                  for st in self.manifest.stages.values())
        self.manifest.status = "partial" if bad else "complete"
        self.manifest.ended_at = _now()
        self._save_manifest()
        claims = None
        try:
            claims = self._claims()
        except Exception as exc:  # the report and the signature are still written
            self._failure_code = self._failure_code or int(ExitCode.ENVIRONMENT)
            self.log(f"claims could not be checked: {_one_line(exc)}")
        try:
            from benchseal.reports.render.write import write_reports

            write_reports(self.out, formats=set(formats), program=self.program, signing_key_id=kid)
        except Exception as exc:
            self._failure_code = self._failure_code or int(ExitCode.ENVIRONMENT)
            self.log(f"the report could not be written: {_one_line(exc)}")
        self._save_manifest()  # run.json lists every file, the reports included
        signed = False
        if key is not None:
            from benchseal.reports.seal.statement import sign_bundle

            sign_bundle(self.out, key, passphrase or b"")
            signed = True
        interrupted = interrupts.describe() if interrupts.requested() else None
        return RunResult(self.out, self.manifest, claims, signed, failure_code=self._failure_code, interrupted=interrupted)

    def _claims(self) -> ClaimsReport | None:
        if self.program is None:
            return None
        from benchseal.claims import check, load_evidence

        report = check(self.program, load_evidence(self.out))
        write_json(self.out / layout.CLAIMS_JSON, report)
        return report


def _check_local_model(model: str) -> None:
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


def _fmt_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
