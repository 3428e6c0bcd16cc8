"""The event loop the load generator runs on (docs/PERFORMANCE.md, "Against a lean asyncio client").

uvloop's loop when the optional ``uvloop`` package is installed (``pip install 'benchseal[perf]'``):
it costs the client less per request (measured by ``scripts/bench_lean.py``), and the timestamps do
not depend on it (they are ``perf_counter`` readings taken in the transport's ``data_received``;
``PreciseTimer`` polls through the last ``margin_s`` on any loop other than CPython's selector loop).
Without uvloop, or with ``BENCHSEAL_EVENT_LOOP=asyncio``, the stock asyncio loop. Asking for
``BENCHSEAL_EVENT_LOOP=uvloop`` where it is not installed is an environment error (exit 3), not a
silent fallback. The loop used is recorded in ``perf/summary.json`` ``capabilities.event_loop``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Callable, Coroutine

ENV = "BENCHSEAL_EVENT_LOOP"
CHOICES = ("auto", "asyncio", "uvloop")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` or None (stock asyncio), by ``BENCHSEAL_EVENT_LOOP`` (default auto)."""
    from benchseal.errors import MissingDependency, UsageError

    choice = (os.environ.get(ENV) or "auto").strip().lower()
    if choice not in CHOICES:
        raise UsageError(f"{ENV}={choice[:40]!r} is not one of {', '.join(CHOICES)}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise MissingDependency("uvloop", "perf", f"{ENV}=uvloop") from None
        return None
    return uvloop.new_event_loop


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """"uvloop <version>" or "asyncio" for the running loop."""
    if type(loop).__module__.startswith("uvloop"):
        import uvloop

        return f"uvloop {getattr(uvloop, '__version__', '?')}"
    return "asyncio"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run(coro)`` on the loop :func:`loop_factory` picks."""
    try:
        factory = loop_factory()
    except BaseException:
        coro.close()
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)
