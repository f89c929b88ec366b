"""Traffic simulator: a mixed human and agent organisation in event time.

A `Scenario` (sizes, period, seed, incident counts) becomes a `Simulation`:

- `population` draws people, agents and assistants from the seed;
- `humans`, `agents` and `hybrids` plan their sessions, as `SessionPlan`s;
- `incidents` adds labelled attacks and misuse on top;
- `timeline` writes each plan's events (validated `schemas` models) and merges
  them into one stream ordered by event time;
- `malformed` mixes in the bad input the dead-letter path must catch.

Everything up to here is plain Python with no I/O: time is simulated, and every
random draw comes from a generator seeded by the scenario seed and the name of
what is drawn, so equal scenarios give byte-identical output. `jsonl` and
`kafka` are the adapters that write the result out.

    simulation = Simulation(Scenario(humans=20, agents=10, days=7, seed=3))
    for record in simulation.records():
        ...
    truth = simulation.labels()
"""

from ledger.simulate.scenario import (
    DEFAULT_START,
    IncidentCounts,
    Scenario,
    ScenarioError,
)
from ledger.simulate.simulation import Record, Simulation

__all__ = [
    "DEFAULT_START",
    "IncidentCounts",
    "Record",
    "Scenario",
    "ScenarioError",
    "Simulation",
]
