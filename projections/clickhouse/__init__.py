"""ClickHouse plumbing of the audit projection: connection, migrations, SQL text."""
