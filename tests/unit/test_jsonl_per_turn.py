"""JsonlWriter(per_loop_turn=True): the perf records' writer. Every line of a loop turn reaches the
file in one write, before any callback of the next turn runs; order is kept; close flushes."""

from __future__ import annotations

import asyncio
import json

from benchseal.io import JsonlWriter
from benchseal.schema import RequestRecord


def rec(i: int) -> RequestRecord:
    return RequestRecord(load_point="c", request_id=i, send_s=0.0, end_s=1.0, status="ok")


def lines(path) -> list[int]:
    return [json.loads(x)["request_id"] for x in path.read_text().splitlines()]


def test_lines_of_a_turn_are_written_before_the_next_turns_callbacks(tmp_path):
    path = tmp_path / "r.jsonl"
    seen: list[list[int]] = []

    async def main() -> None:
        w = JsonlWriter(path, per_loop_turn=True)
        loop = asyncio.get_running_loop()
        for i in range(3):
            w.write_model(rec(i))
        assert lines(path) == []  # buffered within the turn
        loop.call_soon(lambda: seen.append(lines(path)))  # queued after the writer's flush
        await asyncio.sleep(0)
        w.write_model(rec(3))
        w.write({"request_id": 4})  # a plain write keeps the order
        w.write_model(rec(5))
        w.close()  # flushes what is pending even though the loop never ran the callback

    asyncio.run(main())
    assert seen == [[0, 1, 2]]
    assert lines(path) == [0, 1, 2, 3, 4, 5]


def test_without_a_running_loop_each_line_is_written_at_once(tmp_path):
    path = tmp_path / "r.jsonl"
    w = JsonlWriter(path, per_loop_turn=True)
    w.write_model(rec(7))
    assert lines(path) == [7]
    w.close()
    assert w.count == 1
