-- Alerts from the `alerts` topic and notices from `session.revocations`, once per
-- Kafka record, with the whole message in a JSON column.
CREATE TABLE IF NOT EXISTS ${database}.alerts
(
    alert_json String CODEC(ZSTD(3)),
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    kafka_timestamp DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),

    alert_id UUID DEFAULT toUUIDOrZero(JSONExtractString(alert_json, 'alert_id')),
    detector LowCardinality(String) DEFAULT JSONExtractString(alert_json, 'detector'),
    category LowCardinality(String) DEFAULT JSONExtractString(alert_json, 'category'),
    principal_id String DEFAULT JSONExtractString(alert_json, 'principal_id'),
    session_id String DEFAULT JSONExtractString(alert_json, 'session_id'),
    severity LowCardinality(String) DEFAULT JSONExtractString(alert_json, 'severity'),
    severity_rank UInt8
        DEFAULT indexOf(['info', 'low', 'medium', 'high', 'critical'], severity),
    score Float64 DEFAULT JSONExtractFloat(alert_json, 'score'),
    explanation String DEFAULT JSONExtractString(alert_json, 'explanation'),
    first_seen DateTime64(6, 'UTC')
        DEFAULT parseDateTime64BestEffortOrZero(
            JSONExtractString(alert_json, 'first_seen'), 6, 'UTC'),
    last_seen DateTime64(6, 'UTC')
        DEFAULT parseDateTime64BestEffortOrZero(
            JSONExtractString(alert_json, 'last_seen'), 6, 'UTC'),
    count UInt64 DEFAULT JSONExtractUInt(alert_json, 'count'),

    PROJECTION by_position
    (
        SELECT kafka_topic, kafka_partition, kafka_offset
        ORDER BY kafka_topic, kafka_partition, kafka_offset
    )
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(last_seen)
ORDER BY (category, detector, last_seen, alert_id)
TTL toDateTime(ingested_at) + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = ${dedup_window};

CREATE TABLE IF NOT EXISTS ${database}.revocations
(
    notice_json String CODEC(ZSTD(3)),
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    kafka_timestamp DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),

    session_id String DEFAULT JSONExtractString(notice_json, 'session_id'),
    principal_id String DEFAULT JSONExtractString(notice_json, 'principal_id'),
    category LowCardinality(String) DEFAULT JSONExtractString(notice_json, 'category'),
    command_id UUID DEFAULT toUUIDOrZero(JSONExtractString(notice_json, 'command_id')),
    cause LowCardinality(String) DEFAULT JSONExtractString(notice_json, 'cause'),
    reason String DEFAULT JSONExtractString(notice_json, 'reason'),
    cascade_root String DEFAULT JSONExtractString(notice_json, 'cascade_root'),
    revoked_at DateTime64(6, 'UTC')
        DEFAULT parseDateTime64BestEffortOrZero(
            JSONExtractString(notice_json, 'revoked_at'), 6, 'UTC'),

    PROJECTION by_position
    (
        SELECT kafka_topic, kafka_partition, kafka_offset
        ORDER BY kafka_topic, kafka_partition, kafka_offset
    )
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(revoked_at)
ORDER BY (category, cause, revoked_at, session_id)
TTL toDateTime(ingested_at) + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = ${dedup_window};
