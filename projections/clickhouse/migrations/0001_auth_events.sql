-- Every validated event of the ledger topic, once per Kafka record.
--
-- The writer inserts only event_json (the validated event as compact JSON, unknown
-- fields included), the Kafka position and the hash chain. Every flat column is a
-- DEFAULT expression over event_json, so ClickHouse derives them once, at insert,
-- in one place; `ledger verify` re-evaluates the same expressions to find a flat
-- column changed behind the writer's back. A field of the wrong type (an unknown
-- extra field that happens to share a column's name) yields the empty value.
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
    event_json String CODEC(ZSTD(3)),
    kafka_topic LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    kafka_timestamp DateTime64(3, 'UTC'),
    prev_hash String,
    chain_hash String,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),

    event_id UUID DEFAULT toUUIDOrZero(JSONExtractString(event_json, 'event_id')),
    type LowCardinality(String) DEFAULT JSONExtractString(event_json, 'type'),
    occurred_at DateTime64(6, 'UTC')
        DEFAULT parseDateTime64BestEffortOrZero(
            JSONExtractString(event_json, 'occurred_at'), 6, 'UTC'),
    received_at Nullable(DateTime64(6, 'UTC'))
        DEFAULT parseDateTime64BestEffortOrNull(
            JSONExtractString(event_json, 'received_at'), 6, 'UTC'),
    session_id String DEFAULT JSONExtractString(event_json, 'session_id'),
    category LowCardinality(String) DEFAULT JSONExtractString(event_json, 'category'),
    principal_id String DEFAULT JSONExtractString(event_json, 'principal', 'id'),
    principal_kind LowCardinality(String)
        DEFAULT JSONExtractString(event_json, 'principal', 'kind'),
    tenant String DEFAULT JSONExtractString(event_json, 'principal', 'tenant'),
    owner String DEFAULT JSONExtractString(event_json, 'principal', 'owner'),
    roles Array(String)
        DEFAULT JSONExtract(event_json, 'principal', 'roles', 'Array(String)'),
    agent_type LowCardinality(String)
        DEFAULT JSONExtractString(event_json, 'principal', 'agent_type'),
    display_name String
        DEFAULT JSONExtractString(event_json, 'principal', 'display_name'),
    delegation_subject String
        DEFAULT JSONExtractString(event_json, 'delegation', 'subject'),
    delegation_subject_session_id String
        DEFAULT JSONExtractString(event_json, 'delegation', 'subject_session_id'),
    actor_ids Array(String)
        DEFAULT JSONExtract(event_json, 'delegation', 'actors', 'Array(Tuple(id String))').1,
    actor_kinds Array(LowCardinality(String))
        DEFAULT JSONExtract(event_json, 'delegation', 'actors', 'Array(Tuple(kind String))').1,
    parent_session_id String DEFAULT JSONExtractString(event_json, 'parent_session_id'),
    source_ip String DEFAULT JSONExtractString(event_json, 'source', 'ip'),
    source_country LowCardinality(String)
        DEFAULT JSONExtractString(event_json, 'source', 'country'),
    source_region String DEFAULT JSONExtractString(event_json, 'source', 'region'),
    source_asn Nullable(UInt32)
        DEFAULT JSONExtract(event_json, 'source', 'asn', 'Nullable(UInt32)'),
    source_cloud_region LowCardinality(String)
        DEFAULT JSONExtractString(event_json, 'source', 'cloud_region'),
    user_agent String DEFAULT JSONExtractString(event_json, 'source', 'user_agent'),
    device_id String DEFAULT JSONExtractString(event_json, 'source', 'device_id'),
    labels Map(String, String)
        DEFAULT JSONExtract(event_json, 'labels', 'Map(String, String)'),
    schema_version UInt16 DEFAULT JSONExtractUInt(event_json, 'schema_version'),
    reason String DEFAULT JSONExtractString(event_json, 'reason'),
    detail String DEFAULT JSONExtractString(event_json, 'detail'),
    description String DEFAULT JSONExtractString(event_json, 'description'),
    outcome LowCardinality(String) DEFAULT JSONExtractString(event_json, 'outcome'),
    resource String DEFAULT JSONExtractString(event_json, 'resource'),
    operation String DEFAULT JSONExtractString(event_json, 'operation'),
    health LowCardinality(String) DEFAULT JSONExtractString(event_json, 'health'),
    -- A task-bound session names its task in the lifecycle it asks for.
    task_id String
        DEFAULT if(JSONHas(event_json, 'task_id'),
            JSONExtractString(event_json, 'task_id'),
            JSONExtractString(event_json, 'lifecycle', 'task_id')),
    token_id String DEFAULT JSONExtractString(event_json, 'token_id'),
    expires_at Nullable(DateTime64(6, 'UTC'))
        DEFAULT parseDateTime64BestEffortOrNull(
            JSONExtractString(event_json, 'expires_at'), 6, 'UTC'),
    deadline Nullable(DateTime64(6, 'UTC'))
        DEFAULT parseDateTime64BestEffortOrNull(
            JSONExtractString(event_json, 'deadline'), 6, 'UTC'),
    cause LowCardinality(String) DEFAULT JSONExtractString(event_json, 'cause'),
    requester String DEFAULT JSONExtractString(event_json, 'requester'),
    command_id Nullable(UUID)
        DEFAULT toUUIDOrNull(JSONExtractString(event_json, 'command_id')),
    cascade_root String DEFAULT JSONExtractString(event_json, 'cascade_root'),
    child_session_id String DEFAULT JSONExtractString(event_json, 'child_session_id'),
    link LowCardinality(String) DEFAULT JSONExtractString(event_json, 'link'),
    child_category LowCardinality(String)
        DEFAULT JSONExtractString(event_json, 'child_category'),
    mfa Nullable(Bool) DEFAULT JSONExtract(event_json, 'mfa', 'Nullable(Bool)'),
    auth_method String DEFAULT JSONExtractString(event_json, 'auth_method'),
    scopes Array(Tuple(resource String, operations Array(String)))
        DEFAULT JSONExtract(event_json, 'scopes',
            'Array(Tuple(resource String, operations Array(String)))'),
    heartbeat_ttl_seconds Nullable(Float64)
        DEFAULT JSONExtract(event_json, 'lifecycle', 'heartbeat_ttl_seconds',
            'Nullable(Float64)'),
    max_lifetime_seconds Nullable(Float64)
        DEFAULT JSONExtract(event_json, 'lifecycle', 'max_lifetime_seconds',
            'Nullable(Float64)'),

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
