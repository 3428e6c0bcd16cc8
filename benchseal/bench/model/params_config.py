"""Count parameters from config.json alone: build the architecture with transformers on the meta
device (shapes only, no memory, no weights) and count what a checkpoint of it would store:
every parameter once (tied weights once) plus persistent buffers (e.g. DeepSeek-V3's
``e_score_correction_bias``, which checkpoints store)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from benchseal.bench.model.quant import find_quant_config
from benchseal.bench.model.rules import architecture_name, tally, text_config
from benchseal.errors import ModelFormatError, UsageError, require
from benchseal.schema import ParamCount

# config keys that change how weights are stored, not what the architecture is
_STORAGE_KEYS = ("quantization_config",)


# field names of vendors' own configs -> the name the built-in transformers implementation reads
_SYNONYMS = (("attention_head_dim", "head_dim"),)


def _read_synonyms(cfg: dict[str, Any]) -> list[str]:
    """Give each vendor field (``_SYNONYMS``) to the name transformers reads, where that name is absent
    (in place); the notes saying so. Shared by the meta-device and the analytic count."""
    notes = []
    for theirs, ours in _SYNONYMS:
        if theirs in cfg and ours not in cfg:
            cfg[ours] = cfg[theirs]
            notes.append(f"config-meta: '{theirs}' read as transformers' '{ours}' ({cfg[theirs]!r})")
    return notes


# Architecture sizes a config may give, with the bounds benchseal accepts: positive integers (a
# layer/head/vocabulary count of 0, -1, 2.5, true or 1e300 is not a model), and at most far above
# every published model (the deepest published LLMs have a few hundred layers), so a config with 10^9
# layers is refused at once instead of being built layer by layer on the meta device.
MAX_LAYERS = 1024
SIZE_BOUNDS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("num_hidden_layers", "num_layers", "n_layer", "n_layers", "num_decoder_layers"), (1, MAX_LAYERS)),
    **dict.fromkeys(("hidden_size", "n_embd", "d_model", "dim"), (1, 1 << 17)),
    **dict.fromkeys(("intermediate_size", "ffn_hidden_size", "moe_intermediate_size", "shared_expert_intermediate_size",
                     "n_inner", "ffn_dim"), (0, 1 << 20)),
    **dict.fromkeys(("num_attention_heads", "n_head", "n_heads", "num_key_value_heads", "multi_query_group_num",
                     "n_kv_heads"), (1, 1 << 12)),
    **dict.fromkeys(("head_dim", "kv_lora_rank", "q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"),
                    (1, 1 << 16)),
    **dict.fromkeys(("vocab_size", "padded_vocab_size"), (1, 1 << 23)),
    **dict.fromkeys(("num_local_experts", "n_routed_experts", "num_experts", "num_experts_per_tok", "moe_topk"), (0, 1 << 14)),
    **dict.fromkeys(("n_shared_experts", "first_k_dense_replace", "num_nextn_predict_layers"), (0, MAX_LAYERS)),
    "max_position_embeddings": (1, 1 << 30),
}


def check_sizes(config: dict[str, Any], *, where: str = "config.json") -> None:
    """Every architecture size in ``config`` (and in its sub-configs such as text_config) is an
    integer within :data:`SIZE_BOUNDS`, or null; raise ModelFormatError naming the first one that is not."""
    stack: list[tuple[dict, str]] = [(config, "")]
    while stack:
        cfg, prefix = stack.pop()
        for key, value in cfg.items():
            if isinstance(value, dict) and key.endswith("_config") and not prefix.count("."):
                stack.append((value, f"{prefix}{key}."))
                continue
            bounds = SIZE_BOUNDS.get(key)
            if bounds is None or value is None:
                continue
            lo, hi = bounds
            values = value if isinstance(value, list) and key not in ("num_hidden_layers",) else [value]
            for v in values[:4096] if isinstance(values, list) else [values]:
                if type(v) is not int:
                    raise ModelFormatError(f"'{prefix}{key}' must be an integer, got {str(v)[:40]!r}", where=where,
                                           hint="fix config.json (sizes and counts are whole numbers)")
                if not lo <= v <= hi:
                    more = (f"; no published model has more than a few hundred layers, so this is refused before "
                            f"any model is built" if v > hi and hi == MAX_LAYERS else "")
                    raise ModelFormatError(f"'{prefix}{key}' is {v}, outside {lo}..{hi}{more}", where=where,
                                           hint="fix config.json")


class RemoteCodeRefused(UsageError):
    """config.json needs code from the model repository, and --trust-remote-code was not given."""


# transformers' auto mappings of generative models, in the order a class is looked for (the base model last: it
# has no output head)
_AUTO_MAPPINGS = ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
                  "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES", "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES",
                  "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", "MODEL_MAPPING_NAMES")


def _spelling(name: str) -> str:
    return name.replace("_", "").lower()


def _model_class(transformers: Any, config: Any, archs: list[str] | None):
    """The class transformers builds for ``architectures[0]``: by its name; else the class of that name, spelled
    with other underscores or case (Moonshot's KimiK25ForConditionalGeneration is transformers'
    Kimi_K25ForConditionalGeneration), among every auto mapping that names the config's model_type; else the
    first generative class of those mappings (causal LM, image-text-to-text, ...), the base model only last."""
    from transformers import PreTrainedModel
    from transformers.models.auto import modeling_auto

    name = archs[0] if archs else None
    cls = getattr(transformers, name, None) if isinstance(name, str) else None
    if isinstance(cls, type) and issubclass(cls, PreTrainedModel):
        return cls, name
    model_type = getattr(config, "model_type", None)
    found: list[str] = []
    for mapping in _AUTO_MAPPINGS:
        v = getattr(modeling_auto, mapping, {}).get(model_type)
        found += [v] if isinstance(v, str) else list(v or ())
    if isinstance(name, str):
        same = [n for n in found if _spelling(n) == _spelling(name)]
        found = same + [n for n in found if n not in same]
    for n in found:
        try:
            cls = getattr(transformers, n, None)
        except Exception:  # lazy module import errors for optional backends
            cls = None
        if isinstance(cls, type) and issubclass(cls, PreTrainedModel):
            return cls, n
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


def _find_key(d: Any, key: str) -> dict | None:
    """The (possibly nested) dict of a config that holds ``key``."""
    if isinstance(d, dict):
        if key in d:
            return d
        for v in d.values():
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


def _load_config(config_cls: Any, cfg: dict[str, Any], notes: list[str]) -> Any:
    """``config_cls.from_dict(cfg)``; when transformers' (strict) validation rejects a field, retry with
    the field coerced to the declared type (bool) or left at its default, and say so in the notes."""
    try:
        from huggingface_hub.errors import StrictDataclassFieldValidationError as Strict
    except ImportError:  # older huggingface_hub: no strict dataclasses, nothing to relax
        Strict = ()  # type: ignore[assignment,misc]
    cfg = copy.deepcopy(cfg)
    for _ in range(16):
        try:
            return config_cls.from_dict(cfg)
        except Strict as exc:  # type: ignore[misc]
            field = getattr(exc, "field", None) or str(exc).split("'")[1]
            holder = _find_key(cfg, field)
            if holder is None:
                raise
            value = holder.pop(field)
            cause = str(getattr(exc, "__cause__", None) or exc).splitlines()[-1].strip()
            if "expected bool" in cause and isinstance(value, (int, float)):
                holder[field] = bool(value)
                how = f"read as {bool(value)}"
            else:
                how = "left at its default"
            notes.append(f"config-meta: this transformers rejects '{field}': {value!r} ({cause}); loaded leniently with "
                         f"'{field}' {how}. The field does not change the parameter count if the count matches the weights.")
    raise ModelFormatError("config.json has too many fields that transformers rejects")


def unstated_tie_note(model_type: str, composite: bool, text: bool) -> str:
    """The note of a composite config that states tie_word_embeddings nowhere while its class and its text model's
    class default it differently (shared by the meta-device and the analytic count)."""
    return (f"config-meta: tie_word_embeddings is stated neither at the top level nor in text_config; transformers' "
            f"'{model_type}' config class defaults it to {str(composite).lower()}, its text model's to {str(text).lower()}. "
            f"Counted with the text model's ({'lm_head tied to the embedding' if text else 'lm_head counted'}): the reading "
            "transformers 4.x gave such files, and what published checkpoints of this architecture store "
            "(transformers does not tie weights a checkpoint stores twice); count the weights to be certain")


def _unstated_tie(mapping: Any, model_type: str, cfg: dict[str, Any], tc: dict[str, Any]) -> list[str]:
    """When a composite config states tie_word_embeddings nowhere and its config class's default differs from its
    text config class's, set both to the text model's default (in place) and say so."""
    tmt = tc.get("model_type")
    if "tie_word_embeddings" in cfg or "tie_word_embeddings" in tc or not isinstance(tmt, str) or tmt not in mapping:
        return []
    composite = getattr(mapping[model_type], "tie_word_embeddings", None)
    text = getattr(mapping[tmt], "tie_word_embeddings", None)
    if type(composite) is not bool or type(text) is not bool or composite == text:
        return []
    cfg["tie_word_embeddings"] = tc["tie_word_embeddings"] = text
    return [unstated_tie_note(model_type, composite, text)]


def _native_class(transformers: Any, archs: Any) -> Any:
    """The built-in transformers model class named by ``architectures[0]``, or None."""
    from transformers import PreTrainedModel

    name = archs[0] if isinstance(archs, list) and archs and isinstance(archs[0], str) else None
    if not name:
        return None
    try:
        cls = getattr(transformers, name, None)
    except Exception:  # lazy module import errors for optional backends
        return None
    return cls if isinstance(cls, type) and issubclass(cls, PreTrainedModel) else None


def _remote_code_files(root: Path, auto_map: Any) -> list[str]:
    """The .py files that config.json's auto_map names, relative to ``root``."""
    files = []
    for ref in (auto_map or {}).values() if isinstance(auto_map, dict) else []:
        for r in ref if isinstance(ref, list) else [ref]:
            if isinstance(r, str) and "." in r:
                mod = r.split("--")[-1].rsplit(".", 1)[0]
                files.append(mod.replace(".", "/") + ".py")
    return sorted(set(files))


