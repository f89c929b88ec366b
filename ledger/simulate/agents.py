"""Agents at work: overnight document batches, pollers, ETL, orchestrators, fleets.

Heartbeat-bound sessions beat every 60 s with a 120 s TTL (the ledger's default
for agents) while their task runs. Pollers and connector fleets run around the
clock on daily sessions bounded by their lifetime instead, which keeps a week of
traffic to a volume a laptop generates in seconds.
"""

from __future__ import annotations

from itertools import pairwise
from random import Random

from ledger.simulate.catalog import AGENT_CLIENTS
from ledger.simulate.clock import DAY, HOUR, MINUTE, SECOND, hours, minutes
from ledger.simulate.population import Agent, Population
from ledger.simulate.scenario import Scenario
from ledger.simulate.sessions import (
    Token,
    access,
    at_local,
    burst_times,
    local_dates,
    session_id,
)
from ledger.simulate.timeline import EventLog, SessionPlan
from schemas.events import (
    EndReason,
    HeartbeatReceived,
    LifecycleRequest,
    RefreshReason,
    SessionEnded,
    SessionStarted,
    TaskCompleted,
    TaskOutcome,
    TaskStarted,
)
from schemas.values import Health, SessionCategory, Source

HEARTBEAT_INTERVAL = 60 * SECOND
HEARTBEAT_TTL_SECONDS = 120.0
TASK_TOKEN_LIFETIME = HOUR
SERVICE_TOKEN_LIFETIME = HOUR
FLEET_TOKEN_LIFETIME = 4 * HOUR + 15 * MINUTE
BULK_REFRESH_EVERY = 4 * HOUR


def plan_agents(
    population: Population, scenario: Scenario, start: int, end: int
) -> list[SessionPlan]:
    """Every session of every agent over the period [start, end)."""
    plans: list[SessionPlan] = []
    by_id = {agent.id: agent for agent in population.agents}
    for agent in population.agents:
        rng = Random(f"{scenario.seed}/plan/{agent.id}")
        match agent.agent_type:
            case "document_processor":
                plans += _document_batches(agent, rng, start, end)
            case "poller":
                plans += _daily_sessions(agent, rng, scenario, start, end)
            case "connector":
                plans += _daily_sessions(agent, rng, scenario, start, end)
            case "etl":
                plans += _etl_runs(agent, rng, start, end)
            case "orchestrator":
                crew = [by_id[worker] for worker in agent.workers]
                plans += _orchestrated_jobs(agent, crew, rng, start, end)
    return plans


def agent_source(agent: Agent, region_index: int = 0) -> Source:
    """Where an agent's traffic comes from in one of its regions."""
    region = agent.regions[region_index % len(agent.regions)]
    # One egress address per agent and region: a NAT gateway's.
    address = region.network.address(Random(f"egress/{agent.id}/{region.name}"))
    return Source(
        ip=address,
        country=region.city.country,
        asn=region.network.asn,
        cloud_region=region.name,
        user_agent=AGENT_CLIENTS[agent.agent_type],
    )


def task_plan(
    agent: Agent,
    rng: Random,
    *,
    kind: str,
    begin: int,
    duration: int,
    task_id: str,
    description: str,
    segments: list[tuple[int, int, float]],
    crash_rate: float,
    parent_session_id: str | None = None,
    max_lifetime_hours: float = 12.0,
) -> SessionPlan:
    """A task-bound, heartbeat-bound session; it may crash part-way."""
    finish = begin + duration
    crash_at = None
    if rng.random() < crash_rate:
        crash_at = begin + int(duration * rng.uniform(0.15, 0.85))
    return SessionPlan(
        session_id=session_id(rng, "agt"),
        principal=agent.principal,
        category=SessionCategory.AGENT,
        kind=kind,
        start=begin,
        end=crash_at if crash_at is not None else finish,
        ending="crashed" if crash_at is not None else "completed",
        script=write_task_session,
        source=agent_source(agent),
        parent_session_id=parent_session_id,
        labels=dict(agent.labels),
        detail={
            "task_id": task_id,
            "description": description,
            "segments": segments,
            "resources": agent.resources,
            "scopes": agent.scopes,
            "crash_at": crash_at,
            "max_lifetime_seconds": max_lifetime_hours * 3600,
            "auth_method": "client_credentials",
        },
    )


