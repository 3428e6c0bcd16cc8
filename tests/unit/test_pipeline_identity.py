"""pipeline.identity: the engine command a managed vllm serve got is recorded with a bound identity."""

from __future__ import annotations

import json
from types import SimpleNamespace

from benchseal.bench.perf.backends.spec import OpenAISpec, VLLMServeSpec
from benchseal.pipeline.identity import record_identity
from benchseal.schema import RunManifest


class _Server:
    port = 8123

    def command(self):
        return ["vllm", "serve", "--model", "/m", "--api-key", "sk-should-not-appear"]


def _ctx(tmp_path, backend, model_path, server=None):
    from benchseal.bundle import Bundle

    manifest = RunManifest(tool_version="0", run_id="r", started_at="t", status="running")
    return SimpleNamespace(spec=SimpleNamespace(backend=backend, model_path=model_path), manifest=manifest, server=server,
                           bundle=Bundle(tmp_path), log=lambda m: None)


def test_vllm_serve_is_bound_with_its_command(tmp_path):
    m = tmp_path / "m"
    m.mkdir()
    (tmp_path / "model.json").write_text(json.dumps({"model_digest": "ab" * 32, "files": [{"path": "w.safetensors"}]}))
    ctx = _ctx(tmp_path, VLLMServeSpec(model=str(m)), str(m), _Server())
    record_identity(ctx)
    ident = ctx.manifest.served_model_identity
    assert ident["status"] == "bound" and ident["command"][:2] == ["vllm", "serve"]
    assert "sk-should-not-appear" not in json.dumps(ident)


def test_an_unreachable_endpoint_is_not_established_never_a_crash(tmp_path):
    m = tmp_path / "m"
    m.mkdir()
    ctx = _ctx(tmp_path, OpenAISpec(model="x", base_url="http://127.0.0.1:9"), str(m))
    record_identity(ctx)
    ident = ctx.manifest.served_model_identity
    assert ident["status"] == "not-established" and "could not be established" in ident["detail"]
