"""The load generator's event loop: uvloop when installed (the optional ``perf`` extra), the stock
asyncio loop otherwise or when asked; asking for uvloop where it is missing is an environment error."""

from __future__ import annotations

import asyncio
import sys

import pytest

from benchseal.bench.perf.loadgen import eventloop
from benchseal.errors import MissingDependency, UsageError


async def _name() -> str:
    return eventloop.loop_name(asyncio.get_running_loop())


def test_stock_asyncio_when_asked(monkeypatch):
    monkeypatch.setenv(eventloop.ENV, "asyncio")
    assert eventloop.loop_factory() is None and eventloop.run(_name()) == "asyncio"


def test_falls_back_without_uvloop_and_refuses_a_demand_for_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    monkeypatch.delenv(eventloop.ENV, raising=False)
    assert eventloop.loop_factory() is None and eventloop.run(_name()) == "asyncio"
    monkeypatch.setenv(eventloop.ENV, "uvloop")
    coro = _name()
    with pytest.raises(MissingDependency, match="uvloop"):
        eventloop.run(coro)
    assert coro.cr_frame is None  # closed, never left un-awaited
    monkeypatch.setenv(eventloop.ENV, "trio")
    with pytest.raises(UsageError, match="BENCHSEAL_EVENT_LOOP"):
        eventloop.loop_factory()


def test_uvloop_by_default_where_installed(monkeypatch):
    pytest.importorskip("uvloop")
    monkeypatch.delenv(eventloop.ENV, raising=False)
    assert eventloop.run(_name()).startswith("uvloop ")
