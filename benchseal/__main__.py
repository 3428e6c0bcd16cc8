"""``python -m benchseal`` and the ``benchseal`` console script (``benchseal.__main__:entry``).

SIGINT, SIGTERM and SIGHUP are recorded from this module's first lines, before the CLI and its command
modules are imported: a signal in the first fraction of a second (CI cancelling a job as it starts) then
ends the command with one sentence and exit 3, like a signal at any later moment, instead of killing the
process by the signal. Only the interpreter's own start-up (before any benchseal code runs) is uncovered.
"""

import signal as _signal

_early: list[int] = []


def _record(signum, frame) -> None:  # noqa: ANN001 - a signal handler
    _early.append(signum)


for _name in ("SIGINT", "SIGTERM", "SIGHUP"):
    if hasattr(_signal, _name):
        try:
            _signal.signal(getattr(_signal, _name), _record)
        except (OSError, ValueError):  # pragma: no cover - not the main thread, or the platform refuses
            pass


def entry() -> int:
    from benchseal.cli import main

    return main(early_signals=_early)


if __name__ == "__main__":
    raise SystemExit(entry())
