"""Identifiers for ingested events: principals, sessions and event ids.

The ledger's identifiers are printable ASCII from a fixed set (`schemas.limits`).
Log formats name people and programs more freely, so every name is normalised the
same way before it becomes an identifier:

1. surrounding whitespace is dropped;
2. a Windows down-level name `DOMAIN\\user` becomes `user@DOMAIN`;
3. each run of whitespace becomes one `_` (`NT AUTHORITY` → `NT_AUTHORITY`);
4. what remains must match the identifier pattern, or the record is rejected with
   the offending value named. Nothing is transliterated or dropped silently.

Step 3 can merge two names that differ only in spaces and underscores; no log seen
so far has such a pair.

Event ids are uuid5 over the format, the record's identity and the event's place
among the events mapped from that record, so re-ingesting a file gives the same
ids and consumers that de-duplicate on `event_id` append nothing new.

Where a format has no session correlation field, the session id is derived from
the principal and the hour the event falls in (`derived_session_id`): everything
one principal did within one clock hour (UTC) forms one session.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.logs.records import RecordRejected
from schemas.limits import IDENTIFIER_MAX, IDENTIFIER_PATTERN

INGEST_NAMESPACE = uuid5(NAMESPACE_URL, "urn:session-ledger:ingest")
"""The uuid5 namespace of every event id the ingest adapters make."""

SESSION_BUCKET = timedelta(hours=1)
"""Span of a derived session: one principal's events within one UTC hour."""

# The identifier pattern without its length bound: lengths are checked apart, so
# that an over-long id can be shortened instead of refused (`prefixed`).
_IDENTIFIER_CHARACTERS = re.compile(re.sub(r"\{\d+,\d+\}", "+", IDENTIFIER_PATTERN))
_WHITESPACE = re.compile(r"\s+")


def identifier(value: object, what: str) -> str:
    """`value` normalised into an identifier; RecordRejected naming `what` if not."""
    text = _normalised(value, what)
    if len(text) > IDENTIFIER_MAX:
        raise RecordRejected(
            f"{what} {_shown(text)!r} is {len(text)} characters, over the "
            f"{IDENTIFIER_MAX} an identifier may have"
        )
    return text


def _normalised(value: object, what: str) -> str:
    # Steps 1-3 of the module's rules, then the character check of step 4.
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordRejected(f"{what} is missing")
    text = str(value).strip()
    if "\\" in text:
        domain, _, name = text.rpartition("\\")
        text = f"{name}@{domain}" if domain else name
    text = _WHITESPACE.sub("_", text)
    if not _IDENTIFIER_CHARACTERS.match(text):
        raise RecordRejected(
            f"{what} {_shown(text)!r} is not an identifier once normalised (only "
            "A-Z a-z 0-9 . _ : @ / + = # $ , ~ -)"
        )
    return text


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:80] + "…"


def optional_identifier(value: object) -> str | None:
    """`value` as an identifier, or None when absent or not representable."""
    try:
        return identifier(value, "value")
    except RecordRejected:
        return None


def account(name: object, domain: object, what: str = "account") -> str:
    """A Windows-style account and domain as `name@DOMAIN` (bare name without one)."""
    name_text = str(name or "").strip()
    domain_text = str(domain or "").strip()
    if not name_text or name_text == "-":
        raise RecordRejected(f"{what} has no name")
    if domain_text in ("", "-"):
        return identifier(name_text, what)
    return identifier(f"{name_text}@{domain_text}", what)


def event_id(format_name: str, record_identity: str, index: int) -> UUID:
    """The id of the `index`-th event mapped from one record."""
    return uuid5(INGEST_NAMESPACE, f"{format_name}:{record_identity}:{index}")


def derived_session_id(prefix: str, principal_id: str, at: datetime) -> str:
    """A session id for formats without one: the principal and its time bucket."""
    span = int(SESSION_BUCKET.total_seconds())
    seconds = int(at.timestamp())
    bucket = datetime.fromtimestamp(seconds - seconds % span, UTC)
    digest = hashlib.sha256(principal_id.encode("utf-8")).hexdigest()[:16]
    return f"{prefix}:{digest}:{bucket:%Y%m%dT%H}"


def prefixed(prefix: str, value: object, what: str) -> str:
    """`prefix:value` as a session or token id; RecordRejected when it cannot be."""
    text = _normalised(value, what)
    room = IDENTIFIER_MAX - len(prefix) - 1
    if len(text) > room:
        # Keep the id unique and within bounds: a digest stands in for the tail.
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        text = f"{text[: room - 17]}~{digest}"
    return f"{prefix}:{text}"
