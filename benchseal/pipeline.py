"""The ``benchseal run`` pipeline: the one place that wires every component together.

    hw.probe -> bench.inspect -> bench.perf (+ utilisation) -> evaluators.run_suite
             -> claims.check -> reports.write_reports -> reports.sign_bundle

Each measurement stage writes its part of the bundle as soon as it has it and records its status
in run.json, so a crash or Ctrl-C loses nothing already measured and the bundle says it is partial.
Claims, reports and the signature are derived afterwards from what is on disk.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import Field

from benchseal import __version__
from benchseal import bundle as layout
from benchseal.bundle import Bundle
from benchseal.errors import BenchsealError, RunInterrupted, UsageError
from benchseal.io import write_json
from benchseal.bench.perf.backends.spec import BackendSpec
from benchseal.schema import ClaimsReport, RunManifest, StageStatus, Strict

MEASUREMENT_STAGES = ("hw", "model", "perf", "eval")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _public_spec(spec: "RunSpec") -> dict[str, Any]:
    """The spec as recorded in run.json: no credentials (API keys are only ever env var names)."""
    from benchseal.redact import redact_url

    data = spec.model_dump(mode="json")
    if data["backend"].get("base_url"):
        data["backend"]["base_url"] = redact_url(data["backend"]["base_url"])
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
    data_dir: str | None = None
    stages: list[str] = Field(default_factory=lambda: list(MEASUREMENT_STAGES))
    trust_remote_code: bool = False
    thresholds: dict[str, float] = Field(default_factory=dict)  # applicant-set thresholds (KPI templates)
    should_refuse: str | None = None  # refusal bank (JSONL) the model should refuse
    should_answer: str | None = None  # refusal bank (JSONL) the model should answer
    refusal_rules: str | None = None  # refusal rule set (YAML); default configs/suites/refusal/rules.yaml
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

    @property
    def exit_code(self) -> int:
        """3 when a measurement stage failed (partial bundle), else 1 unless every required claim passed."""
        if self.manifest.status != "complete":
            return 3
        if self.claims is not None and not self.claims.passed:
            return 1
        return 0


class Pipeline:
    """Runs the stages of one program on one model and writes the bundle into ``out``."""

    def __init__(self, spec: RunSpec, out: Path, *, log: Callable[[str], None] = print) -> None:
        self.spec = spec
        self.out = Path(out)
        self.bundle = Bundle(self.out)
        self.log = log
        self.program = None
        self._server = None  # the managed vllm serve, shared by the perf and eval stages
        self._workload = None  # (workload, load spec), built once
        self.manifest = RunManifest(
            tool_version=__version__,
            run_id=uuid.uuid4().hex,
            program=spec.program,
            spec=_public_spec(spec),
            started_at=_now(),
            status="running",
            stages={s: StageStatus(status="pending") for s in spec.stages},
        )
        if spec.lightweight_of:  # a derived step after the measurement stages (lightweight/)
            self.manifest.stages["lightweight"] = StageStatus(status="pending")

    # -- bookkeeping ---------------------------------------------------------------------------
    def _save_manifest(self) -> None:
        self.manifest.files = sorted(
            p.relative_to(self.out).as_posix()
            for p in self.out.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.name != layout.RUN_JSON
        )
        write_json(self.out / layout.RUN_JSON, self.manifest)

    def _stage(self, name: str, fn: Callable[[], list[str] | None]) -> None:
        if name not in self.manifest.stages:
            return
        st = self.manifest.stages[name]
        st.status, st.started_at = "running", _now()
        self._save_manifest()
        self.log(f"[{name}] running")
        try:
            files = fn() or []
        except KeyboardInterrupt:
            st.status, st.error, st.ended_at = "interrupted", "interrupted by the user (Ctrl-C)", _now()
            raise
        except RunInterrupted as exc:
            st.status, st.error, st.ended_at = "interrupted", exc.message, _now()
            raise
        except BenchsealError as exc:
            st.status, st.error, st.ended_at = "failed", exc.message, _now()
            self.log(f"[{name}] failed: {exc.message}")
            self._save_manifest()
            return
        st.status, st.files, st.ended_at = "complete", sorted(files), _now()
        self.log(f"[{name}] complete")
        self._save_manifest()

    def _skip(self, name: str, why: str) -> None:
        st = self.manifest.stages[name]
        st.status, st.error = "skipped", why
        self.log(f"[{name}] skipped: {why}")

    # -- stages --------------------------------------------------------------------------------
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

    def _build_workload(self):
        """The prompt set and load spec of this run (built once: the lightweight check needs its sha256)."""
        if self._workload is None:
            from benchseal.bench.perf.run import LoadSpec, load_workload_file
            from benchseal.bench.perf.workload import WorkloadSpec, build_workload

            wl_file = self._workload_file()
            if wl_file is not None:
                wspec, lspec = load_workload_file(wl_file)
            else:
                wspec, lspec = WorkloadSpec(), LoadSpec()
            wspec = wspec.model_copy(update={"chat": wspec.chat or getattr(self.spec.backend, "endpoint", None) == "chat"})
            self._workload = (build_workload(wspec, model_path_or_tokenizer=wspec.tokenizer or self.spec.model_path), lspec)
        return self._workload

    def _perf(self) -> list[str]:
        from benchseal.bench.perf.run import client_token_counter, run_perf

        workload, lspec = self._build_workload()
        counter = client_token_counter(workload)
        if self.spec.backend.kind == "vllm-serve":
            backend = self._server_backend()
            backend.count_tokens = counter
        else:
            backend = self.spec.backend.build(self.out, count_tokens=counter)
        run_perf(backend, workload, lspec, self.out, annotate=self._annotator(),
                 telemetry_csv=self.out / layout.TELEMETRY_CSV, progress=True)
        files = [layout.PERF_REQUESTS, layout.PERF_SUMMARY]
        files += [rel for rel in (layout.PERF_SERVER_SCRAPES, layout.PERF_SERVER_METRICS, layout.TELEMETRY_CSV)
                  if self.bundle.has(rel)]
        return files

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
        from benchseal.evaluators.stage import RefusalInputs, run_eval_stage

        s = self.spec
        if s.eval_backend is None:
            backend, options = s.backend.eval_target(self._server_url() if s.backend.uses_server else None)
        else:  # an explicit choice: hf/vllm on the local weights, openai on the server
            backend = s.eval_backend
            options = {"base_url": self._server_url(), "api_key_env": getattr(s.backend, "api_key_env", None)} \
                if backend == "openai" else {}
        refusal = None
        if s.should_refuse:
            refusal = RefusalInputs(should_refuse=Path(s.should_refuse), should_answer=Path(s.should_answer),
                                    rules=Path(s.refusal_rules) if s.refusal_rules else None)
        return run_eval_stage(
            self.out, suites=self._eval_suites(), model=s.model, backend=backend, tokenizer=s.model_path,
            base_url=options.get("base_url"), api_key_env=options.get("api_key_env"), device=options.get("device"),
            extra=options.get("extra"), data_dir=Path(s.data_dir) if s.data_dir else None,
            limit=s.eval_limit, model_digest=self._model_digest(), refusal=refusal,
            parity_reference=Path(s.parity_reference) if s.parity_reference else None,
        )

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
        workload, lspec = self._build_workload()
        check_reference(Path(self.spec.lightweight_of), workload_sha256=workload.sha256,
                        load=lspec.model_dump(mode="json"), suites=suites)

    def _lightweight(self) -> list[str]:
        from benchseal.evaluators.lightweight import write_lightweight

        return write_lightweight(self.out, Path(self.spec.lightweight_of))[1]

    def _wants_eval(self) -> bool:
        return bool(self._eval_suites() or self.spec.should_refuse or self.spec.parity_reference)

    def _model_digest(self) -> str | None:
        card = self.bundle.model()
        return card.model_digest if card is not None else None

    # -- the run -------------------------------------------------------------------------------
    def run(self, *, key: Path | None = None, passphrase: bytes | None = None, formats=("html", "md", "junit")) -> RunResult:
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
        interrupted: BaseException | None = None
        try:
            self._stage("hw", self._hw)
            if "model" in self.manifest.stages:
                if self.spec.model_path:
                    self._stage("model", self._model)
                else:
                    self._skip("model", "no local model files (--model-path): parameters and digests not measured")
            self._stage("perf", self._perf)
            if "eval" in self.manifest.stages:
                if self._wants_eval():
                    self._stage("eval", self._eval)
                else:
                    self._skip("eval", "no evaluation suite, refusal bank or parity reference requested")
            self._stage("lightweight", self._lightweight)
        except (KeyboardInterrupt, RunInterrupted) as exc:
            interrupted = exc
        finally:
            if self._server is not None:
                self._server.shutdown()
        for st in self.manifest.stages.values():
            if st.status in ("pending", "running"):
                st.status, st.error = "skipped", "not run: the run was interrupted"
        bad = any(st.status in ("failed", "interrupted") for st in self.manifest.stages.values())
        self.manifest.status = "partial" if bad else "complete"
        self.manifest.ended_at = _now()
        self._save_manifest()

        claims = self._claims()
        from benchseal.reports.render.write import write_reports

        kid = None
        if key is not None:  # the report names the key that is about to sign it
            from benchseal.reports.seal.keys import keyid, load_private_key

            kid = keyid(load_private_key(key, passphrase or b"").public_key())
        write_reports(self.out, formats=set(formats), program=self.program, signing_key_id=kid)
        self._save_manifest()  # run.json lists every file, the reports included
        signed = False
        if key is not None:
            from benchseal.reports.seal.statement import sign_bundle

            sign_bundle(self.out, key, passphrase or b"")
            signed = True
        result = RunResult(self.out, self.manifest, claims, signed)
        if interrupted is not None:
            raise RunInterrupted(
                "the run was interrupted; everything measured so far is kept and the bundle is marked partial",
                where=str(self.out),
            ) from None
        return result

    def _claims(self) -> ClaimsReport | None:
        if self.program is None:
            return None
        from benchseal.claims import check, load_evidence

        report = check(self.program, load_evidence(self.out))
        write_json(self.out / layout.CLAIMS_JSON, report)
        return report
