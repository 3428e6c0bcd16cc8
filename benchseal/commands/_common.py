"""Helpers shared by command modules."""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
from typing import Any

from benchseal.io import dumps


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")


def print_json(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


def escape_data_tags(text: str) -> str:
    """Escape every ``[...]`` in ``text`` that is not rich style markup, so data keeps its brackets.

    benchseal's own messages use markup (``[bold]``, ``[red]...[/]``); data printed next to it
    carries brackets that rich would swallow as unknown tags: stage prefixes (``[hw]``), load
    points (``[concurrency=1]``), claim ids, metric paths. A tag is kept only when rich can parse
    it as a style (or it is a closing tag, a link, or an ``@`` handler); the rest is escaped.
    """
    from rich.errors import StyleSyntaxError
    from rich.markup import RE_TAGS
    from rich.style import Style

    def fix(m) -> str:
        backslashes, tag_text = m.group(2), m.group(3)  # RE_TAGS: ((\\*)\[([a-z#/@][^[]*?)])
        tag = tag_text.strip()
        if len(backslashes) % 2:  # already escaped
            return m.group(0)
        if tag.startswith(("/", "@", "link")):
            return m.group(0)
        try:
            Style.parse(tag)
        except StyleSyntaxError:
            return f"{backslashes}\\[{tag_text}]"
        return m.group(0)

    return RE_TAGS.sub(fix, text)


def fmt_num(v: Any, digits: int = 4) -> str:
    """A number for people: ints with thousands separators, floats to ``digits`` significant digits
    (never a raw ``518.2902145599791``); the exact value stays in the JSON."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.{digits}g}" if abs(v) < 10**digits else f"{v:,.0f}"
    return str(v)


def console(stderr: bool = False):
    """A rich Console (imported lazily). Use stderr=True for progress output next to --json.

    When the output is not a terminal (CI logs, pipes) rich would wrap tables at 80 columns;
    use 200 so rows stay readable and greppable. Text printed through it, table cells included,
    keeps brackets that are not style markup (:func:`escape_data_tags`).
    """
    from rich.console import Console

    class _Console(Console):
        def render_str(self, text: str, *args: Any, **kwargs: Any):
            markup = kwargs.get("markup")
            if markup if markup is not None else self._markup:
                text = escape_data_tags(text)
            return super().render_str(text, *args, **kwargs)

    c = _Console(stderr=stderr, highlight=False)
    if not c.is_terminal:
        c.width = max(c.width, 200)
    return c


def add_judge_args(p: argparse.ArgumentParser, what: str) -> None:
    """The judge endpoint flags of the safety commands (eval refusal, eval content-safety, run): declared once."""
    p.add_argument("--judge-base-url", metavar="URL", help=f"OpenAI-compatible endpoint of {what}")
    p.add_argument("--judge-model", metavar="NAME", help="the judge model's name at that endpoint")
    p.add_argument("--judge-api-key-env", metavar="VAR", help="environment variable holding the judge's API key (never written)")


def check_judge_args(args: argparse.Namespace, hint: str) -> bool:
    """Whether a judge was named; --judge-base-url and --judge-model go together (UsageError otherwise),
    and --judge-api-key-env needs them."""
    from benchseal.errors import UsageError

    if bool(args.judge_base_url) != bool(args.judge_model):
        raise UsageError("--judge-base-url and --judge-model go together", hint=hint)
    if args.judge_api_key_env and not args.judge_model:
        raise UsageError("--judge-api-key-env names the judge's key, and no judge was given",
                         hint="add --judge-base-url and --judge-model, or drop --judge-api-key-env")
    if args.judge_model:
        from benchseal.evaluators.judge import judge_is_candidate

        why = judge_is_candidate({"endpoint": args.judge_base_url, "model": args.judge_model},
                                 model=getattr(args, "model", None), endpoint=getattr(args, "base_url", None))
        if why:
            raise UsageError("the judge is the candidate itself (same endpoint and model): a model cannot judge its own replies",
                             hint="name a judge model the candidate does not serve (--judge-base-url, --judge-model)")
    return bool(args.judge_model)


def add_key_flag(p: argparse.ArgumentParser, flag: str, what: str) -> None:
    """A public-key flag for bundles used as evidence (--peer-key, --reference-key): repeatable."""
    p.add_argument(flag, action="append", type=Path, metavar="PUBLIC.pem",
                   help=f"public key that signed {what}; the bundle must verify with it to back a claim "
                        "(without it the comparison is computed but every claim on it is INCONCLUSIVE)")


def verified_signature(bundle: str | Path, keys: list[Path] | None, *, flag: str, key_flag: str) -> dict | None:
    """reports.verify.reference.reference_signature, warning on stderr when no key was given."""
    from benchseal.reports.verify.reference import reference_signature

    return reference_signature(bundle, keys, flag=flag, key_flag=key_flag,
                               warn=lambda m: console(stderr=True).print(f"warning: {m}", markup=False))


def judge_from_args(args: argparse.Namespace, *, kind: str, hint: str):
    """The Judge the flags of :func:`add_judge_args` name (kind "refusal" or "content"), or None."""
    from benchseal.evaluators.stage import build_judge

    check_judge_args(args, hint)
    return build_judge(args.judge_base_url, args.judge_model, args.judge_api_key_env, kind)
