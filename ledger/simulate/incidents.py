"""Labelled incidents injected on top of normal traffic.

Each incident adds its own plans: events on an existing session (a stolen token
replayed, a compromised agent, a token used after its session ended, a hybrid
acting after its user left) or new sessions (an account takeover, a brute-force
run, a human account driven by a script). Every event an incident's plans write
is listed in its label, so a detector's output can be scored event by event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from random import Random
from typing import TYPE_CHECKING, Any

from ledger.simulate import catalog
from ledger.simulate.catalog import SENSITIVE, ResourceSpace
from ledger.simulate.clock import HOUR, MINUTE, SECOND, iso, minutes
from ledger.simulate.geography import (
    CLOUD_REGIONS,
    HOSTILE_ORIGINS,
    HostileOrigin,
    distance_km,
)
from ledger.simulate.hybrids import hybrid_plan
from ledger.simulate.population import Human, draw_human
from ledger.simulate.sessions import (
    Token,
    access,
    at_local,
    burst_times,
    pause,
    session_id,
)
from ledger.simulate.timeline import EventLog, SessionPlan
from schemas.events import (
    AuthenticationFailed,
    EndReason,
    FailureReason,
    LifecycleRequest,
    RefreshReason,
    SessionEnded,
    SessionStarted,
)
from schemas.values import SessionCategory, Source

if TYPE_CHECKING:
    from ledger.simulate.simulation import Simulation

IMPOSSIBLE_KMH = 1000.0
"""Faster than any airliner door to door: travel this fast is impossible."""


@dataclass
class Incident:
    """One labelled incident and the events that make it up."""

    id: str
    kind: str
    start: int
    end: int
    principals: list[str]
    sessions: list[str]
    description: str
    detail: dict[str, Any] = field(default_factory=dict)
    event_ids: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """The incident as JSON-ready values."""
        return {
            "id": self.id,
            "kind": self.kind,
            "start": iso(self.start),
            "end": iso(self.end),
            "principals": self.principals,
            "sessions": self.sessions,
            "description": self.description,
            "detail": self.detail,
            "event_count": len(self.event_ids),
            "event_ids": self.event_ids,
        }


class _Skip(Exception):
    """No candidate for an incident in this population."""


Builder = Callable[["_Injector", str], Incident]


def inject_incidents(simulation: Simulation) -> None:
    """Add every incident the scenario asks for to the simulation's plans."""
    injector = _Injector(simulation)
    builders: dict[str, Builder] = {
        "stolen_agent_token": _Injector.stolen_agent_token,
        "compromised_agent": _Injector.compromised_agent,
        "account_takeover": _Injector.account_takeover,
        "brute_force": _Injector.brute_force,
        "token_reuse": _Injector.token_reuse,
        "hybrid_after_logout": _Injector.hybrid_after_logout,
        "scripted_human": _Injector.scripted_human,
    }
    number = 0
    for kind, count in simulation.scenario.incidents.items():
        for _ in range(count):
            number += 1
            incident_id = f"inc-{number:03d}-{kind.replace('_', '-')}"
            try:
                incident = builders[kind](injector, incident_id)
            except _Skip as reason:
                simulation.skipped.append({"kind": kind, "reason": str(reason)})
                continue
            simulation.incidents.append(incident)


