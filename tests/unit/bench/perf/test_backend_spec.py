"""One typed backend spec: every backend flag means the same in `perf`, `run` and `eval`."""

from __future__ import annotations

import pytest

from benchseal.bench.perf.backends.spec import SPECS, HFSpec, OpenAISpec, VLLMServeSpec, VLLMSpec, parse_spec
from benchseal.bench.perf.backends.spec import spec_from_args as backend_spec
from benchseal.cli import build_parser
from benchseal.commands.run import spec_from_args as run_spec
from benchseal.errors import ConfigError, UsageError

# every flag each backend takes, with a non-default value
FLAGS = {
    "openai": ["--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "MY_KEY", "--endpoint", "chat",
               "--server-ignore-eos", "--server-token-ids", "--num-gpus", "2", "--server-metrics",
               "http://127.0.0.1:9/metrics", "--server-metrics-interval", "0.5"],
    "vllm-serve": ["--tensor-parallel-size", "2", "--pipeline-parallel-size", "2", "--data-parallel-size", "2",
                   "--enable-expert-parallel", "--distributed-executor-backend", "ray", "--engine-arg=--max-model-len=4096",
                   "--engine-arg=--enforce-eager", "--vllm-command", "python -m vllm.entrypoints.openai.api_server",
                   "--api-key-env", "MY_KEY", "--endpoint", "chat", "--server-ignore-eos", "--num-gpus", "4",
                   "--server-metrics", "http://127.0.0.1:9/metrics", "--server-metrics-interval", "0.5"],
    "vllm": ["--tensor-parallel-size", "2", "--pipeline-parallel-size", "2", "--dtype", "bfloat16",
             "--enable-expert-parallel", "--distributed-executor-backend", "mp",
             "--engine-arg", "max_model_len=4096", "--engine-arg", "enforce_eager=true", "--num-gpus", "4"],
    "hf": ["--device", "cpu", "--dtype", "float32", "--num-gpus", "0"],
}


def _parse(*argv: str):
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize("backend", sorted(FLAGS))
def test_perf_run_and_eval_build_the_same_spec(backend, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-unit-spec-1234")  # the spec checks that the named variable holds a key
    flags = ["--backend", backend, "--model", "/models/m", *FLAGS[backend]]
    perf = backend_spec(_parse("perf", *flags, "--out", "o"))
    run = run_spec(_parse("run", "hunan-2025", *flags, "--out", "o", "--stages", "perf")).backend
    ev = backend_spec(_parse("eval", "run", "demo", *flags, "--out", "o"))
    assert perf == run == ev
    assert perf.kind == backend and type(perf) is SPECS[backend]
    # every flag given changed the spec from its default (nothing silently dropped)
    default = SPECS[backend](model="/models/m")
    changed = {k for k in type(perf).model_fields if getattr(perf, k) != getattr(default, k)}
    # no_server_metrics contradicts --server-metrics (tests/unit/bench/perf/test_server_metrics.py)
    assert changed == set(type(perf).model_fields) - {"kind", "model", "request_timeout_s", "no_server_metrics"} - (
        {"base_url", "server_token_ids"} if backend == "vllm-serve" else set()) - (  # vLLM: token ids by default
        {"data_parallel_size"} if backend == "vllm" else set())  # one replica in this process


def test_run_vllm_engine_args_pass_through():
    args = _parse("run", "hunan-2025", "--backend", "vllm", "--model", "/m", "--engine-arg", "max_model_len=4096",
                  "--engine-arg", "gpu-memory-utilization=0.8", "--out", "o", "--stages", "perf")
    spec = run_spec(args).backend
    assert isinstance(spec, VLLMSpec)
    assert spec.engine_args == {"max_model_len": 4096, "gpu_memory_utilization": 0.8}
    name, opts = spec.eval_target()
    assert name == "vllm" and opts["extra"]["max_model_len"] == 4096 and opts["extra"]["tensor_parallel_size"] == 1


def test_vllm_serve_engine_args_kept_verbatim_and_gpus():
    spec = backend_spec(_parse("perf", "--backend", "vllm-serve", "--model", "/m", "--engine-arg=--max-model-len=512",
                               "--tensor-parallel-size", "2", "--out", "o"))
    assert isinstance(spec, VLLMServeSpec) and spec.engine_args == ["--max-model-len=512"] and spec.gpus() == 2


@pytest.mark.parametrize("backend, flag, value", [("hf", "--base-url", "http://x"), ("openai", "--dtype", "bf16"),
                                                  ("hf", "--engine-arg", "a=1"), ("openai", "--vllm-command", "vllm serve"),
                                                  ("vllm", "--endpoint", "chat")])
def test_a_flag_the_backend_does_not_take_is_refused(backend, flag, value):
    with pytest.raises(UsageError, match=f"{flag} does not apply to --backend {backend}"):
        backend_spec(_parse("perf", "--backend", backend, "--model", "m", flag, value, "--out", "o"))


def test_gpus_and_eval_targets():
    assert HFSpec(model="m").gpus() == 1 and OpenAISpec(model="m").gpus() == 0
    assert VLLMSpec(model="m", tensor_parallel_size=2, pipeline_parallel_size=2).gpus() == 4
    assert OpenAISpec(model="m", num_gpus=8).gpus() == 8
    assert OpenAISpec(model="m", base_url="http://h/v1", api_key_env="K").eval_target() == (
        "openai", {"base_url": "http://h/v1", "api_key_env": "K"})
    assert HFSpec(model="m", device="cpu").eval_target() == ("hf", {"device": "cpu", "extra": {}})
    with pytest.raises(UsageError):
        VLLMServeSpec(model="m").eval_target()


def test_spec_round_trips_through_run_json():
    spec = VLLMServeSpec(model="m", engine_args=["--enforce-eager"], vllm_command="python -m vllm")
    assert spec.vllm_command == ["python", "-m", "vllm"]
    assert parse_spec(spec.model_dump(mode="json")) == spec
    with pytest.raises(ConfigError, match="invalid backend settings"):
        parse_spec({"kind": "hf", "model": "m", "base_url": "http://x"})
    with pytest.raises(UsageError, match="KEY=VALUE"):
        VLLMSpec(model="m", engine_args=["novalue"])


def test_the_spec_refuses_a_key_given_instead_of_a_variable_name(capsys):
    """Every command builds its backend through spec_from_args, so none can forget the check."""
    from benchseal.errors import UsageError

    for cmd in (["perf"], ["run", "hunan-2025"], ["eval", "run", "demo"]):
        args = _parse(*cmd, "--backend", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
                      "--api-key-env", "sk-live-0123456789abcdefABCDEF", "--out", "o")
        with pytest.raises(UsageError) as e:
            backend_spec(args)
        assert "sk-live-0123456789abcdefABCDEF" not in str(e.value)
