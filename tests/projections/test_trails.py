"""The segregated trails: each holds its own category's rows and nothing else."""

from __future__ import annotations

from audit_samples import event_records, record, session_start

from projections.rows import AUTH_EVENTS
from projections.store import AuditStore


def _count(store: AuditStore, sql: str) -> int:
    return store.query(sql).rows[0][0]


def test_trails_with_mixed_categories_hold_exactly_their_rows(
    store: AuditStore,
) -> None:
    records = event_records(300)
    # A producer that files an AI agent under the "user" category.
    misfiled = session_start(
        "user",
        session_id="misfiled-1",
        principal={"id": "svc-bot@acme", "kind": "ai_agent"},
    )
    records.append(record(misfiled, partition=0, offset=10_001))
    store.write_records(AUTH_EVENTS, records)

    by_category = dict(
        store.query("SELECT category, count() FROM auth_events GROUP BY category").rows
    )
    humans = _count(
        store,
        "SELECT count() FROM auth_events "
        "WHERE category = 'user' AND principal_kind = 'human'",
    )
    assert _count(store, "SELECT count() FROM human_trail") == humans
    assert _count(store, "SELECT count() FROM agent_trail") == by_category["agent"]
    assert _count(store, "SELECT count() FROM hybrid_trail") == by_category["hybrid"]
    assert humans + 1 == by_category["user"]

    assert (
        _count(
            store,
            "SELECT count() FROM human_trail "
            "WHERE category != 'user' OR principal_kind != 'human'",
        )
        == 0
    )
    assert (
        _count(store, "SELECT count() FROM agent_trail WHERE category != 'agent'") == 0
    )
    assert (
        _count(store, "SELECT count() FROM hybrid_trail WHERE category != 'hybrid'")
        == 0
    )
    assert store.query("SELECT session_id FROM trail_exceptions").rows == [
        ["misfiled-1"]
    ]


def test_human_trail_with_only_agent_rows_is_empty(store: AuditStore) -> None:
    agents = [
        r for r in event_records(100) if b'"category":"agent"' in (r.value or b"")
    ]
    assert agents
    store.write_records(AUTH_EVENTS, agents)

    assert _count(store, "SELECT count() FROM human_trail") == 0
    assert _count(store, "SELECT count() FROM agent_trail") == len(agents)
