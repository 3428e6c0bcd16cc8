"""vLLM's parallel layout as typed spec fields (issue 24): passed to vLLM, counted as GPUs, and never
smuggled through --engine-arg where benchseal would not see it."""

from __future__ import annotations

import pytest

from benchseal.bench.perf.backends.spec import VLLMServeSpec, VLLMSpec, parse_spec
from benchseal.bench.perf.backends.vllm_serve import VLLMServeBackend
from benchseal.errors import ConfigError


def test_gpus_count_every_parallel_dimension_and_the_command_carries_them(tmp_path):
    spec = VLLMServeSpec(model="/m", tensor_parallel_size=8, pipeline_parallel_size=2, data_parallel_size=2,
                         enable_expert_parallel=True, distributed_executor_backend="ray",
                         engine_args=["--max-model-len=4096"])
    assert spec.gpus() == 32
    backend = spec.build(tmp_path, ray_address="10.0.0.1:6379")
    backend.port = 8001
    argv = backend.command()
    assert argv[argv.index("--tensor-parallel-size") + 1] == "8" and argv[argv.index("--pipeline-parallel-size") + 1] == "2"
    assert argv[argv.index("--data-parallel-size") + 1] == "2" and "--enable-expert-parallel" in argv
    assert argv[argv.index("--distributed-executor-backend") + 1] == "ray" and argv[-1] == "--max-model-len=4096"
    assert backend.ray_address == "10.0.0.1:6379"
    # recorded as typed fields (run.json holds the spec's dump) and read back the same
    assert parse_spec(spec.model_dump(mode="json")) == spec


def test_defaults_keep_the_old_command(tmp_path):
    b = VLLMServeSpec(model="/m").build(tmp_path)
    b.port = 8001
    assert b.command()[-4:] == ["--tensor-parallel-size", "1", "--pipeline-parallel-size", "1"]
    assert VLLMServeSpec(model="/m").gpus() == 1


@pytest.mark.parametrize("args", [["--tensor-parallel-size=8"], ["-tp", "8"], ["--data-parallel-size", "2"],
                                  ["--enable-expert-parallel"], ["--distributed-executor-backend=ray"]])
def test_parallelism_through_engine_arg_is_refused(args):
    with pytest.raises(ConfigError, match="as its own flag"):
        parse_spec({"kind": "vllm-serve", "model": "/m", "engine_args": args})


def test_offline_engine_takes_tp_pp_ep_but_not_dp():
    spec = VLLMSpec(model="/m", tensor_parallel_size=4, pipeline_parallel_size=2, enable_expert_parallel=True,
                    distributed_executor_backend="ray")
    assert spec.gpus() == 8
    name, opts = spec.eval_target()
    assert name == "vllm" and opts["extra"]["enable_expert_parallel"] is True
    assert opts["extra"]["distributed_executor_backend"] == "ray" and opts["extra"]["pipeline_parallel_size"] == 2
    with pytest.raises(ConfigError, match="vllm-serve"):
        parse_spec({"kind": "vllm", "model": "/m", "data_parallel_size": 2})
    with pytest.raises(ConfigError, match="as its own flag"):
        parse_spec({"kind": "vllm", "model": "/m", "engine_args": ["tensor_parallel_size=2"]})


def test_ray_address_reaches_the_server_environment(tmp_path, monkeypatch):
    seen = {}

    class _Stop(Exception):
        pass

    def fake_popen(argv, **kw):
        seen.update(kw)
        raise _Stop

    import benchseal.bench.perf.backends.vllm_serve as vs

    monkeypatch.setattr(vs.subprocess, "Popen", fake_popen)
    b = VLLMServeBackend("/m", log_path=tmp_path / "log", ray_address="127.0.0.1:6390", port=8009)
    import asyncio

    with pytest.raises(_Stop):
        asyncio.run(b.start())
    assert seen["env"]["RAY_ADDRESS"] == "127.0.0.1:6390"