def write_task_session(plan: SessionPlan, log: EventLog) -> None:
    """Start, token, task, heartbeats and accesses; then completion, or a crash."""
    rng = log.rng
    detail = plan.detail
    crash_at = detail["crash_at"]
    stop = crash_at if crash_at is not None else plan.end - 2 * SECOND
    log.add(
        SessionStarted,
        plan.start,
        lifecycle=LifecycleRequest(
            task_id=detail["task_id"],
            heartbeat_ttl_seconds=HEARTBEAT_TTL_SECONDS,
            max_lifetime_seconds=detail["max_lifetime_seconds"],
        ),
        scopes=detail["scopes"],
        auth_method=detail["auth_method"],
    )
    token = Token(log, TASK_TOKEN_LIFETIME)
    token.issue(plan.start + 200, detail["scopes"])
    log.add(
        TaskStarted,
        plan.start + SECOND,
        task_id=detail["task_id"],
        description=detail["description"],
    )
    beat = plan.start + rng.randint(5, 30) * SECOND
    while beat < stop:
        token.use(beat)
        health = Health.HEALTHY
        if crash_at is not None and crash_at - beat < 3 * HEARTBEAT_INTERVAL:
            health = Health.DEGRADED
        log.add(HeartbeatReceived, beat, health=health)
        beat += HEARTBEAT_INTERVAL + rng.randint(-2000, 2000)
    for begin, finish, per_hour in detail["segments"]:
        for at in burst_times(
            rng, max(begin, plan.start + 2 * SECOND), finish, per_hour
        ):
            if at < stop:
                access(log, at, detail["resources"], denied_rate=0.001)
    if crash_at is not None:
        return
    outcome = TaskOutcome.SUCCEEDED if rng.random() > 0.03 else TaskOutcome.FAILED
    log.add(
        TaskCompleted, plan.end - SECOND, task_id=detail["task_id"], outcome=outcome
    )
    if plan.writes_end:
        log.add(SessionEnded, plan.end, reason=EndReason.COMPLETED)


def _document_batches(
    agent: Agent, rng: Random, start: int, end: int
) -> list[SessionPlan]:
    zone = agent.regions[0].city.zone
    plans = []
    for day in local_dates(zone, start, end):
        if day.weekday() >= 5 and not agent.nightly_weekends:
            continue
        hour = 21.0 + agent.offset_minutes / 60 + rng.gauss(0, 0.2)
        begin = at_local(day, hour, zone)
        length = min(max(agent.batch_hours + rng.gauss(0, 0.6), 2.0), 10.0)
        duration = hours(length)
        if not start <= begin < end:
            continue
        task = f"batch-{agent.id.split(':')[-1]}-{day.isoformat()}"
        segments = _batch_segments(rng, begin, duration)
        plan = task_plan(
            agent,
            rng,
            kind="document_batch",
            begin=begin,
            duration=duration,
            task_id=task,
            description=f"Extract fields from the documents received on {day}",
            segments=segments,
            crash_rate=0.25 if agent.flaky else 0.01,
            max_lifetime_hours=14.0,
        )
        plans.append(plan)
        if plan.ending == "crashed":
            # The scheduler notices the dead batch and runs the rest again.
            retry_at = plan.end + minutes(rng.uniform(15, 45))
            remaining = max(begin + duration - plan.end, 30 * MINUTE)
            retry = task_plan(
                agent,
                rng,
                kind="document_batch",
                begin=retry_at,
                duration=remaining,
                task_id=f"{task}-retry",
                description=f"Retry of {task}",
                segments=_batch_segments(rng, retry_at, remaining),
                crash_rate=0.0,
                max_lifetime_hours=14.0,
            )
            plans.append(retry)
    return plans


def _batch_segments(
    rng: Random, begin: int, duration: int
) -> list[tuple[int, int, float]]:
    segments = [(begin, begin + duration, rng.uniform(10, 30))]
    if duration >= 90 * MINUTE:
        # One burst hour: the morning's scans arrive in one go.
        burst = begin + rng.randrange(0, duration - HOUR)
        segments.append((burst, burst + HOUR, rng.uniform(300, 1000)))
    return segments


def _etl_runs(agent: Agent, rng: Random, start: int, end: int) -> list[SessionPlan]:
    plans = []
    every = agent.interval_hours * HOUR
    slot = start + agent.offset_minutes * MINUTE
    while slot < end:
        begin = slot + rng.randint(0, 90) * SECOND
        if agent.interval_hours == 1:
            duration = minutes(rng.uniform(4, 15))
        else:
            duration = minutes(rng.uniform(8, 35))
        count = rng.uniform(10, 40)
        plans.append(
            task_plan(
                agent,
                rng,
                kind="etl_run",
                begin=begin,
                duration=duration,
                task_id=f"etl-{agent.id.split('@')[0]}-{begin // MINUTE}",
                description="Copy new rows from the warehouse into analytics",
                segments=[(begin, begin + duration, count * HOUR / duration)],
                crash_rate=0.05 if agent.flaky else 0.002,
                max_lifetime_hours=2.0,
            )
        )
        slot += every
    return plans


