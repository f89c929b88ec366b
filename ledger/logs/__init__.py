"""Ingest adapters: existing authentication logs mapped to ledger events.

A run reads each file into records (`records`), gives each record to a log format
(`formats`: one module per format, named after it), and hands the outcome to a
sink (`sinks`): JSON Lines for a dry run, or the ledger topic and its dead-letter
topic. `docs/ingest.md` has each format's mapping, category rules and session ids.

    from ledger.logs.ingest import ingest_file
    from ledger.logs.mapping import IngestOptions

    for outcome in ingest_file(path, "auto", IngestOptions()):
        outcome.events       # validated schemas events, possibly none
        outcome.rejection    # the reason, when the record cannot be mapped

Mapping is plain Python with no I/O; the time zone and syslog year are passed in.
"""
