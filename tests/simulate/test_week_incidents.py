"""Every labelled incident is in the events, and looks like what it claims to be."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from simulated_week import WEEK, Week

from ledger.simulate.malformed import KINDS
from schemas import SessionCategory


def _glob(pattern: str) -> re.Pattern[str]:
    # Scope semantics: `*` matches any run of characters, `/` included.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def test_labels_every_incident_event_is_in_the_events(week: Week) -> None:
    events = {str(event.event_id) for event in week.events}
    kinds = {kind for kind, count in WEEK.incidents.items() if count}
    assert week.labels["skipped_incidents"] == []
    assert {incident["kind"] for incident in week.labels["incidents"]} == kinds
    for incident in week.labels["incidents"]:
        assert incident["event_count"] == len(incident["event_ids"]) > 0
        assert set(incident["event_ids"]) <= events, incident["id"]


def test_labels_stolen_token_replays_from_another_network(week: Week) -> None:
    for incident in week.incidents("stolen_agent_token"):
        [session] = incident["sessions"]
        mine = _events_of(week, incident)
        legit, attacker = (
            incident["detail"]["legitimate"],
            incident["detail"]["attacker"],
        )
        assert attacker["asn"] != legit["asn"]
        assert attacker["country"] != legit["country"]
        assert {(e.session_id, e.source.asn) for e in mine} == {
            (session, attacker["asn"])
        }
        # The agent itself keeps working from its own network meanwhile.
        assert any(
            e.session_id == session
            and e.source.asn == legit["asn"]
            and mine[0].occurred_at <= e.occurred_at <= mine[-1].occurred_at
            for e in week.events
        )


def test_labels_compromised_agent_leaves_scope_at_ten_times_its_rate(
    week: Week,
) -> None:
    for incident in week.incidents("compromised_agent"):
        mine = _events_of(week, incident)
        grants = [_glob(scope) for scope in incident["detail"]["scopes"]]
        outside = [e for e in mine if not any(g.fullmatch(e.resource) for g in grants)]
        assert len(outside) == incident["detail"]["out_of_scope_accesses"]
        hours = (mine[-1].occurred_at - mine[0].occurred_at).total_seconds() / 3600
        assert len(mine) / hours >= 7 * incident["detail"]["usual_per_hour"]


def test_labels_account_takeover_logs_in_at_3am_on_a_new_device(week: Week) -> None:
    for incident in week.incidents("account_takeover"):
        [person] = incident["principals"]
        zone = ZoneInfo(week.principals[person]["timezone"])
        mine = _events_of(week, incident)
        [login] = [e for e in mine if e.type == "session.started"]
        assert login.occurred_at.astimezone(zone).hour == 3
        refused = [e for e in mine if e.type == "authentication.failed"]
        assert refused and all(e.occurred_at < login.occurred_at for e in refused)
        known = {
            e.source.device_id
            for e in week.events
            if e.principal.id == person and str(e.event_id) not in incident["event_ids"]
        }
        assert login.source.device_id not in known
        assert incident["detail"]["implied_kmh"] > 1000
        previous = datetime.fromisoformat(incident["detail"]["previous_activity_at"])
        assert any(
            e.principal.id == person and e.occurred_at == previous for e in week.events
        )


def test_labels_brute_force_is_a_run_of_failed_logins(week: Week) -> None:
    for incident in week.incidents("brute_force"):
        mine = _events_of(week, incident)
        assert len(mine) == incident["detail"]["attempts"] >= 50
        assert {e.type for e in mine} == {"authentication.failed"}
        assert {e.principal.id for e in mine} == set(incident["principals"])
        assert len({e.source.ip for e in mine}) == 1


def test_labels_token_reuse_comes_after_the_session_ended(week: Week) -> None:
    sessions = week.by_session()
    for incident in week.incidents("token_reuse"):
        [session] = incident["sessions"]
        mine = _events_of(week, incident)
        claimed = set(incident["event_ids"])
        before = [e for e in sessions[session] if str(e.event_id) not in claimed]
        gap = mine[0].occurred_at - before[-1].occurred_at
        if incident["detail"]["variant"] == "after_end":
            assert before[-1].type == "session.ended"
            assert gap > timedelta(0)
        else:
            # Silent for longer than any idle timeout or heartbeat TTL.
            assert before[-1].type != "session.ended"
            assert gap > timedelta(hours=1)


def test_labels_hybrid_acts_after_its_user_logged_out(week: Week) -> None:
    sessions = week.by_session()
    for incident in week.incidents("hybrid_after_logout"):
        user_session = incident["detail"]["user_session_id"]
        logout = sessions[user_session][-1]
        assert logout.type == "session.ended"
        mine = _events_of(week, incident)
        assert all(e.category is SessionCategory.HYBRID for e in mine)
        assert all(e.delegation.subject_session_id == user_session for e in mine)
        assert all(e.occurred_at > logout.occurred_at for e in mine)


def test_labels_scripted_human_works_around_the_clock(week: Week) -> None:
    for incident in week.incidents("scripted_human"):
        [person] = incident["principals"]
        assert week.principals[person]["scripted"]
        theirs = [e for e in week.events if e.principal.id == person]
        assert {str(e.event_id) for e in theirs} == set(incident["event_ids"])
        assert {e.category for e in theirs} == {SessionCategory.USER}
        assert {e.occurred_at.hour for e in theirs} == set(range(24))
        assert {e.occurred_at.weekday() for e in theirs} == set(range(7))


def test_labels_bad_input_is_refused_for_its_own_reason(week: Week) -> None:
    reasons = {
        "broken_json": "not valid JSON",
        "naive_timestamp": "timezone missing",
        "unknown_type": "unknown event type",
        "bad_identifier": "not an identifier",
        "oversize": "over the 65536-byte limit",
    }
    labelled = week.labels["bad_input"]
    assert set(labelled["by_kind"]) == set(KINDS)
    assert all(count > 0 for count in labelled["by_kind"].values())
    assert {entry["index"] for entry in labelled["records"]} == set(week.rejected)
    for entry in labelled["records"]:
        assert reasons[entry["kind"]] in week.rejected[entry["index"]]


def _events_of(week: Week, incident: dict) -> list:
    wanted = set(incident["event_ids"])
    return [event for event in week.events if str(event.event_id) in wanted]
