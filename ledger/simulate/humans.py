"""People at work: workdays in their own time zone, breaks, trips, logins.

Assumed policy, matching the ledger's defaults for users: sessions idle out after
30 minutes, so a lunch break ends the morning session and the afternoon starts
with a fresh login, while pauses inside a working stretch stay under 25 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from random import Random
from zoneinfo import ZoneInfo

from ledger.simulate.clock import HOUR, SECOND, minutes
from ledger.simulate.geography import City, Network
from ledger.simulate.population import Device, Human
from ledger.simulate.scenario import Scenario
from ledger.simulate.sessions import (
    Token,
    access,
    at_local,
    local_dates,
    pause,
    session_id,
)
from ledger.simulate.timeline import EventLog, SessionPlan
from schemas.events import (
    AuthenticationFailed,
    EndReason,
    FailureReason,
    SessionEnded,
    SessionStarted,
)
from schemas.values import SessionCategory, Source

LONGEST_PAUSE = minutes(25)
TYPICAL_PAUSE = minutes(6)
TOKEN_LIFETIME = HOUR
EARLIEST_HOUR = 6.5
LATEST_HOUR = 21.5


@dataclass(frozen=True)
class Stay:
    """Where a person is between two times: home, or a trip's destination."""

    city: City
    valid_from: int
    valid_to: int
    network: Network | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone."""
        return self.city.zone


def stays(human: Human, start: int, end: int) -> list[Stay]:
    """Home, or home then away then home again for a person with a trip."""
    trip = human.trip
    if trip is None:
        return [Stay(human.home, start, end)]
    # Nobody works in the hour before a flight or the two hours after landing.
    return [
        Stay(human.home, start, trip.depart_at - HOUR),
        Stay(
            trip.destination,
            trip.arrive_at + 2 * HOUR,
            trip.return_depart_at - HOUR,
            network=trip.destination.networks[0],
        ),
        Stay(human.home, trip.return_arrive_at + 2 * HOUR, end),
    ]


def plan_human(
    human: Human, scenario: Scenario, start: int, end: int
) -> list[SessionPlan]:
    """Every session of one person over the period [start, end)."""
    rng = Random(f"{scenario.seed}/plan/{human.id}")
    planner = _HumanPlanner(human, rng)
    plans: list[SessionPlan] = []
    for stay in stays(human, start, end):
        for day in local_dates(stay.zone, stay.valid_from, stay.valid_to):
            for plan in planner.day(day, stay):
                if stay.valid_from <= plan.start and plan.end < stay.valid_to:
                    plans.append(plan)
    return plans


class _HumanPlanner:
    def __init__(self, human: Human, rng: Random) -> None:
        self.human = human
        self.rng = rng
        self.home_v6 = rng.random() < 0.3
        self.home_ip = human.home_network.address(rng, v6=self.home_v6)
        office = Random(f"office/{human.home.name}")
        self.office_ip = human.office_network.address(office)
        self.travel_ip = ""

    def day(self, day: date, stay: Stay) -> list[SessionPlan]:
        rng = self.rng
        human = self.human
        weekend = day.weekday() >= 5
        if day == human.day_off:
            return []
        if weekend:
            if rng.random() < 0.05:
                return [self._short_check(day, stay, rng.uniform(10.0, 17.0))]
            return []
        return self._workday(day, stay)

    def _workday(self, day: date, stay: Stay) -> list[SessionPlan]:
        rng = self.rng
        human = self.human
        start_h = min(max(human.start_hour + rng.gauss(0, 0.3), 6.75), 11.0)
        length = human.day_hours + rng.gauss(0, 0.4)
        if rng.random() < 0.1:
            length += rng.uniform(1.0, 2.0)
        end_h = min(start_h + min(length, 12.0), LATEST_HOUR)
        source = self._source(day, stay, human.devices[0])
        plans: list[SessionPlan] = []

        if len(human.devices) > 1 and rng.random() < 0.06:
            check_h = start_h - rng.uniform(0.75, 1.5)
            if check_h >= EARLIEST_HOUR:
                plans.append(self._short_check(day, stay, check_h, human.devices[1]))

        begin = at_local(day, start_h, stay.zone)
        finish = at_local(day, end_h, stay.zone)
        lunch_h = rng.uniform(11.75, 13.25)
        if rng.random() < 0.9 and start_h + 1.5 <= lunch_h <= end_h - 2.5:
            lunch = at_local(day, lunch_h, stay.zone)
            back = lunch + minutes(rng.uniform(40, 65))
            morning_ending = "idle" if rng.random() < 0.9 else "logout"
            plans.append(self._session(begin, lunch, morning_ending, source, "workday"))
            afternoon_ending = "logout" if rng.random() < human.logout_rate else "idle"
            plans.append(
                self._session(back, finish, afternoon_ending, source, "workday")
            )
        else:
            ending = "logout" if rng.random() < human.logout_rate else "idle"
            plans.append(self._session(begin, finish, ending, source, "workday"))
        return plans

    def _short_check(
        self, day: date, stay: Stay, hour: float, device: Device | None = None
    ) -> SessionPlan:
        device = device or self.rng.choice(self.human.devices)
        begin = at_local(day, hour, stay.zone)
        finish = begin + minutes(self.rng.uniform(5, 30))
        source = self._source(day, stay, device, at_home=True)
        return self._session(begin, finish, "idle", source, "short_check")

    def _source(
        self, day: date, stay: Stay, device: Device, at_home: bool = False
    ) -> Source:
        human = self.human
        if stay.network is not None:
            network = stay.network
            if not self.travel_ip:
                self.travel_ip = network.address(self.rng)
            ip = self.travel_ip
        elif not at_home and day.weekday() in human.office_weekdays:
            network, ip = human.office_network, self.office_ip
        else:
            network, ip = human.home_network, self.home_ip
        return Source(
            ip=ip,
            country=stay.city.country,
            region=stay.city.name,
            asn=network.asn,
            user_agent=device.user_agent,
            device_id=device.device_id,
        )

    def _session(
        self, login: int, last: int, ending: str, source: Source, kind: str
    ) -> SessionPlan:
        rng = self.rng
        failures: list[tuple[int, FailureReason, str]] = []
        roll = rng.random()
        if roll < 0.03:
            for n in range(rng.randint(1, 2), 0, -1):
                attempt = session_id(rng, "login")
                failures.append(
                    (
                        login - n * rng.randint(8, 20) * SECOND,
                        FailureReason.BAD_CREDENTIALS,
                        attempt,
                    )
                )
        elif roll < 0.05:
            attempt = session_id(rng, "login")
            failures.append(
                (
                    login - rng.randint(20, 60) * SECOND,
                    FailureReason.MFA_FAILED,
                    attempt,
                )
            )
        end = last + rng.randint(2, 40) * SECOND if ending == "logout" else last
        return SessionPlan(
            session_id=session_id(rng, "usr"),
            principal=self.human.principal,
            category=SessionCategory.USER,
            kind=kind,
            start=min([login, *(at for at, _, _ in failures)]),
            end=end,
            ending=ending,
            script=write_user_session,
            source=source,
            detail={
                "login": login,
                "last_activity": last,
                "failures": failures,
                "resources": self.human.resources,
                "scopes": self.human.scopes,
            },
        )


def write_user_session(plan: SessionPlan, log: EventLog) -> None:
    """A login with MFA, a token, accesses with pauses, and maybe a logout."""
    rng = log.rng
    detail = plan.detail
    for at, reason, attempt in detail["failures"]:
        log.add(AuthenticationFailed, at, session_id=attempt, reason=reason)
    login = detail["login"]
    log.add(
        SessionStarted,
        login,
        scopes=detail["scopes"],
        mfa=True,
        auth_method=rng.choice(("oidc", "oidc", "saml")),
    )
    token = Token(log, TOKEN_LIFETIME)
    issued = login + rng.randint(1, 4) * SECOND
    token.issue(issued)
    last = detail["last_activity"]
    at = issued + rng.randint(5, 90) * SECOND
    while True:
        at = min(at, last)
        token.use(at)
        access(log, at, detail["resources"], denied_rate=0.01)
        if at >= last:
            break
        at += pause(rng, TYPICAL_PAUSE, LONGEST_PAUSE)
    if plan.ending == "logout" and plan.writes_end:
        log.add(SessionEnded, plan.end, reason=EndReason.LOGOUT)
