"""The assessment report: what the ledger found, from the audit store.

- `model`: the report as plain values, computed with read-only SQL; no I/O but
  the query function it is given.
- `dead_letters`: the dead-letter count, and the records by source and reason.
- `terminal`, `html`, `charts`, `text`: rendering.

Definitions and known limits: docs/report.md.
"""
