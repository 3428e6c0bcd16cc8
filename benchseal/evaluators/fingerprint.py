"""Protocol fingerprints: what must be equal before two scores may be compared (docs/evaluation.md).

A fingerprint is derived, purely, from lm-eval's own results dict (``configs``, ``versions``,
``n-shot``, ``lm_eval_version``) and the run protocol benchseal records (chat flags, generation
settings, data manifest). It names:

| field | from |
| --- | --- |
| ``harness``, ``harness_version`` | ``lm-eval`` and ``lm_eval_version`` |
| ``task``, ``task_version`` | the task (or group) name and ``versions[task]`` |
| ``num_fewshot``, ``fewshot_sampler``, ``fewshot_split`` | ``n-shot`` and each leaf task's ``fewshot_config`` |
| ``prompt_template_sha256`` | sha256 over every leaf task's prompt definition (doc_to_text/target/choice, delimiters, description, output type, dataset config, splits, filters, metric list, generation kwargs) |
| ``metric``, ``filter`` | the headline metric |
| ``split`` | the evaluated split(s) of the leaf tasks |
| ``data_manifest_sha256`` | the verified data manifest of the run |
| ``apply_chat_template``, ``fewshot_as_multiturn``, ``system_instruction`` | the run protocol |
| ``gen_kwargs`` | the run's generation overrides (None: the task's own, already in the template hash) |

``sha256`` is the canonical hash of every field above. Machine-local details (absolute data
paths, memory addresses in function reprs) are left out, so the same protocol on two machines
gives the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

HARNESS = "lm-eval"
FIELDS = ("harness", "harness_version", "task", "task_version", "num_fewshot", "fewshot_sampler", "fewshot_split",
          "prompt_template_sha256", "metric", "filter", "split", "data_manifest_sha256", "apply_chat_template",
          "fewshot_as_multiturn", "system_instruction", "gen_kwargs")
# the parts of a task config that define what the model sees and how it is scored
_PROMPT_KEYS = ("dataset_name", "doc_to_text", "doc_to_target", "doc_to_choice", "doc_to_decontamination_query",
                "process_docs", "process_results", "description", "target_delimiter", "fewshot_delimiter",
                "output_type", "generation_kwargs", "filter_list", "metric_list", "test_split", "validation_split",
                "fewshot_split", "fewshot_config", "repeats", "use_prompt", "multiple_input", "should_decontaminate")
_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def _canon(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canon(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canon(v) for v in obj]
    if isinstance(obj, str):
        return _ADDR.sub("", obj)
    return obj


def sha256_of(obj: Any) -> str:
    data = json.dumps(_canon(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def leaves(raw: dict[str, Any], task: str, depth: int = 0) -> list[str]:
    """The leaf tasks of a task or group (lm-eval's ``group_subtasks``), in order."""
    subs = (raw.get("group_subtasks") or {}).get(task)
    if not subs or depth > 10:
        return [task]
    return [leaf for s in subs for leaf in leaves(raw, s, depth + 1)]


def fingerprint(raw: dict[str, Any], task: str, *, metric: str, filt: str, protocol: dict[str, Any],
                task_protocol: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """PURE: the fingerprint of one (task, metric, filter) score, or None when ``raw`` is not
    lm-eval's output (benchseal's own refusal/parity results carry no task configs)."""
    configs = raw.get("configs") or {}
    leaf_names = leaves(raw, task)
    leaf_cfgs = {name: configs.get(name) for name in leaf_names if isinstance(configs.get(name), dict)}
    if not leaf_cfgs:
        return None
    tp = task_protocol or {}
    templates = {name: {k: cfg.get(k) for k in _PROMPT_KEYS if k in cfg} for name, cfg in sorted(leaf_cfgs.items())}
    splits = sorted({str(cfg.get("test_split") or cfg.get("validation_split")) for cfg in leaf_cfgs.values()})
    fewshot_splits = sorted({str(cfg.get("fewshot_split") or cfg.get("training_split") or cfg.get("validation_split"))
                             for cfg in leaf_cfgs.values()})
    samplers = sorted({str((cfg.get("fewshot_config") or {}).get("sampler", "default")) for cfg in leaf_cfgs.values()})
    shots = (raw.get("n-shot") or {}).get(task, tp.get("num_fewshot"))
    version = (raw.get("versions") or {}).get(task)
    fp: dict[str, Any] = {
        "harness": HARNESS,
        "harness_version": raw.get("lm_eval_version"),
        "task": task,
        "task_version": None if version is None else str(version),
        "num_fewshot": int(shots) if isinstance(shots, (int, float)) and not isinstance(shots, bool) else None,
        "fewshot_sampler": ",".join(samplers),
        "fewshot_split": ",".join(fewshot_splits),
        "prompt_template_sha256": sha256_of(templates),
        "metric": metric,
        "filter": filt,
        "split": ",".join(splits),
        "data_manifest_sha256": protocol.get("data_manifest_sha256"),
        "apply_chat_template": bool(tp.get("apply_chat_template", protocol.get("apply_chat_template", False))),
        "fewshot_as_multiturn": bool(tp.get("fewshot_as_multiturn", protocol.get("fewshot_as_multiturn", False))),
        "system_instruction": protocol.get("system_instruction"),
        "gen_kwargs": protocol.get("gen_kwargs"),
    }
    fp["sha256"] = sha256_of(fp)
    return fp


def differences(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[str]:
    """PURE: why two fingerprints differ, one phrase per field ([] when equal)."""
    if not a or not b:
        missing = "the candidate" if not a else "the peer"
        return [f"{missing} has no protocol fingerprint"]
    out = []
    for k in FIELDS:
        if a.get(k) != b.get(k):
            va, vb = a.get(k), b.get(k)
            short = (lambda v: v[:12] + "…" if isinstance(v, str) and len(v) == 64 else v)
            out.append(f"{k} {short(vb)!r} vs candidate {short(va)!r}")
    return out
