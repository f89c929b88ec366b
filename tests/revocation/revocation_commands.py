"""Revocation commands and revoked events for the domain tests."""

from __future__ import annotations

import uuid
from datetime import datetime

from domain.session_events import at

from ledger.domain.records import SessionRecord
from ledger.domain.revocation import revoked_by_command
from schemas import (
    EmergencyRevoke,
    RevokeBySelector,
    RevokeSession,
    SessionCategory,
    SessionRevoked,
    SessionSelector,
)

COMMAND_ID = uuid.UUID("0b7f1c1e-5d1a-4c55-9a52-3f0c2d1a9e01")


def revoke(
    session: str, when: datetime | None = None, *, cascade: bool = True
) -> RevokeSession:
    return RevokeSession(
        command_id=COMMAND_ID,
        issued_at=when or at(30),
        requester="secops@example.com",
        reason="credential leaked",
        session_id=session,
        cascade=cascade,
    )


def select(when: datetime | None = None, **criteria) -> RevokeBySelector:
    return RevokeBySelector(
        command_id=COMMAND_ID,
        issued_at=when or at(30),
        requester="secops@example.com",
        reason="agent type compromised",
        selector=SessionSelector(**criteria),
    )


def emergency(
    when: datetime | None = None, category: SessionCategory = SessionCategory.AGENT
) -> EmergencyRevoke:
    return EmergencyRevoke(
        command_id=COMMAND_ID,
        issued_at=when or at(30),
        requester="secops@example.com",
        reason="agent platform breached",
        category=category,
    )


def revoked(command, record: SessionRecord) -> SessionRevoked:
    """The event the engine appends for `command` against `record`."""
    return revoked_by_command(command, record)
