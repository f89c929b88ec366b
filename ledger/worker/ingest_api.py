"""POST /events: append events over HTTP, validated as every producer's are.

The body is one event (a JSON object) or a batch (a JSON array of them), at most
`max_batch_bytes`. Each event gets `received_at`, is validated from its own JSON
bytes with `schemas.parse_event` against the wall clock, and those bytes are sent to
`auth.events` through the worker's Faust producer (aiokafka's murmur2 partitioner)
keyed by its session id. The answer waits until the broker has acknowledged every
accepted event.

- 202: every event accepted: `{"accepted": [event ids], "rejected": []}`.
- 400: some or all events refused. The valid ones of the batch are still appended
  and listed in `accepted`; `rejected` gives each refusal's index, event id (when
  one could be read) and reason. Refused events also go to the dead-letter topic
  with `source_topic` "http", so that operators see broken producers.
- 401 / 403: no or unknown producer credential / a credential of another role;
  nothing is read or written.
- 413: the body is over `max_batch_bytes`, or a single-event body is over
  `max_event_bytes`; nothing is written.
- 503: the broker did not acknowledge some accepted events; resend them (consumers
  de-duplicate on event_id).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.errors import KafkaError
from faust.web import Request, Response, View
from pydantic_core import from_json, to_json

from ledger.credentials import Role
from ledger.worker.app import LedgerWorker
from ledger.worker.validation import dead_letter
from ledger.worker.web import json_bytes, requires
from schemas import AuthEvent, InvalidEvent, parse_event, serialize

logger = logging.getLogger(__name__)

HTTP_SOURCE = "http"
READ_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Refusal:
    """One event of a request that was not accepted."""

    index: int | None
    event_id: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id, "reason": self.reason}


class BodyTooLarge(Exception):
    """A request body over the limit; `size` is what was declared or read."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"body is over {limit} bytes ({size} declared or read)")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, read in chunks; BodyTooLarge once it passes `limit`.

    Reading the stream ourselves bypasses aiohttp's `client_max_size` (1 MiB by
    default), whose own 413 would be a plain-text page rather than our JSON error.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(declared, limit)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def split_body(body: bytes) -> tuple[list[Any], bool] | Refusal:
    """The parsed items of the body, and whether it was a single event."""
    try:
        document = from_json(body)
    except ValueError as error:
        return Refusal(None, None, f"body is not valid JSON: {error}")
    if isinstance(document, dict):
        return [document], True
    if isinstance(document, list):
        return document, False
    return Refusal(
        None,
        None,
        f"body must be a JSON object (one event) or an array of events, not "
        f"{type(document).__name__}",
    )


def stamped(item: Any, received_at: str) -> bytes:
    """An item's own JSON bytes, with `received_at` set when it is an object.

    Each event is validated (and sized) from its own bytes, as a Kafka record would
    be, and exactly those bytes are appended.
    """
    if isinstance(item, dict):
        item = {**item, "received_at": received_at}
    return to_json(item)


def install(worker: LedgerWorker) -> None:
    """Install POST /events on the worker's web server."""
    settings = worker.settings
    max_future_skew = timedelta(seconds=settings.max_future_skew_seconds)

    async def dead_letter_all(
        refused: list[tuple[bytes, Refusal]], now: datetime
    ) -> None:
        for original, refusal in refused:
            letter = dead_letter(
                original,
                refusal.reason
                if refusal.index is None
                else f"events[{refusal.index}]: {refusal.reason}",
                source_topic=HTTP_SOURCE,
                received_at=now,
                event_id=refusal.event_id,
                max_original_bytes=settings.dead_letter_max_original_bytes,
            )
            await worker.dead_letters.send(value=serialize(letter))

    async def append(accepted: list[tuple[AuthEvent, bytes]]) -> list[BaseException]:
        # The Faust producer itself (murmur2 DefaultPartitioner, as in Faust's
        # transport): topic.send() costs about twice as much per event.
        producer = await worker.app.maybe_start_producer()
        topic = settings.topic_events
        deliveries = []
        failures: list[BaseException] = []
        for event, raw in accepted:
            try:
                deliveries.append(
                    await producer.send(
                        topic,
                        event.session_id.encode("utf-8"),
                        raw,
                        partition=None,
                        timestamp=None,
                        headers=None,
                    )
                )
            except KafkaError as error:
                # Not even queued (no metadata, say): the rest is not tried.
                failures.append(error)
                break
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        failures += [result for result in results if isinstance(result, BaseException)]
        return failures

    @worker.app.page("/events")
    class Events(View):
        """Append one event or a batch; see the module docstring for the answers."""

        @requires(worker, Role.PRODUCER)
        async def post(self, request: Request) -> Response:
            try:
                body = await read_body(request, settings.max_batch_bytes)
            except BodyTooLarge as error:
                return too_large(self, f"request {error}; split the batch")
            now = datetime.now(UTC)

            split = split_body(body)
            if isinstance(split, Refusal):
                await dead_letter_all([(body, split)], now)
                return answer(self, [], [split])
            items, single = split
            if single and len(body) > settings.max_event_bytes:
                return too_large(
                    self,
                    f"event is {len(body)} bytes, over the "
                    f"{settings.max_event_bytes}-byte limit",
                )

            accepted: list[tuple[AuthEvent, bytes]] = []
            refused: list[tuple[bytes, Refusal]] = []
            received_at = now.isoformat()
            for index, item in enumerate(items):
                raw = stamped(item, received_at)
                try:
                    event = parse_event(
                        raw,
                        now=now,
                        max_future_skew=max_future_skew,
                        max_bytes=settings.max_event_bytes,
                    )
                except InvalidEvent as invalid:
                    # The dead letter keeps the caller's bytes, not the stamped ones.
                    original = body if single else to_json(item)
                    refusal = Refusal(index, invalid.event_id, invalid.reason)
                    refused.append((original, refusal))
                else:
                    accepted.append((event, raw))

            failures = await append(accepted)
            if refused:
                logger.warning(
                    "POST /events: %d of %d events refused, first events[%s]: %s; "
                    "the caller gets 400 and they are in %s",
                    len(refused),
                    len(items),
                    refused[0][1].index,
                    refused[0][1].reason,
                    settings.topic_dead_letters,
                )
                await dead_letter_all(refused, now)
            if failures:
                logger.warning(
                    "POST /events: the broker did not acknowledge %d events (%r); "
                    "the caller gets 503 and should resend",
                    len(failures),
                    failures[0],
                )
                return json_bytes(
                    self,
                    to_json(
                        {
                            "error": f"the broker did not acknowledge {len(failures)} "
                            f"of {len(accepted)} valid events ({failures[0]!r}); "
                            "resend the batch, consumers de-duplicate on event_id",
                            "rejected": [refusal.as_json() for _, refusal in refused],
                        }
                    ),
                    status=503,
                )
            events = [event for event, _ in accepted]
            return answer(self, events, [refusal for _, refusal in refused])


def answer(view: View, accepted: list[AuthEvent], refused: list[Refusal]) -> Response:
    """202 when nothing was refused, else 400; both list what was accepted."""
    body = {
        "accepted": [str(event.event_id) for event in accepted],
        "rejected": [refusal.as_json() for refusal in refused],
    }
    return json_bytes(view, to_json(body), status=400 if refused else 202)


def too_large(view: View, reason: str) -> Response:
    """413 with the reason; nothing was written."""
    return json_bytes(
        view, to_json({"error": f"{reason}; nothing was appended"}), status=413
    )
