"""Alerts: repeats merge in the window, publish on rise or interval, replay alike."""

from __future__ import annotations

from datetime import timedelta

from monitor_streams import MONDAY, agent_event, agent_started, replay

from monitors.engine import MonitorEngine
from schemas import AccessOutcome, AccessRecorded, Scope, Severity

START = MONDAY + timedelta(hours=9)


def out_of_scope(minutes: float, allowed: bool = False):
    return agent_event(
        AccessRecorded,
        START + timedelta(minutes=minutes),
        resource="s3://acme-hr/salaries.csv",
        outcome=AccessOutcome.ALLOWED if allowed else AccessOutcome.DENIED,
    )


def engine_with_agent() -> MonitorEngine:
    engine = MonitorEngine()
    engine.observe(agent_started(START))
    return engine


def test_alert_repeats_within_the_window_merge_into_one_growing_alert() -> None:
    engine = engine_with_agent()
    verdicts = replay(engine, [out_of_scope(m) for m in (1, 2, 3, 4)])
    published = [alert for verdict in verdicts for alert in verdict.alerts]
    findings = [f for verdict in verdicts for f in verdict.findings]
    assert len(findings) == 4
    assert len(published) == 1  # the first sighting, at once; the rest counted

    update = engine.observe(out_of_scope(20))  # past the 15-minute update interval
    [alert] = update.alerts
    assert alert.alert_id == published[0].alert_id
    assert alert.count == 5
    assert alert.first_seen == START + timedelta(minutes=1)
    assert alert.last_seen == START + timedelta(minutes=20)


def test_alert_severity_rise_is_published_at_once() -> None:
    engine = engine_with_agent()
    [first] = engine.observe(out_of_scope(1)).alerts
    [risen] = engine.observe(out_of_scope(2, allowed=True)).alerts
    assert (first.severity, risen.severity) == (Severity.MEDIUM, Severity.HIGH)
    assert risen.alert_id == first.alert_id
    assert risen.count == 2


def test_alert_after_the_window_opens_a_new_alert() -> None:
    engine = engine_with_agent()
    [first] = engine.observe(out_of_scope(1)).alerts
    [second] = engine.observe(out_of_scope(1 + 61)).alerts
    assert second.alert_id != first.alert_id
    assert second.count == 1


def test_alert_ids_and_commands_of_a_replay_are_the_same() -> None:
    events = [agent_started(START)] + [
        out_of_scope(m, allowed=True) for m in (1, 2, 30, 200)
    ]
    runs = [replay(MonitorEngine(), events) for _ in range(2)]
    ids = [[a.alert_id for v in run for a in v.alerts] for run in runs]
    commands = [[c.command_id for v in run for c in v.revocations] for run in runs]
    assert ids[0] == ids[1] and len(ids[0]) == 3
    assert commands[0] == commands[1] and len(commands[0]) == 2


def test_revocation_an_agent_session_is_revoked_once_per_alert() -> None:
    engine = engine_with_agent()
    verdicts = replay(engine, [out_of_scope(m, allowed=True) for m in (1, 2, 3)])
    commands = [c for verdict in verdicts for c in verdict.revocations]
    [command] = commands
    assert command.requester == "monitors"
    assert command.cascade is True
    assert command.reason.startswith("monitors: agent_out_of_scope: ")


def test_revocation_policy_without_threshold_only_alerts(engine_with) -> None:
    engine = engine_with(agent={"revoke_at": None})
    engine.observe(agent_started(START))
    verdict = engine.observe(out_of_scope(1, allowed=True))
    assert verdict.alerts and verdict.revocations == ()


def test_revocation_of_people_when_the_policy_asks_for_it(engine_with) -> None:
    from monitor_streams import login

    engine = engine_with(user={"revoke_at": "high", "allowed_countries": ["FR"]})
    verdict = engine.observe(login(START))
    assert [c.session_id for c in verdict.revocations] == ["sess-user-7f3a"]


def test_evidence_of_a_huge_grant_is_cut_to_fit_the_alert() -> None:
    wide = tuple(
        Scope(resource=f"s3://bucket-{n}/" + "x" * 900, operations=("read",))
        for n in range(4)
    )
    engine = MonitorEngine()
    engine.observe(agent_started(START, scopes=wide))
    verdict = engine.observe(
        agent_event(AccessRecorded, START, resource="s3://elsewhere/file")
    )
    [alert] = verdict.alerts
    assert len(alert.evidence[0].baseline) == 1024


def test_alert_findings_out_of_order_join_the_alert_their_time_falls_in() -> None:
    # Two spans of findings three hours apart, read alternately, as a replay
    # reads two partitions: two alerts, not one per finding.
    engine = engine_with_agent()
    early = [out_of_scope(m) for m in range(0, 30, 3)]
    late = [out_of_scope(180 + m) for m in range(0, 30, 3)]
    alternating = [event for pair in zip(late, early, strict=True) for event in pair]
    verdicts = replay(engine, alternating)
    opened = {alert.alert_id for verdict in verdicts for alert in verdict.alerts}
    assert len(opened) == 2


def test_alert_a_late_finding_within_the_window_grows_the_open_alert() -> None:
    engine = engine_with_agent()
    [first] = engine.observe(out_of_scope(60)).alerts
    engine.observe(out_of_scope(20))  # forty minutes late, inside the window
    [update] = engine.observe(out_of_scope(80)).alerts  # past the update interval
    assert update.alert_id == first.alert_id
    assert update.count == 3
    assert update.first_seen == START + timedelta(minutes=20)
