"""A bundle read once for rendering: the JSON documents as dicts, plus the program and verdicts.

Nothing here reads environment variables; everything shown in a report comes from bundle files
(secrets never reach a bundle, and :func:`redact` drops credential-looking keys from the run
spec as a second guard).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from benchseal import bundle as layout
from benchseal.bundle import Bundle
from benchseal.errors import BenchsealError, BundleError, ConfigError
from benchseal.io import iter_jsonl, read_json
from benchseal.redact import redact

@dataclass
class BundleView:
    root: Path
    run: dict[str, Any]
    hardware: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    perf: dict[str, Any] | None = None
    server_metrics: dict[str, Any] | None = None  # perf/server_metrics.json
    evals: dict[str, dict[str, Any]] = field(default_factory=dict)
    claims: dict[str, Any] | None = None  # ClaimsReport as JSON
    program: Any = None  # benchseal.claims.Program when known

    @property
    def requests_path(self) -> Path | None:
        p = self.root / layout.PERF_REQUESTS
        return p if p.is_file() else None

    @property
    def telemetry_path(self) -> Path | None:
        p = self.root / layout.TELEMETRY_CSV
        return p if p.is_file() else None

    def requests(self) -> Iterator[dict[str, Any]]:
        if self.requests_path is None:
            return iter(())
        try:
            return iter(list(iter_jsonl(self.requests_path)))
        except ConfigError as exc:
            raise BundleError(exc.what, where=str(self.requests_path)) from None

    @property
    def program_id(self) -> str | None:
        if self.program is not None:
            return self.program.id
        if self.claims:
            return self.claims.get("program")
        return self.run.get("program")

    @property
    def spec(self) -> dict[str, Any]:
        return redact(self.run.get("spec") or {})


def load_view(bundle_dir: str | Path, program: Any = None, *, require_run: bool = True) -> BundleView:
    """Read a bundle for rendering. ``program`` (a Program or a name) re-checks claims in memory
    when claims.json is missing or belongs to another program. ``require_run=False`` reads a folder
    that one command wrote alone (``benchseal perf --out``: perf/ without run.json)."""
    from benchseal.claims import check, load_evidence, load_program

    root = Path(bundle_dir)
    if not root.is_dir():
        raise BundleError("bundle folder not found", where=str(root), hint="pass the folder a run wrote")
    bundle = Bundle(root)
    if require_run and not bundle.has(layout.RUN_JSON):
        raise BundleError("not a benchseal bundle: run.json is missing", where=str(root), hint="pass the folder a run wrote")
    view = BundleView(root=root, run=bundle.raw(layout.RUN_JSON) or {})
    for attr, rel in (("hardware", layout.HARDWARE_JSON), ("model", layout.MODEL_JSON), ("perf", layout.PERF_SUMMARY), ("claims", layout.CLAIMS_JSON),
                      ("server_metrics", layout.PERF_SERVER_METRICS)):
        setattr(view, attr, bundle.raw(rel))
    view.evals = {suite: bundle.raw(f"{layout.EVAL_DIR}/{suite}/{layout.EVAL_RESULTS}") for suite in bundle.eval_suites()}
    if isinstance(program, str):
        program = load_program(program)
    if program is not None:
        view.program = program
        if view.claims is None or view.claims.get("program") != program.id:
            view.claims = check(program, load_evidence(root)).model_dump(mode="json")
    elif view.program_id:
        try:
            view.program = load_program(view.program_id)
        except BenchsealError:
            view.program = None  # a program not shipped with this installation: render from claims.json
    return view
