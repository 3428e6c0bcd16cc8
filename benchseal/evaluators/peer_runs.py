"""Measured peer runs copied into a bundle (eval/<suite>/peer_runs/<name>/): confined, regular files only,
every score range-checked, the peer bundle's verified signature beside them (issues 21 and 23)."""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from benchseal.schema import EvalReport

PEER_RUNS_DIR = "peer_runs"  # eval/<suite>/peer_runs/<name>/: measured peers copied into the bundle
_PEER_FILES = ("results.json", "lm_eval_results.json")


def _slug(text: str) -> str:
    import re

    base = Path(text.rstrip("/")).name or text
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.")[:60]  # never '.', '..' or a hidden name
    return slug or "peer"


# Metrics whose value is a fraction in [0, 1] (lm-eval's accuracy-like metrics and benchseal's rates);
# a peer score outside its metric's range is refused, as is any score that is not finite.
FRACTION_METRICS = re.compile(r"^(acc|acc_norm|exact_match|em|mc1|mc2|mc3|f1|pass@\d+|pass_at_\d+|"
                              r"refusal_rate.*|answer_rate.*|content_pass_rate|.*_rate|brier_score)$")
NONNEGATIVE_METRICS = re.compile(r"^(.*perplexity|bits_per_byte|bleu.*|rouge.*|ter.*|chrf.*)$")


def check_scores(report: EvalReport, where: str) -> None:
    """Every result's value finite and within its metric's range (a fraction in [0, 1] for
    :data:`FRACTION_METRICS`, not negative for :data:`NONNEGATIVE_METRICS`), its stderr finite and not
    negative, its n not negative; UsageError naming the result otherwise."""
    from benchseal.errors import UsageError

    for r in report.results:
        label = f"{r.task} {r.metric}"
        if not math.isfinite(r.value):
            raise UsageError(f"the peer run's score {label} is {r.value}, not a finite number", where=where)
        if FRACTION_METRICS.match(r.metric) and not 0.0 <= r.value <= 1.0:
            raise UsageError(f"the peer run's score {label} = {r.value:g} is outside [0, 1], the range of {r.metric}",
                             where=where)
        if NONNEGATIVE_METRICS.match(r.metric) and r.value < 0:
            raise UsageError(f"the peer run's score {label} = {r.value:g} is negative", where=where)
        if r.stderr is not None and not (math.isfinite(r.stderr) and r.stderr >= 0):
            raise UsageError(f"the peer run's stderr of {label} is {r.stderr:g}, not a finite non-negative number",
                             where=where)
        if r.n is not None and r.n < 0:
            raise UsageError(f"the peer run's item count of {label} is negative", where=where)


def read_peer_report(folder: Path) -> EvalReport:
    """``folder/results.json`` of a peer run: a regular file, valid, every score range-checked."""
    from benchseal.io import read_json, require_regular_file, validate

    path = require_regular_file(Path(folder) / "results.json", "peer results.json")
    report = validate(EvalReport, read_json(path), where=str(path))
    check_scores(report, str(path))
    return report


PEER_SIGNATURE = "signature.json"  # peer_runs/<name>/signature.json: the peer bundle's verified signature


def copy_peer_run(source: Path, suite: str, suite_dir: Path, signature: dict[str, Any] | None = None) -> str:
    """Copy a peer's run of ``suite`` (a bundle, eval/<suite> folder or results.json) into
    ``suite_dir/peer_runs/<name>/``; returns the folder name. Raises BundleError/UsageError.

    Confined: the destination is a plain folder name under peer_runs/ (a model named '..' cannot
    reach the candidate's own folder); every file copied is a regular file whose real path stays in
    the peer's run folder (a FIFO or a symlink out of it is refused); the scores are range-checked.
    ``signature``: what reports.verify.reference.verify_reference established (written as signature.json)."""
    import shutil

    from pydantic import ValidationError

    from benchseal.errors import UsageError
    from benchseal.evaluators.parity import find_runs
    from benchseal.io import format_validation_error

    try:
        runs = find_runs(source)
    except ValidationError as exc:
        raise UsageError(f"the peer run's results.json is not a benchseal result: {format_validation_error(exc)}",
                         where=str(source)) from None
    src = runs.get(suite)
    if src is None:
        raise UsageError(f"the peer run has no results for suite '{suite}'", where=str(source),
                         hint=f"run `benchseal eval run {suite}` on the peer model (it has: {', '.join(sorted(runs))})")
    peer = read_peer_report(src)
    real_src = src.resolve()
    files = []
    for f in [src / n for n in _PEER_FILES if (src / n).exists() or (src / n).is_symlink()] + sorted(src.glob("samples_*.jsonl")):
        try:
            real = f.resolve(strict=True)
        except (OSError, RuntimeError):
            raise UsageError("a file of the peer run cannot be resolved (dangling link or loop)", where=str(f)) from None
        if real.parent != real_src:
            raise UsageError("a file of the peer run is a symlink that leaves its folder", where=str(f),
                             hint="copy the peer run with its files, not links")
        if not stat.S_ISREG(os.stat(real).st_mode):
            raise UsageError("a file of the peer run is not a regular file (a FIFO, device or socket)", where=str(f))
        files.append(real)
    base = (Path(suite_dir) / PEER_RUNS_DIR)
    name = _slug(peer.model)
    dest = base / name
    if dest.resolve().parent != base.resolve():
        raise UsageError(f"the peer's model name {peer.model[:80]!r} does not give a folder inside {PEER_RUNS_DIR}/",
                         where=str(source))
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for f in files:
        shutil.copyfile(f, dest / f.name)
    if signature:
        from benchseal.io import write_json

        write_json(dest / PEER_SIGNATURE, dict(signature))
    return name


def _items(folder: Path, report: EvalReport) -> dict[tuple[str, str, str], dict[str, float]]:
    from benchseal.evaluators.paired import read_item_scores
    from benchseal.io import read_json

    raw_path = folder / "lm_eval_results.json"
    raw = read_json(raw_path) if raw_path.is_file() else {}
    return {(r.task, r.metric, r.filter): read_item_scores(folder, raw, r.task, r.metric, r.filter)
            for r in report.results if r.headline}
