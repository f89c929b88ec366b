"""Notices when a revocation is folded, their formats, and use-after alerts."""

from __future__ import annotations

import json
import uuid

from domain.session_events import (
    access,
    agent_started,
    at,
    fold_all,
    heartbeat,
    user_started,
)
from revocation_commands import COMMAND_ID, revoke, revoked

from ledger.domain.fold import apply
from ledger.domain.revocation import (
    USE_AFTER_EXPIRY,
    USE_AFTER_REVOCATION,
    ActiveSessions,
    NoticeFormat,
    notice_bodies,
    notice_of,
    notice_of_replay,
    use_after_alert,
)
from ledger.policy import Policy
from schemas import RevocationNotice, Severity
from schemas.outputs import CAEP_SESSION_REVOKED


def _fold_one(records, event, offset):
    before = records.get(event.session_id)
    after, _ = apply(before, event, Policy(), partition=0, offset=offset)
    records[event.session_id] = after
    return before, after


def test_notice_is_due_once_when_the_fold_revokes_an_active_session() -> None:
    records, _ = fold_all([agent_started("a1", at(0))])
    event = revoked(revoke("a1"), records["a1"])

    before, after = _fold_one(records, event, 10)
    again_before, again_after = _fold_one(records, event, 11)

    notice = notice_of(before, after)
    assert notice is not None
    assert (notice.session_id, notice.command_id, notice.cause) == (
        "a1",
        COMMAND_ID,
        "command",
    )
    assert notice.revoked_at == at(30) and notice.cascade_root == "a1"
    assert notice_of(again_before, again_after) is None


def test_notice_is_due_again_when_the_revoking_event_is_read_again() -> None:
    # A crash between the fold and the producer's send loses the first notice;
    # the event comes again after the restart and the fold skips it as applied.
    records, _ = fold_all([agent_started("a1", at(0))])
    event = revoked(revoke("a1"), records["a1"])
    before, after = _fold_one(records, event, 10)

    replayed, _ = apply(after, event, Policy(), partition=0, offset=10)

    assert replayed is after
    assert notice_of_replay(after, event) == notice_of(before, after)


def test_notice_is_not_due_again_for_other_events_or_commands() -> None:
    records, _ = fold_all([agent_started("a1", at(0))])
    event = revoked(revoke("a1"), records["a1"])
    _, after = _fold_one(records, event, 10)
    other = revoked(revoke("a1").model_copy(update={"command_id": uuid.uuid4()}), after)

    assert notice_of_replay(after, other) is None
    assert notice_of_replay(after, heartbeat("a1", at(5))) is None
    assert notice_of_replay(None, event) is None
    active, _ = fold_all([agent_started("a2", at(0))])
    assert notice_of_replay(active["a2"], event) is None


def test_notice_bodies_in_both_formats_give_ledger_json_and_caep_set() -> None:
    records, _ = fold_all([agent_started("a1", at(0))])
    before, after = _fold_one(records, revoked(revoke("a1"), records["a1"]), 10)
    notice = notice_of(before, after)

    bodies = dict(notice_bodies(notice, NoticeFormat.BOTH, "urn:test", "gateways"))

    assert RevocationNotice.model_validate_json(bodies[NoticeFormat.LEDGER]) == notice
    caep = json.loads(bodies[NoticeFormat.CAEP])
    assert caep["iss"] == "urn:test" and caep["aud"] == "gateways"
    assert caep["sub_id"] == {"format": "opaque", "id": "a1"}
    assert caep["events"][CAEP_SESSION_REVOKED]["initiating_entity"] == "admin"
    assert [f for f, _ in notice_bodies(notice, NoticeFormat.CAEP, "x")] == ["caep"]


def test_access_after_revocation_raises_high_alert_for_an_agent() -> None:
    records, _ = fold_all([agent_started("a1", at(0))])
    _fold_one(records, revoked(revoke("a1"), records["a1"]), 10)
    use = access("a1", at(31), "s3://invoices/x.pdf")

    before, after = _fold_one(records, use, 11)
    alert = use_after_alert(before, after, use)

    assert alert is not None and alert.detector == USE_AFTER_REVOCATION
    assert alert.severity is Severity.HIGH and alert.principal_id == "svc-docs@acme"
    assert "s3://invoices/x.pdf" in alert.explanation
    assert alert == use_after_alert(before, after, use)


def test_heartbeat_past_deadline_raises_use_after_expiry() -> None:
    records, _ = fold_all([agent_started("a1", at(0), ttl=60)])
    late = heartbeat("a1", at(5))

    before, after = _fold_one(records, late, 10)
    alert = use_after_alert(before, after, late)

    assert alert is not None and alert.detector == USE_AFTER_EXPIRY


def test_user_use_after_revocation_is_medium_and_scope_breach_is_no_alert() -> None:
    records, _ = fold_all([user_started("u1", at(0))])
    ok = access("u1", at(1), "s3://anything")
    before, after = _fold_one(records, ok, 5)
    assert use_after_alert(before, after, ok) is None
    _fold_one(records, revoked(revoke("u1"), records["u1"]), 10)
    use = access("u1", at(31), "s3://anything")

    before, after = _fold_one(records, use, 11)

    assert use_after_alert(before, after, use).severity is Severity.MEDIUM


def test_active_index_follows_starts_and_revocations() -> None:
    records, _ = fold_all([agent_started("a1", at(0)), user_started("u1", at(0))])
    index = ActiveSessions()
    index.reset((s.encode(), r) for s, r in records.items())
    before, after = _fold_one(records, revoked(revoke("a1"), records["a1"]), 10)

    index.follow(b"a1", before, after)

    assert index.keys(0) == [b"u1"] and index.counts() == {0: 1}


def test_repeated_use_after_revocation_grows_one_alert_published_at_powers_of_two() -> (
    None
):
    records, _ = fold_all([agent_started("a1", at(0))])
    _fold_one(records, revoked(revoke("a1"), records["a1"]), 10)
    published = []
    for n in range(1, 10):
        use = access("a1", at(30 + n), "s3://invoices/x.pdf")
        before, after = _fold_one(records, use, 10 + n)
        alert = use_after_alert(before, after, use)
        if alert is not None:
            published.append(alert)

    assert [alert.count for alert in published] == [1, 2, 4, 8]
    assert len({alert.alert_id for alert in published}) == 1
    assert published[-1].first_seen == at(31)
    assert published[-1].last_seen == at(38)
