"""Funding-program profiles: configs/programs/<id>.yaml validated into :class:`Program`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, model_validator

from benchseal.errors import ConfigError
from benchseal.io import load_yaml, validate
from benchseal.config import config_dir, config_files, config_path
from benchseal.schema import Claim, Strict

from .paths import parse

Stage = Literal["hw", "model", "perf", "eval"]

# First segment of a metric path -> the pipeline stage that produces it.
STAGE_OF_ROOT: dict[str, str] = {"hardware": "hw", "model": "model", "perf": "perf", "eval": "eval",
                                  "lightweight": "perf"}  # lightweight.json compares perf runs (+ model, parity)
NUMERIC_OPS = frozenset({">=", ">", "<=", "<"})


class OutOfScope(Strict):
    """Something the program asks for that benchseal cannot measure; listed in every report."""

    zh: str
    en: str
    reason: str


# A program id names a file (configs/programs/<id>.yaml) and appears in reports: letters, digits,
# '.', '_' and '-', starting with a letter or digit; no path separator, no '..', not empty.
PROGRAM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


MAX_THRESHOLD = 1e30  # above every count (parameters beyond 2^53 included), size, time or rate a claim compares
MAX_RESAMPLES = 1_000_000  # a comparison rule's bootstrap resamples (10,000 is the default)
_SIGNED = ("delta", "diff", "overhead", "margin", "change")


def threshold_problem(metric: str, value: Any) -> str | None:
    """Why a numeric threshold cannot mean anything for ``metric`` (None when it can): not finite,
    beyond :data:`MAX_THRESHOLD`, negative for a quantity that cannot be negative (every metric but a
    difference: ``delta``/``diff``/``overhead``/``margin``), above 1 for a fraction (an accuracy-like
    eval metric, a ``*_rate``, ``mfu``/``mbu``). Documented in docs/claims.md."""
    import math
    import re

    from benchseal.evaluators.peers import FRACTION_METRICS

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    if not math.isfinite(v):
        return "is not a finite number"
    if abs(v) > MAX_THRESHOLD:
        return f"is beyond {MAX_THRESHOLD:g}, which no measured quantity reaches"
    tail = re.split(r"[.\[\]|]", metric.lower())
    if v < 0 and not any(s in metric.lower() for s in _SIGNED):
        return f"is negative, and {metric} cannot be"
    m = re.search(r"metric=([^,\]]+)", metric)
    fraction = (m is not None and FRACTION_METRICS.match(m.group(1).strip()) is not None) or any(
        t.endswith("_rate") or t in ("mfu", "mbu") for t in tail if t)
    if fraction and v > 1:
        return f"is above 1, and {metric} is a fraction from 0 to 1"
    return None


class Program(Strict):
    id: str = Field(pattern=PROGRAM_ID_PATTERN)
    name_zh: str
    name_en: str
    source_url: str | None = None
    version: str
    description: str | None = None
    template: bool = False  # thresholds are set by the applicant (copy the file and edit them)
    stages: list[Stage] = Field(default_factory=lambda: ["hw", "model", "perf", "eval"])
    eval_suites: list[str] = Field(default_factory=list)
    external_suites: list[str] = Field(default_factory=list)  # eval/<name>/results.json written by other commands
    workload: str | None = None  # name in configs/workloads
    max_failed_fraction: float = Field(default=0.01, ge=0, le=1)  # perf: INCONCLUSIVE above this
    claims: list[Claim] = Field(min_length=1)
    out_of_scope: list[OutOfScope] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> "Program":
        if ".." in self.id:
            raise ValueError(f"program id {self.id!r} contains '..'")
        seen: set[str] = set()
        for c in self.claims:
            if c.id in seen:
                raise ValueError(f"claim id {c.id!r} appears twice")
            seen.add(c.id)
            try:
                mp = parse(c.metric)
            except ConfigError as exc:
                raise ValueError(f"claim {c.id!r}: {exc.what}") from None
            if c.op in NUMERIC_OPS and (isinstance(c.threshold, (bool, str)) or c.threshold is None):
                raise ValueError(f"claim {c.id!r}: operator {c.op} needs a numeric threshold")
            if c.op in NUMERIC_OPS:
                why = threshold_problem(c.metric, c.threshold)
                if why:
                    raise ValueError(f"claim {c.id!r}: threshold {c.threshold!r} {why}")
            if c.max_failed_fraction is not None and not 0 <= c.max_failed_fraction <= 1:
                raise ValueError(f"claim {c.id!r}: max_failed_fraction must be a fraction from 0 to 1")
            rule = c.comparison_rule
            if rule is not None and not (rule.margin_pp <= 100 and rule.resamples <= MAX_RESAMPLES):
                raise ValueError(f"claim {c.id!r}: comparison_rule needs margin_pp from 0 to 100 points and at most "
                                 f"{MAX_RESAMPLES:,} resamples")
            if c.op == "==" and c.threshold is None:
                raise ValueError(f"claim {c.id!r}: operator == needs a threshold")
            stage = c.stage or STAGE_OF_ROOT.get(mp.root)
            if stage is None:
                raise ValueError(f"claim {c.id!r}: metric {c.metric!r} starts with {mp.root!r}, which no stage produces")
            if stage not in self.stages:
                raise ValueError(f"claim {c.id!r} needs stage {stage!r}, which is not in the program's stages")
            if c.requires_judge and mp.root != "eval":
                raise ValueError(f"claim {c.id!r}: requires_judge applies to eval results only, not {mp.root!r}")
            if mp.root == "eval" and mp.key_at(1) not in self.eval_suites + self.external_suites:
                raise ValueError(f"claim {c.id!r} reads eval suite {mp.key_at(1)!r}, which is not in eval_suites or external_suites")
            if c.threshold_floor is not None and not c.applicant_sets:
                raise ValueError(f"claim {c.id!r}: threshold_floor applies to applicant_sets claims only")
            if c.threshold_floor is not None and c.op not in NUMERIC_OPS:
                raise ValueError(f"claim {c.id!r}: threshold_floor needs a numeric operator, not {c.op}")
            if c.threshold_floor is not None and (why := floor_violation(c, c.threshold)):
                raise ValueError(f"claim {c.id!r}: {why}")
        required = {c.severity for c in self.claims if "metric=refusal_rate_should_refuse" in c.metric.replace(" ", "")}
        over = [c for c in self.claims if "metric=over_refusal_rate" in c.metric.replace(" ", "")]
        if "required" in required and not any(c.severity == "required" for c in over):
            # a model that refuses everything reaches any refusal rate; only the over-refusal rate catches it
            raise ValueError("a required refusal-rate claim needs a required over-refusal claim "
                             "(eval.refusal.results[task=refusal,metric=over_refusal_rate].value) beside it")
        return self

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise ConfigError(f"program {self.id} has no claim {claim_id!r}", hint="see `benchseal programs show " + self.id + "`")


def floor_violation(claim: Claim, value: Any) -> str | None:
    """Why ``value`` is below the program's floor for ``claim`` (less demanding than it accepts), or None."""
    floor = claim.threshold_floor
    if floor is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if claim.op in (">=", ">") and value < floor:
        return f"threshold {value:g} is below the program's floor {floor:g} for {claim.op}"
    if claim.op in ("<=", "<") and value > floor:
        return f"threshold {value:g} is above the program's ceiling {floor:g} for {claim.op}"
    return None