def build_meta_model(config: dict[str, Any], *, root: Path | None, trust_remote_code: bool) -> tuple[Any, list[str]]:
    """Instantiate the architecture of ``config`` on the meta device. Returns (model, notes)."""
    check_sizes(config, where=str(root / "config.json") if root else "config.json")  # before torch is even imported
    torch = require("torch", "hf", "counting parameters from config.json")
    transformers = require("transformers", "hf", "counting parameters from config.json")
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    where = str(root / "config.json") if root else "config.json"
    notes: list[str] = []
    cfg = copy.deepcopy(config)
    for key in _STORAGE_KEYS:
        found = cfg.pop(key, None) is not None
        if isinstance(cfg.get("text_config"), dict):
            found = cfg["text_config"].pop(key, None) is not None or found
        if found:
            notes.append(f"config-meta: '{key}' ignored; the count is of the unquantised architecture (logical parameters)")
    tc = cfg.get("text_config")
    if isinstance(tc, dict) and "tie_word_embeddings" in cfg and "tie_word_embeddings" not in tc:
        tc["tie_word_embeddings"] = cfg["tie_word_embeddings"]  # the top-level flag is the model's; sub-configs may default otherwise
    model_type = cfg.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise ModelFormatError("config.json has no model_type", where=where, hint="add the model_type of the architecture")
    native = model_type in CONFIG_MAPPING
    if native and isinstance(tc, dict):
        notes += _unstated_tie(CONFIG_MAPPING, model_type, cfg, tc)
    auto_map = cfg.get("auto_map")
    alias = None if native else _native_class(transformers, cfg.get("architectures"))
    try:
        if native:
            config_obj = _load_config(CONFIG_MAPPING[model_type], cfg, notes)
            cls, cls_name = _model_class(transformers, config_obj, cfg.get("architectures"))
            if auto_map:
                notes.append(f"config.json names remote code (auto_map); counted with transformers' native "
                             f"'{model_type}' implementation instead, no remote code run")
            with torch.device("meta"):
                model = cls._from_config(config_obj)
        elif alias is not None:
            cls_name = alias.__name__
            notes += _read_synonyms(cfg)
            config_obj = _load_config(alias.config_class, cfg, notes)
            notes.append(f"model_type '{model_type}' is not built into transformers, but architectures names the built-in "
                         f"{cls_name}: counted with that implementation (model_type '{alias.config_class.model_type}'), "
                         "no remote code run")
            with torch.device("meta"):
                model = alias._from_config(config_obj)
        elif auto_map:
            files = _remote_code_files(root, auto_map) if root is not None else []
            missing = [f for f in files if not (root / f).is_file()] if root is not None else []  # type: ignore[operator]
            if missing:
                raise ModelFormatError(
                    f"model_type '{model_type}' needs the model repository's own code, and config.json's auto_map names "
                    f"{', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not in the model directory",
                    where=str(root),
                    hint=f"copy {', '.join(missing)} from the model's repository next to config.json (they are part of "
                         "the model), or count from the weights (.safetensors/.gguf) instead",
                )
            if not trust_remote_code:
                raise RemoteCodeRefused(
                    f"model_type '{model_type}' is not built into transformers and needs the model repository's own code "
                    "(auto_map); running it was refused", where=where,
                    hint=(f"review {', '.join(files)} next to config.json, then pass --trust-remote-code to allow it"
                          if files else "review the .py files next to config.json, then pass --trust-remote-code to allow it"),
                )
            if root is None:
                raise ModelFormatError("remote code needs the model directory, not a lone config file", where=where)
            config_obj = transformers.AutoConfig.from_pretrained(str(root), trust_remote_code=True, local_files_only=True)
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


