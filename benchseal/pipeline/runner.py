"""The runner of ``benchseal run``: orders the stage objects, contains their failures and writes run.json.

    preflight -> hw -> model -> perf -> eval -> lightweight      (measurement; recorded in run.json)
              -> claims -> report -> seal                        (finishing; always, partial bundles too)

Adding a stage: write one module with a ``Stage`` subclass (``pipeline.base``) and add its class to
``MEASURING`` (or ``FINISHING``) below, in the order it runs.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from benchseal import __version__, interrupts
from benchseal import bundle as layout
from benchseal.errors import BenchsealError, ExitCode, RunInterrupted, UsageError
from benchseal.io import write_json
from benchseal.pipeline.base import RunContext, Stage, StageFailed, now, one_line, scrub_tree
from benchseal.pipeline.claims import ClaimsStage, load_program, record_choices, verify_reference
from benchseal.pipeline.eval import EvalStage
from benchseal.pipeline.hw import HwStage
from benchseal.pipeline.lightweight import LightweightStage
from benchseal.pipeline.model import ModelStage
from benchseal.pipeline.perf import PerfStage
from benchseal.pipeline.preflight import PreflightStage
from benchseal.pipeline.report import ReportStage
from benchseal.pipeline.seal import SealStage
from benchseal.pipeline.spec import RunSpec, public_spec
from benchseal.redact import check_api_key_env, register_secret, scrub
from benchseal.schema import ClaimsReport, RunManifest, StageStatus

MEASURING: tuple[type[Stage], ...] = (HwStage, ModelStage, PerfStage, EvalStage, LightweightStage)
FINISHING: tuple[type[Stage], ...] = (ClaimsStage, ReportStage, SealStage)


@dataclass
class RunResult:
    out: Path
    manifest: RunManifest
    claims: ClaimsReport | None
    signed: bool
    failure_code: int | None = None  # exit code of the first failed stage (2 bad input, 3 environment)
    interrupted: str | None = None  # "interrupted by SIGTERM" when a signal arrived
    preflight_error: str | None = None  # the pre-flight's sentence when it refused the run's input (exit 2)

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
    are always written, for a partial bundle too. The pre-flight (recorded as the ``preflight``
    stage) checks what can be checked before anything is measured. When it refuses the run's input
    (exit 2) nothing is measured, claimed or signed: the directory keeps only an unsigned run.json
    saying why (a later run may reuse that directory). When it finds the environment unusable (a
    dead server or judge, exit 3) the bundle is finished, claimed and signed as partial evidence of
    what happened."""

    def __init__(self, spec: RunSpec, out: Path, *, log: Callable[[str], None] = print) -> None:
        self.out = Path(out)
        self.stages: dict[str, Stage] = {cls.name: cls() for cls in MEASURING}
        self.preflight = PreflightStage(list(self.stages.values()))
        self.finishing: list[Stage] = [cls() for cls in FINISHING]
        selected = [self.preflight.name] + [n for n, st in self.stages.items() if st.selected(spec)]
        manifest = RunManifest(
            tool_version=__version__, run_id=uuid.uuid4().hex, program=spec.program, spec=public_spec(spec),
            started_at=now(), status="running", stages={n: StageStatus(status="pending") for n in selected},
        )
        self.ctx = RunContext(spec=spec, out=self.out, manifest=manifest, log_fn=log)
        self._failure_code: int | None = None

    @property
    def spec(self) -> RunSpec:
        return self.ctx.spec

    @property
    def manifest(self) -> RunManifest:
        return self.ctx.manifest

    @property
    def program(self):
        return self.ctx.program

    def log(self, message: str) -> None:
        self.ctx.log(message)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _save_manifest(self) -> None:
        self.manifest.files = sorted(
            p.relative_to(self.out).as_posix()
            for p in self.out.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.name != layout.RUN_JSON
        )
        write_json(self.out / layout.RUN_JSON, scrub_tree(self.manifest.model_dump(mode="json")))

    def _fail(self, name: str, message: str, code: int, files: list[str] | None = None) -> None:
        st = self.manifest.stages[name]
        st.status, st.error, st.ended_at = "failed", scrub(message), now()
        st.files = sorted(files or [])
        if self._failure_code is None:
            self._failure_code = int(code)
        self.log(f"[{name}] failed: {message}")

    def _existing(self, stage: Stage) -> list[str]:
        """The files a stage had written when it stopped (perf streams its records as it goes)."""
        return [f for f in stage.evidence if (self.out / f).exists()]

    def _skip(self, name: str, why: str) -> None:
        st = self.manifest.stages[name]
        st.status, st.error = "skipped", why
        self.log(f"[{name}] skipped: {why}")

    def _stage(self, stage: Stage) -> None:
        name = stage.name
        if name not in self.manifest.stages:
            return
        interrupts.check(f"before the {name} stage")
        why = stage.skip_reason(self.ctx)
        if why:
            self._skip(name, why)
            return
        st = self.manifest.stages[name]
        st.status, st.started_at = "running", now()
        self._save_manifest()
        self.log(f"[{name}] running")
        try:
            files = stage.run(self.ctx) or []
        except KeyboardInterrupt:
            st.status, st.error, st.ended_at = "interrupted", interrupts.describe(), now()
            st.files = self._existing(stage)
            raise
        except RunInterrupted as exc:
            if interrupts.requested():  # a signal: stop the run
                st.status, st.error, st.ended_at = "interrupted", scrub(exc.message), now()
                st.files = self._existing(stage)
                raise
            self.ctx.server_down = exc.message  # the server died: later stages that need it are skipped
            self._fail(name, exc.message, exc.exit_code, self._existing(stage))
        except StageFailed as exc:
            self._fail(name, exc.message, exc.exit_code, exc.files)
        except BenchsealError as exc:
            self._fail(name, exc.message, exc.exit_code, self._existing(stage))
        except Exception as exc:  # a library's error (lm-eval, transformers, vLLM): recorded, the run goes on
            if os.environ.get("BENCHSEAL_DEBUG"):
                import traceback

                traceback.print_exc()
            self._fail(name, f"{one_line(exc)} (set BENCHSEAL_DEBUG=1 for the traceback)", ExitCode.ENVIRONMENT,
                       self._existing(stage))
        else:
            st.status, st.files, st.ended_at = "complete", sorted(files), now()
            self.log(f"[{name}] complete")
        self._save_manifest()

    # -- the run -------------------------------------------------------------------------------
    def run(self, *, key: Path | list[Path] | None = None, passphrase: bytes | list[bytes] | None = None,
            formats=("html", "md", "junit")) -> RunResult:
        """Pre-flight, the measurement stages, then (always) claims, reports and the signature.
        Never raises for a stage's error or a signal once the bundle exists: the result says what
        happened (``exit_code``); bad arguments found before the bundle is created raise UsageError."""
        ctx = self.ctx
        ctx.key, ctx.passphrase, ctx.formats = key, passphrase, tuple(formats)
        for phrase in passphrase if isinstance(passphrase, list) else [passphrase]:
            register_secret(phrase)
        check_api_key_env(getattr(self.spec.backend, "api_key_env", None))  # before run.json could record a key
        check_api_key_env(self.spec.judge_api_key_env, flag="--judge-api-key-env")
        for stage in self.finishing:
            stage.before_bundle(ctx)
        self._prepare_out()
        load_program(ctx)
        record_choices(ctx)  # every applicant choice, in run.json (docs/claims.md "Trust boundary")
        verify_reference(ctx)
        for stage in self.stages.values():
            if stage.name in self.manifest.stages:
                stage.before_bundle(ctx)
        if ctx.program is not None:  # the exact claims checked travel with the evidence
            write_json(self.out / layout.PROGRAM_JSON, ctx.program)
        self._save_manifest()
        try:
            self._stage(self.preflight)
            pre = self.manifest.stages[self.preflight.name]
            if pre.status == "complete":
                for stage in self.stages.values():
                    self._stage(stage)
            else:
                why = f"not run: the pre-flight failed ({pre.error})"
                for st in self.manifest.stages.values():
                    if st.status == "pending":
                        st.status, st.error = "skipped", why
                if self._failure_code == int(ExitCode.BAD_INPUT) and not interrupts.requested():
                    return self._refused(pre.error or "")
        except (KeyboardInterrupt, RunInterrupted):
            pass  # recorded on the stage; the bundle is finished below
        finally:
            with interrupts.deferred():
                if ctx.server is not None:
                    ctx.server.shutdown()
        with interrupts.deferred():  # signals now only mark the run interrupted: the bundle is finished first
            return self._finish()

    def _prepare_out(self) -> None:
        """The output directory must be new or empty; one that holds only the unsigned record of a run
        whose pre-flight refused its input is reused (the user fixed the input and runs again)."""
        self.out.mkdir(parents=True, exist_ok=True)
        entries = {p.name for p in self.out.iterdir()}
        if not entries:
            return
        if entries <= {layout.RUN_JSON, layout.PROGRAM_JSON} and _refused_record(self.out / layout.RUN_JSON):
            for name in entries:
                (self.out / name).unlink()
            return
        raise UsageError("the output directory is not empty", where=str(self.out), hint="choose a new --out directory")

    def _refused(self, error: str) -> RunResult:
        """The pre-flight refused the input: an unsigned run.json says so; nothing is claimed or signed."""
        self.manifest.status = "failed"
        self.manifest.ended_at = now()
        self._save_manifest()
        return RunResult(self.out, self.manifest, None, False, failure_code=self._failure_code,
                         preflight_error=scrub(error))

    def _finish(self) -> RunResult:
        why = interrupts.requested() and interrupts.describe()
        for st in self.manifest.stages.values():
            if st.status in ("pending", "running"):
                st.status, st.error = "skipped", f"not run: {why or 'the run was interrupted'}"
        bad = any(st.status in ("failed", "interrupted") or (st.status == "skipped" and (st.error or "").startswith("not run"))
                  for st in self.manifest.stages.values())
        self.manifest.status = "partial" if bad else "complete"
        self.manifest.ended_at = now()
        self._save_manifest()
        for stage in self.finishing:
            if stage.failure:  # contained: the later finishing stages still run
                try:
                    stage.run(self.ctx)
                except Exception as exc:
                    self._failure_code = self._failure_code or int(ExitCode.ENVIRONMENT)
                    self.log(f"{stage.failure}: {one_line(exc)}")
            else:
                self._save_manifest()  # run.json lists every file, the reports included, before sealing
                stage.run(self.ctx)
        interrupted = interrupts.describe() if interrupts.requested() else None
        return RunResult(self.out, self.manifest, self.ctx.claims, self.ctx.signed, failure_code=self._failure_code,
                         interrupted=interrupted)


def _refused_record(run_json: Path) -> bool:
    import json

    try:
        data = json.loads(run_json.read_text(encoding="utf-8"))
        return data.get("status") == "failed" and data.get("stages", {}).get("preflight", {}).get("status") == "failed"
    except (OSError, ValueError, AttributeError):
        return False
