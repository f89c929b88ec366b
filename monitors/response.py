"""Automatic response: which findings also revoke the offending session.

By default an agent's or a hybrid's finding at or above `revoke_at` (high)
revokes its session with cascade, so that whatever the session started goes with
it; a person's findings only alert (`revoke_at: null` for users). Each offending
session is revoked once per alert, with a command id derived from the alert and
the session, so that a replay sends the same command and the revocation engine
de-duplicates it.

>>> from uuid import UUID
>>> from schemas import Severity
>>> finding = Finding("agent_new_network", Severity.HIGH, 0.75, "stolen token")
>>> command = revocation(UUID(int=1), "sess-agent-5b21", finding, 1.7e9)
>>> command.requester, command.cascade, command.reason
('monitors', True, 'monitors: agent_new_network: stolen token')
>>> command == revocation(UUID(int=1), "sess-agent-5b21", finding, 1.7e9)
True
"""

from __future__ import annotations

from uuid import UUID, uuid5

from monitors.alerts import as_datetime
from monitors.findings import Finding
from schemas import RevokeSession, Severity

REQUESTER = "monitors"


def should_revoke(finding: Finding, revoke_at: Severity | None) -> bool:
    """Whether the policy makes `finding` revoke its session."""
    return revoke_at is not None and finding.severity >= revoke_at


def revocation(
    alert_id: UUID, session_id: str, finding: Finding, at: float
) -> RevokeSession:
    """The cascade revocation of `session_id` for an alert, issued at event time."""
    return RevokeSession(
        command_id=uuid5(alert_id, session_id),
        issued_at=as_datetime(at),
        requester=REQUESTER,
        reason=f"{REQUESTER}: {finding.detector}: {finding.explanation}"[:1024],
        session_id=session_id,
        cascade=True,
    )
