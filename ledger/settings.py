"""The ledger's settings: one frozen object read from `LEDGER_*` variables.

Constructor arguments beat the environment, the environment beats the defaults.
Nothing is read at import time; call `LedgerSettings()` when you need them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


class LedgerSettings(BaseSettings):
    """Everything an operator can set. Each field maps to `LEDGER_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="LEDGER_", frozen=True, extra="ignore")

    data_dir: Path = Field(
        Path(".ledger"),
        description="Working directory for broker files, table state and chDB.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "session-ledger",
        description="Downloads kept between runs, such as the local broker's jars.",
    )
    kafka_bootstrap: str | None = Field(
        None,
        description=(
            "Kafka bootstrap servers. Unset: the broker started by "
            "`ledger kafka up`, else 127.0.0.1:9092."
        ),
    )
    app_id: str = Field("session-ledger", description="Faust application id.")
    partitions: int = Field(
        8, ge=1, description="Partitions of every keyed topic the ledger creates."
    )
    replication_factor: int = Field(
        1, ge=1, description="Replication factor of the topics the ledger creates."
    )
    topic_events: str = Field("auth.events", description="The ledger topic.")
    topic_dead_letters: str = Field(
        "auth.events.dlq", description="Input that failed validation."
    )
    topic_commands: str = Field("session.commands", description="Revocation requests.")
    topic_revocations: str = Field(
        "session.revocations", description="Revocation notices for enforcement."
    )
    topic_alerts: str = Field("alerts", description="Security alerts.")
    web_host: str = Field("127.0.0.1", description="Worker web server address.")
    web_port: int = Field(6066, description="Worker web server port.")
    producer_token: SecretStr | None = Field(
        None,
        description=(
            "Bearer credential for POST /events. Unset: generated on first "
            "start and kept in <data_dir>/credentials.json."
        ),
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Security-admin bearer credential for revocations.",
    )
    reader_token: SecretStr | None = Field(
        None,
        description="Analyst bearer credential for read-only queries.",
    )
    clickhouse_url: str | None = Field(
        None,
        description=(
            "clickhouse-connect DSN: chdb://PATH or http(s)://HOST. "
            "Unset: chdb:// under <data_dir>/clickhouse."
        ),
    )
    clickhouse_database: str = Field(
        "ledger",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="ClickHouse database of the audit projection; created at start.",
    )
    audit_retention_days: int = Field(
        400,
        ge=1,
        description="Days the audit projection keeps a row after it was written.",
    )
    audit_batch_rows: int = Field(
        5000, ge=1, description="Most records the audit writer inserts at once."
    )
    audit_batch_seconds: float = Field(
        1.0,
        gt=0,
        description="Longest the audit writer waits to fill a batch, in seconds.",
    )
    policy_file: Path | None = Field(
        None, description="YAML or JSON policy file; unset uses built-in defaults."
    )
    table_store: str = Field(
        "rocksdb://",
        description="Faust table store: rocksdb:// (resumes locally) or memory://.",
    )
    stream_buffer_maxsize: int = Field(
        16384, ge=1, description="Faust per-partition stream buffer, in messages."
    )
    broker_max_poll_records: int = Field(
        2000, ge=1, description="Most records one consumer poll returns."
    )
    producer_max_batch_bytes: int = Field(
        512 * 1024,
        ge=16 * 1024,
        description="Largest producer batch per partition (Faust's default holds "
        "only a few dozen events).",
    )
    producer_buffer_records: int = Field(
        10_000,
        ge=100,
        description="Records waiting to be produced before Faust holds back the "
        "agents until the producer catches up.",
    )
    producer_linger_ms: int = Field(
        5, ge=0, description="How long the producer waits to fill a batch."
    )
    max_event_bytes: int = Field(
        64 * 1024, ge=1024, description="Largest serialized event accepted."
    )
    max_future_skew_seconds: float = Field(
        300.0,
        ge=0,
        description="How far into the future an event's occurred_at may lie.",
    )
    max_batch_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="Largest POST /events body accepted; larger ones get 413.",
    )
    dead_letter_max_original_bytes: int = Field(
        512 * 1024,
        ge=1024,
        description=(
            "Most original bytes a dead letter keeps; base64 must still fit Kafka's "
            "~1 MB message limit."
        ),
    )

    tick_interval_seconds: float = Field(
        5.0,
        gt=0,
        description="How often the worker sends a wall-clock tick to every partition "
        "of the ledger topic, in seconds.",
    )
    wall_clock_ticks: bool = Field(
        True,
        description="Send wall-clock ticks; off for simulations and replays that "
        "send their own event-time ticks.",
    )
    state_flush_events: int = Field(
        2000,
        ge=1,
        description="Events per partition whose table changes the monitors keep in "
        "memory before writing them out and acknowledging those events; 1 writes "
        "every change at once.",
    )
    state_flush_seconds: float = Field(
        1.0,
        gt=0,
        description="Longest time, in seconds, that a table change waits in memory "
        "for its write (and its events for their acknowledgement).",
    )
    monitor_model_every: int = Field(
        500,
        ge=1,
        description="Events between writes of a monitor's learned model to its "
        "table; a crash loses at most that much of the model's learning.",
    )
    append_derived: bool = Field(
        True,
        description="Append the ledger's own decisions (expiries, links, ends) and "
        "ticks; off for a verification replay that must append nothing.",
    )
    revocation_notice_format: Literal["ledger", "caep", "both"] = Field(
        "ledger",
        description="How revocation notices are written to session.revocations: "
        "the ledger's JSON, an unsigned CAEP session-revoked SET, or both.",
    )
    revocation_caep_issuer: str = Field(
        "urn:session-ledger",
        description="The `iss` of CAEP session-revoked notices.",
    )
    revocation_caep_audience: str | None = Field(
        None,
        description="The `aud` of CAEP session-revoked notices; unset leaves it out.",
    )
    worker_url: str | None = Field(
        None,
        description="Base URL of a worker's HTTP API for the CLI; unset: "
        "http://<web_host>:<web_port>.",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer credential GET /metrics requires; unset: /metrics is "
        "open, for scrapers on a trusted network.",
    )

    @property
    def kafka_state_file(self) -> Path:
        """Where `ledger kafka up` records the broker's address and pid."""
        return self.data_dir / "kafka" / "state.json"

    @property
    def worker_base_url(self) -> str:
        """Where the CLI reaches a worker's HTTP API."""
        if self.worker_url:
            return self.worker_url.rstrip("/")
        # A worker listening on every address is reached on loopback.
        host = "127.0.0.1" if self.web_host in ("", "0.0.0.0", "::") else self.web_host
        return f"http://{host}:{self.web_port}"

    @property
    def bootstrap_servers(self) -> str:
        """The configured broker, else the locally launched one, else the default."""
        if self.kafka_bootstrap:
            return self.kafka_bootstrap
        try:
            state = json.loads(self.kafka_state_file.read_text())
        except (OSError, ValueError):
            return DEFAULT_BOOTSTRAP
        return str(state.get("bootstrap", DEFAULT_BOOTSTRAP))

    @property
    def clickhouse_dsn(self) -> str:
        """The ClickHouse DSN in force."""
        if self.clickhouse_url:
            return self.clickhouse_url
        return f"chdb://{(self.data_dir / 'clickhouse').resolve()}"
