"""The metric-path language: how a claim names one value in the evidence.

A path is a dotted walk through the evidence (see :func:`benchseal.claims.load_evidence`), with
list selectors and optional aggregations (full reference: docs/claims.md)::

    model.params.total
    hardware.compute.total_tflops.bf16
    perf.load_points[concurrency=1].ttft_ms.p99
    perf.load_points[*].output_token_throughput|max
    eval.songjiang-core.results[task=ceval-valid,metric=acc].value
    hardware.gpus|count

- ``name`` looks a key up in a mapping; keys may contain letters, digits, ``_`` and ``-``; any
  other key is written in double quotes (``eval."my.suite".results``).
- ``[*]`` fans out over every element of a list; ``[N]`` picks element N (negative counts from
  the end); ``[k=v,k2=v2]`` keeps the elements whose fields all equal the values (numbers compare
  as numbers, ``true``/``false`` as booleans, values may be quoted). A filter that matches exactly
  one element continues with that element; more than one fans out like ``[*]``.
- After a fan-out the rest of the path applies to each element; elements without the key (or
  with ``null``) are dropped and counted.
- ``|agg`` at the end reduces the values: max, min, mean, median, sum, count, all, any, first, last.

Pure and dependency-free; strings of digits (BigInts written as strings) are read as ints.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

from benchseal.errors import ConfigError

_KEY = r'(?:[A-Za-z0-9_\-]+|"[^"]*")'
_TOKEN = re.compile(rf'\s*(?:(?P<key>{_KEY})|\[(?P<sel>(?:[^\]"]|"[^"]*")*)\]|(?P<dot>\.))')
_COND = re.compile(rf'\s*(?P<k>{_KEY})\s*=\s*(?P<v>"[^"]*"|[^,"]*?)\s*(?:,|$)')
_INT = re.compile(r"-?\d+")


def _aggregate_mean(vals: list[Any]) -> Any:
    return statistics.fmean(_numbers(vals))


AGGREGATIONS: dict[str, Callable[[list[Any]], Any]] = {
    "max": lambda v: max(_numbers(v)),
    "min": lambda v: min(_numbers(v)),
    "mean": _aggregate_mean,
    "median": lambda v: statistics.median(_numbers(v)),
    "sum": lambda v: sum(_numbers(v)),
    "count": len,
    "all": lambda v: all(bool(x) for x in v),
    "any": lambda v: any(bool(x) for x in v),
    "first": lambda v: v[0],
    "last": lambda v: v[-1],
}
EMPTY_OK = frozenset({"count", "all", "any"})  # aggregations defined on zero values


class PathValueError(ValueError):
    """An aggregation met a value of the wrong type."""


def number(v: Any) -> Any:
    """BigInt strings ("123456789012345678") become ints; everything else is returned as is."""
    if isinstance(v, str) and _INT.fullmatch(v.strip()):
        return int(v)
    return v


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))


def _numbers(vals: list[Any]) -> list[Any]:
    out = [number(v) for v in vals]
    bad = [v for v in out if not is_number(v)]
    if bad:
        raise PathValueError(f"not a number: {bad[0]!r}")
    return out


@dataclass(frozen=True)
class Selector:
    kind: str  # "all", "index", "filter"
    index: int | None = None
    conds: tuple[tuple[str, str], ...] = ()

    def text(self) -> str:
        if self.kind == "all":
            return "[*]"
        if self.kind == "index":
            return f"[{self.index}]"
        return "[" + ",".join(f"{k}={v}" for k, v in self.conds) + "]"


@dataclass(frozen=True)
class Segment:
    key: str | None
    selectors: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class MetricPath:
    text: str
    segments: tuple[Segment, ...]
    aggregations: tuple[str, ...] = ()

    @property
    def root(self) -> str:
        return self.segments[0].key or ""

    def key_at(self, i: int) -> str | None:
        return self.segments[i].key if i < len(self.segments) else None


def _unquote(s: str) -> str:
    s = s.strip()
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def _parse_selector(body: str, text: str) -> Selector:
    body = body.strip()
    if body == "*":
        return Selector("all")
    if _INT.fullmatch(body):
        return Selector("index", index=int(body))
    conds: list[tuple[str, str]] = []
    pos = 0
    while pos < len(body):
        m = _COND.match(body, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"bad list selector [{body}] in metric path {text!r}", hint="Use [*], [N] or [key=value,...]")
        if not m.group("v") or (m.end() == len(body) and body.rstrip().endswith(",")):
            raise ConfigError(f"bad list selector [{body}] in metric path {text!r}", hint="Use [*], [N] or [key=value,...]")
        conds.append((_unquote(m.group("k")), _unquote(m.group("v"))))
        pos = m.end()
    if not conds:
        raise ConfigError(f"empty list selector in metric path {text!r}", hint="Use [*], [N] or [key=value,...]")
    return Selector("filter", conds=tuple(conds))


def parse(text: str) -> MetricPath:
    """Parse a metric path; raise ConfigError (one sentence) when it is malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("empty metric path")
    body, *aggs = _split_aggs(text)
    for a in aggs:
        if a not in AGGREGATIONS:
            raise ConfigError(f"unknown aggregation |{a} in metric path {text!r}", hint="Use one of " + ", ".join(AGGREGATIONS))
    segments: list[Segment] = []
    key: str | None = None
    sels: list[Selector] = []
    pos, expect_key = 0, True
    while pos < len(body):
        m = _TOKEN.match(body, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"cannot parse metric path {text!r} at character {pos + 1}")
        pos = m.end()
        if m.group("key") is not None:
            if not expect_key:
                raise ConfigError(f"missing '.' before {m.group('key')!r} in metric path {text!r}")
            key, expect_key = _unquote(m.group("key")), False
        elif m.group("sel") is not None:
            if expect_key:
                raise ConfigError(f"a list selector must follow a key in metric path {text!r}")
            sels.append(_parse_selector(m.group("sel"), text))
        else:  # dot
            if expect_key:
                raise ConfigError(f"empty path segment in metric path {text!r}")
            segments.append(Segment(key, tuple(sels)))
            key, sels, expect_key = None, [], True
    if expect_key:
        raise ConfigError(f"metric path {text!r} ends without a key")
    segments.append(Segment(key, tuple(sels)))
    return MetricPath(text=text.strip(), segments=tuple(segments), aggregations=tuple(aggs))


