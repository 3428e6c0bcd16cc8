"""The served model's identity (docs/bundle.md, ``served_model_identity``).

Figures measured through an engine are bound to a model only as far as benchseal can show which
weights the engine ran. :func:`identity_record` returns run.json's ``served_model_identity``:

- ``bound``: benchseal started the engine itself (``vllm-serve``, ``vllm``, ``hf``) from the files it
  digested; the record names the digest, the files and the command the engine got
  (:func:`bound_identity`).
- ``matched`` / ``mismatched``: an external endpoint, checked by a probe (:func:`probe_identity`):
  the fixed prompts in :data:`PROBE_PROMPTS` are scored by the endpoint (``/v1/completions`` with
  ``echo`` and ``logprobs``, as lm-eval's ``local-completions`` asks) and locally from the weights in
  ``--model-path`` (transformers, CPU); the per-token prompt logprobs agree within the tolerance for
  the weights' dtype (:data:`TOLERANCES`) or they do not. The endpoint tokenising a prompt
  differently from the tokenizer in ``--model-path`` is a mismatch.
- ``not-established``: anything else, with the reason (no ``--model-path``; the endpoint returns no
  prompt logprobs; the weights do not fit this machine's memory for local scoring; local scoring
  failed).

Only ``bound`` and ``matched`` let a claim with ``requires_model_identity`` be decided.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Literal

from benchseal.errors import ConfigError

Status = Literal["bound", "matched", "mismatched", "not-established"]
ESTABLISHED = frozenset({"bound", "matched"})

# Fixed probe prompts: short English, Chinese and code text; scored once each. Changing them changes
# the method string, so old and new records are never confused.
PROBE_PROMPTS: tuple[str, ...] = (
    "The capital of France is Paris, and the capital of Japan is Tokyo.",
    "人工智能大模型的推理延迟和吞吐量是衡量算力的重要指标。",
    "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n",
    "In 1969, Apollo 11 landed on the Moon; Neil Armstrong was the first to step onto its surface.",
)
PROBE_VERSION = "prompt-logprobs/1"

# dtype of the served weights -> (max mean |Δ logprob|, max single |Δ logprob|), in nats per prompt
# token, between the endpoint's and the local (float32, CPU) scores. bf16 keeps 8 bits of mantissa
# (relative error ~4e-3 per op), fp16 11 bits; the bounds leave room for the accumulation across
# layers and kernels, and stay far below the several nats by which two different models differ.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float32": (0.01, 0.1),
    "float16": (0.05, 0.5),
    "bfloat16": (0.1, 1.0),
}
DEFAULT_DTYPE = "bfloat16"  # unknown or quantised: the loosest float tolerance
MEMORY_HEADROOM = 3.0  # local float32 scoring needs ~ weights * (4 / bytes per weight) + activations


def record(status: Status, method: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "method": method, "detail": detail, **extra}


def bound_identity(backend: str, *, model_dir: str | None, model_digest: str | None, files: list[str] | None,
                   command: list[str] | None) -> dict[str, Any]:
    """``bound``: benchseal started the engine (``backend``) from ``model_dir``, whose files it digested."""
    if not model_dir or not model_digest:
        return record("not-established", f"engine-started:{backend}",
                      f"benchseal started the {backend} engine, but the model files it was given were not digested")
    from benchseal.redact import redact_args

    return record("bound", f"engine-started:{backend}",
                  f"benchseal started the {backend} engine itself from the digested files of {model_dir}",
                  model_digest=model_digest, files=list(files or []), command=redact_args([str(c) for c in command or []]))


def not_established(reason: str, method: str = "none") -> dict[str, Any]:
    return record("not-established", method, reason)


# ------------------------------------------------------------------------------------------------
# endpoint side
# ------------------------------------------------------------------------------------------------
def endpoint_prompt_logprobs(url: str, model: str, prompt: str, header: dict[str, str] | None, *,
                             timeout_s: float = 60.0) -> tuple[list[str], list[float | None]] | None:
    """(tokens, logprobs) of ``prompt``'s tokens as the endpoint scores them, or None when the reply
    carries no prompt logprobs. Network errors raise ServerError."""
    import urllib.error
    import urllib.request

    from benchseal.errors import ServerError
    from benchseal.io import parse_json_bounded, read_response_bounded
    from benchseal.redact import redact_url, scrub

    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0, "logprobs": 1,
                       "echo": True}).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", **(header or {})})
    secrets = [v.split(" ", 1)[-1] for v in (header or {}).values()]
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (the user's own server URL)
            raw = read_response_bounded(resp, limit=8 << 20, deadline_s=timeout_s, what="the identity probe's reply")
    except urllib.error.HTTPError:
        return None
    except ValueError:
        return None
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise ServerError(f"cannot reach the server for the identity probe: {scrub(str(getattr(e, 'reason', e)), secrets)}",
                          where=redact_url(url), hint="check --base-url and that the server is running") from None
    try:
        obj = parse_json_bounded(raw, where=redact_url(url))
        choice = obj["choices"][0]
        lp = choice["logprobs"]
        tokens, values = list(lp.get("tokens") or []), list(lp["token_logprobs"])
        n = (obj.get("usage") or {}).get("prompt_tokens")
    except (ConfigError, KeyError, IndexError, TypeError, AttributeError):
        return None
    if isinstance(n, int) and 0 < n <= len(values):
        values, tokens = values[:n], tokens[:n]
    else:
        values, tokens = values[:-1], tokens[:-1]  # the one generated token comes last
    if len(values) < 2 or not all(isinstance(v, (int, float)) for v in values[1:]):
        return None
    return tokens, [None if v is None else float(v) for v in values]


# ------------------------------------------------------------------------------------------------
# local side
# ------------------------------------------------------------------------------------------------
def weights_bytes(model_dir: str | os.PathLike) -> int:
    d = Path(model_dir)
    return sum(p.stat().st_size for p in d.glob("*") if p.suffix in (".safetensors", ".bin", ".pt", ".gguf") and p.is_file())


def available_memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def weights_dtype(model_dir: str | os.PathLike) -> str:
    try:
        cfg = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return DEFAULT_DTYPE
    dt = str(cfg.get("torch_dtype") or cfg.get("dtype") or DEFAULT_DTYPE).replace("torch.", "")
    if cfg.get("quantization_config"):
        return DEFAULT_DTYPE
    return {"float": "float32", "half": "float16", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}.get(dt, dt)


def fits_locally(model_dir: str | os.PathLike) -> tuple[bool, str]:
    size = weights_bytes(model_dir)
    avail = available_memory_bytes()
    if size == 0:
        return False, f"no weight files in {model_dir}"
    if avail is None:
        return False, "this machine's available memory cannot be read, so local scoring is not attempted"
    need = size * MEMORY_HEADROOM * (2 if weights_dtype(model_dir) in ("bfloat16", "float16") else 1)
    if need > avail:
        return False, (f"the weights ({size / 2**30:.1f} GiB) do not fit this machine for local scoring "
                       f"(needs about {need / 2**30:.1f} GiB, {avail / 2**30:.1f} GiB available)")
    return True, ""


class LocalScorer:
    """Prompt logprobs from the weights in ``model_dir`` (transformers, CPU, float32)."""

    def __init__(self, model_dir: str | os.PathLike) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
        self.model.eval()

    def score(self, prompt: str) -> tuple[list[str], list[float | None]]:
        torch = self.torch
        ids = self.tok(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            logits = self.model(ids).logits.float()
        lp = torch.log_softmax(logits[0, :-1], dim=-1).gather(1, ids[0, 1:, None])[:, 0]
        tokens = self.tok.convert_ids_to_tokens(ids[0].tolist())
        return [str(t) for t in tokens], [None] + [float(x) for x in lp.tolist()]


# ------------------------------------------------------------------------------------------------
# the comparison (pure)
# ------------------------------------------------------------------------------------------------
def compare(endpoint: list[list[float | None]], local: list[list[float | None]], dtype: str) -> dict[str, Any]:
    """PURE: per-prompt logprob lists (first entry None) -> {status, mean_abs_diff, max_abs_diff, tokens,
    tolerance, reason}. Different token counts for a prompt -> mismatched (different tokenisation)."""
    mean_tol, max_tol = TOLERANCES.get(dtype, TOLERANCES[DEFAULT_DTYPE])
    diffs: list[float] = []
    for i, (e, loc) in enumerate(zip(endpoint, local)):
        if len(e) != len(loc):
            return {"status": "mismatched", "tolerance": {"dtype": dtype, "mean_abs": mean_tol, "max_abs": max_tol},
                    "reason": f"probe prompt {i + 1} is {len(e)} tokens at the endpoint and {len(loc)} with the "
                              "tokenizer in --model-path (a different tokenizer)"}
        for a, b in zip(e[1:], loc[1:]):
            if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
                continue
            diffs.append(abs(a - b))
    tol = {"dtype": dtype, "mean_abs": mean_tol, "max_abs": max_tol}
    if not diffs:
        return {"status": "not-established", "tolerance": tol, "reason": "no probe token could be compared"}
    mean, mx = sum(diffs) / len(diffs), max(diffs)
    ok = mean <= mean_tol and mx <= max_tol
    return {"status": "matched" if ok else "mismatched", "tolerance": tol, "tokens": len(diffs),
            "mean_abs_diff": mean, "max_abs_diff": mx,
            "reason": (f"{len(diffs)} prompt tokens: mean |Δ logprob| {mean:.4g}, max {mx:.4g} nats "
                       f"({'within' if ok else 'outside'} the {dtype} tolerance {mean_tol:g} / {max_tol:g})")}


def probe_identity(base_url: str, model: str, model_dir: str | os.PathLike | None, *, api_key_env: str | None = None,
                   model_digest: str | None = None, scorer: Any = None) -> dict[str, Any]:
    """``served_model_identity`` of an external endpoint: matched / mismatched / not-established."""
    from benchseal.evaluators.backends import api_root, auth_header

    method = f"probe:{PROBE_VERSION}"
    if not model_dir:
        return not_established("the endpoint's model was not checked: no --model-path was given to compare it with")
    url = api_root(base_url) + "/completions"
    endpoint = []
    for p in PROBE_PROMPTS:
        got = endpoint_prompt_logprobs(url, model, p, auth_header(api_key_env))
        if got is None:
            return not_established("the endpoint does not return prompt logprobs (a completions request with echo and "
                                   "logprobs), so its model cannot be compared with --model-path", method)
        endpoint.append(got[1])
    ok, why = fits_locally(model_dir)
    if not ok and scorer is None:
        return not_established(why, method)
    try:
        scorer = scorer or LocalScorer(model_dir)
        local = [scorer.score(p)[1] for p in PROBE_PROMPTS]
    except Exception as exc:  # quantised weights without their kernels, a broken folder, …
        return not_established(f"local scoring of --model-path failed: {type(exc).__name__}: {str(exc)[:200]}", method)
    dtype = weights_dtype(model_dir)
    res = compare(endpoint, local, dtype)
    detail = res.pop("reason")
    # the scores themselves, so `benchseal verify` re-derives the status with compare()
    return record(res.pop("status"), method, detail, model_digest=model_digest, prompts=len(PROBE_PROMPTS), dtype=dtype,
                  endpoint_logprobs=endpoint, local_logprobs=local, **res)


# ------------------------------------------------------------------------------------------------
# one call for `benchseal run` (the pipeline's perf stage)
# ------------------------------------------------------------------------------------------------
ENGINE_KINDS = ("vllm-serve", "vllm", "hf")


def identity_for_run(backend: Any, *, model_path: str | None, model_card: dict[str, Any] | None,
                     command: list[str] | None = None, scorer: Any = None) -> dict[str, Any]:
    """run.json's ``served_model_identity`` for a run with ``backend`` (a BackendSpec): ``bound`` when
    benchseal started the engine from the directory it digested (``model_path``, whose digest is in
    ``model_card``), the probe's answer for an external endpoint, else not-established with the reason."""
    card = model_card or {}
    digest = card.get("model_digest")
    kind = getattr(backend, "kind", None)
    if kind in ENGINE_KINDS:
        engine_model = str(backend.model)
        if not Path(engine_model).is_dir():
            return not_established(f"the {kind} engine loaded '{engine_model}' by name, not from the digested files",
                                   f"engine-started:{kind}")
        if not model_path or Path(engine_model).resolve() != Path(model_path).resolve():
            return not_established(f"the {kind} engine was started from {engine_model}, but the digested files are "
                                   f"{model_path or '(none)'}", f"engine-started:{kind}")
        files = [f.get("path") for f in card.get("files") or [] if isinstance(f, dict)]
        return bound_identity(kind, model_dir=engine_model, model_digest=digest, files=files,
                              command=command or [kind, engine_model])
    if kind == "openai":
        return probe_identity(backend.base_url, backend.model, model_path, api_key_env=getattr(backend, "api_key_env", None),
                              model_digest=digest, scorer=scorer)
    return not_established(f"backend {kind!r}: benchseal does not know how to establish which model it serves")
