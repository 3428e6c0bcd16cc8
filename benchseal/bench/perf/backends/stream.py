"""Parsing one streamed OpenAI-compatible response: bounded JSON for each server-sent event, the
per-request ``Exchange`` that turns the event stream into text events, usage, finish and a cause of
failure, and the helpers that read an error body or a ``/v1/models`` listing.

Completion rules (see ``StreamExchange``): a request is complete when the stream carried
``data: [DONE]``, or carried a ``finish_reason`` and then ended; a stream that carried no text at
and no ``finish_reason`` is never complete (cause ``no-output``): a server answering ``[DONE]``
before or without any token measured nothing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from benchseal.bench.perf.backends.sse import SSEDecoder, SSEError
from benchseal.bench.perf.backends.template import RUN_WINDOW, make_template
from benchseal.bench.perf.backends.transport import Exchange, HttpProtocolError, ResponseTruncated

_ERR_BODY_MAX = 300

MAX_JSON_DEPTH = 64  # nesting of one event or error body
MAX_EVENTS = 1 << 20  # events in one response
MAX_TOKEN_COUNT = 1 << 53  # a usage count above this is not a token count
_ERR_BODY_KEEP = 65536  # bytes of an error body kept for its message
_CUT_MIN = 512  # bytes left in a read below which its events all go through the per-event path
_ERR_KEEP_CHARS = 4096  # characters of server text kept in an error until secrets are scrubbed (then clipped)


class MalformedEvent(ValueError):
    """An event of the stream cannot be used (not JSON, too deep, a field of the wrong type)."""


def _depth_ok(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON ``text`` nests at most ``limit`` arrays/objects. Cheap for ordinary events:
    only a text with more than ``limit`` brackets is scanned (strings are skipped)."""
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:
            return True
        text = text.decode("utf-8", "replace")
    elif text.count("[") + text.count("{") <= limit:
        return True
    depth, in_str, esc = 0, False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def safe_json(data: bytes | str) -> Any:
    """``json.loads`` with bounded nesting (``MAX_JSON_DEPTH``) and bounded integers (Python's
    4,300-digit limit); raises ValueError for anything else, never RecursionError."""
    if not _depth_ok(data):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _error_text(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        obj = safe_json(text)
        err = obj.get("error", obj.get("detail", obj)) if isinstance(obj, dict) else obj
        if isinstance(err, dict):
            err = err.get("message", err)
        text = str(err) if isinstance(err, (str, int, float)) else text
    except ValueError:
        pass
    return " ".join(text.split())[:_ERR_BODY_MAX]


_scan_once = json.JSONDecoder().scan_once


def _loads(payload: bytes) -> Any:
    """``json.loads`` for one SSE payload, without its per-call overhead (encoding detection,
    whitespace regexes): the C scanner parses the text directly; anything unusual (leading or
    trailing whitespace, not UTF-8) goes through ``json.loads``. Nesting is bounded first
    (``MAX_JSON_DEPTH``). Raises ValueError when not JSON."""
    if not _depth_ok(payload):
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        text = payload.decode()
        obj, end = _scan_once(text, 0)
    except (StopIteration, UnicodeDecodeError):
        return json.loads(payload)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if end != len(text):
        return json.loads(payload)
    return obj


def _int_or_none(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_TOKEN_COUNT else None


class StreamExchange(Exchange):
    """Parses one streamed completion as it arrives.

    Completion is explicit: the request is complete when the stream carries ``data: [DONE]``, or
    carried a ``finish_reason`` and then ended (cleanly, or by the server closing the
    connection). Anything else fails with a cause (see ``RequestRecord.cause``)."""

    __slots__ = ("done", "status", "headers", "err_body", "err_size", "sse", "chunks", "texts", "usage", "finish",
                 "error", "cause", "end_t", "n_events", "done_seen", "final", "_chat", "metrics",
                 "first_content", "n_finish", "n_token_ids", "_tpl", "_tpl_misses", "timed_out")

    def __init__(self, loop: asyncio.AbstractEventLoop, chat: bool) -> None:
        self.done = loop.create_future()
        self.status = 0
        self.headers: dict[str, str] = {}
        self.err_body: list[bytes] | None = None
        self.err_size = 0
        self.sse = SSEDecoder()
        self.chunks: list[float] = []
        self.texts: list[str] = []
        self.usage: dict[str, Any] | None = None
        self.metrics: Any = None  # vLLM --enable-per-request-metrics: the final chunk's "metrics" object
        self.finish: str | None = None
        self.n_finish = 0  # events that carried a finish_reason
        self.n_token_ids: int | None = None  # output token ids streamed (vLLM return_token_ids), None if none
        self.first_content: float | None = None  # the first text that is not whitespace only
        self.error: str | None = None
        self.cause: str | None = None
        self.end_t: float | None = None
        self.n_events = 0
        self.done_seen = False
        self.final = False  # the outcome is decided; later callbacks change nothing
        self._chat = chat
        self._tpl = None  # the repeated-event fast path (template.py); None: parse every event in full
        self._tpl_misses = 0
        self.timed_out = False  # the request's deadline passed first (OpenAIBackend._send)

    def _set_error(self, cause: str, message: str) -> None:
        if self.cause is None:
            self.cause = cause
            self.error = f"{cause}: {message}"

    def head(self, status, headers, t):
        if self.final:
            return
        self.status = status
        self.headers = headers
        if status != 200:
            self.err_body = []

    def body(self, data, t):
        if self.final:
            return
        if self.err_body is not None:
            if self.err_size < _ERR_BODY_KEEP:
                self.err_body.append(data[: _ERR_BODY_KEEP - self.err_size])
            self.err_size += len(data)
            return
        sse = self.sse
        pos, n = 0, len(data)
        while pos < n:
            tpl = self._tpl
            if tpl is not None and sse.at_event_start():
                run = tpl.run(data, pos)  # template events back to back, taken without a call per event
                if run is not None and self.n_events + len(run[0]) <= MAX_EVENTS:
                    self._run(run[0], tpl.n_ids, t)
                    pos = run[1]
                    if pos >= n:
                        return
            # The next event alone while a template may come of it (what follows is then tried as a
            # run); the rest of the read at once when this stream's events keep changing or when what
            # is left is too short to hold a run worth the cut.
            end = n
            if self._tpl_misses < 4 and n - pos > _CUT_MIN:
                i = data.find(b"\n\n", pos, pos + RUN_WINDOW)
                if i >= 0:
                    end = i + 2
            try:
                payloads = sse.feed(data if pos == 0 and end == n else data[pos:end])
            except SSEError as exc:
                self._set_error("malformed-event", str(exc))
                self._resolve(t)
                return
            pos = end
            for payload in payloads:
                self._event(payload, t)
                if self.cause is not None or self.done_seen:
                    self._resolve(t)
                    return

    def _event(self, payload: bytes, t: float) -> None:
        self.n_events += 1
        if self.n_events > MAX_EVENTS:
            self._set_error("malformed-event", f"more than {MAX_EVENTS} events in one response")
            return
        if payload == b"[DONE]":
            self.done_seen = True
            self.end_t = t
            return
        if not payload.strip():
            return  # an empty event carries nothing
        tpl = self._tpl
        if tpl is not None:
            text = tpl.text(payload)
            if text is not None:  # the checked event again with another plain text: no JSON to parse
                self._tpl_misses = 0
                if tpl.n_ids is not None:
                    self.n_token_ids = (self.n_token_ids or 0) + tpl.n_ids
                if text:
                    self._text(text, t)
                return
            self._tpl_misses += 1
        try:
            obj = _loads(payload)
            self._event_obj(obj, t)
            if self._tpl_misses < 4 and self.cause is None:  # a stream whose events keep changing stops trying
                self._tpl = make_template(payload, obj, self._chat)
        except MalformedEvent as exc:
            self._set_error("malformed-event", str(exc))
        except ValueError as exc:  # not JSON, too deep, an integer of more than 4,300 digits
            self._set_error("malformed-event", f"event is not JSON ({_clip(str(exc), 80)}): "
                                               f"{payload[:_ERR_KEEP_CHARS].decode('utf-8', 'replace')!r}")

    def _event_obj(self, obj: Any, t: float) -> None:
        if not isinstance(obj, dict):
            raise MalformedEvent("event is not a JSON object")
        err = obj.get("error")
        if err:
            msg = err.get("message", err) if isinstance(err, dict) else err
            self._set_error("stream-error", str(msg)[:_ERR_KEEP_CHARS])  # scrubbed, then clipped, by the record
            return
        usage = obj.get("usage")
        if usage is not None:
            if not isinstance(usage, dict):
                raise MalformedEvent("usage is not an object")
            for k in ("completion_tokens", "prompt_tokens"):
                v = usage.get(k)
                if v is not None and _int_or_none(v) is None:  # a token count or nothing
                    raise MalformedEvent(f"usage.{k} is not a token count")
            if usage:
                self.usage = usage
        metrics = obj.get("metrics")  # vLLM --enable-per-request-metrics: the server's own timings
        if isinstance(metrics, dict) and metrics:
            self.metrics = metrics
        choices = obj.get("choices")
        if choices is None:
            return
        if not isinstance(choices, list):
            raise MalformedEvent("choices is not a list")
        if not choices:
            return
        c = choices[0]
        if not isinstance(c, dict):
            raise MalformedEvent("choices[0] is not an object")
        if self._chat:
            delta = c.get("delta")
            if delta is None:
                delta = {}
            elif not isinstance(delta, dict):
                raise MalformedEvent("choices[0].delta is not an object")
            content, reasoning = delta.get("content"), delta.get("reasoning_content")
            if content is not None and not isinstance(content, str):
                raise MalformedEvent("choices[0].delta.content is not a string")
            if reasoning is not None and not isinstance(reasoning, str):
                raise MalformedEvent("choices[0].delta.reasoning_content is not a string")
            text = content or reasoning
        else:
            text = c.get("text")
            if text is not None and not isinstance(text, str):
                raise MalformedEvent("choices[0].text is not a string")
        ids = c.get("token_ids")
        if ids is not None:
            if not isinstance(ids, list):
                raise MalformedEvent("choices[0].token_ids is not a list")
            self.n_token_ids = (self.n_token_ids or 0) + len(ids)
        fin = c.get("finish_reason")
        if fin is not None and not isinstance(fin, str):
            raise MalformedEvent("choices[0].finish_reason is not a string")
        if text:
            self._text(text, t)
        if fin:
            self.finish = fin
            self.n_finish += 1

    def _run(self, texts: list[str], n_ids: int | None, t: float) -> None:
        """Template events arrived together at ``t`` (``EventTemplate.run``): what ``_event`` does
        for each of them, in bulk."""
        self.n_events += len(texts)
        self._tpl_misses = 0
        if n_ids is not None:
            self.n_token_ids = (self.n_token_ids or 0) + n_ids * len(texts)
        if "" in texts:
            texts = [x for x in texts if x]
        self.chunks += [t] * len(texts)
        self.texts += texts
        if self.first_content is None:
            for x in texts:
                if not x.isspace():
                    self.first_content = t
                    break

    def _text(self, text: str, t: float) -> None:
        """A text event (not empty) that arrived at ``t``, from the full parser or the template."""
        self.chunks.append(t)
        self.texts.append(text)
        if self.first_content is None and not text.isspace():
            self.first_content = t

    def _incomplete(self) -> str:
        ctype = self.headers.get("content-type", "")
        what = f"after {len(self.chunks)} text events" if self.chunks else "before any text"
        msg = f"the stream ended without [DONE] or a finish_reason, {what}"
        if ctype and "text/event-stream" not in ctype.lower():
            msg += f" (Content-Type: {ctype[:_ERR_KEEP_CHARS]}, not an event stream)"
        return msg

    def end(self, t):
        if self.final:
            return
        if self.err_body is None and self.cause is None and not self.done_seen:
            try:
                payloads = self.sse.flush()
            except SSEError:
                payloads = []
            for payload in payloads:
                if payload == b"[DONE]" or not payload.strip():
                    self._event(payload, t)
                    continue
                self.n_events += 1
                try:  # a last event without its blank line: used only when it is complete JSON
                    obj = _loads(payload)
                except ValueError:
                    break
                try:
                    self._event_obj(obj, t)
                except MalformedEvent as exc:
                    self._set_error("malformed-event", str(exc))
            if self.cause is None and not self.done_seen and self.finish is None:
                self._set_error("truncated", self._incomplete())
        if self.end_t is None:
            self.end_t = t
        self._resolve(t)

    def fail(self, exc, t):
        if self.final:
            return
        if isinstance(exc, ResponseTruncated):
            if not exc.head:
                self._set_error("disconnected", str(exc))
            elif self.err_body is not None:
                pass  # the status says it all; the body so far is the message
            elif self.finish is not None and self.cause is None:
                pass  # the model had finished: the server closing afterwards loses nothing measured
            else:
                self._set_error("truncated", f"{exc}; {self._incomplete()}")
        elif isinstance(exc, HttpProtocolError):
            self._set_error("framing", str(exc))
        elif isinstance(exc, (ConnectionError, OSError)):
            self._set_error("disconnected" if not self.status else "truncated", f"{type(exc).__name__}: {exc}")
        else:
            self._set_error("client", f"{type(exc).__name__}: {exc}")
        self._resolve(t)

    def _resolve(self, t: float) -> None:
        if (not self.final and self.cause is None and self.err_body is None and not self.chunks
                and self.finish is None and self.done_seen):
            # [DONE] before (or without) any text and without a finish_reason: nothing was
            # generated or measured; never a completed request. (A finish_reason with no text is
            # "stopped early", a completed request: docs/metrics.md.)
            self._set_error("no-output", "the server sent [DONE] without any text or finish_reason")
        self.final = True
        if self.end_t is None:
            self.end_t = t
        if not self.done.done():
            self.done.set_result(None)


def _clip(text: str, n: int) -> str:
    return " ".join(text.split())[:n]


def _served_models(body: bytes) -> list[str] | None:
    """The model ids of a ``/v1/models`` body, or None when the body is not the OpenAI shape (the
    listing is advisory: a gateway may not implement it)."""
    try:
        obj = safe_json(body)
    except ValueError:
        return None
    data = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(data, list):
        return None
    ids = [m.get("id") for m in data if isinstance(m, dict)]
    return [i for i in ids if isinstance(i, str) and i]
