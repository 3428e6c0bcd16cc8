"""``recompute:eval-items``: every stored evaluation sample is an item of the data manifest the suite
names (docs/evaluation.md, "Hermetic data").

For each ``eval/<suite>/`` with per-sample logs: the recorded data manifest (``manifest.json``)
hashes to the combined sha256 that ``results.json`` names; each dataset's recorded MANIFEST content
hashes to its recorded sha256 (so the row digests in it are the pinned ones); and
:func:`benchseal.evaluators.items.item_check` — the function the run used — finds every sample's
document to be the row of that file with the same content hash, and the counts equal lm-eval's.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.io import dumps
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, not_rederived, passed, skipped


def _manifest_problems(manifest: dict[str, Any], results: dict[str, Any] | None) -> list[str]:
    from benchseal.evaluators.datasets import canonical_sha256

    out = []
    datasets = manifest.get("datasets") or {}
    for name, d in datasets.items():
        content = d.get("manifest")
        if not isinstance(content, dict):
            out.append(f"dataset {name}: its manifest content is not recorded")
            continue
        sha = hashlib.sha256((dumps(content, indent=2) + "\n").encode("utf-8")).hexdigest()
        if sha != d.get("manifest_sha256"):
            out.append(f"dataset {name}: the recorded manifest content does not hash to the recorded manifest sha256")
    hashed = {k: v.get("manifest_sha256") for k, v in datasets.items()}
    hashed |= {f"metric:{k}": v.get("manifest_sha256") for k, v in (manifest.get("metrics") or {}).items()}
    if canonical_sha256(dict(sorted(hashed.items()))) != manifest.get("sha256"):
        out.append("the combined data manifest sha256 is not the one its datasets' manifests give")
    if results is not None and results.get("data_manifest_sha256") != manifest.get("sha256"):
        out.append("results.json names another data manifest than manifest.json")
    return out


class EvalItemsCheck:
    """Stored samples against the data manifest's rows (count, id, content hash)."""

    name = "recompute:eval-items"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.evaluators.items import ITEMS_JSON, item_check, read_samples

        root = ctx.path(layout.EVAL_DIR)
        dirs = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        checked = 0
        for d in dirs:
            samples = read_samples(d)
            rel = f"{layout.EVAL_DIR}/{d.name}"
            items_path, manifest_path = d / ITEMS_JSON, d / "manifest.json"
            results = ctx.json(f"{rel}/{layout.EVAL_RESULTS}")
            bound = manifest_path.is_file() or items_path.is_file() or bool((results or {}).get("data_manifest_sha256"))
            if not bound or (not samples and not items_path.is_file()):
                continue  # not evaluated from a data manifest (refusal and safety banks have their own checks)
            checked += 1
            if not items_path.is_file():
                yield failed(self.name, f"{rel}: {len(samples)} task(s) have samples but {ITEMS_JSON} is missing, so "
                                        "nothing ties them to the data manifest")
                continue
            if not manifest_path.is_file():
                yield failed(self.name, f"{rel}: manifest.json is missing")
                continue
            manifest = ctx.json(f"{rel}/manifest.json")
            raw = ctx.json(f"{rel}/{layout.LM_EVAL_RESULTS}")
            problems = _manifest_problems(manifest, results)
            more, limits = item_check(ctx.json(f"{rel}/{ITEMS_JSON}"), samples, manifest, raw)
            problems += more
            if problems:
                yield failed(self.name, f"{rel}: " + "; ".join(problems[:4]) + (f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""))
            elif limits:
                yield not_rederived(self.name, f"{rel}: " + "; ".join(limits[:3]))
            else:
                n = sum(len(v) for v in samples.values())
                yield passed(self.name, f"{rel}: {n} sample(s) of {len(samples)} task(s) are items of the data manifest "
                                        "(id and content hash)")
        if not checked:
            yield skipped(self.name, "no evaluation samples in the bundle")
