"""Limits on what one message may hold, stated once and enforced by the models.

Identifiers travel as Kafka keys, ClickHouse columns and URL path segments, so they
are restricted to a printable ASCII set that covers the identities seen in practice:
e-mail addresses (`@`, `+`), Windows machine accounts (`HOST$`), AWS ARNs (`:`, `/`,
`,`, `=`), Kubernetes service accounts (`system:serviceaccount:ns:name`), SPIFFE-like
paths, UUIDs and base64url fingerprints. Spaces, quotes, backslashes and control
characters are refused. `/` and `#` are allowed, so clients percent-encode an
identifier placed in a URL path.

Free text (reasons, descriptions, resource names, user agents, details, label
values) may hold any Unicode text and is kept verbatim: quotes, backslashes, SQL
keywords, shell metacharacters, newlines and tabs included. Only NUL (U+0000) is
refused, because C-based tools and log shippers silently truncate at it. Escaping is
the job of whoever renders the text, never of the ledger.
"""

from __future__ import annotations

from datetime import timedelta

EVENT_MAX_BYTES = 64 * 1024
"""Largest serialized event accepted, checked on the raw bytes before parsing."""

COMMAND_MAX_BYTES = 16 * 1024
"""Largest serialized command accepted."""

DEFAULT_MAX_FUTURE_SKEW = timedelta(seconds=300)
"""How far an event's `occurred_at` may lie ahead of "now" (producer clock skew)."""

SCHEMA_VERSION = 1
"""The version of the event envelope this package writes."""

IDENTIFIER_MAX = 256
IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:@/+=#$,~-]{1,256}$"
"""Event, session, principal, task, token, command and tenant identifiers."""

LABEL_KEY_PATTERN = r"^[a-z0-9_.:/-]{1,63}$"
LABELS_MAX = 32
LABEL_VALUE_MAX = 256

TEXT_PATTERN = r"^[^\x00]*$"
"""Free text: anything but NUL."""
TEXT_MAX = 1024
SHORT_TEXT_MAX = 256
"""Names shown to people: display names, roles, regions, operations."""
USER_AGENT_MAX = 512

COUNTRY_PATTERN = r"^[A-Z]{2}$"
"""ISO 3166-1 alpha-2, upper case."""

TOKEN_ID_MAX = 128
"""A token fingerprint; a whole JWT is longer and is refused outright."""

SCOPES_MAX = 256
OPERATIONS_MAX = 64
ACTORS_MAX = 16
ROLES_MAX = 64
EVIDENCE_MAX = 64
SELECTOR_LABELS_MAX = 8
