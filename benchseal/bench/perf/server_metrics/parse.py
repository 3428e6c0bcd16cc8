"""Parsing the Prometheus text exposition format (0.0.4; OpenMetrics text is accepted),
defensively: malformed lines are counted and skipped, line, label and sample counts are bounded."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MAX_LINES = 200_000
MAX_LINE_CHARS = 65_536
MAX_LABELS = 64

@dataclass
class Metrics:
    """Samples by name: ``samples[name]`` = list of (labels, value); ``types[family]`` from # TYPE."""

    samples: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    malformed: int = 0
    truncated: bool = False

    def series(self, name: str) -> list[tuple[dict[str, str], float]]:
        return self.samples.get(name, [])


_ESC = {"\\": "\\", '"': '"', "n": "\n"}


def _parse_labels(s: str, i: int) -> tuple[dict[str, str], int]:
    """Labels from ``s[i] == '{'``; returns (labels, index after '}'). Raises ValueError."""
    labels: dict[str, str] = {}
    i += 1
    n = len(s)
    while True:
        while i < n and s[i] in " \t,":
            i += 1
        if i >= n:
            raise ValueError("unterminated labels")
        if s[i] == "}":
            return labels, i + 1
        j = s.find("=", i)
        if j < 0:
            raise ValueError("label without '='")
        name = s[i:j].strip()
        if not name or not (name[0].isalpha() or name[0] == "_") or not all(c.isalnum() or c == "_" for c in name):
            raise ValueError(f"bad label name {name!r}")
        i = j + 1
        while i < n and s[i] in " \t":
            i += 1
        if i >= n or s[i] != '"':
            raise ValueError("label value not quoted")
        i += 1
        buf: list[str] = []
        while True:
            if i >= n:
                raise ValueError("unterminated label value")
            c = s[i]
            if c == "\\" and i + 1 < n:
                buf.append(_ESC.get(s[i + 1], "\\" + s[i + 1]))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            buf.append(c)
            i += 1
        labels[name] = "".join(buf)
        if len(labels) > MAX_LABELS:
            raise ValueError("too many labels")


def _parse_value(tok: str) -> float:
    t = tok.strip()
    low = t.lower()
    if low in ("+inf", "inf"):
        return math.inf
    if low == "-inf":
        return -math.inf
    if low == "nan":
        return math.nan
    return float(t)


def parse_prometheus(text: str | None) -> Metrics:
    """Parse Prometheus text (0.0.4 / OpenMetrics text). Malformed lines are counted and skipped;
    at most :data:`MAX_LINES` lines are read (``truncated`` then)."""
    m = Metrics()
    if not text:
        return m
    for k, line in enumerate(text.splitlines()):
        if k >= MAX_LINES:
            m.truncated = True
            break
        line = line.strip()
        if not line:
            continue
        if len(line) > MAX_LINE_CHARS:
            m.malformed += 1
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                m.types[parts[2]] = parts[3].strip().lower()
            continue
        try:
            i = 0
            n = len(line)
            while i < n and line[i] not in "{ \t":
                i += 1
            name = line[:i]
            if not name:
                raise ValueError("no metric name")
            labels: dict[str, str] = {}
            if i < n and line[i] == "{":
                labels, i = _parse_labels(line, i)
            rest = line[i:].split("#", 1)[0].split()  # OpenMetrics exemplars follow ' # '
            if not rest:
                raise ValueError("no value")
            value = _parse_value(rest[0])
        except ValueError:
            m.malformed += 1
            continue
        m.samples.setdefault(name, []).append((labels, value))
    return m



__all__ = ["MAX_LABELS", "MAX_LINE_CHARS", "MAX_LINES", "Metrics", "parse_prometheus"]