class _Injector:
    def __init__(self, simulation: Simulation) -> None:
        self.sim = simulation
        self.rng = Random(f"{simulation.scenario.seed}/incidents")
        self.used: set[str] = set()
        self.reuses = 0
        self.humans = {human.id: human for human in simulation.population.humans}
        self.agents = {agent.id: agent for agent in simulation.population.agents}

    # Choosing victims

    def _pick(self, what: str, candidates: list[SessionPlan]) -> SessionPlan:
        fresh = [plan for plan in candidates if plan.principal.id not in self.used]
        if not fresh:
            raise _Skip(f"no {what} left to target in this population and period")
        plan = self.rng.choice(fresh)
        self.used.add(plan.principal.id)
        return plan

    def _main_plans(self, *kinds: str) -> list[SessionPlan]:
        sim = self.sim
        return [
            plan
            for plan in sim.plans
            if plan.stream == "main"
            and plan.kind in kinds
            and plan.incident_id is None
            and sim.start <= plan.start
            and plan.end < sim.end
        ]

    def _stream(
        self,
        host: SessionPlan,
        incident_id: str,
        begin: int,
        finish: int,
        script: Callable[[SessionPlan, EventLog], None],
        source: Source | None = None,
        **detail: Any,
    ) -> SessionPlan:
        """A plan that writes more events on `host`'s session."""
        plan = replace(
            host,
            kind=f"{host.kind}+incident",
            start=begin,
            end=finish,
            script=script,
            source=source or host.source,
            stream=incident_id,
            incident_id=incident_id,
            writes_end=True,
            detail=detail,
        )
        self.sim.plans.append(plan)
        return plan

    def _hostile(self, avoid_country: str | None, avoid_asn: int | None) -> Source:
        origins = [
            origin
            for origin in HOSTILE_ORIGINS
            if origin.network.country != avoid_country
            and origin.network.asn != avoid_asn
        ]
        origin = self.rng.choice(origins)
        return Source(
            ip=origin.network.address(self.rng),
            country=origin.network.country,
            region=origin.city,
            asn=origin.network.asn,
            user_agent=self.rng.choice(catalog.SCRIPTS),
        )

    # The incidents

    def stolen_agent_token(self, incident_id: str) -> Incident:
        host = self._pick(
            "long-running agent session",
            [
                plan
                for plan in self._main_plans(
                    "poller_day", "connector_day", "document_batch"
                )
                if plan.end - plan.start >= 3 * HOUR and plan.ending != "crashed"
            ],
        )
        length = host.end - host.start
        begin = host.start + int(length * self.rng.uniform(0.2, 0.6))
        finish = min(begin + minutes(self.rng.uniform(15, 60)), host.end - MINUTE)
        legit = host.source
        assert legit is not None
        attacker = self._hostile(legit.country, legit.asn)
        agent = self.agents[host.principal.id]
        self._stream(
            host,
            incident_id,
            begin,
            finish,
            _write_replay,
            attacker,
            resources=agent.resources,
            pace=self.rng.uniform(8, 25) * SECOND,
            sensitive_share=0.15,
            refresh_first=True,
        )
        return Incident(
            id=incident_id,
            kind="stolen_agent_token",
            start=begin,
            end=finish,
            principals=[host.principal.id],
            sessions=[host.session_id],
            description=(
                f"The token of {host.principal.id} is replayed from AS{attacker.asn} "
                f"in {attacker.country} while the agent keeps running from "
                f"AS{legit.asn} in {legit.country}."
            ),
            detail={
                "agent_type": agent.agent_type,
                "legitimate": _where(legit),
                "attacker": _where(attacker),
            },
        )

    def compromised_agent(self, incident_id: str) -> Incident:
        host = self._pick(
            "agent task session",
            [
                plan
                for plan in self._main_plans("document_batch", "etl_run", "worker_task")
                if plan.end - plan.start >= 45 * MINUTE and plan.ending != "crashed"
            ],
        )
        length = host.end - host.start
        begin = host.start + int(length * self.rng.uniform(0.1, 0.5))
        finish = min(begin + minutes(self.rng.uniform(30, 60)), host.end - 5 * MINUTE)
        base = host.detail["segments"][0][2]
        agent = self.agents[host.principal.id]
        out_of_scope = self.rng.randint(20, 80)
        self._stream(
            host,
            incident_id,
            begin,
            finish,
            _write_compromise,
            resources=agent.resources,
            extra_per_hour=9 * base,
            out_of_scope=out_of_scope,
        )
        return Incident(
            id=incident_id,
            kind="compromised_agent",
            start=begin,
            end=finish,
            principals=[host.principal.id],
            sessions=[host.session_id],
            description=(
                f"{host.principal.id} reads {out_of_scope} resources outside its "
                f"grants and runs at ten times its usual rate ({base:.0f}/h)."
            ),
            detail={
                "agent_type": agent.agent_type,
                "usual_per_hour": round(base, 1),
                "burst_per_hour": round(10 * base, 1),
                "out_of_scope_accesses": out_of_scope,
                "scopes": [scope.resource for scope in agent.scopes],
            },
        )

    def account_takeover(self, incident_id: str) -> Incident:
        sim = self.sim
        candidates = []
        for plan in self._main_plans("workday"):
            human = self.humans[plan.principal.id]
            if human.trip is not None:
                continue
            zone = human.home.zone
            day = datetime.fromtimestamp(plan.end / 1000, zone).date()
            night = at_local(day + timedelta(days=1), 3.0, zone)
            if night - plan.end < 4 * HOUR or night + 2 * HOUR >= sim.end:
                continue
            # Even the latest login (03:50) must imply impossible travel.
            km, _ = _farthest_origin(human)
            if km / ((night + 50 * MINUTE - plan.end) / HOUR) <= IMPOSSIBLE_KMH:
                continue
            candidates.append(plan)
        host = self._pick("human workday", candidates)
        human = self.humans[host.principal.id]
        zone = human.home.zone
        day = datetime.fromtimestamp(host.end / 1000, zone).date()
        login = at_local(day + timedelta(days=1), 3.0, zone)
        login += minutes(self.rng.uniform(0, 50))
        km, origin = _farthest_origin(human)
        kmh = km / ((login - host.end) / HOUR)
        device = f"dev-{self.rng.getrandbits(40):010x}"
        browsers = [b for b in catalog.BROWSERS if b != human.devices[0].user_agent]
        attacker = Source(
            ip=origin.network.address(self.rng),
            country=origin.network.country,
            region=origin.city,
            asn=origin.network.asn,
            user_agent=self.rng.choice(browsers),
            device_id=device,
        )
        prompts = self.rng.randint(2, 5)
        failures = []
        at = login
        for _ in range(prompts):
            at -= self.rng.randint(30, 90) * SECOND
            failures.insert(0, (at, session_id(self.rng, "login")))
        finish = login + minutes(self.rng.uniform(20, 60))
        sid = session_id(self.rng, "usr")
        plan = SessionPlan(
            session_id=sid,
            principal=human.principal,
            category=SessionCategory.USER,
            kind="takeover_session",
            start=failures[0][0],
            end=finish,
            ending="idle",
            script=_write_takeover,
            source=attacker,
            incident_id=incident_id,
            detail={
                "login": login,
                "failures": failures,
                "resources": ResourceSpace(
                    human.resources.templates + SENSITIVE.templates
                ),
                "scopes": human.scopes,
            },
        )
        sim.plans.append(plan)
        local = datetime.fromtimestamp(login / 1000, zone)
        return Incident(
            id=incident_id,
            kind="account_takeover",
            start=plan.start,
            end=finish,
            principals=[human.id],
            sessions=[sid, *(attempt for _, attempt in failures)],
            description=(
                f"{human.id} logs in at {local:%H:%M} local time from {origin.city}, "
                f"{km:.0f} km from {human.home.name} {(login - host.end) / HOUR:.1f} "
                "h after the last activity there, on a new device after "
                f"{prompts} refused MFA prompts."
            ),
            detail={
                "previous_session_id": host.session_id,
                "previous_city": human.home.name,
                "previous_activity_at": iso(host.end),
                "attacker": _where(attacker),
                "distance_km": round(km),
                "implied_kmh": round(kmh),
                "local_time": f"{local:%H:%M}",
                "new_device_id": device,
                "mfa_prompts_refused": prompts,
            },
        )

    def brute_force(self, incident_id: str) -> Incident:
        sim = self.sim
        fresh = [
            human
            for human in sim.population.humans
            if human.id not in self.used and human.id in self._human_ids_with_work()
        ]
        if not fresh:
            raise _Skip("no human account left to target")
        human = self.rng.choice(fresh)
        self.used.add(human.id)
        begin = self.rng.randrange(sim.start, sim.end - 2 * HOUR)
        attempts = self.rng.randint(50, 300)
        finish = begin + minutes(self.rng.uniform(5, 30))
        attacker = self._hostile(human.home.country, None)
        times = sorted(self.rng.randrange(begin, finish) for _ in range(attempts))
        times[0] = begin
        tries = [(at, session_id(self.rng, "login")) for at in times]
        plan = SessionPlan(
            session_id=tries[0][1],
            principal=human.principal,
            category=SessionCategory.USER,
            kind="failed_logins",
            start=begin,
            end=times[-1],
            ending="none",
            script=_write_brute_force,
            source=attacker,
            stream=incident_id,
            incident_id=incident_id,
            detail={"tries": tries, "lockout_after": 10},
        )
        sim.plans.append(plan)
        return Incident(
            id=incident_id,
            kind="brute_force",
            start=begin,
            end=times[-1],
            principals=[human.id],
            sessions=[attempt for _, attempt in tries],
            description=(
                f"{attempts} failed logins for {human.id} in "
                f"{(times[-1] - begin) / MINUTE:.0f} minutes from AS{attacker.asn} "
                f"in {attacker.country}."
            ),
            detail={"attempts": attempts, "attacker": _where(attacker)},
        )

    def _human_ids_with_work(self) -> set[str]:
        return {plan.principal.id for plan in self._main_plans("workday")}

    def token_reuse(self, incident_id: str) -> Incident:
        sim = self.sim
        # Alternate the variants, so that two incidents show both.
        self.reuses += 1
        after_end = self.reuses % 2 == 1
        endings = ("logout", "completed") if after_end else ("idle", "crashed")
        candidates = [
            plan
            for plan in self._main_plans(
                "workday", "document_batch", "etl_run", "worker_task", "orchestration"
            )
            if plan.ending in endings and plan.end + 7 * HOUR < sim.end
        ]
        host = self._pick("ended session", candidates)
        gap = (
            minutes(self.rng.uniform(5, 240))
            if after_end
            else minutes(self.rng.uniform(120, 360))
        )
        begin = host.end + gap
        finish = begin + minutes(self.rng.uniform(2, 30))
        legit = host.source
        assert legit is not None
        same_place = self.rng.random() < 0.5
        source = legit if same_place else self._hostile(legit.country, legit.asn)
        resources = (
            self.humans[host.principal.id].resources
            if host.category is SessionCategory.USER
            else self.agents[host.principal.id].resources
        )
        self._stream(
            host,
            incident_id,
            begin,
            finish,
            _write_replay,
            source,
            resources=resources,
            pace=max((finish - begin) // self.rng.randint(3, 20), SECOND),
            sensitive_share=0.0,
            refresh_first=self.rng.random() < 0.5,
        )
        variant = "after_end" if after_end else "after_expiry"
        ended = "ended" if after_end else "stopped (no end event; expired by policy)"
        return Incident(
            id=incident_id,
            kind="token_reuse",
            start=begin,
            end=finish,
            principals=[host.principal.id],
            sessions=[host.session_id],
            description=(
                f"Session {host.session_id} of {host.principal.id} {ended} at "
                f"{iso(host.end)}; its token is used again {gap / MINUTE:.0f} "
                "minutes later."
            ),
            detail={
                "variant": variant,
                "session_ending": host.ending,
                "session_end": iso(host.end),
                "gap_minutes": round(gap / MINUTE, 1),
                "source": _where(source),
                "same_source": same_place,
            },
        )

    def hybrid_after_logout(self, incident_id: str) -> Incident:
        sim = self.sim
        assistants = {a.user.id: a for a in sim.population.assistants}
        candidates = [
            plan
            for plan in self._main_plans("workday")
            if plan.ending == "logout"
            and plan.principal.id in assistants
            and assistants[plan.principal.id].id not in self.used
            and plan.end + 2 * HOUR < sim.end
            and plan.detail["last_activity"] - plan.detail["login"] > HOUR
        ]
        if not candidates:
            raise _Skip("no assistant whose user logs out in this period")
        user_plan = self.rng.choice(candidates)
        assistant = assistants[user_plan.principal.id]
        self.used.add(assistant.id)
        logout = user_plan.end
        begin = user_plan.detail["last_activity"] - minutes(self.rng.uniform(10, 40))
        overrun = minutes(self.rng.uniform(10, 60))
        host = hybrid_plan(assistant, user_plan, begin, logout + overrun, self.rng)
        # Quiet from the logout on; the incident's own stream carries the rest.
        host.writes_end = False
        host.detail["stop"] = logout
        sim.plans.append(host)
        after = self._stream(
            host,
            incident_id,
            logout + self.rng.randint(20, 120) * SECOND,
            logout + overrun,
            _write_replay,
            resources=assistant.resources,
            pace=self.rng.uniform(20, 60) * SECOND,
            sensitive_share=0.0,
            refresh_first=False,
            end_reason=EndReason.COMPLETED,
        )
        return Incident(
            id=incident_id,
            kind="hybrid_after_logout",
            start=after.start,
            end=after.end,
            principals=[assistant.id, assistant.user.id],
            sessions=[host.session_id, user_plan.session_id],
            description=(
                f"{assistant.id} keeps acting for {assistant.user.id} for "
                f"{overrun / MINUTE:.0f} minutes after the user logged out of "
                f"{user_plan.session_id}."
            ),
            detail={
                "user_session_id": user_plan.session_id,
                "user_logout_at": iso(logout),
                "overrun_minutes": round(overrun / MINUTE, 1),
            },
        )

    def scripted_human(self, incident_id: str) -> Incident:
        sim = self.sim
        rng = Random(f"{sim.scenario.seed}/{incident_id}")
        human = draw_human(rng, sim.scenario, set(self.humans))
        human = replace(human, trip=None, day_off=None)
        sim.population.humans.append(human)
        self.humans[human.id] = human
        self.used.add(human.id)
        region = rng.choice(
            [r for r in CLOUD_REGIONS.values() if r.city.country == human.home.country]
            or list(CLOUD_REGIONS.values())
        )
        source = Source(
            ip=region.network.address(rng),
            country=region.city.country,
            asn=region.network.asn,
            user_agent=rng.choice(catalog.SCRIPTS),
        )
        every = rng.choice((8, 12)) * HOUR
        pace = rng.uniform(60, 180) * SECOND
        at = sim.start + rng.randrange(0, HOUR)
        plans: list[SessionPlan] = []
        while at < sim.end:
            finish = at + every - rng.randint(5, 60) * SECOND
            plan = SessionPlan(
                session_id=session_id(rng, "usr"),
                principal=human.principal,
                category=SessionCategory.USER,
                kind="scripted_session",
                start=at,
                end=min(finish, sim.end),
                ending="idle" if finish < sim.end else "open",
                script=_write_scripted,
                source=source,
                incident_id=incident_id,
                detail={
                    "pace": pace,
                    "resources": human.resources,
                    "scopes": human.scopes,
                },
            )
            plans.append(plan)
            at = finish + rng.randint(1, 30) * SECOND
        sim.plans += plans
        return Incident(
            id=incident_id,
            kind="scripted_human",
            start=plans[0].start,
            end=plans[-1].end,
            principals=[human.id],
            sessions=[plan.session_id for plan in plans],
            description=(
                f"{human.id} is a human account driven by a script around the clock "
                f"from AS{source.asn}: password logins without MFA every "
                f"{every // HOUR} h and a request every {pace / SECOND:.0f} s."
            ),
            detail={
                "session_every_hours": every // HOUR,
                "seconds_between_requests": round(pace / SECOND),
                "source": _where(source),
            },
        )


def _farthest_origin(human: Human) -> tuple[float, HostileOrigin]:
    """The hostile origin farthest from a person's home, and its distance."""
    home = (human.home.latitude, human.home.longitude)
    distances = [
        (distance_km(home, (origin.latitude, origin.longitude)), index)
        for index, origin in enumerate(HOSTILE_ORIGINS)
    ]
    km, index = max(distances)
    return km, HOSTILE_ORIGINS[index]


def _where(source: Source) -> dict[str, Any]:
    return source.model_dump(
        mode="json",
        include={"ip", "country", "asn", "cloud_region", "device_id"},
        exclude_none=True,
    )


def _write_replay(plan: SessionPlan, log: EventLog) -> None:
    """Someone else's use of a session's token: accesses, maybe a refresh first."""
    rng = log.rng
    detail = plan.detail
    at = plan.start
    if detail["refresh_first"]:
        Token(log, HOUR).refresh(at, RefreshReason.EXPIRY)
        at += rng.randint(1, 10) * SECOND
    stop = plan.end - SECOND if "end_reason" in detail else plan.end
    while at <= stop:
        if detail["sensitive_share"] and rng.random() < detail["sensitive_share"]:
            access(log, at, SENSITIVE, denied_rate=0.6)
        else:
            access(log, at, detail["resources"])
        at += max(int(rng.expovariate(1 / detail["pace"])), 200)
    if "end_reason" in detail:
        log.add(SessionEnded, plan.end, reason=detail["end_reason"])


def _write_compromise(plan: SessionPlan, log: EventLog) -> None:
    """Ten times the usual access rate, and reads outside every grant."""
    rng = log.rng
    detail = plan.detail
    for at in burst_times(rng, plan.start, plan.end, detail["extra_per_hour"]):
        access(log, at, detail["resources"])
    for _ in range(detail["out_of_scope"]):
        at = rng.randrange(plan.start, plan.end)
        access(log, at, SENSITIVE, denied_rate=0.5)


def _write_takeover(plan: SessionPlan, log: EventLog) -> None:
    """Refused MFA prompts, then a login, and a quick sweep of mail and files."""
    rng = log.rng
    detail = plan.detail
    for at, attempt in detail["failures"]:
        log.add(
            AuthenticationFailed,
            at,
            session_id=attempt,
            reason=FailureReason.MFA_FAILED,
            detail="push notification denied",
        )
    login = detail["login"]
    log.add(
        SessionStarted, login, scopes=detail["scopes"], mfa=True, auth_method="oidc"
    )
    token = Token(log, HOUR)
    token.issue(login + 2 * SECOND)
    at = login + rng.randint(5, 30) * SECOND
    while at <= plan.end:
        access(log, at, detail["resources"], denied_rate=0.1)
        at += pause(rng, 15 * SECOND, 2 * MINUTE, shortest=SECOND)


def _write_brute_force(plan: SessionPlan, log: EventLog) -> None:
    """Failed logins, one per attempt id; the account locks after a few."""
    rng = log.rng
    for number, (at, attempt) in enumerate(plan.detail["tries"]):
        reason = FailureReason.BAD_CREDENTIALS
        if number >= plan.detail["lockout_after"] and rng.random() < 0.7:
            reason = FailureReason.LOCKED_OUT
        log.add(AuthenticationFailed, at, session_id=attempt, reason=reason)


def _write_scripted(plan: SessionPlan, log: EventLog) -> None:
    """A password login without MFA, then a request at a steady pace."""
    rng = log.rng
    detail = plan.detail
    log.add(
        SessionStarted,
        plan.start,
        lifecycle=LifecycleRequest(),
        scopes=detail["scopes"],
        mfa=False,
        auth_method="password",
    )
    token = Token(log, HOUR)
    token.issue(plan.start + SECOND)
    at = plan.start + rng.randint(2, 10) * SECOND
    while at <= plan.end:
        token.use(at)
        access(log, at, detail["resources"])
        at += int(detail["pace"]) + rng.randint(-3000, 3000)
