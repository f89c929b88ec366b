-- Hourly activity per category, principal and event type, by event time.
--
-- events and failures are sums; sessions is a uniq state, so re-applying events
-- to it changes nothing. The writer repairs the sums after a crash with
-- correcting rows (true count minus rolled-up count), which may be negative, so
-- the sums are signed. Failures: authentication failures, denied or failed
-- accesses, failed tasks.
CREATE TABLE IF NOT EXISTS ${database}.activity_hourly
(
    hour DateTime64(0, 'UTC'),
    category LowCardinality(String),
    principal_id String,
    principal_kind LowCardinality(String),
    type LowCardinality(String),
    events SimpleAggregateFunction(sum, Int64),
    failures SimpleAggregateFunction(sum, Int64),
    sessions AggregateFunction(uniq, String),
    written_at SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (category, principal_id, hour, type, principal_kind)
TTL written_at + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.activity_hourly_mv
TO ${database}.activity_hourly AS
SELECT
    toDateTime64(toStartOfHour(occurred_at), 0, 'UTC') AS hour,
    category,
    principal_id,
    principal_kind,
    type,
    toInt64(count()) AS events,
    toInt64(countIf(
        type = 'authentication.failed' OR outcome IN ('denied', 'error', 'failed')
    )) AS failures,
    uniqState(session_id) AS sessions,
    max(toDateTime(ingested_at, 'UTC')) AS written_at
FROM ${database}.auth_events
GROUP BY hour, category, principal_id, principal_kind, type;
