"""Assistants acting for their users, only inside the users' own sessions.

A hybrid session starts a few minutes into a user session, names that session in
its delegation, and ends at least a minute before the user's last activity, so it
never outlives the session it acts for.
"""

from __future__ import annotations

from random import Random

from ledger.simulate.catalog import AGENT_CLIENTS
from ledger.simulate.clock import MINUTE, SECOND, minutes
from ledger.simulate.population import Assistant, Population
from ledger.simulate.scenario import Scenario
from ledger.simulate.sessions import Token, access, pause, session_id
from ledger.simulate.timeline import EventLog, SessionPlan
from schemas.events import EndReason, SessionEnded, SessionStarted
from schemas.values import Delegation, SessionCategory, Source

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
TOKEN_LIFETIME = 15 * MINUTE


def plan_hybrids(
    population: Population, user_plans: list[SessionPlan], scenario: Scenario
) -> list[SessionPlan]:
    """Every assistant session, placed inside its user's workday sessions."""
    by_user: dict[str, list[SessionPlan]] = {}
    for plan in user_plans:
        if plan.kind == "workday":
            by_user.setdefault(plan.principal.id, []).append(plan)
    plans: list[SessionPlan] = []
    for assistant in population.assistants:
        rng = Random(f"{scenario.seed}/plan/{assistant.id}")
        for user_plan in sorted(by_user.get(assistant.user.id, []), key=_start):
            plans += _inside(assistant, user_plan, rng)
    return plans


def _start(plan: SessionPlan) -> int:
    return plan.start


def _inside(
    assistant: Assistant, user_plan: SessionPlan, rng: Random
) -> list[SessionPlan]:
    login = user_plan.detail["login"]
    last = user_plan.detail["last_activity"]
    low, high = assistant.sessions_per_day
    hours_long = (last - login) / (60 * MINUTE)
    count = rng.randint(0, max(low, round(high * hours_long / 8)))
    plans: list[SessionPlan] = []
    earliest = login + 2 * MINUTE
    latest = last - 10 * MINUTE
    if latest <= earliest:
        return plans
    free_from = earliest
    for begin in sorted(rng.randrange(earliest, latest) for _ in range(count)):
        if begin < free_from:
            continue
        finish = min(begin + minutes(rng.uniform(5, 45)), last - MINUTE)
        plans.append(hybrid_plan(assistant, user_plan, begin, finish, rng))
        free_from = finish + MINUTE
    return plans


def assistant_source(assistant: Assistant) -> Source:
    """Where an assistant's calls come from: its platform's cloud egress."""
    region = assistant.region
    address = region.network.address(Random(f"egress/{assistant.id}/{region.name}"))
    return Source(
        ip=address,
        country=region.city.country,
        asn=region.network.asn,
        cloud_region=region.name,
        user_agent=AGENT_CLIENTS["assistant"],
    )


def hybrid_plan(
    assistant: Assistant,
    user_plan: SessionPlan,
    begin: int,
    finish: int,
    rng: Random,
) -> SessionPlan:
    """One assistant session acting for `user_plan`'s session."""
    return SessionPlan(
        session_id=session_id(rng, "hyb"),
        principal=assistant.principal,
        category=SessionCategory.HYBRID,
        kind="assistant_task",
        start=begin,
        end=finish,
        ending="completed",
        script=write_hybrid_session,
        source=assistant_source(assistant),
        parent_session_id=user_plan.session_id,
        delegation=Delegation(
            subject=assistant.user.id,
            subject_session_id=user_plan.session_id,
            actors=assistant.actors,
        ),
        labels={"env": "prod"},
        detail={
            "resources": assistant.resources,
            "scopes": assistant.scopes,
            "user_session_id": user_plan.session_id,
            "user_end": user_plan.end,
        },
    )


def write_hybrid_session(plan: SessionPlan, log: EventLog) -> None:
    """Token exchange, a short burst of reads for the user, then the end."""
    rng = log.rng
    detail = plan.detail
    log.add(
        SessionStarted,
        plan.start,
        scopes=detail["scopes"],
        auth_method=TOKEN_EXCHANGE,
    )
    token = Token(log, TOKEN_LIFETIME, margin=2 * MINUTE)
    token.issue(plan.start + 300, detail["scopes"])
    # An incident may take over the rest of the session from `stop` on.
    stop = detail.get("stop", plan.end)
    at = plan.start + rng.randint(1, 10) * SECOND
    while at < stop - SECOND:
        token.use(at)
        access(log, at, detail["resources"], denied_rate=0.01)
        at += pause(rng, 30 * SECOND, 3 * MINUTE)
    if plan.writes_end:
        log.add(SessionEnded, plan.end, reason=EndReason.COMPLETED)
