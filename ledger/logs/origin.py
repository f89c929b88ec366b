"""Where an ingested event came from: a tolerant builder of `schemas.Source`.

Logs fill network fields loosely: `"-"`, `""`, `"IP"` (a redacted sample), a host
name where an address belongs, a country name where an ISO code belongs. A bad
field never rejects a record: it is left out of the source, because the event is
still true without it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from ledger.logs.identity import optional_identifier
from schemas import Source
from schemas.limits import SHORT_TEXT_MAX, USER_AGENT_MAX

_ABSENT = {"", "-", "null", "none", "unknown", "n/a"}


def source(
    *,
    ip: object = None,
    country: object = None,
    region: object = None,
    asn: object = None,
    cloud_region: object = None,
    user_agent: object = None,
    device_id: object = None,
) -> Source | None:
    """A `Source` of the fields that hold usable values; None if none does."""
    fields = {
        "ip": ip_address(ip),
        "country": country_code(country),
        "region": _short_text(region),
        "asn": _asn(asn),
        "cloud_region": _short_text(cloud_region),
        "user_agent": _text(user_agent, USER_AGENT_MAX),
        "device_id": None if _absent(device_id) else optional_identifier(device_id),
    }
    present = {name: value for name, value in fields.items() if value is not None}
    return Source(**present) if present else None


def ip_address(value: object) -> str | None:
    """The address in canonical form, or None when `value` is not an IP address."""
    if _absent(value):
        return None
    return _ip_address(str(value).strip())


@lru_cache(maxsize=65_536)
def _ip_address(text: str) -> str | None:
    # Parsing costs microseconds and source addresses repeat a lot.
    # "1.2.3.4:5678" and "[::1]:80" carry a port.
    if text.count(":") == 1 and "." in text:
        text = text.split(":", 1)[0]
    text = text.removeprefix("[").split("]", 1)[0]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def country_code(value: object) -> str | None:
    """ISO 3166-1 alpha-2 for a code or an English country name, else None."""
    if _absent(value):
        return None
    return _country_code(str(value).strip())


@lru_cache(maxsize=1024)
def _country_code(text: str) -> str | None:
    if len(text) == 2 and text.isalpha():
        return text.upper()
    # Imported here: the country tables load in about 50 ms and are only needed
    # for formats that write country names (Okta, OCSF).
    import pycountry

    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def _asn(value: object) -> int | None:
    if _absent(value):
        return None
    try:
        number = int(float(str(value)))
    except ValueError:
        return None
    return number if 0 <= number < 2**32 else None


def _short_text(value: object) -> str | None:
    return _text(value, SHORT_TEXT_MAX)


def _text(value: object, limit: int) -> str | None:
    if _absent(value):
        return None
    text = str(value).replace("\x00", "")
    return text[:limit] if text.strip() else None


def _absent(value: object) -> bool:
    return value is None or (
        isinstance(value, str) and value.strip().lower() in _ABSENT
    )