def _orchestrated_jobs(
    agent: Agent, crew: list[Agent], rng: Random, start: int, end: int
) -> list[SessionPlan]:
    plans = []
    every = agent.interval_hours * HOUR
    slot = start + agent.offset_minutes * MINUTE
    while slot < end:
        begin = slot + rng.randint(0, 300) * SECOND
        duration = minutes(rng.uniform(30, 100))
        job = f"job-{agent.id.split(':')[-1]}-{begin // MINUTE}"
        boss = task_plan(
            agent,
            rng,
            kind="orchestration",
            begin=begin,
            duration=duration,
            task_id=job,
            description="Research job: fan out questions, gather answers",
            segments=[(begin, begin + duration, rng.uniform(20, 60))],
            crash_rate=0.05 if agent.flaky else 0.002,
            max_lifetime_hours=4.0,
        )
        plans.append(boss)
        chosen = [worker for worker in crew if rng.random() < 0.85] or crew[:1]
        for number, worker in enumerate(chosen, start=1):
            worker_rng = Random(f"{rng.getrandbits(64)}/{worker.id}")
            w_begin = begin + minutes(rng.uniform(1, 5))
            w_end = boss.end - minutes(rng.uniform(1, 5))
            if w_end - w_begin < 5 * MINUTE:
                continue
            plans.append(
                task_plan(
                    worker,
                    worker_rng,
                    kind="worker_task",
                    begin=w_begin,
                    duration=w_end - w_begin,
                    task_id=f"{job}-part-{number}",
                    description=f"Part {number} of {job}",
                    segments=[(w_begin, w_end, worker_rng.uniform(30, 90))],
                    crash_rate=0.1 if worker.flaky else 0.005,
                    parent_session_id=boss.session_id,
                    max_lifetime_hours=4.0,
                )
            )
        slot += every
    return plans


def _daily_sessions(
    agent: Agent, rng: Random, scenario: Scenario, start: int, end: int
) -> list[SessionPlan]:
    fleet = agent.fleet is not None
    if fleet:
        fleet_rng = Random(f"{scenario.seed}/fleet/{agent.fleet}")
        rotate = fleet_rng.randrange(0, DAY)
        bulk_offset = fleet_rng.randrange(0, BULK_REFRESH_EVERY)
        interval = minutes(rng.uniform(5, 15))
    else:
        rotate = agent.offset_minutes * MINUTE
        bulk_offset = 0
        interval = minutes(rng.uniform(3, 10))
    # The first session is already running when the period begins.
    boundaries = [start + rng.randint(1, 60) * SECOND]
    at = start + rotate
    while at < end:
        if at - boundaries[-1] > HOUR:
            boundaries.append(at + rng.randint(0, 120) * SECOND)
        at += DAY
    boundaries.append(end + DAY)
    plans = []
    for index, (begin, finish) in enumerate(pairwise(boundaries)):
        finish -= rng.randint(1, 5) * SECOND
        bulk = []
        if fleet:
            tick = start + bulk_offset
            while tick < finish:
                if tick > begin + MINUTE:
                    bulk.append(tick + rng.randint(0, 20_000))
                tick += BULK_REFRESH_EVERY
        plans.append(
            SessionPlan(
                session_id=session_id(rng, "agt"),
                principal=agent.principal,
                category=SessionCategory.AGENT,
                kind="connector_day" if fleet else "poller_day",
                start=begin,
                end=min(finish, end),
                ending="rotated" if finish < end else "open",
                script=write_service_session,
                source=agent_source(agent, index),
                labels=dict(agent.labels),
                detail={
                    "interval": interval,
                    "resources": agent.resources,
                    "scopes": agent.scopes,
                    "bulk_refresh": bulk,
                    "token_lifetime": FLEET_TOKEN_LIFETIME
                    if fleet
                    else SERVICE_TOKEN_LIFETIME,
                },
            )
        )
    return plans


def write_service_session(plan: SessionPlan, log: EventLog) -> None:
    """A long-running service session: regular polls, refreshes, a daily rotation."""
    rng = log.rng
    detail = plan.detail
    log.add(
        SessionStarted,
        plan.start,
        lifecycle=LifecycleRequest(max_lifetime_seconds=26 * 3600),
        scopes=detail["scopes"],
        auth_method="private_key_jwt",
    )
    token = Token(log, detail["token_lifetime"])
    token.issue(plan.start + 150, detail["scopes"])
    for at in detail["bulk_refresh"]:
        token.refresh(at, RefreshReason.BULK)
    bulk = bool(detail["bulk_refresh"])
    interval = detail["interval"]
    at = plan.start + rng.randint(2, 30) * SECOND
    while at < plan.end - SECOND:
        if not bulk:
            token.use(at)
        access(log, at, detail["resources"], denied_rate=0.002)
        at += interval + rng.randint(-15_000, 15_000)
    if plan.ending == "rotated" and plan.writes_end:
        log.add(SessionEnded, plan.end, reason=EndReason.COMPLETED)
