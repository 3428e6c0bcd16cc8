"""How benchseal stops on a signal: SIGINT (Ctrl-C), SIGTERM (CI cancellation, Kubernetes, Slurm)
and SIGHUP (a closed terminal) all mean "stop measuring, keep what was measured".

The CLI installs :func:`install` first thing. From then on:

- the **first** signal is recorded (:func:`requested`) and raised as ``KeyboardInterrupt`` in the
  main thread, so synchronous work stops where it is; inside the measurement's event loop the
  load generator installs loop handlers instead (:func:`loop_handlers`), which cancel the
  measuring task so every in-flight request is recorded as cancelled and the load point is
  summarised from what completed;
- **repeated** signals (Ctrl-C pressed twice, SIGTERM after SIGINT) are recorded and otherwise
  ignored: the partial bundle is being written and signed, which takes seconds and is bounded.
  SIGKILL still ends the process at once;
- inside :func:`deferred` (writing claims, reports and the signature) even the first signal is
  only recorded; the work finishes and the command exits 3 afterwards.

Third-party code that swallows ``KeyboardInterrupt`` (a bare ``except:`` while loading a
tokenizer) cannot make a run ignore the signal: the flag stays set, every stage boundary checks it
(:func:`check`), and the CLI exits 3 whenever a signal arrived. Worker processes of the load
generator do not act on these signals themselves; they follow the parent (see
``bench.perf.loadgen``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any, Callable, Iterator

SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class _State:
    signal: str | None = None  # name of the first signal received
    count: int = 0
    defer: int = 0  # depth of deferred() sections
    installed: bool = False


_state = _State()


def requested() -> str | None:
    """The name of the first signal received (``"SIGTERM"``), or None."""
    return _state.signal


def describe() -> str:
    """``interrupted by SIGTERM`` (or by the user for SIGINT)."""
    sig = _state.signal or "a signal"
    return "interrupted by the user (Ctrl-C, SIGINT)" if sig == "SIGINT" else f"interrupted by {sig}"


def note(signum: int) -> bool:
    """Record a signal; True when it is the first one."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    _state.count += 1
    if _state.signal is None:
        _state.signal = name
        return True
    return False


def reset() -> None:
    """Forget received signals (tests; a long-lived process running several commands)."""
    _state.signal, _state.count, _state.defer = None, 0, 0


def _handler(signum: int, frame: Any) -> None:
    first = note(signum)
    if first and _state.defer == 0:
        raise KeyboardInterrupt
    if not first and _state.count == 2:  # say once that it was heard; os.write is safe in a handler
        try:
            os.write(2, b"benchseal: already stopping: writing the partial bundle (SIGKILL ends it at once)\n")
        except OSError:
            pass


def install() -> None:
    """Handle SIGINT, SIGTERM and SIGHUP as described in the module docstring (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        try:
            signal.signal(sig, _handler)
        except (OSError, ValueError):  # pragma: no cover - platform dependent
            pass
    _state.installed = True


def uninstall() -> None:
    """Restore the default dispositions (tests)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    _state.installed = False


def check(where: str = "") -> None:
    """Raise :class:`~benchseal.errors.RunInterrupted` when a signal was received (a stage boundary)."""
    if _state.signal is not None:
        from benchseal.errors import RunInterrupted

        raise RunInterrupted(describe() + (f" {where}" if where else ""))


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Signals received inside are recorded only (finishing work that must not be cut: reports, signature)."""
    _state.defer += 1
    try:
        yield
    finally:
        _state.defer -= 1


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """Block the signals in this thread for the duration (pending ones arrive afterwards). Child
    processes started inside inherit the blocked mask, so they never act on these signals."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def loop_handlers(loop, on_first: Callable[[], None]) -> Iterator[None]:
    """Inside a running event loop: the signals call ``on_first`` once (e.g. cancel the measuring
    task) and are recorded; the process's handlers are restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in SIGNALS}

    def on_signal(sig: int) -> None:
        if note(sig) and _state.defer == 0:
            on_first()
        elif _state.count == 2:
            try:
                os.write(2, b"benchseal: already stopping: writing the partial bundle (SIGKILL ends it at once)\n")
            except OSError:
                pass

    added = []
    try:
        for sig in SIGNALS:
            try:
                loop.add_signal_handler(sig, on_signal, sig)
                added.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - not a Unix loop
                pass
        if _state.signal is not None and _state.defer == 0:  # arrived before the loop handlers: stop now
            on_first()
        yield
    finally:
        for sig in added:
            loop.remove_signal_handler(sig)
            signal.signal(sig, saved[sig] if saved[sig] is not None else signal.SIG_DFL)


__all__ = ["SIGNALS", "blocked", "check", "deferred", "describe", "install", "loop_handlers", "note", "requested",
           "reset", "uninstall"]
