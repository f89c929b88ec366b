"""A minimal Faust app for broker tests: sums each key's values into a table.

Run it as a worker subprocess: `python counter_app.py worker`. It is configured from
the environment, read only when run:

    COUNTER_BROKER      bootstrap address, host:port
    COUNTER_APP_ID      Faust app id (also the consumer group)
    COUNTER_TOPIC       source topic: raw bytes keys, ASCII integer values
    COUNTER_PARTITIONS  the source topic's partition count
    COUNTER_DATA_DIR    Faust data dir (table state)
    COUNTER_WEB_PORT    port of the web server on 127.0.0.1

GET /totals/ returns the table as JSON: {"totals": {key: sum}}.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import faust


def create_app(env: Mapping[str, str]) -> faust.App:
    """The counter app, configured from `env`."""
    partitions = int(env["COUNTER_PARTITIONS"])
    app = faust.App(
        env["COUNTER_APP_ID"],
        broker=f"kafka://{env['COUNTER_BROKER']}",
        datadir=env["COUNTER_DATA_DIR"],
        store="rocksdb://",
        web_host="127.0.0.1",
        web_port=int(env["COUNTER_WEB_PORT"]),
        web_tables_enabled=False,
        autodiscover=False,
        topic_partitions=partitions,
        # Commit often, so that the test sees committed offsets without waiting.
        broker_commit_interval=0.5,
    )
    source = app.topic(
        env["COUNTER_TOPIC"],
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )
    # Bytes keys: table_route and the changelog use the producer's raw key.
    totals = app.Table(
        "totals", key_type=bytes, value_type=int, default=int, partitions=partitions
    )

    @app.agent(source)
    async def count(stream: faust.StreamT) -> None:
        # events(), not take(): a table may only be written from the current event.
        async for event in stream.events():
            totals[event.key] += int(event.value)

    @app.page("/totals/")
    async def show_totals(web: faust.web.View, request: faust.web.Request):
        return web.json({"totals": {k.decode(): v for k, v in totals.items()}})

    return app


if __name__ == "__main__":
    create_app(os.environ).main()
