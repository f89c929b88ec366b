-- Every validated event of the ledger topic, once per Kafka record.
--
-- Flat columns hold the envelope and the common per-type fields; event_json holds
-- the whole validated event, unknown fields included, and is what the hash chain
-- covers. The flat columns are derived from event_json, and `ledger verify`
-- checks that they still agree with it.
--
-- ORDER BY: analysts read one category (trail) and one principal over a time
-- range; category first also keeps agent and human rows apart inside every part.
-- The writer's look-ups by Kafka position use the by_position projection instead.
--
-- TTL runs on ingested_at, not occurred_at: ingestion follows Kafka offset order
-- within a partition, so retention removes the oldest links of each hash chain
-- and never one from its middle (a late event with an old occurred_at stays).
CREATE TABLE IF NOT EXISTS ${database}.auth_events
(
    event_id UUID,
    type LowCardinality(String),
    occurred_at DateTime64(6, 'UTC'),
    received_at Nullable(DateTime64(6, 'UTC')),
    session_id String,
    category LowCardinality(String),
    principal_id String,
    principal_kind LowCardinality(String),
    tenant String,
    owner String,
    roles Array(String),
    agent_type LowCardinality(String),
    display_name String,
    delegation_subject String,
    delegation_subject_session_id String,
    actor_ids Array(String),
    actor_kinds Array(LowCardinality(String)),
    parent_session_id String,
    source_ip String,
    source_country LowCardinality(String),
    source_region String,
    source_asn Nullable(UInt32),
    source_cloud_region LowCardinality(String),
    user_agent String,
    device_id String,
    labels Map(String, String),
    schema_version UInt16,
    reason String,
    detail String,
    description String,
    outcome LowCardinality(String),
    resource String,
    operation String,
    health LowCardinality(String),
    task_id String,
    token_id String,
    expires_at Nullable(DateTime64(6, 'UTC')),
    deadline Nullable(DateTime64(6, 'UTC')),
    cause LowCardinality(String),
    requester String,
    command_id Nullable(UUID),
    cascade_root String,
    child_session_id String,
    link LowCardinality(String),
    child_category LowCardinality(String),
    mfa Nullable(Bool),
    auth_method String,
    scopes Array(Tuple(resource String, operations Array(String))),
    heartbeat_ttl_seconds Nullable(Float64),
    max_lifetime_seconds Nullable(Float64),
    event_json String CODEC(ZSTD(3)),
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    kafka_timestamp DateTime64(3, 'UTC'),
    prev_hash String,
    chain_hash String,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX session_idx session_id TYPE bloom_filter(0.01) GRANULARITY 4,
    PROJECTION by_position
    (
        SELECT kafka_topic, kafka_partition, kafka_offset, chain_hash
        ORDER BY kafka_topic, kafka_partition, kafka_offset
    )
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (category, principal_id, occurred_at, event_id)
TTL toDateTime(ingested_at) + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = ${dedup_window};

-- The segregated trails. A trail is a filter on the leading sort key column, so
-- it reads only its own category's granules. The human trail also requires a
-- human principal: an agent identity filed under category "user" by a producer
-- shows up in trail_exceptions, never in the human trail.
CREATE VIEW IF NOT EXISTS ${database}.human_trail AS
SELECT * FROM ${database}.auth_events
WHERE category = 'user' AND principal_kind = 'human';

CREATE VIEW IF NOT EXISTS ${database}.agent_trail AS
SELECT * FROM ${database}.auth_events
WHERE category = 'agent';

CREATE VIEW IF NOT EXISTS ${database}.hybrid_trail AS
SELECT * FROM ${database}.auth_events
WHERE category = 'hybrid';

CREATE VIEW IF NOT EXISTS ${database}.trail_exceptions AS
SELECT * FROM ${database}.auth_events
WHERE category = 'user' AND principal_kind != 'human';
