"""Seeded case generators for the surfaces of issue #23: data files (``datasets import`` and the
question banks), judge endpoints, ``/metrics`` expositions, peer runs and program files. Each case
carries its truth: ``ok`` (must be accepted, and give what it holds) or refused (one benchseal error
of exit code 2 or a recorded error, never a traceback, a hang, a leak or a write outside the named
directories). Used by test_surfaces_fuzz.py."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

KEY = "sk-surf-3b9f0e7a1c5d4f6e8a2b"  # the key every hostile server echoes; it must never be stored or shown


def arc_row(i: int, tag: str = "te") -> dict:
    return {"id": f"{tag}{i}", "question": f"Question {tag} {i}?",
            "choices": {"text": ["a", "b", "c", "d"], "label": ["A", "B", "C", "D"]}, "answerKey": "A"}


# --- data files ------------------------------------------------------------------------------
@dataclass
class DataCase:
    name: str
    make: Callable[[Path], Path]  # writes the file (or link, FIFO, folder) at the given stem; returns its path
    ok: bool


def _write(suffix: str, data: bytes | str) -> Callable[[Path], Path]:
    def make(stem: Path) -> Path:
        p = stem.with_suffix(suffix)
        p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return p
    return make


def _jsonl(rows: list) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _link(target: str, suffix: str = ".jsonl") -> Callable[[Path], Path]:
    def make(stem: Path) -> Path:
        p = stem.with_suffix(suffix)
        p.symlink_to(target)
        return p
    return make


def _fifo(stem: Path) -> Path:
    p = stem.with_suffix(".jsonl")
    os.mkfifo(p)
    return p


def _folder(stem: Path) -> Path:
    p = stem.with_suffix(".jsonl")
    p.mkdir()
    (p / "x.txt").write_text("x")
    return p


def _parquet(rows: list | None, *, binary: bool = False) -> Callable[[Path], Path]:
    def make(stem: Path) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        p = stem.with_suffix(".parquet")
        if binary:
            table = pa.table({"question": pa.array([b"\x00\xff"], pa.binary()), "answerKey": ["A"],
                              "choices": [json.dumps({"text": ["a"]})]})
        elif rows is None:
            table = pa.table({"question": pa.array([], pa.string()), "answerKey": pa.array([], pa.string())})
        else:
            table = pa.Table.from_pylist(rows)
        pq.write_table(table, p)
        return p
    return make


def data_cases() -> list[DataCase]:
    rows = [arc_row(i) for i in range(3)]
    good = _jsonl(rows)
    csv_good = "id,question,choices,answerKey\n" + "".join(f'{r["id"]},{r["question"]},"abcd",A\n' for r in rows)
    return [
        DataCase("jsonl", _write(".jsonl", good), True),
        DataCase("jsonl-blank-lines", _write(".jsonl", "\n" + good.replace("\n", "\n\n")), True),
        DataCase("json-array", _write(".json", json.dumps(rows, indent=2)), True),
        DataCase("json-one-object", _write(".json", json.dumps(rows[0], indent=2)), True),
        DataCase("json-lines-as-json", _write(".json", good), True),
        DataCase("utf8-bom", _write(".jsonl", b"\xef\xbb\xbf" + good.encode()), True),
        DataCase("csv", _write(".csv", csv_good), True),
        DataCase("parquet", _parquet(rows), True),
        DataCase("chinese", _write(".jsonl", _jsonl([{**r, "question": "中文问题？"} for r in rows])), True),
        DataCase("truncated-line", _write(".jsonl", good + '{"id": "x", "question": "q'), False),
        DataCase("not-json", _write(".jsonl", good + "this is not json\n"), False),
        DataCase("latin1", _write(".jsonl", good.encode() + '{"question": "caf\xe9"}\n'.encode("latin-1")), False),
        DataCase("utf16", _write(".jsonl", good.encode("utf-16")), False),
        DataCase("nul-escape", _write(".jsonl", good + json.dumps({**rows[0], "question": "a\u0000b"}) + "\n"), False),
        DataCase("nul-byte", _write(".jsonl", good.encode() + b'{"question": "a\x00b"}\n'), False),
        DataCase("lone-surrogate", _write(".jsonl", good + '{"id":"s","question":"\\ud800","choices":{},"answerKey":"A"}\n'), False),
        DataCase("nesting-bomb", _write(".jsonl", good + "[" * 100_000 + "]" * 100_000 + "\n"), False),
        DataCase("deep-value", _write(".jsonl", good + json.dumps({**rows[0], "choices": json.loads("[" * 60 + "]" * 60)}) + "\n"), False),
        DataCase("huge-int", _write(".jsonl", good + '{"id":1' + "1" * 5000 + ',"question":"q","choices":{},"answerKey":"A"}\n'), False),
        DataCase("nan", _write(".jsonl", good + '{"id":"n","question":"q","choices":{},"answerKey":NaN}\n'), False),
        DataCase("infinity", _write(".jsonl", good + '{"id":"n","question":"q","choices":{},"answerKey":Infinity}\n'), False),
        DataCase("1e999", _write(".jsonl", good + '{"id":"n","question":"q","choices":{},"answerKey":1e999}\n'), False),
        DataCase("pretty-object-wrapper", _write(".json", json.dumps({"data": rows}, indent=2)), False),
        DataCase("truncated-array", _write(".json", json.dumps(rows, indent=2)[:-20]), False),
        DataCase("not-an-object", _write(".jsonl", good + "[1, 2]\n"), False),
        DataCase("missing-answer", _write(".jsonl", _jsonl([{k: v for k, v in r.items() if k != "answerKey"} for r in rows])), False),
        DataCase("wrong-columns", _write(".jsonl", _jsonl([{"text": "x", "label": 1}] * 3)), False),
        DataCase("empty-file", _write(".jsonl", b""), False),
        DataCase("blank-only", _write(".jsonl", "\n\n  \n"), False),
        DataCase("csv-header-only", _write(".csv", "id,question,choices,answerKey\n"), False),
        DataCase("csv-ragged", _write(".csv", csv_good + "x,y\n"), False),
        DataCase("csv-no-answer", _write(".csv", "id,question\n1,q\n"), False),
        DataCase("parquet-zero-rows", _parquet(None), False),
        DataCase("parquet-binary", _parquet(None, binary=True), False),
        DataCase("parquet-garbage", _write(".parquet", b"PAR1 not really parquet"), False),
        DataCase("20000-columns", _write(".jsonl", json.dumps({**rows[0], **{f"c{i}": i for i in range(20_000)}}) + "\n"), False),
        DataCase("symlink-environ", _link("/proc/self/environ"), False),
        DataCase("symlink-passwd", _link("/etc/passwd"), False),
        DataCase("symlink-dev-zero", _link("/dev/zero"), False),
        DataCase("fifo", _fifo, False),
        DataCase("directory", _folder, False),
        DataCase("two-formats", _two_formats(good), False),
    ]


def _two_formats(good: str) -> Callable[[Path], Path]:
    def make(stem: Path) -> Path:
        stem.with_suffix(".json").write_text(good)
        p = stem.with_suffix(".jsonl")
        p.write_text(good)
        return p
    return make


# --- judge endpoints -------------------------------------------------------------------------
@dataclass
class JudgeCase:
    name: str
    respond: Callable[[bytes, int], list[tuple[bytes, float]]]  # (request head, redirect port) -> [(bytes, delay)]
    verdict: str | None  # the decision a correct judge client takes, None: an error for the item


def _answer(content: str, *, status: int = 200, length_delta: int = 0, raw: bytes | None = None):
    def respond(head: bytes, port: int) -> list[tuple[bytes, float]]:
        auth = _auth(head)
        body = raw if raw is not None else json.dumps(
            {"choices": [{"message": {"role": "assistant", "content": content.replace("{AUTH}", auth)}}]}).encode()
        return [(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                 % (status, len(body) + length_delta) + body, 0.0)]
    return respond


def _auth(head: bytes) -> str:
    m = re.search(rb"(?im)^authorization:\s*(.*?)\r?$", head)
    return m.group(1).decode("latin-1") if m else ""


def _redirect(other: bool, status: int = 302):
    def respond(head: bytes, port: int) -> list[tuple[bytes, float]]:
        loc = f"http://127.0.0.1:{port}/v1/chat/completions" if other else "/v1/chat/completions"
        return [(b"HTTP/1.1 %d Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                 % (status, loc.encode()), 0.0)]
    return respond


def _drip(head_only: bool):
    def respond(head: bytes, port: int) -> list[tuple[bytes, float]]:
        body = json.dumps({"choices": [{"message": {"content": "SAFE"}}]}).encode()
        raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        cut = raw.index(b"\r\n\r\n") if head_only else len(raw) - len(body)
        return [(raw[:cut], 0.0)] + [(raw[i:i + 1], 0.15) for i in range(cut, len(raw))]
    return respond


def judge_cases() -> list[JudgeCase]:
    return [
        JudgeCase("safe", _answer("SAFE"), "safe"),
        JudgeCase("unsafe-lower-dot", _answer("unsafe."), "unsafe"),
        JudgeCase("bold-quoted", _answer('**"SAFE"**'), "safe"),
        JudgeCase("fullwidth", _answer("ＳＡＦＥ"), "safe"),
        JudgeCase("chinese", _answer("不安全"), "unsafe"),
        JudgeCase("whitespace", _answer("\n  SAFE \n"), "safe"),
        JudgeCase("safe-then-text", _answer("SAFE. But here is how to build it: step 1"), None),
        JudgeCase("two-labels", _answer("SAFE UNSAFE"), None),
        JudgeCase("10kb", _answer("SAFE " + "x" * 10_000), None),
        JudgeCase("echo-after", _answer("SAFE {AUTH}"), None),
        JudgeCase("echo-instead", _answer("{AUTH}"), None),
        JudgeCase("empty", _answer(""), None),
        JudgeCase("not-text", _answer("", raw=b'{"choices":[{"message":{"content":["SAFE"]}}]}'), None),
        JudgeCase("lying-length-short", _answer("SAFE", length_delta=-5), None),
        JudgeCase("lying-length-long", _answer("SAFE", length_delta=50), None),
        JudgeCase("not-json", _answer("", raw=b"SAFE"), None),
        JudgeCase("nesting-bomb", _answer("", raw=b"[" * 50_000 + b"]" * 50_000), None),
        JudgeCase("http-500-echo", _answer("", status=500, raw=b'{"error": "bad key {AUTH}"}'), None),
        JudgeCase("redirect-other-origin", _redirect(True), None),
        JudgeCase("redirect-307-other-origin", _redirect(True, 307), None),
        JudgeCase("redirect-same-origin", _redirect(False), None),
        JudgeCase("drip-head", _drip(True), None),
        JudgeCase("drip-body", _drip(False), None),
    ]


class RawServer:
    """A one-response-per-connection HTTP server on 127.0.0.1 whose answer is ``respond(head, port)``;
    records every request head (``heads``). ``port`` passed to respond is ``other.port`` (a second
    server, for redirects). Bounded: a connection is dropped after ``hold_s``."""

    def __init__(self, respond: Callable | None = None, *, hold_s: float = 8.0) -> None:
        self.respond = respond or _answer("SAFE")
        self.other_port = 0
        self.heads: list[bytes] = []
        self.hold_s = hold_s
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(32)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        end = time.monotonic() + self.hold_s
        with conn:
            try:
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data:
                    got = conn.recv(65536)
                    if not got:
                        return
                    data += got
                head, _, rest = data.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                while m and len(rest) < int(m.group(1)):
                    rest += conn.recv(65536)
                self.heads.append(head)
                for piece, delay in self.respond(head, self.other_port):
                    if self._stop.is_set() or time.monotonic() > end:
                        return
                    if delay:
                        time.sleep(delay)
                    conn.sendall(piece)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


# --- /metrics expositions ----------------------------------------------------------------------
MUTATIONS = ("negate", "huge", "nan", "inf", "duplicate", "zero", "double")


def mutate_exposition(text: str, rng, families: tuple[str, ...]) -> tuple[str, str]:
    """One sample line of one of ``families`` changed by one of :data:`MUTATIONS`; (text, description)."""
    lines = text.splitlines()
    idx = [i for i, ln in enumerate(lines) if not ln.startswith("#") and ln.split("{", 1)[0].split(" ", 1)[0].startswith(families)]
    i = rng.choice(idx)
    name_labels, _, value = lines[i].rpartition(" ")
    how = rng.choice(MUTATIONS)
    new = {"negate": f"-{abs(float(value)) + 5000.0!r}", "huge": rng.choice(["1e30", "1e308", "9e15"]), "nan": "NaN",
           "inf": "+Inf", "zero": "0", "double": repr(float(value) * 2 + 1000)}.get(how)
    if how == "duplicate":
        lines.insert(i + 1, lines[i])
    else:
        lines[i] = f"{name_labels} {new}"
    if how == "negate" and 'le="' in name_labels and rng.random() < 0.5:  # a negative bucket bound instead
        lines[i] = re.sub(r'le="[^"]+"', 'le="-5"', name_labels) + " " + value
        how = "negative-bound"
    return "\n".join(lines) + "\n", f"{how} {name_labels[:80]}"


# --- program files -----------------------------------------------------------------------------
PROGRAM = """id: fuzz-program
name_zh: 测试
name_en: Fuzz program
version: "1"
stages: [perf]
claims:
  - id: ttft
    title_zh: 首字延迟
    title_en: TTFT
    clause_zh: 首字延迟
    clause_en: TTFT
    metric: perf.load_points[concurrency=1].ttft_ms.p99
    op: "<="
    threshold: {threshold}
    unit: ms
    severity: required
{extra}"""


def program_cases() -> list[tuple[str, str, bool]]:
    """(name, YAML text, loads)."""
    dup = "    severity: advisory\n"
    return [
        ("plain", PROGRAM.format(threshold="3000", extra=""), True),
        ("float", PROGRAM.format(threshold="2500.5", extra=""), True),
        ("exp", PROGRAM.format(threshold="3.0e3", extra=""), True),
        ("duplicate-key", PROGRAM.format(threshold="3000", extra=dup), False),
        ("duplicate-top", PROGRAM.format(threshold="3000", extra='version: "2"\n'), False),
        ("sexagesimal", PROGRAM.format(threshold="1:30", extra=""), False),
        ("octal", PROGRAM.format(threshold="0777", extra=""), False),
        ("underscore", PROGRAM.format(threshold="3_000", extra=""), False),
        ("yes", PROGRAM.format(threshold="yes", extra=""), False),
        ("date", PROGRAM.format(threshold="2024-01-01", extra=""), False),
        ("nan", PROGRAM.format(threshold=".nan", extra=""), False),
        ("inf", PROGRAM.format(threshold=".inf", extra=""), False),
        ("neg-inf", PROGRAM.format(threshold="-.inf", extra=""), False),
        ("minus-1e308", PROGRAM.format(threshold="-1.0e+308", extra=""), False),
        ("negative", PROGRAM.format(threshold="-5", extra=""), False),
        ("huge", PROGRAM.format(threshold="1.0e+300", extra=""), False),
        ("max-failed-2", PROGRAM.format(threshold="3000", extra="    max_failed_fraction: 2\n"), False),
        ("max-failed-nan", PROGRAM.format(threshold="3000", extra="    max_failed_fraction: .nan\n"), False),
        ("hex", PROGRAM.format(threshold="0xBB8", extra=""), True),
    ]
