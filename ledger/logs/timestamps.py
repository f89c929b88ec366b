"""Event times from log fields, always as aware UTC datetimes.

Logs write time in many ways: ISO 8601 with up to nine fractional digits, epoch
seconds or milliseconds, `2022-06-23 12:47:05 UTC`, CloudTrail's
`Sep 20, 2023, 4:14:46 PM`, Sentinel's `21/04/2025, 09:45:54.000`. A time without
an offset is read in the zone the operator names (`--timezone`, UTC by default),
because the log's own zone is not in the record.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from ledger.logs.records import RecordRejected

_EPOCH_MILLIS_FROM = 10**11
"""Epoch numbers at or above this are milliseconds (10^11 s is the year 5138)."""

_FORMATS = (
    "%d/%m/%Y, %H:%M:%S.%f",  # Sentinel CSV exports (day first)
    "%d/%m/%Y, %H:%M:%S",
    "%b %d, %Y, %I:%M:%S %p",  # CloudTrail STS credential expiry
    "%m/%d/%Y %I:%M:%S %p",  # Windows events rendered as text
)


def timestamp(value: object, what: str, zone: tzinfo = UTC) -> datetime:
    """`value` as an aware UTC datetime; RecordRejected naming `what` if not a time."""
    if value is None or value == "":
        raise RecordRejected(f"{what} is missing")
    if isinstance(value, bool):
        raise RecordRejected(f"{what} {value!r} is not a time")
    if isinstance(value, int | float):
        return _from_epoch(value, what)
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit():
        return _from_epoch(float(text), what)
    parsed = _parse_text(text)
    if parsed is None:
        raise RecordRejected(f"{what} {text[:64]!r} is not a time this reader knows")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def optional_timestamp(value: object, zone: tzinfo = UTC) -> datetime | None:
    """`value` as an aware UTC datetime, or None when absent or unreadable."""
    try:
        return timestamp(value, "time", zone)
    except RecordRejected:
        return None


def _from_epoch(number: float, what: str) -> datetime:
    seconds = number / 1000 if abs(number) >= _EPOCH_MILLIS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise RecordRejected(f"{what} {number!r} is out of range") from error


def _parse_text(text: str) -> datetime | None:
    iso = text.removesuffix(" UTC").removesuffix(" GMT")
    zone_named = iso != text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        parsed = None
    if parsed is not None:
        if zone_named and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed
    for pattern in _FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None
