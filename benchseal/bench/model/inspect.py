"""The model card of a run (model.json): parameter counts by every available method, the
discrepancies between them with their known causes, the full config.json, and file digests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from benchseal.bench.model.params import COMPONENTS, count_all, headline
from benchseal.bench.model.files import finite_json, resolve
from benchseal.schema import ModelCard, ParamCount


def _explain(weights: ParamCount) -> list[str]:
    causes = []
    if weights.quantization:
        causes.append(f"the checkpoint is quantised ({weights.quantization}); packed tensors were unpacked to logical "
                      "parameters and scale tensors dropped, so a difference points at an unknown packing or extra scale tensors")
    if weights.method == "gguf":
        causes.append("GGUF converters may drop, merge or add tensors (e.g. rotary tables, fused QKV)")
    causes.append("known causes: extra tensors stored beside the model (multi-token-prediction heads, vision towers, "
                  "adapters), weights the checkpoint leaves out for tying, or a config.json that does not match the weights")
    return causes


def not_built_note(pc: ParamCount) -> list[str]:
    """One line naming the stored weights the architecture does not build (never counted), or nothing; or the
    line saying that more is stored than the architecture has and the extra could not be told apart."""
    unclear = [n for n in pc.notes if n.startswith("the stored total (")]
    if not pc.not_built:
        return [f"not_built: {unclear[0]}"] if unclear else []
    n = sum(u.elements for u in pc.not_built)
    names = ", ".join(f"{u.name} ({u.elements:,})" for u in pc.not_built[:5])
    more = f" and {len(pc.not_built) - 5} more" if len(pc.not_built) > 5 else ""
    return [f"not_built: {n:,} stored elements that the architecture does not build are not counted: {names}{more} "
            f"(params.not_built gives each with the reason)"]


def compare(counts: dict[str, ParamCount]) -> list[str]:
    """Human-readable differences between the weight count and the config-meta count (empty when they agree),
    and the stored weights the architecture does not build (never counted), which a claim must be able to name."""
    weights = next((counts[m] for m in ("safetensors-header", "gguf", "pickle") if m in counts), None)
    return (not_built_note(weights) if weights is not None else []) + _compare(counts)


def _compare(counts: dict[str, ParamCount]) -> list[str]:
    meta = counts.get("config-meta")
    weights = next((counts[m] for m in ("safetensors-header", "gguf", "pickle") if m in counts), None)
    if meta is None or weights is None:
        return []
    out = []
    for field in ("total", "active"):
        a, b = getattr(weights, field), getattr(meta, field)
        if a != b:
            pct = 100.0 * (a - b) / b if b else float("inf")
            out.append(f"{field}: {weights.method} counts {a:,} but config-meta counts {b:,} (difference {a - b:+,}, {pct:+.3f}%)")
    if not out:
        return []
    for comp in COMPONENTS:
        a, b = weights.breakdown.get(comp, 0), meta.breakdown.get(comp, 0)
        if a != b:
            out.append(f"component {comp}: {weights.method} {a:,} vs config-meta {b:,} ({a - b:+,})")
    return out + _explain(weights)


def inspect_model(path: str | os.PathLike, *, trust_remote_code: bool = False, allow_pickle: bool = False,
                  with_digests: bool = True, progress: bool | Callable[[int, int], None] = False,
                  cross_check: bool = True) -> ModelCard:
    """Count parameters, digest the files, and return the model card.

    ``cross_check``: also count from config.json on the meta device (imports torch/transformers) and
    report any disagreement with the weights; without weights the config count is made regardless.
    ``progress``: a callback ``(bytes_done_increment, total_bytes)`` for the digest, or False.
    """
    mf = resolve(Path(path))
    counts, skipped = count_all(mf, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle,
                                cross_check=cross_check)
    head = headline(counts).model_copy(deep=True)
    head.notes.extend(mf.notes + skipped)
    files, md = [], None
    if with_digests:
        from benchseal.bench.model.digest import digest_model

        files, md = digest_model(path, progress=progress)
    config, non_finite = finite_json(mf.config or {})
    if non_finite:
        head.notes.append(f"config.json holds non-finite numbers at {', '.join(non_finite[:8])} (read as Python's json and "
                          "transformers read them; stored in model.json as the strings 'Infinity' / '-Infinity' / 'NaN')")
    return ModelCard(
        source=str(path),
        architecture=head.architecture,
        model_type=config.get("model_type") if isinstance(config.get("model_type"), str) else head.architecture,
        dtype=head.dtype,
        params=head,
        params_by_method=counts,
        discrepancies=compare(counts),
        config=config,
        files=files,
        model_digest=md,
    )
