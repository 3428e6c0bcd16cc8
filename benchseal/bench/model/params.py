"""Parameter counting: from safetensors headers, GGUF headers, pickles (opt-in), or config alone.

Every count goes through :func:`benchseal.bench.model.rules.tally`, so the component rules (embedding,
lm_head, attention, mlp, experts, shared_experts, router, norms, vision, audio, other), the tied-embedding
rule, the MTP rule, the MoE active rule and the quantisation rules are the same whatever the source.
Definitions: docs/metrics.md, docs/model-inspection.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchseal.bench.model.files import CONVERT_HINT, ModelFiles, read_config, resolve
from benchseal.bench.model.rules import (  # noqa: F401  (re-exported: the public counting rules)
    COMPONENTS, CONVENTIONS, DTYPE_NAMES, architecture_name, classify, finish, moe_shape, tally, text_config,
)
from benchseal.errors import ModelFormatError, UsageError
from benchseal.schema import ParamCount


def _extra_quant_config(mf: ModelFiles) -> dict[str, Any] | None:
    p = mf.root / "quantize_config.json"  # AutoGPTQ's file
    if p.is_file():
        return read_config(p)
    p = mf.root / "hf_quant_config.json"  # NVIDIA modelopt's file: {"quantization": {"quant_algo": "NVFP4", ...}}
    if p.is_file():
        q = read_config(p).get("quantization")
        return {"quant_method": "modelopt", **q} if isinstance(q, dict) else None
    return None


def unused_rule(config: dict[str, Any] | None) -> Any:
    """The rule that leaves out stored tensors the architecture does not build (bench/model/unused.py)."""
    from benchseal.bench.model.params_config import architecture_tensors
    from benchseal.bench.model.rules import NON_PARAMETER_BUFFERS
    from benchseal.bench.model.unused import ModuleTree, UnusedRule

    found = architecture_tensors(config)
    n = text_config(config).get("num_hidden_layers")
    return UnusedRule(architecture_name(config), ModuleTree(n for n, _ in found) if found else None,
                      n if isinstance(n, int) and not isinstance(n, bool) else None,
                      # the total the rules can count: a persistent inv_freq (ChatGLM's) is created but not counted
                      sum(k for name, k in found if not name.endswith(NON_PARAMETER_BUFFERS)) if found else None)


def count_safetensors(mf: ModelFiles) -> ParamCount:
    from benchseal.bench.model.safetensors_io import read_checkpoint

    files = read_checkpoint(mf.root, mf.safetensors, mf.safetensors_index)
    names = [t.name for f in files for t in f.tensors]
    items = ((t.name, t.dtype, t.numel) for f in files for t in f.tensors)
    where = str(mf.root / (mf.safetensors_index or (mf.safetensors[0] if mf.safetensors else "")))
    pc = tally(items, mf.config, method="safetensors-header", where=where, architecture=architecture_name(mf.config),
               names=names, quant_config=_extra_quant_config(mf), unused=unused_rule(mf.config))
    pc.notes.insert(0, f"counted from the headers of {len(files)} safetensors file(s); no tensor data read")
    return pc


def count_gguf(mf: ModelFiles) -> ParamCount:
    from benchseal.bench.model.gguf_io import read_gguf

    g = read_gguf(mf.root / mf.gguf)  # type: ignore[operator]
    arch = g.architecture
    cfg: dict[str, Any] = {}
    for key, field in (("expert_count", "num_local_experts"), ("expert_used_count", "num_experts_per_tok")):
        v = g.metadata.get(f"{arch}.{key}")
        if isinstance(v, int) and v > 0:
            cfg[field] = v
    items = [(t.name, t.ggml_type, t.numel) for t in g.tensors]
    pc = tally(items, cfg, method="gguf", where=str(g.path), architecture=arch, names=[t.name for t in g.tensors],
               dtype_names={})
    ftype = g.metadata.get("general.file_type")
    pc.notes.insert(0, f"counted from the GGUF v{g.version} header: logical elements of {len(g.tensors)} tensors "
                       f"(quantised blocks expand to their element count){'; general.file_type=' + str(ftype) if ftype is not None else ''}")
    return pc


def count_pickle(mf: ModelFiles, *, allow_pickle: bool) -> ParamCount:
    first = mf.root / mf.pickles[0]
    if not allow_pickle:
        raise UsageError("the weights are pickled PyTorch files, which benchseal does not unpickle by default",
                         where=str(first), hint=CONVERT_HINT)
    from benchseal.errors import require

    torch = require("torch", "hf", "reading pickled weights")
    items: list[tuple[str, str, int]] = []
    seen: set[int] = set()
    for f in mf.pickles:
        try:
            sd = torch.load(mf.root / f, map_location="meta", weights_only=True, mmap=True)
        except Exception as exc:  # torch raises many types for corrupt or unsafe pickles
            raise ModelFormatError(f"cannot read pickled weights with torch.load(weights_only=True): {str(exc).splitlines()[0]}",
                                   where=str(mf.root / f), hint=CONVERT_HINT) from None
        if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
            sd = sd["state_dict"]
        if not isinstance(sd, dict):
            raise ModelFormatError("pickled file is not a state dict (name -> tensor)", where=str(mf.root / f))
        for name, t in sd.items():
            if not isinstance(t, torch.Tensor) or id(t) in seen:
                continue
            seen.add(id(t))
            items.append((str(name), str(t.dtype).removeprefix("torch."), t.numel()))
    pc = tally(items, mf.config, method="pickle", where=str(first), architecture=architecture_name(mf.config),
               names=[i[0] for i in items], dtype_names={}, unused=unused_rule(mf.config))
    pc.notes.insert(0, f"counted from {len(mf.pickles)} pickled file(s) loaded with torch.load(weights_only=True) onto the meta device")
    return pc


def count_all(mf: ModelFiles, *, trust_remote_code: bool = False, allow_pickle: bool = False,
              cross_check: bool = False) -> tuple[dict[str, ParamCount], list[str]]:
    """Every count asked for, by method, plus notes on counts that could not be made.

    Weights (safetensors or GGUF headers, or opt-in pickles) are counted when present; the config count
    (method ``config-meta``) is made only when ``cross_check`` is asked for, when there are no weights, or
    when the weights cannot be counted (e.g. an unknown quantisation packing) and config.json can stand in
    for them. It is made by arithmetic on config.json (no torch) when
    :mod:`benchseal.bench.model.analytic` understands the config, else by transformers on the meta device;
    ``cross_check`` always builds the meta-device model (imports torch) and compares the two.
    """
    from benchseal.bench.model.quant import UnsupportedQuantisation

    counts: dict[str, ParamCount] = {}
    skipped: list[str] = []
    try:
        if mf.safetensors or mf.safetensors_index:
            counts["safetensors-header"] = count_safetensors(mf)
        elif mf.gguf:
            counts["gguf"] = count_gguf(mf)
        elif mf.pickles:
            counts["pickle"] = count_pickle(mf, allow_pickle=allow_pickle)
    except UnsupportedQuantisation as exc:
        if mf.config is None:
            raise
        skipped.append(f"weights not counted ({exc.message}); the count is from config.json instead (the "
                       "architecture's logical parameters, which the quantised weights store in packed form)")
    if mf.config is not None and (cross_check or not counts):
        from benchseal.bench.model.params_config import RemoteCodeRefused, count_from_config

        try:
            counts["config-meta"] = count_from_config(mf.config, root=mf.root, trust_remote_code=trust_remote_code,
                                                      meta=cross_check)
        except (RemoteCodeRefused, ModelFormatError) as exc:
            if not counts:
                raise
            skipped.append(f"config-meta count not made: {exc.message}")
    return counts, skipped


def headline(counts: dict[str, ParamCount]) -> ParamCount:
    for method in ("safetensors-header", "gguf", "pickle", "config-meta"):
        if method in counts:
            return counts[method]
    raise ModelFormatError("no parameter count could be made")  # pragma: no cover - resolve() guarantees a source


def count_params(path: str | os.PathLike, *, trust_remote_code: bool = False, allow_pickle: bool = False,
                 cross_check: bool = False) -> ParamCount:
    """The headline parameter count of a model (header count when weights exist, else config-meta)."""
    mf = resolve(Path(path))
    counts, skipped = count_all(mf, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle,
                                cross_check=cross_check)
    pc = headline(counts)
    pc.notes.extend(mf.notes + skipped)
    return pc
