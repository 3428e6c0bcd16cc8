"""The ``vllm`` backend: vLLM's offline engine (``vllm.LLM``) for offline throughput.

All requests of a load point are submitted at once with ``LLM.generate``; vLLM schedules them
(continuous batching). Per-request times come from vLLM's own request metrics
(``RequestOutput.metrics``), which the offline ``LLM`` fills only when stats logging is on, so the
engine is created with ``disable_log_stats=False``.

Which fields are used (see :func:`records_from_outputs`, and docs/metrics for the clocks):

- vLLM V1 (``vllm.v1.metrics.stats.RequestStateStats``): ``arrival_time`` (front-end wall clock,
  ``time.time``), ``first_token_ts`` and ``last_token_ts`` (engine-core ``time.monotonic``
  timestamps of the engine step that produced the first/last token), ``num_generation_tokens``;
- vLLM V0 (``vllm.sequence.RequestMetrics``): ``arrival_time``, ``first_token_time``,
  ``last_token_time`` / ``finished_time`` (all wall clock, ``time.time``).

Times are made relative to the submit instant, read on both clocks just before ``generate``:
``send_s = arrival_time - t0_wall``, ``first_token_s = first_token_ts - t0_monotonic``,
``end_s = last_token_ts - t0_monotonic`` (V0: all against ``t0_wall``). The offline engine gives
no per-token arrival times, so ``chunk_s`` is empty (TPOT is derivable, ITL is not).

vLLM logs to stdout by default (``VLLM_LOGGING_STREAM=ext://sys.stdout``), in this process and in the
engine-core processes it starts, which would break ``--json`` (only JSON on stdout): before vLLM is
imported, :func:`vllm_logs_to_stderr` points it at stderr unless the user chose a stream.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Sequence

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.errors import ServerError, UsageError, require
from benchseal.schema import RequestRecord


def vllm_logs_to_stderr() -> None:
    """Send vLLM's log lines to stderr (also in its child processes, which inherit the environment)."""
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")


