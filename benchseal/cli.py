"""The ``benchseal`` command.

Thin by design: it builds the parser from the command modules in :mod:`benchseal.commands`, calls
one function, and maps errors to exit codes (0 ok, 1 claim/verification failed, 2 bad input,
3 environment/runtime). Command modules import heavy libraries only inside their handlers, so
``benchseal --help`` stays fast and never imports torch, transformers, vllm, lm_eval or ray.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Sequence

from benchseal import __version__
from benchseal.errors import BenchsealError, ExitCode

# Order is the order shown in --help. Each name is a module benchseal.commands.<name> exposing
# ``register(subparsers)`` which adds its parser and sets ``func`` (args -> int exit code).
COMMANDS = (
    "demo",
    "run",
    "hw",
    "params",
    "digest",
    "flops",
    "plan",
    "perf",
    "eval",
    "datasets",
    "programs",
    "report",
    "keygen",
    "sign",
    "verify",
)


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """The parser with the subcommands ``commands`` registered (all of them by default).

    :func:`main` registers only the subcommand its arguments name (:func:`commands_for`), so that
    ``benchseal params`` imports ``benchseal.commands.params`` and not the modules of the other commands
    (whose flag declarations import e.g. the backend specs); a sibling subparser never changes how a
    subcommand's own arguments parse.
    """
    parser = argparse.ArgumentParser(
        prog="benchseal",
        description=(
            "Measure a large language model on real hardware against funding-program claims "
            "and write a signed evidence bundle that anyone can verify offline."
        ),
        epilog="Exit codes: 0 ok, 1 a claim or verification failed, 2 bad input, 3 environment/runtime failure.",
    )
    parser.add_argument("--version", action="version", version=f"benchseal {__version__}")
    parser.add_argument("--config-dir", action="append", default=[], metavar="DIR",
                        help="a folder laid out like benchseal's configs/ (programs/, workloads/, suites/, peers/, gpus.yaml), "
                        "searched before $BENCHSEAL_CONFIG_DIR and the shipped configs; its files override or extend them (repeatable)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered = 0
    for name in commands:
        try:
            module = importlib.import_module(f"benchseal.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"benchseal.commands.{name}":
                continue  # command not available in this build
            raise
        module.register(sub)
        registered += 1
    if not registered and tuple(commands) != COMMANDS:
        return build_parser()  # the named command is not in this build: argparse lists the ones that are
    return parser


def commands_for(argv: Sequence[str]) -> Sequence[str]:
    """The subcommands to register for ``argv``: just the one it names, or all of them when it names
    none (``benchseal --help``, an unknown command, a top-level option other than ``--config-dir``)."""
    it = iter(argv)
    for tok in it:
        if tok.startswith("--c") and len(tok) > 3 and "--config-dir".startswith(tok.split("=", 1)[0]):
            if "=" not in tok:
                next(it, None)  # its value
            continue
        if tok in COMMANDS:
            return (tok,)
        break  # -h, --version, --, an unknown command: argparse answers with every subcommand known
    return COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    from benchseal import interrupts

    saved = {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS} if _main_thread() else {}
    interrupts.reset()
    interrupts.install()  # first: SIGTERM/SIGHUP behave like Ctrl-C from here on (benchseal.interrupts)
    command = "benchseal"
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        parser = build_parser(commands_for(argv))
        args = parser.parse_args(argv)
        command = f"benchseal {args.command}" if getattr(args, "command", None) else command
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return int(ExitCode.BAD_INPUT)
        from benchseal.config import add_config_dirs

        add_config_dirs(args.config_dir)
        code = int(func(args) or 0)
        if interrupts.requested() and code != ExitCode.ENVIRONMENT:  # a swallowed signal still ends it as interrupted
            _error(command, interrupts.describe() + "; the command finished what it was writing")
            return int(ExitCode.ENVIRONMENT)
        return code
    except BenchsealError as exc:
        _error(command, exc.message)
        if os.environ.get("BENCHSEAL_DEBUG"):
            raise
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _error(command, interrupts.describe() if interrupts.requested() else "interrupted")
        return int(ExitCode.ENVIRONMENT)
    except BrokenPipeError:  # e.g. `benchseal hw --json | head`
        return int(ExitCode.OK)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _error(command: str, message: str) -> None:
    """One line on stderr, every known secret value (API key, passphrase) replaced."""
    from benchseal.redact import scrub

    try:
        print(f"{command}: error: {scrub(message)}", file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
