"""One typed spec per backend: the single place that knows a backend's options.

A :data:`BackendSpec` is a discriminated pydantic model (``kind`` = ``openai``, ``vllm-serve``,
``vllm``, ``hf``). Each spec owns

- which command-line flags it takes (:func:`add_backend_args` declares them once for ``perf``,
  ``run`` and ``eval``; :func:`spec_from_args` builds the spec and refuses a flag that the chosen
  backend does not take, instead of silently dropping it);
- building the measuring backend (:meth:`build`);
- how many of this machine's GPUs it uses (:meth:`gpus`, the MFU/MBU denominator);
- the matching evaluation backend (:meth:`eval_target`).

Adding a backend: a module with the backend class, one spec class here with its fields and those
four methods, and its name in :data:`BackendSpec`'s union. Nothing else dispatches on backend names.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Iterator, Literal, Union

from pydantic import Field, TypeAdapter, field_validator, model_validator

from benchseal.errors import UsageError
from benchseal.redact import check_api_key_env
from benchseal.schema import Strict

Endpoint = Literal["completions", "chat"]

# flag -> (spec field, help). Every backend flag is declared here once; defaults live on the specs.
FLAGS: dict[str, tuple[str, dict[str, Any]]] = {
    "--base-url": ("base_url", dict(help="OpenAI-compatible server (openai), e.g. http://127.0.0.1:8000/v1")),
    "--api-key-env": ("api_key_env", dict(metavar="VAR", help="environment variable holding the API key (never written anywhere)")),
    "--endpoint": ("endpoint", dict(choices=("completions", "chat"), help="completions (default) or chat")),
    "--server-ignore-eos": ("server_ignore_eos", dict(action="store_true", default=None,
                            help="send vLLM's ignore_eos/min_tokens so outputs have exactly the requested length")),
    "--server-token-ids": ("server_token_ids", dict(action="store_true", default=None,
                           help="openai: send vLLM's return_token_ids so the output-consistency audit counts the "
                           "server's own token ids (on by default for vllm-serve)")),
    "--device": ("device", dict(help="hf: cuda, cpu or auto (default auto)")),
    "--dtype": ("dtype", dict(help="hf / vllm: weights dtype (default auto)")),
    "--tensor-parallel-size": ("tensor_parallel_size", dict(type=int, help="vllm / vllm-serve: GPUs per model "
                               "replica that split each layer (default 1; `benchseal plan` says which sizes fit)")),
    "--pipeline-parallel-size": ("pipeline_parallel_size", dict(type=int, help="vllm / vllm-serve: pipeline stages, "
                                 "usually one per node (default 1)")),
    "--data-parallel-size": ("data_parallel_size", dict(type=int, help="vllm-serve: engine replicas (default 1); with "
                             "--enable-expert-parallel the MoE experts are split over all TP x DP GPUs")),
    "--enable-expert-parallel": ("enable_expert_parallel", dict(action="store_true", default=None,
                                 help="vllm / vllm-serve: expert parallelism for MoE layers")),
    "--distributed-executor-backend": ("distributed_executor_backend", dict(choices=("mp", "ray", "uni", "external_launcher"),
                                       help="vllm / vllm-serve: how vLLM starts its workers (ray: across the nodes "
                                       "of an existing Ray cluster; default: vLLM's choice)")),
    "--engine-arg": ("engine_args", dict(action="append", metavar="ARG",
                     help="extra vLLM argument, repeatable (vllm-serve: '--max-model-len=4096'; vllm: 'max_model_len=4096')")),
    "--vllm-command": ("vllm_command", dict(metavar="CMD", help="vllm-serve: command that starts vLLM's server (default 'vllm serve')")),
    "--server-metrics": ("server_metrics_url", dict(metavar="URL", help="openai / vllm-serve: the server's Prometheus "
                         "metrics URL (default: the base URL without /v1 + /metrics)")),
    "--no-server-metrics": ("no_server_metrics", dict(action="store_true", default=None,
                            help="openai / vllm-serve: do not scrape the server's /metrics")),
    "--server-metrics-interval": ("server_metrics_interval_s", dict(type=float, metavar="S",
                                  help="openai / vllm-serve: seconds between /metrics scrapes during a load point (default 2)")),
    "--num-gpus": ("num_gpus", dict(type=int, help="GPUs serving the model, for MFU/MBU and per-GPU throughput "
                   "(default: tensor x pipeline x data parallel size for vllm, 1 for hf, unknown (0) for openai)")),
}
BACKEND_NAMES = ("openai", "vllm-serve", "vllm", "hf")


class _Spec(Strict):
    kind: str
    model: str
    num_gpus: int | None = Field(default=None, ge=0)
    uses_server: ClassVar[bool] = False  # measured through an OpenAI-compatible HTTP server

    def gpus(self) -> int:
        """GPUs of this machine that serve the model (the MFU/MBU denominator; 0 = unknown, no MFU)."""
        return self.num_gpus if self.num_gpus is not None else self._default_gpus()

    def _default_gpus(self) -> int:
        return 0

    def weights_dtype(self) -> str:
        return getattr(self, "dtype", "auto")

    def build(self, out_dir: Path, *, count_tokens: Callable[[str], int | None] | None = None, **extra: Any):
        raise NotImplementedError

    def eval_target(self, server_url: str | None = None) -> tuple[str, dict[str, Any]]:
        """(lm-eval backend name, BackendOptions fields) that evaluate the same model the same way."""
        raise NotImplementedError


class _HTTPOptions(Strict):
    api_key_env: str | None = None
    endpoint: Endpoint = "completions"
    server_ignore_eos: bool = False
    server_token_ids: bool = False  # vLLM's return_token_ids: the server's token ids, counted by the audit
    request_timeout_s: float = Field(default=600.0, gt=0)  # the client's own limit; a load's --timeout applies per request
    server_metrics_url: str | None = None  # None: discovered from the base URL
    no_server_metrics: bool = False
    server_metrics_interval_s: float = Field(default=2.0, ge=0.01, le=3600, allow_inf_nan=False)  # seconds between scrapes

    @model_validator(mode="after")
    def _metrics_flags(self):
        if self.server_metrics_url is not None and not self.server_metrics_url.strip():
            raise ValueError("--server-metrics is empty; give the metrics URL, or leave the flag out to discover it "
                             "from the base URL (or pass --no-server-metrics)")
        if self.no_server_metrics and self.server_metrics_url:
            raise ValueError("--server-metrics and --no-server-metrics contradict each other; pass one")
        if self.server_metrics_url and not self.server_metrics_url.startswith(("http://", "https://")):
            raise ValueError("--server-metrics must be an http:// or https:// URL")
        if self.server_metrics_url and "@" in self.server_metrics_url.split("://", 1)[-1].split("/", 1)[0]:
            raise ValueError("--server-metrics must not carry credentials (they would be written to the bundle); "
                             "the key named by --api-key-env is sent when the URL has the base URL's host and port")
        return self

    def _openai_options(self) -> dict[str, Any]:
        return dict(api_key_env=self.api_key_env, endpoint_kind=self.endpoint, request_timeout_s=self.request_timeout_s,
                    ignore_eos=self.server_ignore_eos,
                    extra_body={"return_token_ids": True} if self.server_token_ids else None)

    def server_metrics_options(self):
        """What run_perf scrapes (it reads the ``server_metrics`` attribute of the built backend)."""
        from benchseal.bench.perf.server_metrics import ServerMetricsOptions

        return ServerMetricsOptions(enabled=not self.no_server_metrics, url=self.server_metrics_url,
                                    interval_s=self.server_metrics_interval_s, api_key_env=self.api_key_env)


class OpenAISpec(_Spec, _HTTPOptions):
    """A server that is already running (any OpenAI-compatible API: vLLM, SGLang, TGI, a vendor's)."""

    kind: Literal["openai"] = "openai"
    base_url: str = "http://127.0.0.1:8000"
    uses_server: ClassVar[bool] = True

    def build(self, out_dir: Path, *, count_tokens=None, **extra: Any):
        from benchseal.bench.perf.backends.openai import OpenAIBackend

        backend = OpenAIBackend(model=self.model, base_url=self.base_url, count_tokens=count_tokens,
                                **self._openai_options(), **extra)
        backend.server_metrics = self.server_metrics_options()
        return backend

    def eval_target(self, server_url: str | None = None) -> tuple[str, dict[str, Any]]:
        return "openai", {"base_url": server_url or self.base_url, "api_key_env": self.api_key_env}


# engine arguments that have typed fields: given through --engine-arg they would pass unseen (not counted as GPUs)
PARALLEL_ARGS = {"tensor-parallel-size": "--tensor-parallel-size", "tp": "--tensor-parallel-size",
                 "tensor_parallel_size": "--tensor-parallel-size", "pipeline-parallel-size": "--pipeline-parallel-size",
                 "pp": "--pipeline-parallel-size", "pipeline_parallel_size": "--pipeline-parallel-size",
                 "data-parallel-size": "--data-parallel-size", "dp": "--data-parallel-size",
                 "data_parallel_size": "--data-parallel-size", "enable-expert-parallel": "--enable-expert-parallel",
                 "enable_expert_parallel": "--enable-expert-parallel",
                 "distributed-executor-backend": "--distributed-executor-backend",
                 "distributed_executor_backend": "--distributed-executor-backend"}


def _no_parallel_engine_args(args: Any) -> None:
    keys = [str(a).lstrip("-").split("=", 1)[0] for a in (args or []) if str(a).startswith("-") or "=" in str(a)]
    if isinstance(args, dict):
        keys = list(args)
    for k in keys:
        if k in PARALLEL_ARGS:
            raise ValueError(f"pass {PARALLEL_ARGS[k]} as its own flag, not through --engine-arg (benchseal counts the "
                             "GPUs it uses for MFU/MBU and per-GPU throughput and records it in run.json)")


class _Parallel(Strict):
    """vLLM's parallel layout, typed: passed to vLLM, recorded in run.json, and what the GPUs are counted from."""

    tensor_parallel_size: int = Field(default=1, ge=1)
    pipeline_parallel_size: int = Field(default=1, ge=1)
    data_parallel_size: int = Field(default=1, ge=1)
    enable_expert_parallel: bool = False
    distributed_executor_backend: Literal["mp", "ray", "uni", "external_launcher"] | None = None

    def _default_gpus(self) -> int:
        return self.tensor_parallel_size * self.pipeline_parallel_size * self.data_parallel_size

    def parallel_args(self) -> list[str]:
        """The ``vllm serve`` flags of the layout (defaults left out except TP and PP, as before)."""
        args = ["--tensor-parallel-size", str(self.tensor_parallel_size),
                "--pipeline-parallel-size", str(self.pipeline_parallel_size)]
        if self.data_parallel_size != 1:
            args += ["--data-parallel-size", str(self.data_parallel_size)]
        if self.enable_expert_parallel:
            args.append("--enable-expert-parallel")
        if self.distributed_executor_backend:
            args += ["--distributed-executor-backend", self.distributed_executor_backend]
        return args


class VLLMServeSpec(_Parallel, _Spec, _HTTPOptions):
    """``vllm serve`` started, health-checked and always stopped by benchseal."""

    kind: Literal["vllm-serve"] = "vllm-serve"
    server_token_ids: bool = True  # the server is vLLM: it honours return_token_ids
    engine_args: list[str] = Field(default_factory=list)  # passed to `vllm serve` as given
    vllm_command: list[str] | None = None
    uses_server: ClassVar[bool] = True

    @field_validator("vllm_command", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return shlex.split(v) if isinstance(v, str) else v

    @field_validator("engine_args")
    @classmethod
    def _typed_parallel(cls, v: list[str]) -> list[str]:
        _no_parallel_engine_args(v)
        return v

    def build(self, out_dir: Path, *, count_tokens=None, keep_server: bool = False, **extra: Any):
        from benchseal.bench.perf.backends.vllm_serve import VLLMServeBackend
        from benchseal.bundle import PERF_SERVER_LOG

        backend = VLLMServeBackend(self.model, tensor_parallel_size=self.tensor_parallel_size,
                                   pipeline_parallel_size=self.pipeline_parallel_size,
                                   extra_args=[*self.parallel_args()[4:], *self.engine_args],
                                   log_path=str(Path(out_dir) / PERF_SERVER_LOG), vllm_command=self.vllm_command,
                                   keep_server=keep_server, count_tokens=count_tokens, **self._openai_options(), **extra)
        backend.server_metrics = self.server_metrics_options()
        return backend

    def eval_target(self, server_url: str | None = None) -> tuple[str, dict[str, Any]]:
        if not server_url:
            raise UsageError("the vllm-serve evaluation needs the managed server's URL (start it first)")
        return "openai", {"base_url": server_url, "api_key_env": self.api_key_env}


def engine_dict(args: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` engine arguments (``--max-model-len=4096`` is accepted too) -> LLM(**kwargs)."""
    import yaml

    out: dict[str, Any] = {}
    for item in args:
        key, sep, val = item.lstrip("-").partition("=")
        if not sep or not key:
            raise UsageError(f"--engine-arg for the vllm backend must be KEY=VALUE, got '{item}'")
        try:
            out[key.replace("-", "_")] = yaml.safe_load(val)
        except yaml.YAMLError:
            raise UsageError(f"--engine-arg {item!r}: the value is not a number, boolean or string") from None
    return out


class VLLMSpec(_Parallel, _Spec):
    """vLLM's offline engine (``vllm.LLM``) in this process."""

    kind: Literal["vllm"] = "vllm"
    dtype: str = "auto"
    engine_args: dict[str, Any] = Field(default_factory=dict)  # LLM(**engine_args)

    @field_validator("engine_args", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        v = engine_dict(v) if isinstance(v, list) else v
        _no_parallel_engine_args(v)
        return v

    @model_validator(mode="after")
    def _one_replica(self):
        if self.data_parallel_size != 1:
            raise ValueError("--data-parallel-size needs --backend vllm-serve (the offline engine in this process "
                             "is one replica)")
        return self

    def _engine(self) -> dict[str, Any]:
        extra = dict(self.engine_args)
        if self.pipeline_parallel_size != 1:
            extra.setdefault("pipeline_parallel_size", self.pipeline_parallel_size)
        if self.enable_expert_parallel:
            extra.setdefault("enable_expert_parallel", True)
        if self.distributed_executor_backend:
            extra.setdefault("distributed_executor_backend", self.distributed_executor_backend)
        return extra

    def build(self, out_dir: Path, *, count_tokens=None, **extra: Any):
        from benchseal.bench.perf.backends.vllm_engine import VLLMEngineBackend

        return VLLMEngineBackend(self.model, tensor_parallel_size=self.tensor_parallel_size, dtype=self.dtype,
                                 extra_engine_args=self._engine(), **extra)  # counts with the engine's own tokenizer

    def eval_target(self, server_url: str | None = None) -> tuple[str, dict[str, Any]]:
        extra = {"tensor_parallel_size": self.tensor_parallel_size, **self._engine()}
        if self.dtype != "auto":
            extra["dtype"] = self.dtype
        return "vllm", {"extra": extra}


class HFSpec(_Spec):
    """transformers ``generate`` in this process (one request at a time)."""

    kind: Literal["hf"] = "hf"
    device: str = "auto"
    dtype: str = "auto"

    def _default_gpus(self) -> int:
        return 1

    def build(self, out_dir: Path, *, count_tokens=None, **extra: Any):
        from benchseal.bench.perf.backends.hf import HFBackend

        return HFBackend(self.model, device=self.device, dtype=self.dtype, **extra)

    def eval_target(self, server_url: str | None = None) -> tuple[str, dict[str, Any]]:
        extra = {"dtype": self.dtype} if self.dtype != "auto" else {}
        return "hf", {"device": None if self.device == "auto" else self.device, "extra": extra}


BackendSpec = Annotated[Union[OpenAISpec, VLLMServeSpec, VLLMSpec, HFSpec], Field(discriminator="kind")]
SPECS: dict[str, type[_Spec]] = {c.model_fields["kind"].default: c for c in (OpenAISpec, VLLMServeSpec, VLLMSpec, HFSpec)}
_ADAPTER: TypeAdapter = TypeAdapter(BackendSpec)


def parse_spec(data: dict[str, Any], *, where: str = "backend") -> _Spec:
    """Validate a dict (e.g. from run.json) into its spec."""
    from pydantic import ValidationError

    from benchseal.errors import ConfigError
    from benchseal.io import format_validation_error

    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid backend settings: {format_validation_error(exc)}", where=where) from None


def add_backend_args(parser: argparse.ArgumentParser, *, default: str, model_help: str | None = None,
                     model_required: bool = True) -> None:
    """Declare the backend flags (the same in ``perf``, ``run`` and ``eval``)."""
    g = parser.add_argument_group("backend")
    g.add_argument("--backend", choices=BACKEND_NAMES, default=default, help=f"how the model is run (default: {default})")
    g.add_argument("--model", required=model_required,
                   help=model_help or "served model name (openai) or local model path (hf, vllm, vllm-serve)")
    for flag, (_, kw) in FLAGS.items():
        g.add_argument(flag, **{"default": None, **kw})


def spec_from_args(args: argparse.Namespace) -> _Spec:
    """Build the chosen backend's spec from the flags; a flag it does not take is a usage error."""
    cls = SPECS[args.backend]
    data: dict[str, Any] = {"kind": args.backend, "model": args.model}
    for flag, (field, _) in FLAGS.items():
        value = getattr(args, field_attr(flag), None)
        if value is None:
            continue
        if field not in cls.model_fields:
            takers = [k for k, c in SPECS.items() if field in c.model_fields]
            raise UsageError(f"{flag} does not apply to --backend {args.backend}",
                             hint=f"it is an option of --backend {' / '.join(takers)}")
        data[field] = value
    if not args.model:
        raise UsageError("--model is required", hint="pass the served model name (openai) or the model path")
    spec = parse_spec(data, where="command line")
    # A key given instead of a variable name is refused (never echoed) before anything is written.
    check_api_key_env(getattr(spec, "api_key_env", None))
    return spec


@contextlib.contextmanager
def eval_session(spec: _Spec, out_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The evaluation backend for ``spec`` (``benchseal eval``): for ``vllm-serve`` the server is
    started for the evaluation and always stopped afterwards; other specs need nothing started."""
    if spec.kind != "vllm-serve":
        yield spec.eval_target()
        return
    import asyncio

    server = spec.build(out_dir, keep_server=True)

    async def _up() -> None:
        await server.start()
        await server.close()  # keep_server: only the HTTP client is closed

    try:
        asyncio.run(_up())
        yield spec.eval_target(server.base_url)
    finally:
        server.shutdown()


def field_attr(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


__all__ = ["BACKEND_NAMES", "BackendSpec", "HFSpec", "OpenAISpec", "SPECS", "VLLMServeSpec", "VLLMSpec",
           "add_backend_args", "engine_dict", "eval_session", "parse_spec", "spec_from_args"]
