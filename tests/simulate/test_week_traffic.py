"""Statistical properties of a simulated week of normal traffic."""

from __future__ import annotations

from datetime import datetime, timedelta

from simulated_week import Week, local_zone

from schemas import SessionCategory


def test_week_records_parse_in_time_order_with_unique_ids(week: Week) -> None:
    bad = week.labels["bad_input"]["total"]
    assert len(week.events) == week.labels["counts"]["events"] > 20_000
    assert len(week.rejected) == bad
    times = [event.occurred_at for event in week.events]
    assert times == sorted(times)
    assert len({event.event_id for event in week.events}) == len(week.events)
    assert all(record.key == e.session_id.encode() for record, e in _valid(week))


def test_week_human_activity_stays_in_local_working_hours(week: Week) -> None:
    principals = week.principals
    claimed = week.incident_event_ids
    hours = []
    for event in week.events:
        if event.category is not SessionCategory.USER or str(event.event_id) in claimed:
            continue
        person = principals[event.principal.id]
        assert not person["scripted"], "a scripted account's events are all labelled"
        hours.append(
            event.occurred_at.astimezone(local_zone(person, event.occurred_at))
        )
    inside = sum(6 <= moment.hour < 22 for moment in hours)
    weekdays = sum(moment.weekday() < 5 for moment in hours)
    assert len(hours) > 3000
    assert inside / len(hours) >= 0.99
    assert weekdays / len(hours) >= 0.95


def test_week_agent_activity_covers_every_utc_hour(week: Week) -> None:
    claimed = week.incident_event_ids
    hours = {
        event.occurred_at.hour
        for event in week.events
        if event.category is SessionCategory.AGENT
        and str(event.event_id) not in claimed
    }
    assert hours == set(range(24))


def test_week_document_tasks_some_outlast_eight_hours(week: Week) -> None:
    started = {}
    lengths = []
    for event in week.events:
        if event.principal.agent_type != "document_processor":
            continue
        if event.type == "task.started":
            started[event.task_id] = event.occurred_at
        elif event.type == "task.completed":
            lengths.append(event.occurred_at - started[event.task_id])
    assert len(lengths) >= 7
    assert any(length > timedelta(hours=8) for length in lengths)
    assert max(lengths) <= timedelta(hours=10, minutes=1)


def test_week_crashed_agents_stop_heartbeating_without_end(week: Week) -> None:
    sessions = week.by_session()
    crashed = [s for s in week.labels["sessions"] if s["ending"] == "crashed"]
    assert crashed, "the week has no crashed agent session"
    for label in crashed:
        events = sessions[label["session_id"]]
        types = [event.type for event in events]
        assert "heartbeat.received" in types
        assert "session.ended" not in types
        assert "task.completed" not in types
        # It beat until it crashed, then went silent for good: well before the
        # end of the period, so that the ledger must expire it (TTL 2 min).
        crashed_at = datetime.fromisoformat(label["end"])
        beats = [e.occurred_at for e in events if e.type == "heartbeat.received"]
        assert crashed_at - timedelta(seconds=65) <= beats[-1] <= crashed_at
        assert events[-1].occurred_at <= crashed_at
        assert crashed_at + timedelta(minutes=2) < _period_end(week)


def test_week_hybrids_act_only_inside_their_users_sessions(week: Week) -> None:
    claimed = week.incident_event_ids
    sessions = week.by_session()
    checked = 0
    for event in week.events:
        if event.category is not SessionCategory.HYBRID:
            continue
        if str(event.event_id) in claimed:
            continue
        assert event.delegation is not None
        user_events = [
            e
            for e in sessions[event.delegation.subject_session_id]
            if str(e.event_id) not in claimed
        ]
        assert user_events[0].type == "session.started"
        assert user_events[0].principal.id == event.delegation.subject
        assert user_events[0].occurred_at < event.occurred_at
        assert event.occurred_at <= user_events[-1].occurred_at
        checked += 1
    assert checked > 500


def _valid(week: Week):
    events = iter(week.events)
    for index, record in enumerate(week.records):
        if index not in week.rejected:
            yield record, next(events)


def _period_end(week: Week) -> datetime:
    return datetime.fromisoformat(week.labels["period"]["end"])
