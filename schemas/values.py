"""Value types shared by events, commands and outputs.

Constrained scalars (identifiers, free text, UTC times), the category vocabulary,
and the small value objects every event carries: principal, delegation, source,
scope.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonDict

from schemas.limits import (
    ACTORS_MAX,
    COUNTRY_PATTERN,
    IDENTIFIER_MAX,
    IDENTIFIER_PATTERN,
    LABEL_KEY_PATTERN,
    LABEL_VALUE_MAX,
    LABELS_MAX,
    OPERATIONS_MAX,
    ROLES_MAX,
    SHORT_TEXT_MAX,
    TEXT_MAX,
    TEXT_PATTERN,
    USER_AGENT_MAX,
)


def as_utc(value: datetime) -> datetime:
    """The same instant with a zero UTC offset."""
    # Times parsed with a zero offset are kept as they are (pydantic's TzInfo(0)):
    # converting them would cost more than the rest of the field's validation.
    if not value.utcoffset():
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        # "9999-12-31T23:00:00-05:00" has no UTC representation.
        raise ValueError("out of range once converted to UTC") from error


def _sorted_labels(labels: dict[str, str]) -> dict[str, str]:
    # Sorted on the way out, so that equal label sets serialize to equal bytes.
    return labels if len(labels) < 2 else dict(sorted(labels.items()))


@lru_cache(maxsize=65_536)
def _canonical_ip(text: str) -> str:
    # ipaddress parsing costs microseconds; source addresses repeat a lot.
    return ipaddress.ip_address(text).compressed


Identifier = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=IDENTIFIER_MAX, pattern=IDENTIFIER_PATTERN
    ),
]
"""An id: printable ASCII from a fixed set, see `schemas.limits`."""

Text = Annotated[str, StringConstraints(max_length=TEXT_MAX, pattern=TEXT_PATTERN)]
"""Free text kept verbatim; anything but NUL."""

ShortText = Annotated[
    str, StringConstraints(max_length=SHORT_TEXT_MAX, pattern=TEXT_PATTERN)
]
"""A short name shown to people; anything but NUL."""

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SHORT_TEXT_MAX, pattern=TEXT_PATTERN),
]
"""A non-empty short name: a role, an operation."""

Resource = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_MAX, pattern=TEXT_PATTERN)
]
"""A resource name or pattern: a path, URL, ARN, table; anything but NUL."""

UserAgent = Annotated[
    str, StringConstraints(max_length=USER_AGENT_MAX, pattern=TEXT_PATTERN)
]

UtcDatetime = Annotated[AwareDatetime, AfterValidator(as_utc)]
"""A timezone-aware time in UTC (offset zero); naive times are refused."""

LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY_PATTERN)]
LabelValue = Annotated[
    str, StringConstraints(max_length=LABEL_VALUE_MAX, pattern=TEXT_PATTERN)
]
Labels = Annotated[
    dict[LabelKey, LabelValue],
    Field(max_length=LABELS_MAX),
    PlainSerializer(_sorted_labels, when_used="json"),
]
"""Free-form labels, at most 32; written to JSON sorted by key."""

Country = Annotated[str, StringConstraints(pattern=COUNTRY_PATTERN)]
"""ISO 3166-1 alpha-2 code, upper case."""

IpAddress = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_canonical_ip),
    WithJsonSchema(
        {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
    ),
]
"""An IPv4 or IPv6 address in canonical text form ("2001:DB8::1" → "2001:db8::1")."""

Asn = Annotated[int, Field(ge=0, le=2**32 - 1)]


class SessionCategory(StrEnum):
    """Who a session belongs to; every rule and baseline is kept per category."""

    USER = "user"
    AGENT = "agent"
    HYBRID = "hybrid"


class PrincipalKind(StrEnum):
    """What kind of identity a principal is."""

    HUMAN = "human"
    SERVICE_ACCOUNT = "service_account"
    AI_AGENT = "ai_agent"
    WORKLOAD = "workload"


class Health(StrEnum):
    """Health an agent reports with its heartbeat."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class RevocationCause(StrEnum):
    """What led to a revocation."""

    COMMAND = "command"
    CASCADE = "cascade"
    SELECTOR = "selector"
    EMERGENCY = "emergency"
    POLICY = "policy"


def require_discriminator(schema: JsonDict) -> None:
    """Mark `type` required in a JSON Schema: Python callers get it by default."""
    required = schema.get("required", [])
    assert isinstance(required, list)
    schema["required"] = ["type", *(name for name in required if name != "type")]


class Message(BaseModel):
    """A frozen value sent over the wire; unknown fields are kept, not dropped."""

    # extra="allow": a newer producer's fields survive an older ledger and are
    # written back out by `serialize`. An unknown field holding 1e400 parses as
    # inf, which JSON cannot hold: it is written as the string "Infinity".
    model_config = ConfigDict(frozen=True, extra="allow", ser_json_inf_nan="strings")


class Principal(Message):
    """The identity a session is for."""

    id: Identifier
    kind: PrincipalKind
    tenant: Identifier | None = None
    owner: Identifier | None = Field(
        None, description="The accountable human of an agent or service account."
    )
    roles: tuple[Name, ...] = Field((), max_length=ROLES_MAX)
    agent_type: Identifier | None = Field(
        None, description='What the agent does, e.g. "document_processor".'
    )
    display_name: ShortText | None = None


class Actor(Message):
    """One link of a delegation chain."""

    id: Identifier
    kind: PrincipalKind


class Delegation(Message):
    """Who a hybrid session acts for, like the `act` claim of RFC 8693."""

    subject: Identifier = Field(description="Principal id of the user acted for.")
    subject_session_id: Identifier = Field(
        description="The user session this hybrid session acts for."
    )
    actors: tuple[Actor, ...] = Field(
        min_length=1,
        max_length=ACTORS_MAX,
        description="Current actor first, then prior actors (nested `act`).",
    )


class Source(Message):
    """Where an event came from; every field is optional."""

    ip: IpAddress | None = None
    country: Country | None = None
    region: ShortText | None = None
    asn: Asn | None = None
    cloud_region: ShortText | None = None
    user_agent: UserAgent | None = None
    device_id: Identifier | None = None


class Scope(Message):
    """A grant: operations allowed on resources matching a pattern.

    `resource` is a glob where `*` matches any run of characters, `/` included;
    the operation `*` allows every operation.
    """

    resource: Resource
    operations: tuple[Name, ...] = Field(min_length=1, max_length=OPERATIONS_MAX)
