"""Session endpoints: validity checks for enforcement points, views for people.

Every endpoint requires a reader credential (an admin one also reads). A
validity answer names the session's principal, grant and deadlines, which is
what an attacker probing stolen session ids would want, so it is not public:
enforcement points are given the reader credential.

- `GET /sessions/{id}`: `ValidityAnswer`; 404 (with an inactive answer) for a
  session the ledger has never seen; 503 while tables recover. Routed to the
  worker that owns the session's partition. Percent-encode ids holding `/`.
- `GET /sessions/{id}/state`: `{"session": SessionView, "validity": ...}`.
- `GET /sessions?category=&status=&principal=&limit=`: views of this worker's
  sessions, newest start first; 503 while tables recover.
- `GET /projection`: this worker's partitions, watermarks, watched deadlines, and
  how many records and ticks it has folded since it started.
- `GET /projection/records`: every stored record of this worker, for comparing
  a replay with the live tables; 503 while tables recover.

Validity is judged at the partition's watermark, the event time the ledger has
reached there; with wall-clock ticks on, at the wall clock if that is later. A
session under its category's emergency floor is inactive (`revoked:emergency`)
from the moment this worker has the floor (see `ledger.worker.revocation`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from faust.web import Request, Response, View
from pydantic_core import to_json

from ledger.credentials import Role
from ledger.domain.records import SessionRecord
from ledger.domain.validity import session_view, validity
from ledger.policy import policy_from_settings
from ledger.worker.app import LedgerWorker
from ledger.worker.sessions_table import SessionTables, session_tables
from ledger.worker.web import json_bytes, requires
from schemas import SessionCategory, SessionStatus, ValidityAnswer

logger = logging.getLogger(__name__)

LIST_LIMIT = 1000
"""Most sessions one `GET /sessions` returns unless `limit` says otherwise."""


def install(worker: LedgerWorker) -> None:
    """Install the session endpoints."""
    app = worker.app
    tables = session_tables(worker)
    policy = policy_from_settings(worker.settings)
    wall_clock = worker.settings.wall_clock_ticks

    def recovering() -> bool:
        return not tables.ready

    def judged_at(record: SessionRecord | None) -> datetime:
        mark = tables.watermark(record.partition) if record is not None else None
        now = datetime.now(UTC)
        if mark is None:
            return now
        return max(mark, now) if wall_clock else mark

    def answer(session_id: str) -> tuple[ValidityAnswer, SessionRecord | None]:
        record = tables.get(session_id.encode())
        floor = tables.floors.get(record.category) if record is not None else None
        found = validity(session_id, record, judged_at(record), policy, floor)
        return found, record

    def unavailable(view: View) -> Response:
        return view.json(
            {"error": "the session table is recovering; retry shortly"}, status=503
        )

    @app.page("/sessions/{session_id}")
    class SessionValidity(View):
        """Whether a session may be used now."""

        @requires(worker, Role.READER)
        @app.table_route(table=tables.sessions, match_info="session_id")
        async def get(self, request: Request, session_id: str) -> Response:
            found, record = answer(session_id)
            if record is None and recovering():
                return unavailable(self)
            return json_bytes(
                self, to_json(found, exclude_none=True), 200 if record else 404
            )

    @app.page("/sessions/{session_id}/state")
    class SessionState(View):
        """The full view of one session and its validity."""

        @requires(worker, Role.READER)
        @app.table_route(table=tables.sessions, match_info="session_id")
        async def get(self, request: Request, session_id: str) -> Response:
            found, record = answer(session_id)
            if record is None:
                if recovering():
                    return unavailable(self)
                body = to_json({"validity": found}, exclude_none=True)
                return json_bytes(self, body, 404)
            body = {"session": session_view(record), "validity": found}
            return json_bytes(self, to_json(body, exclude_none=True))

    @app.page("/sessions")
    class SessionList(View):
        """Sessions on this worker's partitions only, filtered, newest first."""

        @requires(worker, Role.READER)
        async def get(self, request: Request) -> Response:
            if recovering():
                return unavailable(self)
            try:
                wanted = _filters(request.query)
            except ValueError as error:
                return self.json({"error": str(error)}, status=400)
            limit = wanted.pop("limit")
            records = [
                record
                for record in _records(tables)
                if all(_field(record, name) == value for name, value in wanted.items())
            ]
            records.sort(key=lambda record: record.started_at, reverse=True)
            body = {
                "partitions": sorted(tables.active_partitions()),
                "truncated": len(records) > limit,
                "sessions": [session_view(record) for record in records[:limit]],
            }
            return json_bytes(self, to_json(body, exclude_none=True))

    @app.page("/projection")
    class ProjectionStatus(View):
        """This worker's partitions, their watermarks and watched deadlines."""

        @requires(worker, Role.READER)
        async def get(self, request: Request) -> Response:
            return self.json(
                {
                    "recovering": recovering(),
                    "folded": tables.folded,
                    "partitions": sorted(tables.active_partitions()),
                    "watermarks": {
                        str(partition): mark.isoformat()
                        for partition, mark in sorted(tables.marks.items())
                    },
                    "watched": {
                        str(partition): len(index)
                        for partition, index in sorted(tables.indexes.items())
                    },
                }
            )

    @app.page("/projection/records")
    class ProjectionRecords(View):
        """Every session record stored on this worker, by session id."""

        @requires(worker, Role.READER)
        async def get(self, request: Request) -> Response:
            if recovering():
                return unavailable(self)
            records = sorted(_records(tables), key=lambda record: record.session_id)
            body = {
                "watermarks": {
                    str(partition): mark
                    for partition, mark in sorted(tables.marks.items())
                },
                "records": records,
            }
            return json_bytes(self, to_json(body, exclude_none=True))


def _records(tables: SessionTables) -> list[SessionRecord]:
    active = tables.active_partitions()
    records = (SessionRecord.from_bytes(raw) for raw in tables.sessions.values())
    return [record for record in records if record.partition in active]


def _filters(query: Any) -> dict[str, Any]:
    wanted: dict[str, Any] = {}
    if "category" in query:
        wanted["category"] = SessionCategory(query["category"])
    if "status" in query:
        wanted["status"] = SessionStatus(query["status"])
    if "principal" in query:
        wanted["principal"] = query["principal"]
    raw_limit = query.get("limit", str(LIST_LIMIT))
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        raise ValueError(f"limit must be a positive integer, not {raw_limit!r}")
    wanted["limit"] = int(raw_limit)
    return wanted


def _field(record: SessionRecord, name: str) -> Any:
    if name == "principal":
        return record.principal.id
    return getattr(record, name)
