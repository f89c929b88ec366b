"""The ClickHouse audit projection of the ledger.

Every validated event of `auth.events`, every alert and every revocation notice is
written to ClickHouse in batches, once each, with a per-partition hash chain that
`ledger verify` checks. Agent, human and hybrid activity are read through separate
trails. Analysts query the store read-only with `ledger query`.

- `projections.clickhouse`: the connection, the versioned migrations, SQL text.
- `projections.messages`: Kafka records to rows, validated as the ledger does.
- `projections.rows`: rows and the hash chain; no I/O.
- `projections.store`: de-duplicated, chained writes; queries; verification.
- `projections.readonly`: the read-only guard for analyst statements, and reports.
- `projections.audit`: the Faust component that runs the writer in the worker.

Design decisions and known limits: docs/audit-projection.md.
"""
