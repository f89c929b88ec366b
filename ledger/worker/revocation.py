"""The revocation engine on Faust: commands, floors, notices, alerts, endpoints.

- The `revocation-commands` agent reads `session.commands`, which has as many
  partitions as the ledger topic, so Faust's assignor gives partition p of both
  (and of the sessions table) to the same worker. `revoke.session` is keyed by
  its session, so it lands where the session's record is. Selector and
  emergency commands are written to every partition; each copy revokes the
  matching active sessions of its own partition, found through an in-memory
  index of active keys per partition (rebuilt after recovery).
- Revocations are `session.revoked` events appended to the ledger topic; the
  fold applies them and cascades to children and delegates. The commands agent
  waits until the broker has acknowledged them before it takes the next command.
- An emergency first raises its category's not-before floor: the
  `revocation_floors` table keeps the emergency per partition (key
  `category@partition`), and the worker holds the latest one of each category in
  memory, where validity answers read its floor.
- A `revoke.session` whose session the fold has not seen yet waits in the
  `revocation_pending` table (keyed by that session) and is applied when the
  session's start is folded; so is an emergency to a session that started before
  its floor but is folded only after its sweep.
- When the fold revokes an active session, its notice goes to
  `session.revocations` keyed by the session (`ledger`, `caep` or both, as the
  header `ledger-notice-format` says). Activity the fold records on a revoked or
  expired session raises a `use_after_revocation` / `use_after_expiry` alert on
  `alerts`, keyed by principal.
- Commands that are not valid, whose `issued_at` lies too far ahead, or that sit
  on the wrong partition go to the dead-letter topic with their reason.

Endpoints: `POST /revocations` (admin) sends one command and answers 202 with
its id; `POST /revocations/preview` (admin) counts the active sessions a command
would revoke on this worker's partitions, without acting; `GET /revocations`
(reader) reports what this worker's engine has done.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import faust
from aiokafka.errors import KafkaError
from faust.types import EventT
from faust.web import Request, Response, View
from pydantic_core import from_json, to_json

from ledger.credentials import Role
from ledger.domain.records import RevocationMark, SessionRecord
from ledger.domain.revocation import (
    ActiveSessions,
    Broadcast,
    Command,
    NoticeFormat,
    follows,
    notice_bodies,
    notice_of,
    notice_of_replay,
    revoked_by_command,
    selects,
    under_floor,
    use_after_alert,
)
from ledger.worker.app import LedgerWorker
from ledger.worker.ingest_api import BodyTooLarge, read_body
from ledger.worker.sessions_table import SessionTables, session_tables
from ledger.worker.validation import dead_letter, record_time, session_partition
from ledger.worker.web import json_bytes, requires
from schemas import (
    AuthEvent,
    EmergencyRevoke,
    InvalidCommand,
    RevocationCause,
    RevocationNotice,
    RevokeSession,
    SessionCategory,
    SessionRevoked,
    parse_command,
    serialize,
)
from schemas.limits import COMMAND_MAX_BYTES

logger = logging.getLogger(__name__)

API_REQUESTER = "admin-api"
"""`requester` of commands sent through POST /revocations that name none."""

NOTICE_FORMAT_HEADER = "ledger-notice-format"
PREVIEW_SAMPLE = 20
"""Session ids a preview lists besides its count."""
SEND_ATTEMPTS = 5
SWEEP_CHUNK = 500
"""Sessions a broadcast command revokes between two yields to the event loop."""


def _raw_table(app: faust.App, name: str, partitions: int, help: str) -> faust.Table:
    raw = faust.Schema(
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    return app.Table(
        name,
        schema=raw,
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        help=help,
    )


class RevocationEngine:
    """Resolves commands into revocations and publishes what the fold revoked."""

    def __init__(self, worker: LedgerWorker, tables: SessionTables) -> None:
        settings = worker.settings
        self.app = worker.app
        self.settings = settings
        self.tables = tables
        self.events = worker.events
        self.revocations = worker.revocations
        self.alerts = worker.alerts
        self.dead_letters = worker.dead_letters
        self.partitions = settings.partitions
        self.publishing = settings.append_derived
        self.notice_format = NoticeFormat(settings.revocation_notice_format)
        self.max_future_skew = timedelta(seconds=settings.max_future_skew_seconds)
        self.floors = _raw_table(
            self.app,
            "revocation_floors",
            settings.partitions,
            "Latest emergency by category@partition; its issued_at is the floor.",
        )
        self.pending = _raw_table(
            self.app,
            "revocation_pending",
            settings.partitions,
            "revoke.session commands waiting for their session's start.",
        )
        self.pending_keys: set[bytes] = set()
        # The emergency with the latest floor, by category.
        self.emergencies: dict[SessionCategory, EmergencyRevoke] = {}
        self.active = ActiveSessions()
        self.handled: Counter[str] = Counter()
        self.refused = 0
        self.appended = 0
        self.notices = 0
        self.notices_replayed = 0
        self.alerts_raised = 0

    # The fold's side: index, pending commands, notices, alerts.

    def folded(
        self, before: SessionRecord | None, after: SessionRecord, event: AuthEvent
    ) -> None:
        """Follow one fold that changed a session (in the ledger agent's stream)."""
        key = after.session_id.encode()
        self.active.follow(key, before, after)
        if not self.publishing:
            return
        if before is None and after.active:
            self._started(key, after)
        notice = notice_of(before, after)
        if notice is not None:
            self.notices += 1
            self._publish(key, notice, after.partition)
        alert = use_after_alert(before, after, event)
        if alert is not None:
            self.alerts_raised += 1
            self.alerts.send_soon(
                key=alert.principal_id.encode(), value=serialize(alert)
            )

    def replayed(self, record: SessionRecord, event: AuthEvent) -> None:
        """Publish a revocation's notice again when its event is read again: the
        first may have been lost in a crash before the producer sent it."""
        if not self.publishing:
            return
        notice = notice_of_replay(record, event)
        if notice is not None:
            self.notices_replayed += 1
            self._publish(record.session_id.encode(), notice, record.partition)

    def _publish(self, key: bytes, notice: RevocationNotice, partition: int) -> None:
        for form, body in notice_bodies(
            notice,
            self.notice_format,
            self.settings.revocation_caep_issuer,
            self.settings.revocation_caep_audience,
        ):
            self.revocations.send_soon(
                key=key,
                value=body,
                partition=partition,
                headers=[(NOTICE_FORMAT_HEADER, form.value.encode())],
            )

    def _started(self, key: bytes, record: SessionRecord) -> None:
        """Revoke a session whose start was folded after a command meant it."""
        command: Command | None = None
        if key in self.pending_keys:
            raw = self.pending.get(key)
            self.pending_keys.discard(key)
            if raw is not None:
                del self.pending[key]
                command = parse_command(raw)
        emergency = self.emergencies.get(record.category)
        # Started before an emergency's floor, but folded after its sweep.
        if (
            command is None
            and emergency is not None
            and under_floor(record, emergency.issued_at)
        ):
            command = emergency
        if command is None:
            return
        logger.info(
            "session %s started; applying the %s %s that meant it",
            record.session_id,
            command.type,
            command.command_id,
        )
        self.appended += 1
        revoked = revoked_by_command(command, record)
        self.events.send_soon(key=key, value=serialize(revoked))

    # The commands' side.

    async def handle(self, event: EventT) -> None:
        """Resolve one command record into revocations and append them."""
        message = event.message
        raw = event.value or b""
        try:
            command = parse_command(raw)
        except InvalidCommand as refused:
            await self._refuse(event, refused.reason, refused.command_id)
            return
        stamped = record_time(message.timestamp)
        if command.issued_at - stamped > self.max_future_skew:
            await self._refuse(
                event,
                f"issued_at {command.issued_at.isoformat()} is more than "
                f"{self.max_future_skew.total_seconds():g}s ahead of the record's "
                f"timestamp {stamped.isoformat()}",
                str(command.command_id),
            )
            return
        partition = message.partition
        if isinstance(command, RevokeSession):
            expected = session_partition(command.session_id.encode(), self.partitions)
            if partition != expected:
                await self._refuse(
                    event,
                    f"revoke.session for {command.session_id!r} is on partition "
                    f"{partition}, but murmur2 of the session id picks {expected} of "
                    f"{self.partitions}; key it by the session id",
                    str(command.command_id),
                )
                return
            revocations = self.aimed(command)
            await self._append(revocations, command)
            revoked = len(revocations)
        else:
            if isinstance(command, EmergencyRevoke):
                self.raise_floor(command, partition)
                # Let validity answers apply the floor before the sweep begins.
                await asyncio.sleep(0)
            revoked = await self.sweep(command, partition)
        self.handled[command.type] += 1
        if revoked or isinstance(command, RevokeSession):
            logger.info(
                "%s %s (%s) on partition %d: %d sessions revoked",
                command.type,
                command.command_id,
                command.requester,
                partition,
                revoked,
            )

    def aimed(self, command: RevokeSession) -> list[SessionRevoked]:
        """The revocation of one session, or none if it is over already."""
        key = command.session_id.encode()
        record = self.tables.get(key)
        if record is None:
            # Its start may still be on its way through the fold: keep the
            # command until it arrives.
            self.pending[key] = serialize(command)
            self.pending_keys.add(key)
            logger.warning(
                "revoke.session %s: session %s is not in the ledger yet; the "
                "revocation waits for its start",
                command.command_id,
                command.session_id,
            )
            return []
        if not record.active:
            return []
        return [revoked_by_command(command, record)]

    async def sweep(self, command: Broadcast, partition: int) -> int:
        """Revoke every active session of `partition` the command selects, a
        chunk at a time; return how many."""
        keys = self.active.keys(partition, _categories(command))
        revoked = 0
        for start in range(0, len(keys), SWEEP_CHUNK):
            chunk = self.selected(command, partition, keys[start : start + SWEEP_CHUNK])
            # Awaiting the broker yields: validity answers and the fold run between
            # chunks instead of waiting for the whole partition.
            await self._append(chunk, command)
            revoked += len(chunk)
        return revoked

    def selected(
        self, command: Broadcast, partition: int, keys: list[bytes]
    ) -> list[SessionRevoked]:
        """The revocations of the sessions among `keys` the command selects."""
        found = []
        for key in keys:
            record = self.tables.get(key)
            if (
                record is not None
                and record.partition == partition
                and selects(command, record)
            ):
                found.append(revoked_by_command(command, record))
        return found

    def raise_floor(self, command: EmergencyRevoke, partition: int) -> None:
        """Record the emergency's not-before time for its category."""
        key = f"{command.category.value}@{partition}".encode()
        stored = self.floors.get(key)
        if stored is None or _floor(stored).issued_at < command.issued_at:
            self.floors[key] = serialize(command)
        if self._hold(command):
            logger.info(
                "emergency %s: %s sessions started at or before %s are no longer valid",
                command.command_id,
                command.category.value,
                command.issued_at.isoformat(),
            )

    def _hold(self, command: EmergencyRevoke) -> bool:
        """Keep the emergency in memory if its floor is the category's latest."""
        category = command.category
        held = self.emergencies.get(category)
        if held is not None and held.issued_at >= command.issued_at:
            return False
        self.emergencies[category] = command
        self.tables.floors[category] = command.issued_at
        return True

    async def _append(
        self, revocations: list[SessionRevoked], command: Command
    ) -> None:
        """Append the revocations; return once the broker has acknowledged all."""
        if not revocations:
            return
        producer = await self.app.maybe_start_producer()
        topic = self.settings.topic_events
        records = [(r.session_id.encode(), serialize(r)) for r in revocations]
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                deliveries = [
                    await producer.send(
                        topic, key, value, partition=None, timestamp=None, headers=None
                    )
                    for key, value in records
                ]
                await asyncio.gather(*deliveries)
            except KafkaError as error:
                if attempt == SEND_ATTEMPTS:
                    logger.error(
                        "%s %s: %d revocations not acknowledged after %d attempts "
                        "(%r); the command is dropped, send it again",
                        command.type,
                        command.command_id,
                        len(records),
                        attempt,
                        error,
                    )
                    raise
                # Same ids on every attempt: the fold ignores what already landed.
                logger.warning(
                    "%s %s: appending %d revocations failed (%r); retrying",
                    command.type,
                    command.command_id,
                    len(records),
                    error,
                )
                await asyncio.sleep(attempt)
            else:
                self.appended += len(records)
                return

    async def _refuse(self, event: EventT, reason: str, command_id: str | None) -> None:
        message = event.message
        self.refused += 1
        letter = dead_letter(
            event.value or b"",
            reason,
            source_topic=message.topic,
            received_at=datetime.now(UTC),
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            event_id=command_id,
            max_original_bytes=self.settings.dead_letter_max_original_bytes,
        )
        await self.dead_letters.send(value=serialize(letter))
        logger.warning(
            "command at partition %d offset %d refused: %s; nothing revoked, sent "
            "to %s",
            message.partition,
            message.offset,
            reason,
            self.settings.topic_dead_letters,
        )

    # Recovery.

    async def rebuild_active(self) -> None:
        """Rebuild the active-session index from the recovered sessions table."""
        partitions = self.tables.active_partitions()
        records = (
            (key, SessionRecord.from_bytes(raw))
            for key, raw in self.tables.sessions.items()
        )
        self.active.reset(
            (key, record) for key, record in records if record.partition in partitions
        )
        logger.info(
            "revocation index recovered: %d active sessions on partitions %s",
            len(self.active),
            sorted(partitions),
        )

    async def rebuild_floors(self) -> None:
        """Reload the floors and pending commands from their recovered tables."""
        for raw in self.floors.values():
            self._hold(_floor(raw))
        self.pending_keys = set(self.pending.keys())

    # Previews.

    def preview(self, command: Command) -> dict[str, Any]:
        """How many active sessions on this worker the command would revoke."""
        if isinstance(command, RevokeSession):
            records = self._tree(command)
        else:
            records = []
            for partition in sorted(self.tables.active_partitions()):
                for key in self.active.keys(partition, _categories(command)):
                    record = self.tables.get(key)
                    if record is not None and selects(command, record):
                        records.append(record)
        by_category = Counter(record.category.value for record in records)
        return {
            "matching": len(records),
            "by_category": dict(sorted(by_category.items())),
            "sample": [record.session_id for record in records[:PREVIEW_SAMPLE]],
            "partitions": sorted(self.tables.active_partitions()),
        }

    def _tree(self, command: RevokeSession) -> list[SessionRecord]:
        """The session and, as far as this worker holds them, what follows it."""
        root = self.tables.get(command.session_id.encode())
        if root is None or not root.active:
            return []
        mark = RevocationMark(
            command_id=command.command_id,
            cause=RevocationCause.COMMAND,
            requester=command.requester,
            cascade_root=root.session_id,
            cascade=command.cascade,
        )
        found, queue, seen = [root], [root], {root.session_id}
        while queue:
            record = queue.pop()
            for child in record.children:
                # Without cascade only the root's delegates follow it; below
                # them, everything does.
                if child.session_id in seen or (
                    record is root and not follows(mark, child)
                ):
                    continue
                seen.add(child.session_id)
                below = self.tables.get(child.session_id.encode())
                if below is not None and below.active:
                    found.append(below)
                    queue.append(below)
        return found

    def status(self) -> dict[str, Any]:
        """What this worker's engine has done since it started."""
        return {
            "commands": dict(sorted(self.handled.items())),
            "refused": self.refused,
            "revocations_appended": self.appended,
            "notices": self.notices,
            "alerts": self.alerts_raised,
            "pending": len(self.pending_keys),
            "notice_format": self.notice_format.value,
            "floors": {
                category.value: floor.isoformat()
                for category, floor in sorted(self.tables.floors.items())
            },
            "active": {str(p): n for p, n in self.active.counts().items()},
        }


class RequestRefused(Exception):
    """A revocation request that is not acted on: its HTTP status and reason."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


def _floor(raw: bytes) -> EmergencyRevoke:
    # The floors table holds only the emergencies this engine wrote.
    return EmergencyRevoke.model_validate_json(raw)


def _categories(command: Broadcast) -> Iterable[SessionCategory] | None:
    if isinstance(command, EmergencyRevoke):
        return (command.category,)
    category = command.selector.category
    return None if category is None else (category,)


def command_from_body(body: bytes, now: datetime) -> Command:
    """A command from a request body, with id, time and requester filled in when
    absent; InvalidCommand says why not."""
    try:
        document = from_json(body)
    except ValueError as error:
        raise InvalidCommand(f"body is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise InvalidCommand(
            f"body must be one command (a JSON object), not {type(document).__name__}"
        )
    filled = {
        "command_id": str(uuid4()),
        "issued_at": now.isoformat(),
        "requester": API_REQUESTER,
        **document,
    }
    return parse_command(to_json(filled), max_bytes=COMMAND_MAX_BYTES + 1024)


def install(worker: LedgerWorker) -> None:
    """Install the revocation engine and its endpoints."""
    app = worker.app
    settings = worker.settings
    tables = session_tables(worker)
    engine = RevocationEngine(worker, tables)
    tables.listeners.append(engine.folded)
    tables.replay_listeners.append(engine.replayed)
    tables.sessions.on_recover(engine.rebuild_active)
    engine.floors.on_recover(engine.rebuild_floors)

    if settings.append_derived:

        @app.agent(worker.commands, name="revocation-commands", concurrency=1)
        async def read_commands(stream):
            async for event in stream.events():
                await engine.handle(event)

    else:
        logger.info(
            "append_derived is off: this worker reads no commands from %s",
            settings.topic_commands,
        )

    max_future_skew = timedelta(seconds=settings.max_future_skew_seconds)

    async def read_command(request: Request) -> Command:
        """The request's command; RequestRefused with the status and reason."""
        try:
            body = await read_body(request, COMMAND_MAX_BYTES)
        except BodyTooLarge as error:
            raise RequestRefused(413, f"request {error}") from error
        now = datetime.now(UTC)
        try:
            command = command_from_body(body, now)
        except InvalidCommand as invalid:
            raise RequestRefused(400, invalid.reason) from invalid
        if command.issued_at - now > max_future_skew:
            raise RequestRefused(
                400,
                f"issued_at {command.issued_at.isoformat()} lies more than "
                f"{max_future_skew.total_seconds():g}s in the future",
            )
        return command

    async def send(command: Command) -> list[int]:
        producer = await app.maybe_start_producer()
        raw = serialize(command)
        if isinstance(command, RevokeSession):
            key: bytes | None = command.session_id.encode()
            partitions = [session_partition(key, settings.partitions)]
        else:
            # Broadcast: each partition's owner sweeps its own sessions.
            key, partitions = None, list(range(settings.partitions))
        deliveries = [
            await producer.send(
                settings.topic_commands,
                key,
                raw,
                partition=partition,
                timestamp=None,
                headers=None,
            )
            for partition in partitions
        ]
        await asyncio.gather(*deliveries)
        return partitions

    @app.page("/revocations")
    class Revocations(View):
        """Request a revocation (admin), or see what the engine has done."""

        @requires(worker, Role.READER)
        async def get(self, request: Request) -> Response:
            return json_bytes(self, to_json(engine.status()))

        @requires(worker, Role.ADMIN)
        async def post(self, request: Request) -> Response:
            try:
                command = await read_command(request)
            except RequestRefused as refused:
                body = {"error": f"{refused.reason}; nothing revoked"}
                return self.json(body, status=refused.status)
            try:
                partitions = await send(command)
            except KafkaError as error:
                logger.warning(
                    "POST /revocations: %s %s not acknowledged (%r); the caller "
                    "gets 503 and should send it again",
                    command.type,
                    command.command_id,
                    error,
                )
                return self.json(
                    {
                        "error": f"the broker did not acknowledge the command "
                        f"({error!r}); send it again with the same command_id",
                        "command_id": str(command.command_id),
                    },
                    status=503,
                )
            logger.info(
                "%s %s requested by %s: %s",
                command.type,
                command.command_id,
                command.requester,
                command.reason,
            )
            body = {
                "command_id": str(command.command_id),
                "type": command.type,
                "partitions": partitions,
            }
            return json_bytes(self, to_json(body), status=202)

    @app.page("/revocations/preview")
    class RevocationPreview(View):
        """Count what a command would revoke on this worker, without acting."""

        @requires(worker, Role.ADMIN)
        async def post(self, request: Request) -> Response:
            try:
                command = await read_command(request)
            except RequestRefused as refused:
                body = {"error": f"{refused.reason}; nothing revoked"}
                return self.json(body, status=refused.status)
            if not tables.ready:
                return self.json(
                    {"error": "the session table is recovering; retry shortly"},
                    status=503,
                )
            return json_bytes(self, to_json(engine.preview(command)))
