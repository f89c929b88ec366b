"""Revocation commands, read from `session.commands`.

`RevocationCommand` is the union of all command types, discriminated by `type`;
parse it from bytes with `schemas.parse_command`.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from schemas.limits import SCHEMA_VERSION, SELECTOR_LABELS_MAX
from schemas.values import (
    Identifier,
    LabelKey,
    LabelValue,
    Message,
    Name,
    SessionCategory,
    Text,
    UtcDatetime,
    require_discriminator,
)


class Command(Message):
    """What every revocation command carries."""

    model_config = ConfigDict(json_schema_extra=require_discriminator)

    command_id: UUID = Field(description="Requester-chosen; the ledger de-duplicates.")
    type: str
    issued_at: UtcDatetime
    requester: Identifier = Field(description="Who asked: an admin or a detector.")
    reason: Text
    schema_version: int = Field(SCHEMA_VERSION, ge=1)


class RevokeSession(Command):
    """Revoke one session, and by default every session below it."""

    type: Literal["revoke.session"] = "revoke.session"
    session_id: Identifier
    cascade: bool = True


class SessionSelector(Message):
    """Which sessions a selector revocation hits; every given criterion must match.

    Unknown criteria are refused rather than kept: ignoring a criterion a newer
    requester meant would revoke more sessions than asked.
    """

    model_config = ConfigDict(extra="forbid")

    category: SessionCategory | None = None
    agent_type: Identifier | None = None
    role: Name | None = None
    principal_id: Identifier | None = None
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, max_length=SELECTOR_LABELS_MAX
    )
    started_before: UtcDatetime | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> SessionSelector:
        if (
            self.category is None
            and self.agent_type is None
            and self.role is None
            and self.principal_id is None
            and not self.labels
            and self.started_before is None
        ):
            raise ValueError(
                "an empty selector would revoke every session; name at least one "
                "criterion, or use revoke.emergency"
            )
        return self


class RevokeBySelector(Command):
    """Revoke every active session the selector matches."""

    type: Literal["revoke.selector"] = "revoke.selector"
    selector: SessionSelector


class EmergencyRevoke(Command):
    """Revoke every session of a category at once (by default, all agents)."""

    type: Literal["revoke.emergency"] = "revoke.emergency"
    category: SessionCategory = SessionCategory.AGENT


RevocationCommand = Annotated[
    RevokeSession | RevokeBySelector | EmergencyRevoke,
    Field(discriminator="type"),
]
"""Any revocation command, discriminated by `type`."""

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.model_fields["type"].default: cls
    for cls in (RevokeSession, RevokeBySelector, EmergencyRevoke)
}
"""Command class by `type` string."""
