"""Malformed records mixed into the output, one kind for each check the DLQ makes."""

from __future__ import annotations

import re
from random import Random
from uuid import UUID

from schemas.limits import EVENT_MAX_BYTES

KINDS = (
    "broken_json",
    "naive_timestamp",
    "unknown_type",
    "bad_identifier",
    "oversize",
)
"""Every kind of malformed record, in the order they take turns."""

_EVENT_ID = re.compile(rb'"event_id":"[0-9a-f-]{36}"')
_OCCURRED_AT = re.compile(rb'"occurred_at":"([^"]+?)(?:Z|[+-]\d\d:\d\d)"')
_TYPE = re.compile(rb'"type":"[a-z_.]+"')
_SESSION_ID = re.compile(rb'"session_id":"[^"]+"')

BAD_IDENTIFIER = "sess 'quoted' id"
"""A session id with a space and quotes: outside the identifier alphabet."""


def malformed(kind: str, valid: bytes, rng: Random) -> tuple[bytes, bytes | None]:
    """A malformed record of `kind` derived from a valid one, and its Kafka key.

    The record gets a fresh event id, so it is never mistaken for the valid one.
    """
    fresh = UUID(int=rng.getrandbits(128), version=4)
    value = _EVENT_ID.sub(f'"event_id":"{fresh}"'.encode(), valid, count=1)
    match = _SESSION_ID.search(value)
    key = match.group(0)[len(b'"session_id":"') : -1] if match else None
    match kind:
        case "broken_json":
            # Cut mid-record, as a crashed producer or a torn write leaves it.
            return value[: len(value) // 2], key
        case "naive_timestamp":
            return _OCCURRED_AT.sub(rb'"occurred_at":"\1"', value, count=1), key
        case "unknown_type":
            return _TYPE.sub(b'"type":"session.teleported"', value, count=1), key
        case "bad_identifier":
            bad = BAD_IDENTIFIER.encode()
            return _SESSION_ID.sub(b'"session_id":"' + bad + b'"', value, count=1), bad
        case "oversize":
            padding = b"x" * (EVENT_MAX_BYTES + 1024)
            return value[:-1] + b',"note":"' + padding + b'"}', key
    raise ValueError(f"unknown kind of malformed record {kind!r}; one of {KINDS}")
