"""The assessment report: what the ledger found, from the audit store.

- `model`: the report as plain values, computed with read-only SQL; no I/O but
  the query function it is given.
- `dead_letters`: the dead-letter count from the broker's offsets.
- `terminal`, `html`, `charts`, `text`: rendering.

Definitions and known limits: docs/report.md.
"""
