-- Alerts from the `alerts` topic and notices from `session.revocations`, once per
-- Kafka record, with the whole message in a JSON column.
CREATE TABLE IF NOT EXISTS ${database}.alerts
(
    alert_id UUID,
    detector LowCardinality(String),
    category LowCardinality(String),
    principal_id String,
    session_id String,
    severity LowCardinality(String),
    severity_rank UInt8,
    score Float64,
    explanation String,
    first_seen DateTime64(6, 'UTC'),
    last_seen DateTime64(6, 'UTC'),
    count UInt64,
    alert_json String CODEC(ZSTD(3)),
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    kafka_timestamp DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
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
    session_id String,
    principal_id String,
    category LowCardinality(String),
    command_id UUID,
    cause LowCardinality(String),
    reason String,
    cascade_root String,
    revoked_at DateTime64(6, 'UTC'),
    notice_json String CODEC(ZSTD(3)),
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    kafka_timestamp DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
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