def _pos(v: Any) -> float | None:
    """A timestamp vLLM has set (its dataclasses default unset timestamps to 0.0 or None)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None


def request_times(metrics: Any, *, t0_wall: float, t0_mono: float) -> tuple[float | None, float | None, float | None]:
    """(send_s, first_token_s, end_s) from one ``RequestOutput.metrics`` object, relative to submit."""
    if metrics is None:
        return None, None, None
    arrival = _pos(getattr(metrics, "arrival_time", None))
    send_s = arrival - t0_wall if arrival is not None else None
    if hasattr(metrics, "first_token_ts"):  # V1 RequestStateStats: engine-core monotonic timestamps
        first = _pos(getattr(metrics, "first_token_ts", None))
        last = _pos(getattr(metrics, "last_token_ts", None))
        first_s = first - t0_mono if first is not None else None
        end_s = last - t0_mono if last is not None else None
        if first_s is None and send_s is not None and _pos(getattr(metrics, "first_token_latency", None)):
            first_s = send_s + metrics.first_token_latency  # front-end measured, wall clock
        return send_s, first_s, end_s
    # V0 RequestMetrics: wall-clock timestamps
    first = _pos(getattr(metrics, "first_token_time", None))
    last = _pos(getattr(metrics, "last_token_time", None)) or _pos(getattr(metrics, "finished_time", None))
    return (
        send_s,
        first - t0_wall if first is not None else None,
        last - t0_wall if last is not None else None,
    )


def records_from_outputs(
    requests: Sequence[GenRequest],
    outputs: Sequence[Any],
    *,
    load_point: str,
    t0_wall: float,
    t0_mono: float,
    t_end_mono: float,
    count_tokens: Callable[[str], int] | None = None,
) -> list[RequestRecord]:
    """Map vLLM ``RequestOutput`` objects (in request order) to records. Pure: no vLLM import.

    Uses ``prompt_token_ids``, ``outputs[0].token_ids``/``.text``/``.finish_reason``, ``finished``
    and ``metrics`` (see :func:`request_times`). A request without metrics keeps ``send_s = 0`` and
    ``end_s`` = when ``generate`` returned, with no first-token time.
    """
    if len(outputs) != len(requests):
        raise ServerError(f"vLLM returned {len(outputs)} outputs for {len(requests)} requests")
    records = []
    for req, out in zip(requests, outputs):
        send_s, first_s, end_s = request_times(getattr(out, "metrics", None), t0_wall=t0_wall, t0_mono=t0_mono)
        completions = list(getattr(out, "outputs", None) or [])
        comp = completions[0] if completions else None
        finish = getattr(comp, "finish_reason", None) if comp is not None else None
        ok = bool(getattr(out, "finished", False)) and comp is not None and finish not in (None, "abort", "error")
        n_prompt = len(out.prompt_token_ids) if getattr(out, "prompt_token_ids", None) is not None else None
        n_out = len(comp.token_ids) if comp is not None and getattr(comp, "token_ids", None) is not None else None
        text = getattr(comp, "text", None) if comp is not None else None
        records.append(
            RequestRecord(
                load_point=load_point,
                request_id=req.request_id,
                prompt_id=req.request_id,
                send_s=send_s if send_s is not None else 0.0,
                first_token_s=first_s,
                end_s=end_s if end_s is not None else t_end_mono - t0_mono,
                chunk_s=[],
                chunk_tokens=None,
                prompt_tokens=n_prompt,
                output_tokens=n_out,
                prompt_tokens_server=n_prompt,
                output_tokens_server=n_out,
                prompt_tokens_client=req.prompt_tokens,
                output_tokens_client=count_tokens(text) if (count_tokens and text is not None) else None,
                max_tokens=req.max_tokens,
                status="ok" if ok else "error",
                error=None if ok else f"vLLM did not finish the request (finish_reason={finish!r})",
                finish_reason=finish,
            )
        )
    return records


def sampling_kwargs(request: GenRequest) -> dict[str, Any]:
    """``SamplingParams`` arguments for one request: greedy, exactly ``max_tokens`` when ``ignore_eos``."""
    return {
        "temperature": 0.0,
        "max_tokens": request.max_tokens,
        "min_tokens": request.max_tokens if request.ignore_eos else 0,
        "ignore_eos": request.ignore_eos,
    }


class VLLMEngineBackend:
    """OfflineBackend over ``vllm.LLM`` (created on first use)."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        extra_engine_args: dict[str, Any] | None = None,
        **ignored: Any,
    ) -> None:
        if tensor_parallel_size < 1:
            raise UsageError(f"tensor_parallel_size must be at least 1, got {tensor_parallel_size}")
        self.model = str(model)
        self.endpoint: str | None = self.model
        self.tensor_parallel_size = tensor_parallel_size
        self.dtype = dtype
        self.extra_engine_args = dict(extra_engine_args or {})
        self.ignored_options = sorted(ignored)
        self._llm: Any = None

    def engine_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "tensor_parallel_size": self.tensor_parallel_size,
            "dtype": self.dtype,
            "seed": 0,
        }
        kwargs.update(self.extra_engine_args)
        kwargs["disable_log_stats"] = False  # RequestOutput.metrics is None otherwise
        return kwargs

    def start(self) -> None:
        if self._llm is not None:
            return
        vllm_logs_to_stderr()
        vllm = require("vllm", "vllm", "the vllm backend")
        try:
            self._llm = vllm.LLM(**self.engine_kwargs())
        except Exception as exc:  # noqa: BLE001 - engine start failures are environment failures
            raise ServerError(
                f"the vLLM engine did not start: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
                where=self.model,
                hint="check the model path, GPU memory and the extra engine arguments",
            ) from None

    def capabilities(self) -> dict[str, Any]:
        return {
            "ignore_eos": True,
            "usage": True,
            "chat": True,  # rendered with the tokenizer's chat template, sent as token ids
            "streaming": False,
            "per_token_times": False,
            "timing_source": "vLLM RequestOutput.metrics",
        }

    def _prompt(self, prompt: str | list[dict[str, str]], tokenizer: Any) -> Any:
        if isinstance(prompt, str):
            return prompt  # vLLM tokenizes with special tokens, as the workload counted
        rendered = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        return {"prompt_token_ids": tokenizer.encode(rendered, add_special_tokens=False)}

    def run_batch(self, requests: list[GenRequest], *, load_point: str) -> list[RequestRecord]:
        self.start()
        from vllm import SamplingParams

        llm = self._llm
        tokenizer = llm.get_tokenizer()
        prompts = [self._prompt(r.prompt, tokenizer) for r in requests]
        params = [SamplingParams(**sampling_kwargs(r)) for r in requests]
        t0_wall, t0_mono = time.time(), time.monotonic()
        outputs = llm.generate(prompts, params, use_tqdm=False)
        t_end = time.monotonic()
        return records_from_outputs(
            requests,
            outputs,
            load_point=load_point,
            t0_wall=t0_wall,
            t0_mono=t0_mono,
            t_end_mono=t_end,
            count_tokens=lambda text: len(tokenizer.encode(text, add_special_tokens=False)),
        )

    def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is None:
            return
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        shutdown = getattr(core, "shutdown", None)
        if callable(shutdown):
            try:
                shutdown()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass
        del llm
        import gc

        gc.collect()
