"""Names from logs normalised into ledger identifiers, and derived session ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.logs.identity import account, derived_session_id, identifier, prefixed
from ledger.logs.records import RecordRejected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CORP\\alice", "alice@CORP"),
        ("  bob@example.com ", "bob@example.com"),
        ("NT AUTHORITY\\LOCAL SERVICE", "LOCAL_SERVICE@NT_AUTHORITY"),
        ("system:serviceaccount:ns:sa", "system:serviceaccount:ns:sa"),
        ("HOST$", "HOST$"),
    ],
)
def test_identifier_windows_and_spaced_names_normalised(raw: str, expected: str):
    assert identifier(raw, "user") == expected


@pytest.mark.parametrize("raw", ["jürgen", 'a"b', "x" * 300, ""])
def test_identifier_unrepresentable_name_rejected_with_the_value(raw: str) -> None:
    with pytest.raises(RecordRejected) as rejected:
        identifier(raw, "userName")

    assert "userName" in rejected.value.reason
    if raw:
        assert repr(raw[:20])[1:-1] in rejected.value.reason


def test_account_without_name_rejected() -> None:
    with pytest.raises(RecordRejected, match="has no name"):
        account("-", "CORP", "TargetUserName")


def test_derived_session_id_same_hour_same_id_next_hour_new_id() -> None:
    at = datetime(2024, 5, 2, 10, 5, tzinfo=UTC)

    same = derived_session_id("gws", "ann@example.com", at.replace(minute=59))
    later = derived_session_id("gws", "ann@example.com", at.replace(hour=11))

    assert derived_session_id("gws", "ann@example.com", at) == same
    assert later != same
    assert same.startswith("gws:") and same.endswith(":20240502T10")


def test_prefixed_long_value_stays_within_identifier_limit() -> None:
    made = prefixed("entra", "c" * 300, "sessionId")

    assert len(made) <= 256
    assert made != prefixed("entra", "c" * 299 + "d", "sessionId")
