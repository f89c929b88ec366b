"""Bytes in, models out, and back: the one way messages cross the wire.

Parsing is strict JSON validation in pydantic's compiled core, straight from the
bytes: numbers are not accepted for strings or times, nor strings for numbers.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, from_json, to_json

from schemas.commands import COMMAND_TYPES, RevocationCommand
from schemas.events import EVENT_TYPES, AuthEvent
from schemas.limits import (
    COMMAND_MAX_BYTES,
    EVENT_MAX_BYTES,
    IDENTIFIER_PATTERN,
    LABEL_KEY_PATTERN,
    TEXT_PATTERN,
)

_EVENTS: TypeAdapter[AuthEvent] = TypeAdapter(AuthEvent)
_COMMANDS: TypeAdapter[RevocationCommand] = TypeAdapter(RevocationCommand)

_ERRORS_SHOWN = 3
_ID_IN_BYTES = re.compile(rb'"(?:event|command)_id"\s*:\s*"([0-9A-Za-z-]{1,64})"')
_SNIFF_BYTES = 4096
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:/-]{1,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REASON_MAX = 1000


class InvalidMessage(ValueError):
    """Bytes that are not a valid message; `reason` says why in one line."""

    kind = "message"

    def __init__(self, reason: str, message_id: str | None = None) -> None:
        self.reason = reason
        self.message_id = message_id
        prefix = f"{self.kind} {message_id}" if message_id else self.kind
        super().__init__(f"{prefix} rejected: {reason}")


class InvalidEvent(InvalidMessage):
    """Bytes that are not a valid event."""

    kind = "event"

    @property
    def event_id(self) -> str | None:
        """The event id found in the input, if any; not verified."""
        return self.message_id


class InvalidCommand(InvalidMessage):
    """Bytes that are not a valid revocation command."""

    kind = "command"

    @property
    def command_id(self) -> str | None:
        """The command id found in the input, if any; not verified."""
        return self.message_id


def parse_event(
    raw: bytes,
    *,
    now: datetime | None = None,
    max_future_skew: timedelta | None = None,
    max_bytes: int = EVENT_MAX_BYTES,
) -> AuthEvent:
    """Validate one event from its JSON bytes; raise `InvalidEvent` with the reason.

    `now` (aware) and `max_future_skew` bound how far ahead `occurred_at` may lie;
    they default to the wall clock and `DEFAULT_MAX_FUTURE_SKEW`. A simulation
    running ahead of the wall clock passes its own `now`.
    """
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > max_bytes:
        raise InvalidEvent(
            f"event is {len(raw)} bytes, over the {max_bytes}-byte limit",
            _sniff_id(raw),
        )
    context = None
    if now is not None or max_future_skew is not None:
        context = {"now": now, "max_future_skew": max_future_skew}
    try:
        return _EVENTS.validate_json(raw, strict=True, context=context)
    except ValidationError as error:
        reason = _describe(error, "event", EVENT_TYPES)
        raise InvalidEvent(reason, _message_id(raw, "event_id")) from error


def parse_command(
    raw: bytes, *, max_bytes: int = COMMAND_MAX_BYTES
) -> RevocationCommand:
    """Validate one revocation command from its JSON bytes; raise `InvalidCommand`."""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > max_bytes:
        raise InvalidCommand(
            f"command is {len(raw)} bytes, over the {max_bytes}-byte limit",
            _sniff_id(raw),
        )
    try:
        return _COMMANDS.validate_json(raw, strict=True)
    except ValidationError as error:
        reason = _describe(error, "command", COMMAND_TYPES)
        raise InvalidCommand(reason, _message_id(raw, "command_id")) from error


def serialize(message: BaseModel) -> bytes:
    """Compact JSON of any model of this package, without null fields.

    Equal models give equal bytes, and parsing the bytes gives an equal model.
    Unknown fields are written back out, except those whose value is null.
    """
    return to_json(message, exclude_none=True)


def _describe(error: ValidationError, kind: str, tags: dict[str, Any]) -> str:
    details = error.errors(include_url=False, include_input=False)
    parts = [_describe_one(detail, kind, tags) for detail in details[:_ERRORS_SHOWN]]
    if len(details) > _ERRORS_SHOWN:
        parts.append(f"and {len(details) - _ERRORS_SHOWN} more")
    # Some pydantic messages quote a character of the input; keep the line clean.
    reason = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", "; ".join(parts))
    return reason if len(reason) <= _REASON_MAX else reason[: _REASON_MAX - 1] + "…"


def _describe_one(detail: ErrorDetails, kind: str, tags: dict[str, Any]) -> str:
    loc = detail["loc"]
    # A discriminated union puts the tag first in the location; it adds nothing.
    if loc and loc[0] in tags:
        loc = loc[1:]
    where = _path(loc)
    ctx = detail.get("ctx") or {}
    match detail["type"]:
        case "json_invalid":
            return f"not valid JSON: {ctx.get('error', detail['msg'])}"
        case "union_tag_invalid":
            return f"unknown {kind} type {_shorten(str(ctx.get('tag')))}"
        case "union_tag_not_found":
            return f"type: missing, so the {kind} type is unknown"
        case "dict_type" | "model_type" | "model_attributes_type" if not where:
            return f"{kind} must be a JSON object"
        case "timezone_aware":
            message = "timezone missing (naive datetime)"
        case "missing":
            message = "field required"
        case "extra_forbidden":
            message = "unknown field"
        case "string_pattern_mismatch" if ctx.get("pattern") == TEXT_PATTERN:
            message = "contains a NUL character"
        case "string_pattern_mismatch" if ctx.get("pattern") == IDENTIFIER_PATTERN:
            message = "not an identifier (1-256 of A-Z a-z 0-9 . _ : @ / + = # $ , ~ -)"
        case "string_pattern_mismatch" if ctx.get("pattern") == LABEL_KEY_PATTERN:
            message = "not a label key (1-63 of a-z 0-9 _ . : / -)"
        case "value_error":
            message = detail["msg"].removeprefix("Value error, ")
        case _:
            message = detail["msg"]
    return f"{where}: {message}" if where else message


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            # pydantic's marker for a bad dictionary key.
            path += " key"
        else:
            # A label key is input: quote it unless plain, so that a hostile one
            # cannot add lines, NULs or kilobytes to the reason.
            name = part if _PLAIN_NAME.fullmatch(part) else _shorten(part)
            path += f".{name}" if path else name
    return path


def _shorten(text: str, limit: int = 64) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _message_id(raw: bytes, field: str) -> str | None:
    # Only on the failure path: a second parse is cheap next to a dead letter.
    try:
        document = from_json(raw)
    except ValueError:
        return _sniff_id(raw)
    value = document.get(field) if isinstance(document, dict) else None
    if isinstance(value, str) and re.fullmatch(IDENTIFIER_PATTERN, value):
        return value[:64]
    return None


def _sniff_id(raw: bytes) -> str | None:
    # Broken or oversized JSON: look for the id near the start, as a log hint.
    match = _ID_IN_BYTES.search(bytes(raw[:_SNIFF_BYTES]))
    return match.group(1).decode("ascii") if match else None