def _finish(config: dict[str, Any], items: list[tuple[str, str, int]], buffers: int, notes: list[str]) -> ParamCount:
    """The count of ``items`` (every parameter once, tied weights once, plus persistent buffers) through the
    counting rules; shared by the meta-device and the analytic count so both mean the same."""
    c = text_config(config)
    # the checkpoint's dtype is the top-level one; a multimodal config's text_config may say otherwise
    # (Qwen2.5-VL-7B: bfloat16 at the top, float32 in text_config)
    dtype = config.get("torch_dtype") or config.get("dtype") or c.get("torch_dtype") or c.get("dtype")
    cfg_for_rules = {k: v for k, v in config.items() if k != "quantization_config"}
    # named_parameters() already yields tied weights once; the tie rule must not drop anything here
    cfg_for_rules["tie_word_embeddings"] = False
    if isinstance(cfg_for_rules.get("text_config"), dict):
        cfg_for_rules["text_config"] = {k: v for k, v in cfg_for_rules["text_config"].items() if k != "quantization_config"}
        cfg_for_rules["text_config"]["tie_word_embeddings"] = False
    pc = tally(items, cfg_for_rules, method="config-meta", where="config.json", architecture=architecture_name(config),
               names=[i[0] for i in items], dtype_names={})
    pc.dtype = str(dtype) if dtype else None
    pc.notes = notes + pc.notes
    # the top-level flag is the model's (a multimodal text_config may say otherwise); a built lm_head means untied
    tied = config["tie_word_embeddings"] if "tie_word_embeddings" in config else c.get("tie_word_embeddings")
    if tied is True and not pc.breakdown.get("lm_head"):
        pc.active_by_convention["no_input_embedding"] = pc.active  # the one matrix is also the output head
        pc.notes.append("tied embeddings (tie_word_embeddings=true): the output projection shares the input embedding, counted once")
    buffers -= pc.excluded.get("rotary_buffers", 0)  # a persistent inv_freq (ChatGLM's) is left out by the rules
    if buffers > 0:
        pc.notes.append(f"includes {buffers:,} elements of persistent buffers that checkpoints store (e.g. router bias)")
    qc = find_quant_config(config)
    if qc is not None:
        pc.quantization = str(qc.get("quant_method"))
    return pc


