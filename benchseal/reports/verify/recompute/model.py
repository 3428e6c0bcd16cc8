"""Re-derived model identity: the model digest, the parameter counts and (with --model) the files themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.bench.model.digest import check_digests, model_digest
from benchseal.bench.model.inspect import inspect_model
from benchseal.reports.verify.files import safe_relpath
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, not_rederived, passed, skipped
from benchseal.reports.verify.recompute.common import _compare, _Recompute


class ModelDigestCheck(_Recompute):
    """model.json's model_digest recomputed from its per-file sha256 list."""

    name = "recompute:model-digest"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:

        if not ctx.path(layout.MODEL_JSON).is_file():
            yield skipped(self.name, f"no {layout.MODEL_JSON} in the bundle")
            return
        card = ctx.bundle.model()
        if card.model_digest is None and not card.files:
            yield skipped(self.name, "model.json has no file digests")
            return
        if card.model_digest is None or not card.files:
            yield failed(self.name, "model.json has a model digest without file digests (or the reverse)")
            return
        fresh = model_digest(card.files)
        if fresh != card.model_digest:
            yield failed(self.name, f"{layout.MODEL_JSON}: model_digest: stored {card.model_digest}, recomputed from files {fresh}")
        else:
            yield passed(self.name, f"model digest matches {len(card.files)} file digests")


class ModelCountsCheck(_Recompute):
    """model.json's parameter counts agree with themselves (total = sum of the breakdown, embedding
    and non-embedding split, active <= total, the headline = its method's count). Without the
    weights (``verify --model DIR``) the counts themselves are listed as not re-derived."""

    name = "model-counts"

    def __init__(self, with_model: bool = False) -> None:
        self.with_model = with_model

    @staticmethod
    def _problems(where: str, pc: Any) -> list[str]:
        out = []
        if pc.breakdown and sum(pc.breakdown.values()) != pc.total:
            out.append(f"{where}: total {pc.total:,} is not the sum of its breakdown ({sum(pc.breakdown.values()):,})")
        if pc.breakdown and pc.embedding != pc.breakdown.get("embedding", 0) + pc.breakdown.get("lm_head", 0):
            out.append(f"{where}: embedding {pc.embedding:,} is not breakdown embedding + lm_head")
        if pc.non_embedding != pc.total - pc.embedding:
            out.append(f"{where}: non_embedding {pc.non_embedding:,} is not total - embedding")
        if not 0 <= pc.active <= pc.total:
            out.append(f"{where}: active {pc.active:,} is not between 0 and total {pc.total:,}")
        if any(v < 0 for v in (pc.total, pc.embedding, *pc.breakdown.values())):
            out.append(f"{where}: a count is negative")
        return out

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        if not ctx.path(layout.MODEL_JSON).is_file():
            yield skipped(self.name, f"no {layout.MODEL_JSON} in the bundle")
            return
        card = ctx.bundle.model()
        problems = self._problems("params", card.params)
        for method, pc in sorted(card.params_by_method.items()):
            problems += self._problems(f"params_by_method.{method}", pc)
            if pc.method != method:
                problems.append(f"params_by_method.{method} says method {pc.method!r}")
        same = card.params_by_method.get(card.params.method)
        if same is not None and same.model_dump() != card.params.model_dump():
            problems.append(f"params differs from params_by_method.{card.params.method}")
        if problems:
            yield failed(self.name, f"{layout.MODEL_JSON}: " + "; ".join(problems[:5]))
            return
        yield passed(self.name, f"{card.params.total:,} parameters: total, breakdown, embedding and active agree")
        if not self.with_model:
            yield not_rederived("model-files", f"the parameter counts ({card.params.total:,}, {card.params.method}) and "
                                f"the {len(card.files)} weight file digests in {layout.MODEL_JSON} were not re-derived "
                                "from the weights: pass --model DIR to recount and re-hash them")


class ModelFilesCheck(_Recompute):
    """With the model's files at hand (``verify --model DIR``): every file's sha256 and the model
    digest as model.json records them, and the parameter count recounted from the weights."""

    name = "model-files"

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:

        if not ctx.path(layout.MODEL_JSON).is_file():
            yield failed(self.name, f"--model was given but the bundle has no {layout.MODEL_JSON} to check it against")
            return
        card = ctx.bundle.model()
        root = self.model_dir.parent if self.model_dir.is_file() else self.model_dir
        escaping = [f.path for f in card.files if not safe_relpath(f.path)
                    or not (root / f.path).resolve().is_relative_to(root.resolve())]
        if escaping:  # never read a file outside the model directory because model.json names it
            yield failed(f"{self.name}:digests", f"{layout.MODEL_JSON} lists files outside the model directory "
                                                 f"(not read): {', '.join(repr(p) for p in escaping[:5])}")
            return
        problems = check_digests(self.model_dir, ctx.path(layout.MODEL_JSON))
        yield (failed(f"{self.name}:digests", f"{self.model_dir}: " + "; ".join(problems[:5]))
               if problems else passed(f"{self.name}:digests", f"all {len(card.files)} files of {self.model_dir} match "
                                                               f"model.json (model digest {card.model_digest})"))
        fresh = inspect_model(self.model_dir, with_digests=False).params
        keys = ("total", "active", "embedding", "non_embedding", "method")
        yield _compare(f"{self.name}:params", f"{layout.MODEL_JSON}: params",
                       {k: getattr(card.params, k) for k in keys}, {k: getattr(fresh, k) for k in keys},
                       f"{card.params.total:,} parameters recounted from the weights ({fresh.method})")