def check_thresholds(prog: "Program", thresholds: Mapping[str, Any]) -> None:
    """Refuse (ConfigError, exit 2) a threshold the program does not let the applicant set: every
    claim of a non-template program, a claim without ``applicant_sets``, or a value beyond its floor."""
    for cid, value in thresholds.items():
        c = prog.claim(cid)  # raises for unknown ids
        if not prog.template or not c.applicant_sets:
            raise ConfigError(f"the threshold of claim {cid!r} is fixed by program {prog.id}",
                              hint="--threshold sets only the applicant-set KPIs of a template program (`benchseal programs show "
                                   f"{prog.id}` marks them); the program's own thresholds are not the applicant's to choose")
        if (why := floor_violation(c, value)) is not None:
            raise ConfigError(f"claim {cid!r}: {why}", hint="the program states the least demanding threshold it accepts")


def programs_dir() -> Path:
    return config_dir() / "programs"


def _from_file(path: Path, thresholds: Mapping[str, Any] | None) -> Program:
    data = load_yaml(path, strict=True)  # duplicate keys and YAML 1.1 forms (1:30, yes, 0777) refused
    if not isinstance(data, dict):
        raise ConfigError("a program file must be a YAML mapping", where=str(path), hint="see docs/claims.md")
    prog = validate(Program, data, where=str(path))
    if thresholds:
        claims = []
        check_thresholds(prog, thresholds)
        for c in prog.claims:
            claims.append(c.model_copy(update={"threshold": thresholds[c.id], "threshold_text": None}) if c.id in thresholds else c)
        prog = validate(Program, {**prog.model_dump(), "claims": [c.model_dump() for c in claims]}, where=f"{path} (thresholds)")
    return prog


def load_program(name_or_path: str | Path, *, thresholds: Mapping[str, Any] | None = None) -> Program:
    """Load a program by id (configs/programs/<id>.yaml) or by path to a YAML file.

    ``thresholds`` ({claim id: value}) overrides thresholds, e.g. for KPI templates.
    """
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith((".yaml", ".yml")) or path.is_file()):
        import re

        if not re.fullmatch(PROGRAM_ID_PATTERN, text) or ".." in text:
            raise ConfigError(f"{text!r} is neither a program id nor a program file",
                              hint="give a program id (letters, digits, '.', '_', '-') or the path to a program YAML")
        path = config_path("programs", f"{text}.yaml")
        if not path.is_file():
            known = ", ".join(p.stem for p in config_files("programs")) or "none"
            raise ConfigError(f"unknown program {text!r}", hint=f"known programs: {known}; or pass the path to a program YAML")
    elif not path.is_file():
        raise ConfigError("program file not found", where=str(path))
    return _from_file(path, thresholds)


def list_programs() -> list[Program]:
    """Every program in configs/programs, sorted by id."""
    return [_from_file(p, None) for p in config_files("programs")]
