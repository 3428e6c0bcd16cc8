"""`eval run --backend openai` asks the server for prompt logprobs once before anything is scored: a server
that cannot give them (the test server streams text only; a chat-only API) is one sentence, exit 2."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchseal.errors import ServerError, UsageError
from benchseal.evaluators.backends import probe_prompt_logprobs


class _Handler(BaseHTTPRequestHandler):
    reply: dict | None = None
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.server.seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))  # type: ignore[attr-defined]
        self.server.headers_seen.append(dict(self.headers))  # type: ignore[attr-defined]
        body = json.dumps(self.server.reply).encode()  # type: ignore[attr-defined]
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def canned():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.seen, srv.headers_seen, srv.status = [], [], 200
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/v1/completions"


def test_a_server_with_prompt_logprobs_passes_and_is_asked_like_lm_eval_asks(canned):
    canned.reply = {"choices": [{"text": "The capital of France is Paris.", "logprobs": {
        "tokens": ["The", " capital", " of", " France", " is", " Paris", "."],
        "token_logprobs": [None, -5.1, -0.3, -2.2, -0.4, -0.9, -1.7], "top_logprobs": [None] + [{}] * 6}}]}
    probe_prompt_logprobs(_url(canned), "m", {"Authorization": "Bearer sk-probe-1234"})
    sent = canned.seen[0]
    assert sent["echo"] is True and sent["logprobs"] == 1 and sent["max_tokens"] == 1 and sent["model"] == "m"
    assert canned.headers_seen[0]["Authorization"] == "Bearer sk-probe-1234"


@pytest.mark.parametrize("reply", [
    {"choices": [{"text": " Paris"}]},                                          # no logprobs at all
    {"choices": [{"text": " Paris", "logprobs": None}]},
    {"choices": [{"text": " Paris", "logprobs": {"token_logprobs": [-0.2]}}]},  # the generated token only: no echo
    {"choices": []},
    {"object": "error"},
])
def test_a_server_without_prompt_logprobs_is_refused_before_scoring(canned, reply):
    canned.reply = reply
    with pytest.raises(UsageError, match="does not return prompt logprobs"):
        probe_prompt_logprobs(_url(canned), "m", None)


def test_a_refusal_is_one_sentence_without_the_key(canned):
    canned.status, canned.reply = 400, {"error": {"message": "echo is not supported with key sk-probe-1234"}}
    with pytest.raises(UsageError) as e:
        probe_prompt_logprobs(_url(canned), "m", {"Authorization": "Bearer sk-probe-1234"})
    assert "HTTP 400" in str(e.value) and "echo is not supported" in str(e.value) and "sk-probe-1234" not in str(e.value)


def test_an_unreachable_server_is_a_server_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServerError, match="cannot reach the evaluation server"):
        probe_prompt_logprobs(f"http://127.0.0.1:{port}/v1/completions", "m", None, timeout_s=5)


def test_eval_run_against_a_text_only_server_stops_before_scoring(run_cli, test_server, tiny_llama, tmp_path):
    """The CLI end to end: benchseal's test server streams text and has no logprobs; the demo suite has
    loglikelihood tasks. One sentence, exit 2, nothing scored."""
    code, out, err = run_cli("eval", "run", "demo", "--backend", "openai", "--base-url", test_server.url + "/v1",
                             "--model", "test-model", "--tokenizer", tiny_llama, "--out", tmp_path / "b")
    assert code == 2, err
    assert "Traceback" not in err and "does not return prompt logprobs" in " ".join(err.split())
    assert not list((tmp_path / "b").glob("eval/demo/results.json"))


def test_run_checks_prompt_logprobs_in_preflight_before_perf(tmp_path, test_server, tiny_llama):
    """`benchseal run` with perf and eval through one server: the probe is part of the pre-flight, so the
    perf stage never spends its time on a run whose eval stage cannot score; exit 2, a bundle that says why."""
    import subprocess
    import sys

    out = tmp_path / "b"
    res = subprocess.run([sys.executable, "-m", "benchseal", "run", "hunan-2025", "--backend", "openai",
                          "--base-url", test_server.url + "/v1", "--model", "test-model", "--model-path", str(tiny_llama),
                          "--stages", "perf,eval", "--suite", "demo",
                          "--workload", "demo-cpu", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "does not return prompt logprobs" in " ".join(res.stderr.split())
    run = json.loads((out / "run.json").read_text())
    assert run["stages"]["perf"]["status"] != "complete" and not (out / "perf" / "requests.jsonl").exists()
    assert "prompt logprobs" in json.dumps(run)
