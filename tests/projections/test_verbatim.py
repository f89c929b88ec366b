"""Free text reaches ClickHouse and comes back byte for byte."""

from __future__ import annotations

import json
from uuid import uuid4

from audit_samples import record, session_start

from projections.rows import AUTH_EVENTS
from projections.store import AuditStore
from schemas import AccessRecorded, AuthenticationFailed, SessionRevoked, serialize
from schemas.examples import example

NASTY = (
    "it's a \"quote\" and a `tick`, back\\slash \\' \\\\; DROP TABLE auth_events; -- "
    "/* comment */ SELECT * FROM system.users WHERE '1'='1' {p:String} $$ %s ?\n"
    "\ttab\rreturn \x01\x07\x08\x1b[31mred\x1b[0m \x7f ünïcödé 🚨 \u2028\u202e"
)


def test_store_with_hostile_text_reads_it_back_verbatim(store: AuditStore) -> None:
    access = example(
        AccessRecorded,
        resource=NASTY,
        operation=NASTY[:200],
        labels={"note": NASTY[:256]},
    )
    failed = example(AuthenticationFailed, detail=NASTY)
    revoked = example(SessionRevoked, reason=NASTY)
    started = session_start(
        "user",
        principal={
            "id": "alice@example.com",
            "kind": "human",
            "display_name": NASTY[:256],
        },
        source={"user_agent": NASTY[:512]},
    )
    messages = [access, failed, revoked, started]
    store.write_records(
        AUTH_EVENTS, [record(m, offset=n) for n, m in enumerate(messages)]
    )

    rows = {
        row[0]: row[1:]
        for row in store.query(
            "SELECT type, resource, operation, labels, detail, reason, display_name, "
            "user_agent, event_json FROM auth_events"
        ).rows
    }
    assert rows["access.recorded"][:3] == [NASTY, NASTY[:200], {"note": NASTY[:256]}]
    assert rows["authentication.failed"][3] == NASTY
    assert rows["session.revoked"][4] == NASTY
    assert rows["session.started"][5:7] == [NASTY[:256], NASTY[:512]]
    for message in messages:
        stored = rows[message.type][-1]
        assert stored.encode() == serialize(message)
        assert json.loads(stored) == json.loads(serialize(message))


def test_query_with_hostile_literal_matches_exactly_one_row(store: AuditStore) -> None:
    store.write_records(
        AUTH_EVENTS,
        [
            record(example(AccessRecorded, resource=NASTY), offset=0),
            record(
                example(AccessRecorded, resource="plain", event_id=uuid4()), offset=1
            ),
        ],
    )
    literal = NASTY.replace("\\", "\\\\").replace("'", "\\'")

    found = store.query(
        f"SELECT resource FROM auth_events WHERE resource = '{literal}'"
    )

    assert found.rows == [[NASTY]]