def _analytic(config: dict[str, Any]) -> tuple[tuple[list[tuple[str, int]], int, str], list[str], dict[str, Any]] | None:
    """(analytic_items of ``config`` read as the meta-device count reads it, the synonym notes, that reading of
    the config), or None."""
    from benchseal.bench.model.analytic import ALIASES, analytic_items

    cfg, synonym_notes = dict(config), []
    if config.get("model_type") in ALIASES:  # a vendor's field names, read as the meta-device count reads them
        if any(theirs in cfg and ours in cfg and cfg[ours] != cfg[theirs] for theirs, ours in _SYNONYMS):
            return None  # two different values for one width: let the meta-device build decide
        synonym_notes = _read_synonyms(cfg)
        for theirs, _ in _SYNONYMS:
            cfg.pop(theirs, None)  # the analytic count declines keys it does not know
    found = analytic_items(cfg)
    return None if found is None else (found, synonym_notes, cfg)


def architecture_tensors(config: dict[str, Any] | None) -> list[tuple[str, int]] | None:
    """(name, elements) of the tensors transformers creates for ``config`` (parameters and persistent buffers,
    tied weights once; a tied lm_head is listed with 0 elements), from the analytic count; None when it does
    not understand the config. No torch."""
    if not isinstance(config, dict):
        return None
    try:
        check_sizes(config)
        got = _analytic(config)
    except ModelFormatError:
        return None
    if got is None:
        return None
    items = list(got[0][0])
    return items if any(n == "lm_head.weight" for n, _ in items) else [*items, ("lm_head.weight", 0)]


