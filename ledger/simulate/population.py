"""The simulated organisation: humans, their agents, and their assistants.

Everything here is drawn once from the scenario's seed; the schedules in
`ledger.simulate.humans`, `agents` and `hybrids` turn it into sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from random import Random
from typing import Any

from ledger.simulate import catalog
from ledger.simulate.catalog import ResourceSpace
from ledger.simulate.clock import hours, local_time
from ledger.simulate.geography import (
    CITIES,
    CLOUD_REGIONS,
    HOME_WEIGHTS,
    City,
    CloudRegion,
    Network,
    travel_hours,
)
from ledger.simulate.scenario import Scenario
from schemas.values import Actor, Principal, PrincipalKind, Scope

AGENT_MIX: tuple[tuple[str, float], ...] = (
    ("document_processor", 0.15),
    ("poller", 0.20),
    ("etl", 0.15),
    ("orchestrator", 0.05),
    ("worker", 0.15),
    ("connector", 0.30),
)
"""Agent types and their share of the agent population."""

HEARTBEAT_TYPES = frozenset({"document_processor", "etl", "orchestrator", "worker"})
"""Agent types whose sessions are heartbeat-bound, and so can crash silently."""

FLEET_SIZE = 8
ASSISTANT_TYPES = ("copilot", "email_assistant", "research_assistant")


@dataclass(frozen=True)
class Device:
    """A device a human logs in from."""

    device_id: str
    user_agent: str
    mobile: bool


@dataclass(frozen=True)
class Trip:
    """A business trip: fly out, work from the destination, fly back."""

    destination: City
    depart_at: int
    arrive_at: int
    return_depart_at: int
    return_arrive_at: int


@dataclass(frozen=True)
class Human:
    """A person with a home, devices, a role and working habits."""

    principal: Principal
    role: str
    home: City
    home_network: Network
    office_network: Network
    devices: tuple[Device, ...]
    resources: ResourceSpace
    scopes: tuple[Scope, ...]
    start_hour: float
    day_hours: float
    office_weekdays: frozenset[int]
    logout_rate: float
    day_off: date | None = None
    trip: Trip | None = None

    @property
    def id(self) -> str:
        """The principal id."""
        return self.principal.id


@dataclass(frozen=True)
class Agent:
    """An autonomous program with an owner, grants and a place to run.

    Type-specific habits: `batch_hours` (document processors' typical night),
    `interval_hours` (ETL and orchestrator cadence), `offset_minutes` (where in
    the hour or day it starts), `orchestrator` (a worker's orchestrator id),
    `workers` (an orchestrator's worker ids), `fleet` (connectors that refresh
    tokens together).
    """

    principal: Principal
    agent_type: str
    regions: tuple[CloudRegion, ...]
    resources: ResourceSpace
    scopes: tuple[Scope, ...]
    labels: dict[str, str]
    flaky: bool = False
    batch_hours: float = 0.0
    interval_hours: int = 0
    offset_minutes: int = 0
    orchestrator: str | None = None
    workers: tuple[str, ...] = ()
    fleet: str | None = None
    nightly_weekends: bool = True

    @property
    def id(self) -> str:
        """The principal id."""
        return self.principal.id


@dataclass(frozen=True)
class Assistant:
    """An AI assistant that acts for one user inside the user's sessions."""

    principal: Principal
    user: Human
    region: CloudRegion
    resources: ResourceSpace
    scopes: tuple[Scope, ...]
    actors: tuple[Actor, ...]
    sessions_per_day: tuple[int, int]

    @property
    def id(self) -> str:
        """The principal id."""
        return self.principal.id


@dataclass
class Population:
    """Everyone in the simulated organisation."""

    humans: list[Human] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    assistants: list[Assistant] = field(default_factory=list)


def build_population(scenario: Scenario) -> Population:
    """Draw the organisation of a scenario from its seed."""
    rng = Random(f"{scenario.seed}/population")
    population = Population()
    taken: set[str] = set()
    for _ in range(scenario.humans):
        population.humans.append(draw_human(rng, scenario, taken))
    population.agents = _draw_agents(rng, scenario, population.humans)
    # Assistants go to distinct people: each acts for one user.
    users = rng.sample(population.humans, scenario.hybrids)
    for index, user in enumerate(users, start=1):
        population.assistants.append(_draw_assistant(rng, index, user))
    return population


def draw_human(rng: Random, scenario: Scenario, taken: set[str]) -> Human:
    """One person: name, home, devices, role and habits; `taken` keeps ids unique."""
    first = rng.choice(catalog.FIRST_NAMES)
    last = rng.choice(catalog.LAST_NAMES)
    local_part = f"{first}.{last}"
    suffix = 2
    while f"{local_part}@{catalog.DOMAIN}" in taken:
        local_part = f"{first}.{last}{suffix}"
        suffix += 1
    principal_id = f"{local_part}@{catalog.DOMAIN}"
    taken.add(principal_id)

    role = _weighted(rng, catalog.ROLE_WEIGHTS)
    home = CITIES[_weighted(rng, HOME_WEIGHTS)]
    home_network, office_network = rng.sample(home.networks, 2)
    devices = [
        Device(f"dev-{rng.getrandbits(40):010x}", rng.choice(catalog.BROWSERS), False)
    ]
    if rng.random() < 0.5:
        devices.append(
            Device(f"dev-{rng.getrandbits(40):010x}", rng.choice(catalog.PHONES), True)
        )
    resources = catalog.ROLE_RESOURCES[role]
    principal = Principal(
        id=principal_id,
        kind=PrincipalKind.HUMAN,
        tenant=catalog.TENANT,
        roles=(role,),
        display_name=f"{first.title()} {last.title()}",
    )
    weekdays = range(5)
    office_days = frozenset(rng.sample(weekdays, rng.choice((0, 2, 3, 3, 4, 5))))
    day_off = None
    if rng.random() < 0.15:
        day_off = scenario.start + timedelta(days=rng.randrange(scenario.days))
    human = Human(
        principal=principal,
        role=role,
        home=home,
        home_network=home_network,
        office_network=office_network,
        devices=tuple(devices),
        resources=resources,
        scopes=resources.scopes(),
        start_hour=min(max(rng.gauss(8.6, 0.7), 7.0), 10.5),
        day_hours=min(max(rng.gauss(9.0, 0.6), 8.0), 10.5),
        office_weekdays=office_days,
        logout_rate=rng.uniform(0.4, 0.9),
        day_off=day_off,
    )
    if scenario.days >= 4 and rng.random() < 0.1:
        human = _with_trip(rng, scenario, human)
    return human


def _with_trip(rng: Random, scenario: Scenario, human: Human) -> Human:
    destination = rng.choice([c for c in CITIES.values() if c is not human.home])
    depart_day = scenario.start + timedelta(days=rng.randrange(scenario.days - 3))
    depart_at = local_time(depart_day, time(7), human.home.zone)
    depart_at += hours(rng.uniform(0, 4))
    flight = hours(travel_hours(human.home, destination))
    arrive_at = depart_at + flight
    # Fly back in the morning, after two to four nights at the destination.
    arrival_day = datetime.fromtimestamp(arrive_at / 1000, destination.zone).date()
    back_day = arrival_day + timedelta(days=2 + rng.randrange(3))
    return_depart_at = local_time(back_day, time(8), destination.zone) + hours(
        rng.uniform(0, 3)
    )
    trip = Trip(
        destination=destination,
        depart_at=depart_at,
        arrive_at=arrive_at,
        return_depart_at=return_depart_at,
        return_arrive_at=return_depart_at + flight,
    )
    return replace(human, trip=trip)


def _draw_agents(rng: Random, scenario: Scenario, humans: list[Human]) -> list[Agent]:
    counts = agent_counts(scenario.agents)
    agents: list[Agent] = []
    for agent_type, count in counts.items():
        for number in range(1, count + 1):
            owner = rng.choice(humans)
            agents.append(_draw_agent(rng, agent_type, number, owner))
    orchestrators = [a for a in agents if a.agent_type == "orchestrator"]
    workers = [a for a in agents if a.agent_type == "worker"]
    agents = _assign_workers(agents, orchestrators, workers)
    if not any(agent.flaky for agent in agents):
        # Every organisation has at least one agent that crashes now and then.
        for index, agent in enumerate(agents):
            if agent.agent_type in ("etl", "document_processor"):
                agents[index] = replace(agent, flaky=True)
                break
    return agents


def agent_counts(total: int) -> dict[str, int]:
    """How many agents of each type make up `total`; each type once if it fits."""
    raw = {kind: total * share for kind, share in AGENT_MIX}
    counts = {kind: int(value) for kind, value in raw.items()}
    by_remainder = sorted(raw, key=lambda kind: raw[kind] - counts[kind], reverse=True)
    for kind in by_remainder[: total - sum(counts.values())]:
        counts[kind] += 1
    if total >= len(AGENT_MIX):
        for kind in counts:
            if counts[kind] == 0:
                donor = max(counts, key=lambda k: counts[k])
                counts[donor] -= 1
                counts[kind] += 1
    # Workers without an orchestrator have nobody to spawn them.
    if counts["orchestrator"] == 0:
        counts["poller"] += counts["worker"]
        counts["worker"] = 0
    elif counts["worker"] == 0:
        counts["poller"] += counts["orchestrator"]
        counts["orchestrator"] = 0
    return counts


def _draw_agent(rng: Random, agent_type: str, number: int, owner: Human) -> Agent:
    team = owner.role.split("-")[0]
    regions = _regions_near(rng, owner.home, 2 if rng.random() < 0.3 else 1)
    labels = {"env": "prod", "team": team}
    habits: dict[str, Any] = {}
    match agent_type:
        case "document_processor":
            agent_id, kind = f"agent:docproc-{number:02d}", PrincipalKind.AI_AGENT
            bucket = f"s3://acme-docs-{team}"
            resources = ResourceSpace(
                (
                    (f"{bucket}/inbox/doc-{{n}}.pdf", ("read", "read", "list")),
                    (f"{bucket}/processed/doc-{{n}}.json", ("write",)),
                ),
                spread=200_000,
            )
            # The first one runs the long batches that outlast an 8-hour timeout.
            habits = {
                "batch_hours": rng.uniform(7.5, 9.0)
                if number == 1
                else rng.uniform(3.0, 8.0),
                "nightly_weekends": rng.random() < 0.5,
                "offset_minutes": rng.randrange(0, 180),
            }
        case "poller":
            agent_id = f"svc-poller-{number:02d}@{catalog.DOMAIN}"
            kind = PrincipalKind.SERVICE_ACCOUNT
            partner = rng.choice(("payments", "shipping", "tickets", "weather"))
            resources = ResourceSpace(
                (
                    (f"https://api.{partner}.example/v2/updates?page={{n}}", ("read",)),
                    (f"app:crm/sync/{partner}-{{n}}", ("write",)),
                ),
                spread=1000,
            )
            habits = {"offset_minutes": rng.randrange(0, 24 * 60)}
        case "etl":
            agent_id = f"svc-etl-{number:02d}@{catalog.DOMAIN}"
            kind = PrincipalKind.SERVICE_ACCOUNT
            schema = rng.choice(("orders", "billing", "events", "inventory"))
            resources = ResourceSpace(
                (
                    (f"postgres://warehouse/{schema}/part-{{n}}", ("read",)),
                    (f"clickhouse://analytics/{schema}/batch-{{n}}", ("insert",)),
                ),
                spread=100_000,
            )
            habits = {
                "interval_hours": rng.choice((1, 2, 4, 6)),
                "offset_minutes": rng.randrange(0, 60),
            }
        case "orchestrator" | "worker":
            prefix = "orchestrator" if agent_type == "orchestrator" else "worker"
            agent_id, kind = f"agent:{prefix}-{number:02d}", PrincipalKind.AI_AGENT
            resources = ResourceSpace(
                (
                    ("queue:jobs/research/{n}", ("read", "write")),
                    ("s3://acme-jobs/research/out-{n}.json", ("read", "write")),
                    ("https://search.acme.example/q/{n}", ("read",)),
                ),
                spread=50_000,
            )
            habits = {
                "interval_hours": rng.choice((4, 6, 8)),
                "offset_minutes": rng.randrange(0, 180),
            }
        case "connector":
            agent_id = (
                f"spiffe://{catalog.DOMAIN}/ns/integrations/sa/connector-{number:02d}"
            )
            kind = PrincipalKind.WORKLOAD
            saas = rng.choice(("salesforce", "zendesk", "workday", "github"))
            resources = ResourceSpace(
                ((f"app:{saas}/objects/{{n}}", ("read", "read", "write")),),
                spread=80_000,
            )
            habits = {
                "fleet": f"fleet-{(number - 1) // FLEET_SIZE + 1}",
                "offset_minutes": rng.randrange(0, 60),
            }
        case _:
            raise ValueError(f"unknown agent type {agent_type!r}")
    if "fleet" in habits:
        labels["fleet"] = str(habits["fleet"])
    principal = Principal(
        id=agent_id,
        kind=kind,
        tenant=catalog.TENANT,
        owner=owner.id,
        roles=("automation",),
        agent_type=agent_type,
    )
    return Agent(
        principal=principal,
        agent_type=agent_type,
        regions=regions,
        resources=resources,
        scopes=resources.scopes(),
        labels=labels,
        flaky=agent_type in HEARTBEAT_TYPES and rng.random() < 0.15,
        **habits,
    )


def _assign_workers(
    agents: list[Agent], orchestrators: list[Agent], workers: list[Agent]
) -> list[Agent]:
    if not orchestrators:
        return agents
    crew: dict[str, list[str]] = {o.id: [] for o in orchestrators}
    boss_of: dict[str, Agent] = {}
    for index, worker in enumerate(workers):
        boss = orchestrators[index % len(orchestrators)]
        crew[boss.id].append(worker.id)
        boss_of[worker.id] = boss
    result = []
    for agent in agents:
        if agent.agent_type == "orchestrator":
            agent = replace(agent, workers=tuple(crew[agent.id]))
        elif agent.agent_type == "worker":
            boss = boss_of[agent.id]
            # A worker runs where its orchestrator runs, for the orchestrator's owner.
            agent = replace(
                agent,
                regions=boss.regions,
                orchestrator=boss.id,
                labels=dict(boss.labels),
                principal=agent.principal.model_copy(
                    update={"owner": boss.principal.owner}
                ),
            )
        result.append(agent)
    return result


def _regions_near(rng: Random, home: City, count: int) -> tuple[CloudRegion, ...]:
    regions = list(CLOUD_REGIONS.values())
    regions.sort(key=lambda r: (abs(r.city.longitude - home.longitude), r.name))
    nearby = regions[:3]
    return tuple(rng.sample(nearby, count))


def _draw_assistant(rng: Random, number: int, user: Human) -> Assistant:
    assistant_type = rng.choice(ASSISTANT_TYPES)
    principal = Principal(
        id=f"agent:{assistant_type.replace('_', '-')}-{number:03d}",
        kind=PrincipalKind.AI_AGENT,
        tenant=catalog.TENANT,
        owner=user.id,
        roles=("assistant",),
        agent_type=assistant_type,
    )
    actors = [Actor(id=principal.id, kind=PrincipalKind.AI_AGENT)]
    if rng.random() < 0.3:
        # Some assistants are reached through the platform's broker account.
        actors.append(
            Actor(
                id=f"svc-assistant-platform@{catalog.DOMAIN}",
                kind=PrincipalKind.SERVICE_ACCOUNT,
            )
        )
    # Assistants read what their user reads, and may answer mail.
    templates = tuple(
        (template, ("read", "list") if "mail:" not in template else ("read", "write"))
        for template, _ in user.resources.templates
    )
    resources = ResourceSpace(templates, spread=user.resources.spread)
    region = _regions_near(rng, user.home, 1)[0]
    return Assistant(
        principal=principal,
        user=user,
        region=region,
        resources=resources,
        scopes=resources.scopes(),
        actors=tuple(actors),
        sessions_per_day=(1, rng.choice((2, 3, 4))),
    )


def _weighted(rng: Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]
