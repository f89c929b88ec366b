"""Use of a revoked or expired session raises the ledger's own alert."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from kafka_fixtures import wait_for
from revocation_story import DOC_BOT, EXPIRING, MISUSED
from revocation_worker import tick

from schemas import AccessRecorded, Alert, HeartbeatReceived, Severity

pytestmark = pytest.mark.broker


def _alerts(worker, session_id: str) -> list[tuple[bytes, Alert]]:
    found = []
    for record in worker.topic("LEDGER_TOPIC_ALERTS"):
        alert = Alert.model_validate_json(record.value)
        if alert.session_id == session_id:
            found.append((record.key, alert))
    return found


def _wait_for_alert(worker, session_id: str) -> list[tuple[bytes, Alert]]:
    wait_for(
        lambda: _alerts(worker, session_id),
        120,
        f"an alert about {session_id}",
        interval=1.0,
        on_timeout=worker.process.log_tail,
    )
    return _alerts(worker, session_id)


def _envelope(session_id: str) -> dict:
    return {
        "event_id": uuid.uuid4(),
        "occurred_at": datetime.now(UTC),
        "session_id": session_id,
        "category": "agent",
        "principal": DOC_BOT,
    }


def test_access_on_revoked_session_raises_use_after_revocation(story) -> None:
    worker = story.worker
    status, _ = worker.post(
        "/revocations",
        {"type": "revoke.session", "session_id": MISUSED, "reason": "token leaked"},
    )
    assert status == 202
    worker.wait_for_status([MISUSED], "revoked")

    story.produce(
        [
            AccessRecorded(
                **_envelope(MISUSED), resource="s3://invoices/x.pdf", operation="read"
            )
        ]
    )
    [(key, alert)] = _wait_for_alert(worker, MISUSED)

    assert alert.detector == "use_after_revocation"
    assert alert.severity is Severity.HIGH
    assert key == DOC_BOT.id.encode()
    kinds = [v["kind"] for v in worker.record(MISUSED)["violations"]]
    assert kinds == ["use_after_revocation"]


def test_heartbeat_on_expired_session_raises_use_after_expiry(story) -> None:
    worker = story.worker

    asyncio.run(tick(worker, datetime.now(UTC)))
    worker.wait_for_status([EXPIRING], "expired")

    story.produce([HeartbeatReceived(**_envelope(EXPIRING))])
    [(_, alert)] = _wait_for_alert(worker, EXPIRING)

    assert alert.detector == "use_after_expiry"
    assert alert.severity is Severity.HIGH
