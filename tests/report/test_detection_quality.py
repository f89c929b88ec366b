"""Scoring a pipeline run against the simulator's labels; no broker needed."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from ledger.report.detection import RunTally, tally
from ledger.report.model import DETECTION_GRACE, Incident
from schemas import (
    AccessRecorded,
    Alert,
    ExpiryReason,
    HeartbeatReceived,
    SessionExpired,
    SessionStarted,
)
from schemas.examples import example, started

AGENT = started("agent")
T0 = AGENT.occurred_at
INCIDENT = Incident(
    id="inc-001-stolen-agent-token",
    kind="stolen_agent_token",
    start=T0 + timedelta(hours=2),
    end=T0 + timedelta(hours=3),
    principals=("svc-thief-target",),
    sessions=("sess-stolen",),
    description="",
)


def event_of(model, at, session_id=AGENT.session_id, **changes):
    return example(
        model,
        event_id=uuid4(),
        occurred_at=at,
        session_id=session_id,
        category=AGENT.category,
        principal=AGENT.principal,
        **changes,
    )


def alert(detector, first, principal=AGENT.principal.id, session=None, **changes):
    return example(
        Alert,
        alert_id=uuid4(),
        detector=detector,
        principal_id=principal,
        session_id=session or AGENT.session_id,
        first_seen=first,
        last_seen=first,
        **changes,
    )


def test_an_alert_on_an_incident_is_true_and_one_elsewhere_is_false() -> None:
    run = tally(
        [AGENT, event_of(AccessRecorded, T0 + timedelta(hours=1))],
        [
            alert("agent_new_source", INCIDENT.start, principal="svc-thief-target"),
            alert("agent_new_source", T0 + timedelta(hours=1)),
            alert("agent_burst", T0 + timedelta(hours=1)),
        ],
    )

    quality = run.score([INCIDENT])

    rows = {row.detector: row for row in quality.detectors}
    assert (rows["agent_new_source"].alerts, rows["agent_new_source"].true_alerts) == (
        2,
        1,
    )
    assert rows["agent_new_source"].precision == 0.5
    assert rows["agent_new_source"].incidents == (INCIDENT.id,)
    assert rows["agent_burst"].precision == 0.0
    assert quality.precision == 1 / 3
    assert quality.false_alerts("agent") == 2
    assert [v.caught for v in quality.incidents] == [True]
    assert quality.kinds == {"stolen_agent_token": (1, 1)}


def test_an_alert_after_the_grace_does_not_count_as_catching() -> None:
    late = INCIDENT.end + DETECTION_GRACE + timedelta(seconds=1)
    quality = tally(
        [AGENT], [alert("agent_new_source", late, principal="svc-thief-target")]
    ).score([INCIDENT])

    assert quality.true_alerts == 0
    assert quality.kinds == {"stolen_agent_token": (0, 1)}


def test_repeats_of_one_alert_count_once_as_last_published() -> None:
    first = alert("agent_burst", T0)
    later = first.model_copy(
        update={
            "last_seen": INCIDENT.start,
            "count": 5,
            "principal_id": "svc-thief-target",
        }
    )
    run = RunTally()
    run.add_alert(later)
    run.add_alert(first)  # an older version read after the newer one

    quality = run.score([INCIDENT])

    assert quality.alerts == 1
    assert quality.true_alerts == 1


def test_false_alerts_per_1000_session_days_count_each_day_a_session_was_active() -> (
    None
):
    traffic = [AGENT] + [
        event_of(HeartbeatReceived, T0 + timedelta(days=day, minutes=5))
        for day in range(4)
    ]
    quality = tally(traffic, [alert("agent_burst", T0)]).score([])

    [row] = quality.detectors
    assert quality.session_days == {"agent": 4}
    assert row.false_per_1000_session_days == 250.0


def test_an_expiry_followed_by_the_sessions_own_traffic_cut_its_work() -> None:
    expired_at = T0 + timedelta(minutes=30)
    still_working = event_of(AccessRecorded, expired_at + timedelta(minutes=10))
    crashed = example(
        SessionStarted,
        event_id=uuid4(),
        session_id="sess-crashed",
        category=AGENT.category,
        principal=AGENT.principal,
        occurred_at=T0,
    )
    quality = tally(
        [
            AGENT,
            still_working,
            event_of(SessionExpired, expired_at, reason=ExpiryReason.IDLE),
            crashed,
            event_of(
                SessionExpired,
                T0 + timedelta(minutes=3),
                session_id="sess-crashed",
                reason=ExpiryReason.HEARTBEAT,
            ),
        ],
        [],
    ).score([])

    [cut] = quality.cut
    assert (cut.session_id, cut.ended_by) == (AGENT.session_id, "expired:idle")
    assert cut.last_traffic_at == still_working.occurred_at
    assert quality.ends["agent"] == {"expired:idle": 1, "expired:heartbeat": 1}


def test_a_labelled_incidents_session_is_never_counted_as_cut() -> None:
    stolen = INCIDENT.sessions[0]
    quality = tally(
        [
            event_of(AccessRecorded, T0, session_id=stolen),
            event_of(
                SessionExpired,
                T0 - timedelta(minutes=1),
                session_id=stolen,
                reason=ExpiryReason.ABSOLUTE,
            ),
        ],
        [],
    ).score([INCIDENT])

    assert quality.cut == ()
    assert quality.ends["agent"] == {"expired:absolute": 1}
