"""Kafka adapter: a local single-node broker for development and tests, and the
administration of the ledger's topics."""
