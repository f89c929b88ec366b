-- The latest state of every session, folded by ClickHouse from auth_events.
--
-- Every column is a SimpleAggregateFunction of max or min, so applying one event
-- twice changes nothing: the writer can re-derive rows after a crash without
-- doubling anything. `state` orders by (rank, at): a lifecycle end (rank 2)
-- beats the start (rank 1), which beats activity that only implies the session
-- is alive (rank 0). `identity` prefers what session.started said (from_start).
-- Read it through session_states, which merges the partial rows.
CREATE TABLE IF NOT EXISTS ${database}.sessions
(
    session_id String,
    identity SimpleAggregateFunction(max, Tuple(
        from_start UInt8,
        category String,
        principal_id String,
        principal_kind String,
        agent_type String,
        tenant String)),
    parent_session_id SimpleAggregateFunction(max, String),
    delegation_subject SimpleAggregateFunction(max, String),
    first_event_at SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_event_at SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    state SimpleAggregateFunction(max, Tuple(
        rank UInt8,
        at DateTime64(6, 'UTC'),
        status String,
        event_type String)),
    written_at SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY session_id
TTL written_at + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.sessions_mv
TO ${database}.sessions AS
SELECT
    session_id,
    tuple(
        toUInt8(type = 'session.started'),
        toString(category),
        principal_id,
        toString(principal_kind),
        toString(agent_type),
        tenant) AS identity,
    parent_session_id,
    delegation_subject,
    occurred_at AS first_event_at,
    occurred_at AS last_event_at,
    tuple(
        toUInt8(multiIf(
            type IN ('session.ended', 'session.expired', 'session.revoked'), 2,
            type = 'session.started', 1,
            0)),
        occurred_at,
        multiIf(
            type = 'session.ended', 'ended',
            type = 'session.expired', 'expired',
            type = 'session.revoked', 'revoked',
            'active'),
        toString(type)) AS state,
    toDateTime(ingested_at, 'UTC') AS written_at
FROM ${database}.auth_events;

CREATE VIEW IF NOT EXISTS ${database}.session_states AS
SELECT
    session_id,
    max(identity).category AS category,
    max(identity).principal_id AS principal_id,
    max(identity).principal_kind AS principal_kind,
    max(identity).agent_type AS agent_type,
    max(identity).tenant AS tenant,
    max(parent_session_id) AS parent_session_id,
    max(delegation_subject) AS delegation_subject,
    max(state).status AS status,
    max(state).at AS status_at,
    max(state).event_type AS status_event,
    min(first_event_at) AS first_event_at,
    max(last_event_at) AS last_event_at
FROM ${database}.sessions
GROUP BY session_id;
