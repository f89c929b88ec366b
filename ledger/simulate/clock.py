"""Simulated event time: integer milliseconds since the Unix epoch, in UTC.

The simulator does its arithmetic on integers, which is fast and exact, and turns
a time into an aware `datetime` only when it builds an event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(at: int) -> datetime:
    """An aware UTC datetime for a simulated time."""
    return _EPOCH + timedelta(milliseconds=at)


def from_datetime(moment: datetime) -> int:
    """The simulated time of an aware datetime."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def local_time(on: date, at: time, zone: ZoneInfo) -> int:
    """The simulated time of a wall-clock time on a date in a time zone."""
    return from_datetime(datetime.combine(on, at, tzinfo=zone))


def local_moment(at: int, zone: ZoneInfo) -> datetime:
    """A simulated time as a wall-clock datetime in a time zone."""
    return to_datetime(at).astimezone(zone)


def hours(value: float) -> int:
    """Hours as milliseconds."""
    return round(value * HOUR)


def minutes(value: float) -> int:
    """Minutes as milliseconds."""
    return round(value * MINUTE)


def iso(at: int) -> str:
    """A simulated time as ISO 8601 text in UTC with a `Z`, to the millisecond."""
    return to_datetime(at).isoformat(timespec="milliseconds").replace("+00:00", "Z")