def count_analytic(config: dict[str, Any], *, where: str = "config.json") -> ParamCount | None:
    """The count of :func:`count_from_config` by arithmetic on config.json (no torch, no transformers), or
    None when :mod:`benchseal.bench.model.analytic` does not fully understand the config."""
    from benchseal.bench.model.analytic import ALIASES, REMOTE

    check_sizes(config, where=where)
    model_type = config.get("model_type")
    got = _analytic(config)
    if got is None:
        return None
    (items, buffers, cls_name), synonym_notes, cfg = got
    notes = [f"counted analytically from config.json: the tensors transformers' {cls_name} creates, by arithmetic on "
             "the config (no torch, no weights); --cross-check also builds it on the meta device and compares",
             *synonym_notes]
    if model_type in REMOTE:  # the vendor's own code, which transformers does not ship
        notes[0] = (f"counted analytically from config.json: the tensors the vendor's {cls_name} creates, as written in "
                    f"{REMOTE[model_type][2]}, by arithmetic on the config (no torch, no weights, no remote code run); "
                    "--cross-check with --trust-remote-code also builds it on the meta device and compares")
    elif model_type in ALIASES:
        notes.append(f"model_type '{model_type}' is not built into transformers, but architectures names the built-in "
                     f"{cls_name}: counted as that implementation, no remote code run")
    elif config.get("auto_map"):
        notes.append(f"config.json names remote code (auto_map); counted as transformers' native '{model_type}' "
                     "implementation instead, no remote code run")
    if find_quant_config(config) is not None:
        notes.append("config-meta: 'quantization_config' ignored; the count is of the unquantised architecture (logical parameters)")
    from benchseal.bench.model.analytic.vl import UNSTATED_TIE

    tc = config.get("text_config")
    if model_type in UNSTATED_TIE and isinstance(tc, dict) and not ({"tie_word_embeddings"} & (set(config) | set(tc))):
        notes.append(unstated_tie_note(str(model_type), *UNSTATED_TIE[model_type]))
    att = tc.get("attn_temperature_tuning") if model_type == "llama4" and isinstance(tc, dict) else None
    if att is not None and type(att) is not bool:  # Llama-4's published 4; the meta-device count says the same
        notes.append(f"config-meta: this transformers rejects 'attn_temperature_tuning': {att!r} (declared bool); loaded "
                     "leniently: no tensor depends on it")
    return _finish(cfg, [(n, "", k) for n, k in items], buffers, notes)


def _differences(a: ParamCount, b: ParamCount) -> list[str]:
    out = [f"{f}: analytic {getattr(a, f):,} vs meta-device {getattr(b, f):,}"
           for f in ("total", "active", "embedding") if getattr(a, f) != getattr(b, f)]
    out += [f"breakdown: analytic {a.breakdown} vs meta-device {b.breakdown}"] if a.breakdown != b.breakdown else []
    out += ([f"active by convention: analytic {a.active_by_convention} vs meta-device {b.active_by_convention}"]
            if a.active_by_convention != b.active_by_convention else [])
    return out


def count_from_config(config: dict[str, Any], *, root: Path | None = None, trust_remote_code: bool = False,
                      meta: bool = False) -> ParamCount:
    """Parameter count of the architecture described by ``config`` (a config.json dict).

    By arithmetic (:func:`count_analytic`) when it understands the config and ``meta`` is false; else by
    building the model on the meta device. With ``meta`` true both are made when the analytic count
    answers, and any difference is stated in the notes (the meta-device count is the one returned)."""
    where = str(root / "config.json") if root else "config.json"
    analytic = count_analytic(config, where=where)
    if analytic is not None and not meta:
        return analytic
    if analytic is not None and not trust_remote_code and _is_remote(config):
        analytic.notes.append("cross-check: not made; the meta-device build of this architecture runs the model "
                              "repository's own code, which needs --trust-remote-code")
        return analytic
    pc = count_meta(config, root=root, trust_remote_code=trust_remote_code)
    if analytic is not None:
        diff = _differences(analytic, pc)
        pc.notes.append("cross-check: the analytic count from config.json agrees with the meta-device count (total, "
                        "active, breakdown, every convention)" if not diff else
                        "cross-check: the analytic count from config.json DIFFERS from the meta-device count, which is "
                        "reported here: " + "; ".join(diff))
    return pc


def _is_remote(config: dict[str, Any]) -> bool:
    from benchseal.bench.model.analytic import REMOTE

    return config.get("model_type") in REMOTE


def count_meta(config: dict[str, Any], *, root: Path | None = None, trust_remote_code: bool = False) -> ParamCount:
    """Parameter count by building the architecture with transformers on the meta device."""
    model, notes = build_meta_model(config, root=root, trust_remote_code=trust_remote_code)
    items, buffers = _count_module(model)
    return _finish(config, items, buffers, notes)
