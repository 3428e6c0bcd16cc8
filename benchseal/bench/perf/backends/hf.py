"""The ``hf`` backend: transformers ``generate`` with a timing streamer, on CPU or GPU.

For models or machines vLLM does not serve, and for the CPU demo. One ``generate`` runs at a time
(batch size 1, serialised by a lock): with concurrency > 1 requests queue, and the queueing time is
part of their TTFT, as it would be behind a server with one slot. Decoding is greedy.

Timing (seconds on ``time.perf_counter`` relative to the load point's ``t0``):

- ``send_s``: when :meth:`HFBackend.send` is called (before waiting for the lock);
- ``chunk_s``: one entry per generated token, taken when ``generate`` hands that token to the
  streamer (``streamer.put``), i.e. right after the token is sampled on the device and copied to
  the CPU; ``first_token_s`` is the first of them;
- ``end_s``: when ``generate`` returns.

Token counts: ``prompt_tokens`` is the length of the input ids given to ``generate`` and
``output_tokens`` the number of tokens the streamer received (the "server" counts). Client and
server are one process here and the client sees token ids, not text, so ``output_tokens_client``
is the same streamer count (no re-tokenisation); ``prompt_tokens_client`` is the workload's count.

Memory (``capabilities()["memory"]``, docs/metrics.md "Lightweight deployment"): ``weights_bytes`` is
the loaded model's ``get_memory_footprint()`` (parameters and buffers as loaded, in the dtype they
were loaded in). ``peak_bytes`` is, on CUDA, ``torch.cuda.max_memory_allocated`` from just before
the load to the end of the run (``peak_kind`` ``cuda_max_memory_allocated``: tensors allocated by
torch, the KV cache included, not the allocator's reserve), and on CPU the process's peak resident
set size (``process_peak_rss``: ``getrusage`` ``ru_maxrss``, the whole Python process, runtime
included). Both are taken when the run ends, before the model is released.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.errors import ServerError, require
from benchseal.schema import RequestRecord


class _Trace:
    """What one generate call observed; filled by the worker thread, read by the event loop."""

    def __init__(self) -> None:
        self.token_times: list[float] = []
        self.prompt_tokens: int | None = None
        self.started = False
        self.end: float | None = None


class _TimingStreamer:
    """A ``generate`` streamer (duck-typed ``BaseStreamer``): the first ``put`` is the prompt, every
    later ``put`` carries one new token per sequence; each is timestamped on arrival."""

    def __init__(self, trace: _Trace) -> None:
        self.trace = trace
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        now = time.perf_counter()
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.trace.token_times.extend([now] * int(value.numel()))

    def end(self) -> None:
        pass


class HFBackend:
    """StreamingBackend running a transformers model in this process."""

    name = "hf"

    def __init__(self, model: str, *, device: str = "auto", dtype: str = "auto", **ignored: Any) -> None:
        self.model = self.model_path = str(model)
        self.endpoint: str | None = self.model_path
        self.device_request = device
        self.dtype_request = dtype
        self.ignored_options = sorted(ignored)
        self.device: str | None = None
        self.dtype: str | None = None
        self._model: Any = None
        self.has_chat_template: bool | None = None
        self._tokenizer: Any = None
        self._lock: asyncio.Lock | None = None
        self._thread_lock = threading.Lock()  # one generate at a time, even after a cancelled wait
        self.memory: dict[str, Any] | None = None  # set when the model is loaded, completed at close()

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._model is not None:
            return
        self._lock = asyncio.Lock()
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        torch = require("torch", "hf", "the hf backend")
        transformers = require("transformers", "hf", "the hf backend")
        if self.device_request == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        else:
            device = self.device_request
        if self.dtype_request == "auto":
            dtype: Any = "auto" if device.startswith("cuda") else torch.float32
        else:
            dtype = getattr(torch, self.dtype_request, None)
            if not isinstance(dtype, torch.dtype):
                raise ServerError(f"unknown dtype '{self.dtype_request}' for the hf backend", hint="use e.g. float32, bfloat16, float16 or auto")
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(torch.device(device))
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.model_path)
            model = transformers.AutoModelForCausalLM.from_pretrained(self.model_path, dtype=dtype)
            model.to(device)
            model.eval()
        except Exception as exc:  # noqa: BLE001 - any load failure is reported the same way
            raise ServerError(
                f"the hf backend could not load the model: {type(exc).__name__}: {_first_line(exc)}",
                where=self.model_path,
                hint="check that the path holds a transformers causal LM with its tokenizer",
            ) from None
        self._tokenizer, self._model = tokenizer, model
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.device = device
        self.dtype = str(model.dtype).removeprefix("torch.")
        self.memory = {"weights_bytes": int(model.get_memory_footprint()), "device": device, "dtype": self.dtype}

    def _peak_memory(self) -> None:
        """Add the peak memory of the run to ``self.memory`` (called before the model is released)."""
        if self.memory is None or "peak_bytes" in self.memory:
            return
        if (self.device or "").startswith("cuda"):
            import torch

            self.memory.update(peak_bytes=int(torch.cuda.max_memory_allocated(torch.device(self.device))),
                               peak_kind="cuda_max_memory_allocated")
            return
        try:
            import resource
            import sys
        except ImportError:  # not a POSIX system: no peak RSS
            return
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.memory.update(peak_bytes=int(maxrss if sys.platform == "darwin" else maxrss * 1024),  # Linux: KiB
                           peak_kind="process_peak_rss")

    async def close(self) -> None:
        self._peak_memory()
        model, self._model, self._tokenizer = self._model, None, None
        if model is not None and (self.device or "").startswith("cuda"):
            import torch

            del model
            torch.cuda.empty_cache()

    def capabilities(self) -> dict[str, Any]:
        return {
            "ignore_eos": True,  # min_new_tokens = max_tokens suppresses EOS
            "usage": True,  # exact token counts from the model's own input/output ids
            "chat": self.has_chat_template,  # None until start() has loaded the tokenizer
            "streaming": True,
            "per_token_times": True,
            "max_concurrency": 1,  # requests are serialised; concurrency > 1 queues
            "sampling": "greedy",
            **({"memory": dict(self.memory)} if self.memory is not None else {}),
        }

    # --- one request ----------------------------------------------------------------------------
    async def send(self, request: GenRequest, *, load_point: str, t0: float, timeout_s: float | None) -> RequestRecord:
        send_s = time.perf_counter() - t0
        trace = _Trace()
        cancel = threading.Event()
        if self._model is None or self._lock is None:
            return self._record(request, load_point, t0, send_s, trace, "error", "the hf backend is not started")
        lock = self._lock

        async def run() -> None:
            async with lock:
                return await asyncio.to_thread(self._generate, request, trace, cancel)

        task = asyncio.ensure_future(run())
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)
        except asyncio.TimeoutError:
            cancel.set()
            task.cancel()
            return self._record(request, load_point, t0, send_s, trace, "timeout", f"no complete response within {timeout_s} s")
        except asyncio.CancelledError:
            cancel.set()
            task.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - per-request failures become records
            return self._record(request, load_point, t0, send_s, trace, "error", f"{type(exc).__name__}: {_first_line(exc)}")
        return self._record(request, load_point, t0, send_s, trace, "ok", None)

    def _prompt_ids(self, prompt: str | list[dict[str, str]]) -> Any:
        tok = self._tokenizer
        if isinstance(prompt, list):
            if not getattr(tok, "chat_template", None):
                raise ValueError("the model's tokenizer has no chat template, so chat prompts cannot be sent")
            text = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
            return tok(text, add_special_tokens=False, return_tensors="pt")
        return tok(prompt, return_tensors="pt")

    def _generate(self, request: GenRequest, trace: _Trace, cancel: threading.Event) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device)

        with self._thread_lock:
            if cancel.is_set():
                raise TimeoutError("cancelled before it started")
            trace.started = True
            tok, model = self._tokenizer, self._model
            enc = self._prompt_ids(request.prompt).to(model.device)
            trace.prompt_tokens = int(enc["input_ids"].shape[-1])
            pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
            kwargs: dict[str, Any] = dict(
                max_new_tokens=request.max_tokens,
                do_sample=False,
                streamer=_TimingStreamer(trace),
                stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                pad_token_id=pad,
            )
            if request.ignore_eos:
                kwargs["min_new_tokens"] = request.max_tokens
            try:
                with torch.inference_mode():
                    model.generate(**enc, **kwargs)
            finally:
                trace.end = time.perf_counter()
            if cancel.is_set():
                raise TimeoutError("cancelled")

    def _record(
        self,
        request: GenRequest,
        load_point: str,
        t0: float,
        send_s: float,
        trace: _Trace,
        status: str,
        error: str | None,
    ) -> RequestRecord:
        times = [t - t0 for t in list(trace.token_times)]
        n_out = len(times)
        end = trace.end if (status == "ok" and trace.end is not None) else time.perf_counter()  # else: when it gave up
        return RequestRecord(
            load_point=load_point,
            request_id=request.request_id,
            prompt_id=request.request_id,
            send_s=send_s,
            first_token_s=times[0] if times else None,
            end_s=end - t0,
            chunk_s=times,
            chunk_tokens=[1] * n_out,
            prompt_tokens=trace.prompt_tokens,
            output_tokens=n_out if (n_out or status == "ok") else None,
            prompt_tokens_server=trace.prompt_tokens,
            output_tokens_server=n_out if (n_out or status == "ok") else None,
            prompt_tokens_client=request.prompt_tokens,
            output_tokens_client=n_out if (n_out or status == "ok") else None,
            max_tokens=request.max_tokens,
            status=status,  # type: ignore[arg-type]
            error=error,
            finish_reason=("length" if n_out >= request.max_tokens else "stop") if status == "ok" else None,
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
