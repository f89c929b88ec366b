"""Events the ledger appends itself, with ids derived from what decided them.

Each id is a uuid5 over the session, the kind of decision, its reason and what
makes it unique (deadline, parent, task, child). A restarted or replaying worker
that reaches the same decision appends the same id, and consumers de-duplicate
on it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.records import ChildLink, SessionRecord
from schemas import (
    ChildSessionLinked,
    EndReason,
    ExpiryReason,
    LinkKind,
    Principal,
    PrincipalKind,
    RevocationCause,
    Scope,
    SessionCategory,
    SessionEnded,
    SessionExpired,
    SessionRevoked,
    SessionStarted,
    ViolationKind,
)

DERIVED_NAMESPACE = uuid5(NAMESPACE_URL, "urn:session-ledger:derived-event")
LEDGER_REQUESTER = "session-ledger"
"""`requester` of the revocations the ledger decides by policy."""


def derived_id(session_id: str, kind: str, reason: str, unique: str) -> UUID:
    """The deterministic id of a derived event."""
    return uuid5(DERIVED_NAMESPACE, f"{session_id}\n{kind}\n{reason}\n{unique}")


def child_linked(
    started: SessionStarted, parent_id: str, link: LinkKind
) -> ChildSessionLinked:
    """The link a child or delegate session's start records on its parent.

    The envelope names the parent as far as the child knows it: for a delegate, the
    user it acts for; for a plain child, the child itself, because the child's
    partition does not know its parent's identity.
    """
    if link is LinkKind.DELEGATE and started.delegation is not None:
        category = SessionCategory.USER
        principal = Principal(id=started.delegation.subject, kind=PrincipalKind.HUMAN)
    else:
        category = started.category
        principal = started.principal
    return ChildSessionLinked(
        event_id=derived_id(parent_id, "child_linked", link.value, started.session_id),
        occurred_at=started.occurred_at,
        session_id=parent_id,
        category=category,
        principal=principal,
        child_session_id=started.session_id,
        link=link,
        child_category=started.category,
        child_principal=Principal(id=started.principal.id, kind=started.principal.kind),
        child_scopes=started.scopes,
    )


def _child_principal(child: ChildLink) -> Principal:
    return Principal(id=child.principal_id, kind=child.principal_kind)


def expired_with_parent(
    parent: SessionRecord, child: ChildLink, at: datetime
) -> SessionExpired:
    """The expiry of `child` because its parent ended, expired or was revoked."""
    return SessionExpired(
        event_id=derived_id(
            child.session_id, "expired", ExpiryReason.PARENT.value, parent.session_id
        ),
        occurred_at=at,
        session_id=child.session_id,
        category=child.category,
        principal=_child_principal(child),
        parent_session_id=parent.session_id,
        reason=ExpiryReason.PARENT,
        deadline=at,
    )


def expired_at_deadline(
    record: SessionRecord, reason: ExpiryReason, deadline: datetime, at: datetime
) -> SessionExpired:
    """The expiry of a session whose `reason` deadline passed, noticed at `at`."""
    return SessionExpired(
        event_id=derived_id(
            record.session_id, "expired", reason.value, deadline.isoformat()
        ),
        occurred_at=at,
        session_id=record.session_id,
        category=record.category,
        principal=record.principal,
        delegation=record.delegation,
        parent_session_id=record.parent_session_id,
        reason=reason,
        deadline=deadline,
    )


def ended_with_task(record: SessionRecord, task_id: str, at: datetime) -> SessionEnded:
    """The end of a task-bound session whose task completed."""
    return SessionEnded(
        event_id=derived_id(
            record.session_id, "ended", EndReason.COMPLETED.value, task_id
        ),
        occurred_at=at,
        session_id=record.session_id,
        category=record.category,
        principal=record.principal,
        delegation=record.delegation,
        parent_session_id=record.parent_session_id,
        reason=EndReason.COMPLETED,
    )


def refused_delegate(
    subject_session_id: str,
    link: ChildSessionLinked,
    violation: ViolationKind,
    reason: str,
) -> SessionRevoked:
    """The policy revocation of a delegate its user session cannot vouch for."""
    child = link.child_principal or link.principal
    return SessionRevoked(
        event_id=derived_id(
            link.child_session_id, "revoked", violation.value, subject_session_id
        ),
        occurred_at=link.occurred_at,
        session_id=link.child_session_id,
        category=link.child_category,
        principal=Principal(id=child.id, kind=child.kind),
        parent_session_id=subject_session_id,
        reason=reason,
        cause=RevocationCause.POLICY,
        requester=LEDGER_REQUESTER,
        command_id=derived_id(
            link.child_session_id, "command", violation.value, subject_session_id
        ),
        cascade_root=link.child_session_id,
        violation=violation,
    )


def describe_scopes(scopes: tuple[Scope, ...]) -> str:
    """Scopes as short text for a reason or violation detail."""
    return ", ".join(
        f"{'/'.join(scope.operations)} on {scope.resource}" for scope in scopes
    )
