"""Outputs: severity order, the CAEP token shape, lossless dead letters."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from schemas import (
    Alert,
    DeadLetter,
    RevocationCause,
    RevocationNotice,
    Severity,
    serialize,
)
from schemas.examples import example
from schemas.outputs import CAEP_SESSION_REVOKED


def test_severity_ordered_by_rank_not_alphabet() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2, 3, 4]
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW
    assert max([Severity.HIGH, Severity.CRITICAL, Severity.INFO]) is Severity.CRITICAL
    assert Severity.MEDIUM >= "low"
    assert sorted(["high", "info", "critical"], key=lambda s: Severity(s).rank)[-1] == (
        "critical"
    )


def test_severity_compared_with_number_raises() -> None:
    with pytest.raises(TypeError):
        assert Severity.HIGH < 3


def test_revocation_notice_as_caep_set_has_session_revoked_shape() -> None:
    notice = example(RevocationNotice)

    token = notice.as_caep_set("https://ledger.example", audience="https://gw.example")

    timestamp = int(notice.revoked_at.timestamp())
    subject = {"format": "opaque", "id": notice.session_id}
    assert token["iss"] == "https://ledger.example"
    assert token["aud"] == "https://gw.example"
    assert token["iat"] == timestamp
    assert token["sub_id"] == subject
    assert token["events"] == {
        CAEP_SESSION_REVOKED: {
            "subject": subject,
            "event_timestamp": timestamp,
            "initiating_entity": "system",
            "reason_admin": {"en": notice.reason},
        }
    }
    assert json.loads(json.dumps(token)) == token


def test_revocation_notice_as_caep_set_replay_gives_same_jti() -> None:
    notice = example(RevocationNotice)
    other_session = example(RevocationNotice, session_id="sess-other")

    jti = notice.as_caep_set("iss")["jti"]

    assert jti == example(RevocationNotice).as_caep_set("iss")["jti"]
    assert jti != other_session.as_caep_set("iss")["jti"]
    assert "aud" not in notice.as_caep_set("iss")


@pytest.mark.parametrize(
    ("cause", "entity"),
    [
        (RevocationCause.COMMAND, "admin"),
        (RevocationCause.EMERGENCY, "admin"),
        (RevocationCause.POLICY, "policy"),
        (RevocationCause.CASCADE, "system"),
    ],
)
def test_revocation_notice_as_caep_set_initiator_follows_cause(
    cause: RevocationCause, entity: str
) -> None:
    token = example(RevocationNotice, cause=cause).as_caep_set("iss")

    assert token["events"][CAEP_SESSION_REVOKED]["initiating_entity"] == entity


def test_dead_letter_any_bytes_kept_losslessly() -> None:
    original = bytes(range(256)) + b'\x00{"not": json'
    letter = example(DeadLetter, original=original, key=b"\xff\x00")

    raw = serialize(letter)
    again = DeadLetter.model_validate_json(raw, strict=True)

    assert again.original == original and again.key == b"\xff\x00"
    assert json.loads(raw)["original"] == base64.b64encode(original).decode()


def test_dead_letter_base64_text_accepted_as_bytes() -> None:
    letter = example(DeadLetter, original=base64.b64encode(b"raw").decode())

    assert letter.original == b"raw"


def test_alert_last_seen_before_first_seen_refused() -> None:
    alert = example(Alert)

    with pytest.raises(ValidationError, match="last_seen is before first_seen"):
        example(Alert, last_seen=alert.first_seen - timedelta(seconds=1))


def test_alert_nan_score_refused() -> None:
    with pytest.raises(ValidationError):
        example(Alert, score=float("nan"))
