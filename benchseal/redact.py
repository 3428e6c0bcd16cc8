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

import json
import os
import re
from typing import Any, Iterable, Sequence
from urllib.parse import quote, urlsplit, urlunsplit

from benchseal.errors import UsageError

SECRET_FLAGS = ("--api-key",)
REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|passphrase|authorization|credential|cookie)", re.I)
_URL_CRED = re.compile(r"(?<=://)[^/@\s]+@")
_MIN_SECRET_LEN = 4  # shorter values would scrub ordinary text
_known: set[str] = set()
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def secret_forms(values: Iterable[str]) -> list[str]:
    """Every form in which a secret can come back in text a server or a library wrote: raw,
    JSON-escaped (with and without an escaped "/", and ASCII-only), Python-repr-escaped (a dict or
    bytes printed with ``str``), URL-quoted (with and without "/" kept). Longest first, so a form
    that contains another is replaced whole."""
    forms: set[str] = set()
    for s in values:
        if not s or len(s) < _MIN_SECRET_LEN:
            continue
        escaped = json.dumps(s, ensure_ascii=False)[1:-1]
        ascii_escaped = json.dumps(s)[1:-1]
        forms.update((s, escaped, escaped.replace("/", "\\/"), ascii_escaped, ascii_escaped.replace("/", "\\/"),
                      repr(s)[1:-1], quote(s, safe=""), quote(s)))
        try:
            forms.add(repr(s.encode("utf-8"))[2:-1])
        except UnicodeEncodeError:
            pass
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub(text: str, secrets: Sequence[str] = (), *, mask: str = REDACTED) -> str:
    """``text`` with every form (:func:`secret_forms`) of every known and every given secret value
    replaced by ``mask``."""
    values = (*_known, *secrets)
    for form in secret_forms(values):
        if form in text:
            text = text.replace(form, mask)
    return _clipped_ends(text, values, mask)


_MIN_CLIPPED = 6  # a clipped secret at a text's end: at least this many of its characters are masked


def _clipped_ends(text: str, values: Iterable[str], mask: str) -> str:
    """A secret cut by a clip (a message bounded before it was scrubbed) leaves a prefix at the text's
    end or a suffix at its start: masked too, when at least :data:`_MIN_CLIPPED` characters long."""
    for s in values:
        if not s or len(s) <= _MIN_CLIPPED:
            continue
        for k in range(len(s) - 1, _MIN_CLIPPED - 1, -1):
            if text.endswith(s[:k]):
                text = text[:-k] + mask
                break
        for k in range(len(s) - 1, _MIN_CLIPPED - 1, -1):
            if text.startswith(s[-k:]):
                text = mask + text[k:]
                break
    return text


def scrub_bytes(data: bytes, secrets: Sequence[str] = (), *, mask: str = REDACTED) -> bytes:
    """:func:`scrub` for raw bytes (a response body before it is decoded)."""
    m = mask.encode()
    for form in secret_forms((*_known, *secrets)):
        b = form.encode("utf-8", "replace")
        if b in data:
            data = data.replace(b, m)
    return data


def check_api_key_env(name: str | None, *, flag: str = "--api-key-env") -> str | None:
    """The API key from the variable ``name`` (registered for scrubbing), after checking that ``name``
    is a variable name and not the key itself (a common mistake). Never echoes a value that could be a key.
    ``flag`` is the option the name came from (``--judge-api-key-env`` for the judge), as the messages say."""
    if not name:
        return None
    if not _ENV_NAME.fullmatch(name):
        register_secret(name)  # it may be the key itself: never print or record it
        raise UsageError(f"{flag} takes the NAME of an environment variable holding the key, and the value "
                         "given is not a variable name (it is not shown, in case it is the key itself)",
                         hint=f"e.g. export OPENAI_API_KEY=... and pass {flag} OPENAI_API_KEY")
    value = os.environ.get(name)
    if value is None and _looks_like_key(name):
        register_secret(name)
        raise UsageError(f"{flag} takes the NAME of an environment variable, and the value given looks like a "
                         "key itself and is not a set variable (it is not shown)",
                         hint=f"e.g. export OPENAI_API_KEY=... and pass {flag} OPENAI_API_KEY")
    if not value:
        raise UsageError(f"the environment variable {name} named by {flag} is not set or empty",
                         hint=f"export {name}=... before running")
    register_secret(value)
    return value


def _looks_like_key(name: str) -> bool:
    """A variable name that reads like a token: long, mixed case with digits (``hf_AbC3...``, ``sk_live...``)."""
    if name.startswith(("sk_", "hf_", "sk-", "gsk_", "pk_", "rk_", "xox", "ghp_", "glpat")):
        return True
    has_lower = any(c.islower() for c in name)
    has_digit = any(c.isdigit() for c in name)
    return len(name) >= 20 and has_lower and has_digit


__all__ = ["REDACTED", "SECRET_FLAGS", "check_api_key_env", "redact", "redact_args", "redact_url", "register_secret", "scrub", "scrub_bytes",
           "secret_forms"]
