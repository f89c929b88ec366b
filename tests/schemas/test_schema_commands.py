"""Revocation commands: selectors fail closed, emergencies default to agents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from schemas import (
    EmergencyRevoke,
    InvalidCommand,
    RevokeBySelector,
    RevokeSession,
    SessionCategory,
    parse_command,
    serialize,
)
from schemas.examples import example


def _document(model: type, **changes: Any) -> bytes:
    return json.dumps({**json.loads(serialize(example(model))), **changes}).encode()


def test_parse_command_empty_selector_refused() -> None:
    with pytest.raises(InvalidCommand) as caught:
        parse_command(_document(RevokeBySelector, selector={"labels": {}}))

    assert "empty selector would revoke every session" in caught.value.reason
    assert caught.value.command_id == str(example(RevokeBySelector).command_id)


def test_parse_command_unknown_selector_criterion_refused() -> None:
    selector = {"category": "agent", "tenant": "acme"}

    with pytest.raises(InvalidCommand, match=r"selector\.tenant: unknown field"):
        parse_command(_document(RevokeBySelector, selector=selector))


def test_parse_command_selector_labels_only_accepted() -> None:
    command = parse_command(
        _document(RevokeBySelector, selector={"labels": {"a": "b"}})
    )

    assert isinstance(command, RevokeBySelector)
    assert command.selector.labels == {"a": "b"}


def test_parse_command_emergency_without_category_targets_agents() -> None:
    document = json.loads(serialize(example(EmergencyRevoke)))
    del document["category"]

    command = parse_command(json.dumps(document).encode())

    assert isinstance(command, EmergencyRevoke)
    assert command.category is SessionCategory.AGENT


def test_parse_command_revoke_session_cascades_by_default() -> None:
    document = json.loads(serialize(example(RevokeSession)))
    del document["cascade"]

    command = parse_command(json.dumps(document).encode())

    assert isinstance(command, RevokeSession) and command.cascade is True


def test_parse_command_unknown_type_refused() -> None:
    with pytest.raises(
        InvalidCommand, match=r"unknown command type 'revoke\.universe'"
    ):
        parse_command(_document(RevokeSession, type="revoke.universe"))


def test_parse_command_naive_issued_at_refused() -> None:
    with pytest.raises(InvalidCommand, match="issued_at: timezone missing"):
        parse_command(_document(RevokeSession, issued_at="2025-03-03T09:00:00"))
