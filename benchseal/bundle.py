"""The evidence bundle: the names of its files (one directory per run) and :class:`Bundle`, the typed
reader used by the pipeline, the reports and verify. See docs/bundle.md."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

RUN_JSON = "run.json"
HARDWARE_JSON = "hardware.json"
MODEL_JSON = "model.json"
PERF_DIR = "perf"
PERF_REQUESTS = "perf/requests.jsonl"
PERF_SUMMARY = "perf/summary.json"
PERF_SERVER_LOG = "perf/server.log"
PERF_SERVER_SCRAPES = "perf/server_scrapes.jsonl"  # raw /metrics scrapes, one JSON line each
PERF_SERVER_METRICS = "perf/server_metrics.json"  # server-side figures derived from them
PERF_AUDITS = "perf/audits.jsonl"  # audit probe rows and skipped audits (bench.perf.audits)
TELEMETRY_CSV = "telemetry.csv"
TELEMETRY_DIR = "telemetry"  # telemetry/<node>.csv and nodes.json of a multi-node (--ray-address) run
EVAL_DIR = "eval"  # eval/<suite>/results.json, eval/<suite>/samples_<task>.jsonl
EVAL_RESULTS = "results.json"
CLAIMS_JSON = "claims.json"
LIGHTWEIGHT_DIR = "lightweight"  # --lightweight-of: the light run against the full model's bundle
LIGHTWEIGHT_JSON = "lightweight/lightweight.json"
PROGRAM_JSON = "program.json"  # the resolved program whose claims were checked (thresholds included)
LM_EVAL_RESULTS = "lm_eval_results.json"  # eval/<suite>/ raw lm-eval results
STATEMENT_JSON = "statement.json"
STATEMENT_DSSE = "statement.dsse.json"
TEST_RESULT_DSSE = "test-result.dsse.json"  # the in-toto test-result statement, signed after statement.json
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
JUNIT_XML = "junit.xml"
PLOTS_DIR = "plots"

# Files that are outputs of signing/rendering and therefore not subjects of the statement.
NOT_SUBJECTS = frozenset({STATEMENT_JSON, STATEMENT_DSSE, TEST_RESULT_DSSE})


class Bundle:
    """One evidence bundle: its root and a typed reader per file (see docs/bundle.md).

    Every reader validates the file into its schema model (a damaged or tampered file raises
    :class:`~benchseal.errors.BundleError` naming it); ``raw`` readers return the JSON as stored, for
    re-derivation and rendering. Nothing here writes: stages write their own files through
    :mod:`benchseal.io`'s one atomic write.
    """

    def __init__(self, root: "str | os.PathLike[str]") -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Bundle({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------------
    def path(self, rel: str) -> Path:
        return self.root / rel

    def has(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def eval_suites(self) -> list[str]:
        """Names of the eval/<suite>/ folders that hold a results.json, sorted."""
        d = self.root / EVAL_DIR
        return sorted(p.parent.name for p in d.glob(f"*/{EVAL_RESULTS}")) if d.is_dir() else []

    # -- raw JSON --------------------------------------------------------------------------------
    def raw(self, rel: str) -> Any:
        """The JSON document ``rel`` as stored, or None when the bundle has no such file."""
        from benchseal.errors import BundleError, ConfigError
        from benchseal.io import read_json

        p = self.root / rel
        if not p.is_file():
            return None
        try:
            return read_json(p)
        except (ConfigError, ValueError) as exc:
            raise BundleError(f"{rel} is not valid JSON ({exc})", where=str(p),
                              hint="the bundle file is damaged; re-run the stage that wrote it") from None

    def _typed(self, model: type, rel: str) -> Any:
        from benchseal.errors import BundleError, ConfigError
        from benchseal.io import validate

        data = self.raw(rel)
        if data is None:
            return None
        try:
            return validate(model, data, where=rel)
        except ConfigError as exc:
            raise BundleError(exc.what, where=str(self.root / rel), hint="the bundle file is damaged or from another tool") from None

    # -- typed readers (None when the stage did not write the file) ------------------------------
    def run(self):
        from benchseal.schema import RunManifest

        return self._typed(RunManifest, RUN_JSON)

    def hardware(self):
        from benchseal.schema import HardwareReport

        return self._typed(HardwareReport, HARDWARE_JSON)

    def model(self):
        from benchseal.schema import ModelCard

        return self._typed(ModelCard, MODEL_JSON)

    def perf(self):
        from benchseal.schema import PerfReport

        return self._typed(PerfReport, PERF_SUMMARY)

    def requests(self) -> "Iterator[Any]":
        """Every request record of perf/requests.jsonl, validated, in file order."""
        from benchseal.io import iter_jsonl
        from benchseal.schema import RequestRecord

        p = self.root / PERF_REQUESTS
        if not p.is_file():
            return iter(())
        return (RequestRecord.model_validate(r) for r in iter_jsonl(p))

    def claims(self):
        from benchseal.schema import ClaimsReport

        return self._typed(ClaimsReport, CLAIMS_JSON)

    def eval(self, suite: str):
        from benchseal.schema import EvalReport

        return self._typed(EvalReport, f"{EVAL_DIR}/{suite}/{EVAL_RESULTS}")

    def telemetry_csv(self) -> Path | None:
        p = self.root / TELEMETRY_CSV
        return p if p.is_file() else None
