"""The one secrets policy: what may never reach a file, a log or a report that benchseal writes.

- :func:`redact_url` — a URL without ``user:password@``, query or fragment;
- :func:`redact_args` — a command line with the values of secret flags (``--api-key``) hidden;
- :func:`redact` — a JSON-like object with values under credential-looking keys dropped and URL
  credentials removed (a second guard on the run spec shown in reports);
- :func:`scrub` — a text with every known secret *value* replaced (an API key echoed back in a
  server's error body, a passphrase in an exception message). Values are registered with
  :func:`register_secret` when benchseal reads them from the environment, so every writer and the
  CLI's error printer can scrub without knowing where a secret came from.
"""

from __future__ import annotations

import re
from typing import Any, Sequence
from urllib.parse import urlsplit, urlunsplit

SECRET_FLAGS = ("--api-key",)
REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|passphrase|authorization|credential|cookie)", re.I)
_URL_CRED = re.compile(r"(?<=://)[^/@\s]+@")
_MIN_SECRET_LEN = 4  # shorter values would scrub ordinary text
_known: set[str] = set()


def redact_url(url: str) -> str:
    """The URL without credentials (user:password@), query or fragment: safe to write anywhere."""
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError:
        return REDACTED
    netloc = u.hostname or ""
    if port:
        netloc += f":{port}"
    return urlunsplit((u.scheme, netloc, u.path, "", ""))


def redact_args(argv: Sequence[str]) -> list[str]:
    """The command line with the values of secret flags (``--api-key``) replaced by ``***``."""
    out: list[str] = []
    hide_next = False
    for a in argv:
        if hide_next:
            out.append("***")
            hide_next = False
        elif a in SECRET_FLAGS:
            out.append(a)
            hide_next = True
        elif any(a.startswith(f + "=") for f in SECRET_FLAGS):
            out.append(a.split("=", 1)[0] + "=***")
        else:
            out.append(scrub(a))
    return out


def redact(obj: Any) -> Any:
    """Drop values under credential-looking keys and user:password@ parts of URLs (recursively);
    known secret values are scrubbed from every string."""
    if isinstance(obj, dict):
        return {k: (REDACTED if _SECRET_KEY.search(str(k)) and not str(k).endswith("_env") else redact(v))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    if isinstance(obj, str):
        return scrub(_URL_CRED.sub("", obj))
    return obj


def register_secret(value: str | bytes | None) -> None:
    """Remember a secret value (API key, passphrase) for :func:`scrub`, for this process."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value and len(value) >= _MIN_SECRET_LEN:
        _known.add(value)


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with every known (and every given) secret value replaced by ``<redacted>``."""
    values = [s for s in (*_known, *secrets) if s and len(s) >= _MIN_SECRET_LEN]
    for s in sorted(values, key=len, reverse=True):
        if s in text:
            text = text.replace(s, REDACTED)
    return text


__all__ = ["REDACTED", "SECRET_FLAGS", "redact", "redact_args", "redact_url", "register_secret", "scrub"]
