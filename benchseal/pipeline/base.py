"""The stage protocol and the state one run's stages share.

A stage is a small object with a name and four hooks, all optional but ``run``:

- ``selected(spec)``: whether the run has this stage at all (it is then recorded in run.json);
- ``before_bundle(ctx)``: refuse bad arguments before the bundle exists (raise ``UsageError``);
- ``preflight(ctx)``: checks made by the pre-flight stage, before anything is measured;
- ``skip_reason(ctx)``: why a selected stage does not run this time (``None``: it runs); a reason
  starting with "not run" marks the bundle partial, any other is a deliberate skip;
- ``run(ctx)``: measure, write the stage's files as soon as it has them, return their bundle paths.

The finishing stages (claims, report, seal) run after the measurement stages, always — for a
partial bundle too — and are not recorded in run.json's stage list; their ``failure`` text names
what could not be done when one of them raises.

``evidence`` names the files a stage may have written when it stops early (kept and listed in
run.json). The runner (``pipeline.runner``) orders the stages, contains their failures and writes
run.json; stages share what one stage prepares for another through ``RunContext``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from benchseal.bundle import Bundle
from benchseal.errors import BenchsealError
from benchseal.redact import scrub

if TYPE_CHECKING:
    from benchseal.pipeline.spec import RunSpec
    from benchseal.schema import RunManifest


class StageFailed(BenchsealError):
    """A stage ran but did not measure what it was asked to (e.g. most requests failed); its files are kept."""

    def __init__(self, what: str, *, files: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(what, hint=hint)
        self.files = list(files or [])


class Stage:
    """One step of ``benchseal run``. Subclasses set ``name`` and implement ``run``."""

    name: ClassVar[str] = ""
    evidence: ClassVar[tuple[str, ...]] = ()  # files kept when the stage stops early
    failure: ClassVar[str] = ""  # finishing stages: "the report could not be written", ...

    def selected(self, spec: "RunSpec") -> bool:
        return self.name in spec.stages

    def before_bundle(self, ctx: "RunContext") -> None:
        return None

    def preflight(self, ctx: "RunContext") -> None:
        return None

    def skip_reason(self, ctx: "RunContext") -> str | None:
        return None

    def run(self, ctx: "RunContext") -> list[str]:  # pragma: no cover - every stage overrides it
        raise NotImplementedError


@dataclass
class RunContext:
    """What the stages of one run share: the spec, the bundle, the program, the log and what one
    stage prepares for another (the workload the pre-flight built, the managed server perf and eval
    share, why the server became unusable)."""

    spec: "RunSpec"
    out: Path
    manifest: "RunManifest"
    log_fn: Callable[[str], None] = print
    program: Any = None
    workload: Any = None  # (Workload, LoadSpec), built once by the pre-flight
    server: Any = None  # the managed ``vllm serve`` shared by perf and eval
    server_down: str | None = None  # why the server cannot be used by later stages
    key: Path | list[Path] | None = None  # the signing key(s) (the seal stage), passphrase(s) (one, or one per key)
    passphrase: bytes | list[bytes] | None = None  # and the public key id(s), comma-separated
    key_id: str | None = None
    formats: tuple[str, ...] = ("html", "md", "junit")  # report formats
    claims: Any = None  # the ClaimsReport, once the claims stage has checked them
    signed: bool = False
    extras: dict[str, Any] = field(default_factory=dict)  # for stages added later: their shared state

    @property
    def bundle(self) -> Bundle:
        return Bundle(self.out)

    def log(self, message: str) -> None:
        self.log_fn(scrub(message))

    def has_stage(self, name: str) -> bool:
        return name in self.manifest.stages

    def set_spec(self, spec: "RunSpec") -> None:
        """Replace the spec (a stage resolved a default) and keep run.json's copy in step."""
        from benchseal.pipeline.spec import public_spec

        self.spec = spec
        self.manifest.spec = public_spec(spec)

    def managed_server(self):
        """One managed ``vllm serve`` for the whole run: the model is loaded once for perf and eval."""
        if self.server is None:
            extra = {"ray_address": self.spec.ray_address} if self.spec.ray_address else {}  # vLLM's Ray executor joins it
            self.server = self.spec.backend.build(self.out, keep_server=True, **extra)
        return self.server

    def server_url(self) -> str | None:
        """The base URL the model is served at (starting the managed server if it is not up yet)."""
        if self.spec.backend.kind != "vllm-serve":
            return getattr(self.spec.backend, "base_url", None)
        import asyncio

        server = self.managed_server()

        async def _up() -> None:
            await server.start()
            await server.close()  # keep_server: only the HTTP client is closed, the server stays

        if not server.running:
            asyncio.run(_up())
        return server.base_url


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` for an unexpected error, at most 300 characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    msg = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return msg if len(msg) <= 300 else msg[:297] + "..."


def scrub_tree(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: scrub_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub_tree(v) for v in obj]
    return scrub(obj) if isinstance(obj, str) else obj


def fmt_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
