"""Count parameters from config.json alone: build the architecture with transformers on the meta
device (shapes only, no memory, no weights) and count what a checkpoint of it would store:
every parameter once (tied weights once) plus persistent buffers (e.g. DeepSeek-V3's
``e_score_correction_bias``, which checkpoints store)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from benchseal.errors import ModelFormatError, UsageError, require
from benchseal.schema import ParamCount

# config keys that change how weights are stored, not what the architecture is
_STORAGE_KEYS = ("quantization_config",)


class RemoteCodeRefused(UsageError):
    """config.json needs code from the model repository, and --trust-remote-code was not given."""


def _model_class(transformers: Any, config: Any, archs: list[str] | None):
    from transformers import PreTrainedModel

    name = archs[0] if archs else None
    cls = getattr(transformers, name, None) if isinstance(name, str) else None
    if isinstance(cls, type) and issubclass(cls, PreTrainedModel):
        return cls, name
    for auto in (transformers.AutoModelForCausalLM, transformers.AutoModel):
        if type(config) in auto._model_mapping:
            cls = auto._model_mapping[type(config)]
            return cls, cls.__name__
    raise ModelFormatError(f"transformers has no model class for config type {type(config).__name__}")


def _count_module(model: Any) -> tuple[list[tuple[str, str, int]], int]:
    """(name, dtype, elements) of every parameter (deduplicated) and persistent buffer."""
    items = [(n, str(p.dtype).removeprefix("torch."), p.numel()) for n, p in model.named_parameters()]
    buffers = 0
    for mod_name, mod in model.named_modules():
        for bname, b in mod._buffers.items():
            if b is not None and bname not in mod._non_persistent_buffers_set:
                items.append((f"{mod_name}.{bname}" if mod_name else bname, str(b.dtype).removeprefix("torch."), b.numel()))
                buffers += b.numel()
    return items, buffers


def build_meta_model(config: dict[str, Any], *, root: Path | None, trust_remote_code: bool) -> tuple[Any, list[str]]:
    """Instantiate the architecture of ``config`` on the meta device. Returns (model, notes)."""
    torch = require("torch", "hf", "counting parameters from config.json")
    transformers = require("transformers", "hf", "counting parameters from config.json")
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    where = str(root / "config.json") if root else "config.json"
    notes: list[str] = []
    cfg = copy.deepcopy(config)
    for key in _STORAGE_KEYS:
        if cfg.pop(key, None) is not None:
            notes.append(f"config-meta: '{key}' ignored; the count is of the unquantised architecture (logical parameters)")
    model_type = cfg.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise ModelFormatError("config.json has no model_type", where=where, hint="add the model_type of the architecture")
    native = model_type in CONFIG_MAPPING
    auto_map = cfg.get("auto_map")
    try:
        if native:
            config_obj = CONFIG_MAPPING[model_type].from_dict(cfg)
            cls, cls_name = _model_class(transformers, config_obj, cfg.get("architectures"))
            if auto_map:
                notes.append(f"config.json names remote code (auto_map); counted with transformers' native "
                             f"'{model_type}' implementation instead, no remote code run")
            with torch.device("meta"):
                model = cls._from_config(config_obj)
        elif auto_map:
            if not trust_remote_code:
                raise RemoteCodeRefused(
                    f"model_type '{model_type}' is not built into transformers and needs the model repository's own code "
                    "(auto_map); running it was refused", where=where,
                    hint="review the .py files next to config.json, then pass --trust-remote-code to allow it",
                )
            if root is None:
                raise ModelFormatError("remote code needs the model directory, not a lone config file", where=where)
            config_obj = transformers.AutoConfig.from_pretrained(str(root), trust_remote_code=True)
            notes.append(f"remote code from {root} was executed (--trust-remote-code) to build '{model_type}'")
            with torch.device("meta"):
                model = transformers.AutoModelForCausalLM.from_config(config_obj, trust_remote_code=True)
            cls_name = type(model).__name__
        else:
            raise ModelFormatError(
                f"config.json has model_type '{model_type}', which this transformers ({transformers.__version__}) does not know",
                where=where, hint="check the model_type for typos, or upgrade transformers",
            )
    except (UsageError, ModelFormatError):
        raise
    except Exception as exc:  # transformers raises ValueError/TypeError/KeyError/... on inconsistent configs
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ModelFormatError(f"transformers could not build the architecture from config.json: {first}", where=where,
                               hint="check the config values (layer counts, head sizes, expert counts)") from None
    notes.insert(0, f"counted from config.json by building {cls_name} on the meta device (transformers {transformers.__version__}; no weights)")
    return model, notes


def count_from_config(config: dict[str, Any], *, root: Path | None = None, trust_remote_code: bool = False) -> ParamCount:
    """Parameter count of the architecture described by ``config`` (a config.json dict)."""
    from benchseal.bench.model.params import _arch, tally, text_config

    model, notes = build_meta_model(config, root=root, trust_remote_code=trust_remote_code)
    items, buffers = _count_module(model)
    c = text_config(config)
    dtype = c.get("torch_dtype") or c.get("dtype")
    cfg_for_rules = {k: v for k, v in config.items() if k != "quantization_config"}
    # named_parameters() already yields tied weights once; the tie rule must not drop anything here
    cfg_for_rules["tie_word_embeddings"] = False
    if isinstance(cfg_for_rules.get("text_config"), dict):
        cfg_for_rules["text_config"] = {**cfg_for_rules["text_config"], "tie_word_embeddings": False}
    pc = tally(items, cfg_for_rules, method="config-meta", where="config.json", architecture=_arch(config),
               names=[i[0] for i in items], dtype_names={})
    pc.dtype = str(dtype) if dtype else None
    pc.notes = notes + pc.notes
    if c.get("tie_word_embeddings") is True:
        pc.notes.append("tied embeddings (tie_word_embeddings=true): the output projection shares the input embedding, counted once")
    if buffers:
        pc.notes.append(f"includes {buffers:,} elements of persistent buffers that checkpoints store (e.g. router bias)")
    if "quantization_config" in config:
        pc.quantization = str(config["quantization_config"].get("quant_method")) if isinstance(config["quantization_config"], dict) else None
    return pc