def _split_aggs(text: str) -> list[str]:
    parts, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


# ---------------------------------------------------------------------------------------------
@dataclass
class Resolved:
    """The outcome of resolving a path. ``missing`` names the first part that was not found."""

    value: Any = None
    many: bool = False  # the path fanned out (value is a list) and no aggregation reduced it
    count: int = 1  # number of values the final step saw
    dropped: int = 0  # fanned-out elements without the key / with null
    missing: str | None = None
    picked: list[Any] = field(default_factory=list)  # list elements chosen by selectors (all levels)
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.missing is None and self.error is None


def _eq(actual: Any, want: str) -> bool:
    if isinstance(actual, bool):
        return want.lower() == ("true" if actual else "false")
    actual = number(actual)
    if is_number(actual):
        try:
            return float(want) == float(actual)
        except ValueError:
            return False
    return actual is not None and str(actual) == want


def _select(items: list[Any], sel: Selector) -> list[Any]:
    if sel.kind == "all":
        return list(items)
    if sel.kind == "index":
        try:
            return [items[sel.index]]  # type: ignore[index]
        except IndexError:
            return []
    return [it for it in items if isinstance(it, dict) and all(k in it and _eq(it[k], v) for k, v in sel.conds)]


def resolve(path: MetricPath | str, data: Any) -> Resolved:
    """Resolve ``path`` against nested dicts/lists. Never raises for missing data."""
    mp = parse(path) if isinstance(path, str) else path
    nodes: list[Any] = [data]
    many = False
    dropped = 0
    picked: list[Any] = []
    walked = ""
    for seg in mp.segments:
        walked = f"{walked}.{seg.key}" if walked else str(seg.key)
        nxt = []
        for node in nodes:
            if isinstance(node, dict) and node.get(seg.key) is not None:
                nxt.append(node[seg.key])
            else:
                dropped += 1
        if not nxt:
            return Resolved(missing=walked, picked=picked)
        nodes = nxt
        for sel in seg.selectors:
            walked += sel.text()
            nxt = []
            for node in nodes:
                if not isinstance(node, list):
                    return Resolved(missing=walked, picked=picked, error=f"{walked}: not a list")
                chosen = _select(node, sel)
                if sel.kind != "index" and len(chosen) != 1:
                    many = True
                nxt.extend(chosen)
            picked.extend(nxt)
            if not nxt:
                return Resolved(missing=walked, picked=picked)
            nodes = nxt
    if not many:
        dropped = 0
    values = nodes if many else nodes[0]
    if not mp.aggregations:
        return Resolved(value=values, many=many, count=len(nodes), dropped=dropped, picked=picked)
    vals = values if many else (values if isinstance(values, list) else [values])
    count = len(vals)
    for agg in mp.aggregations:
        if not isinstance(vals, list):
            vals = [vals]
        if not vals and agg not in EMPTY_OK:
            return Resolved(missing=f"{walked}|{agg} (no values)", picked=picked)
        try:
            vals = AGGREGATIONS[agg](vals)
        except (PathValueError, TypeError) as exc:
            return Resolved(error=f"|{agg}: {exc}", picked=picked, missing=None, count=count)
    return Resolved(value=number(vals), many=False, count=count, dropped=dropped, picked=picked)
