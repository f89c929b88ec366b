"""Monitor engine throughput, in one process, against parsing the same events.

    python benchmarks/bench_monitors.py [--people 40] [--agents 12] [--days 7]

A population of people (office days: a login and a few reads) and agents (night
batches: reads, heartbeats every minute, refreshes) is generated in event time
and serialized. In one run:

1. baseline: `schemas.parse_event` on every record, the cost every consumer of
   the ledger pays once;
2. engine: `MonitorEngine.observe` on the parsed events, objects in memory;
3. engine, no learned detector: the same with `learned.enabled: false`;
4. engine over bytes: the same with an `EncodedStore` over dicts, so every
   baseline and context is decoded and encoded on every event, as the worker
   does with its tables (the model is written every 500 events, its default).

Each rate is events per second; the ratios to the baseline are the numbers to
compare between machines. The run also counts the alerts, which on this normal
population should be none.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from results import emit

from monitors.engine import MonitorEngine
from monitors.policy import MonitorPolicy
from monitors.store import EncodedStore
from schemas import (
    AccessRecorded,
    AuthEvent,
    HeartbeatReceived,
    Principal,
    PrincipalKind,
    Scope,
    SessionCategory,
    SessionStarted,
    Source,
    TokenRefreshed,
    parse_event,
    serialize,
)

START = datetime(2025, 3, 3, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0"
INVOICES = Scope(resource="s3://acme-invoices/*", operations=("read", "list"))


class Ids:
    """Deterministic event ids."""

    def __init__(self) -> None:
        self.next = 0

    def __call__(self) -> UUID:
        self.next += 1
        return UUID(int=self.next)


def people(count: int, days: int, ids: Ids) -> list[AuthEvent]:
    events: list[AuthEvent] = []
    for n in range(count):
        principal = Principal(id=f"person-{n}@example.com", kind=PrincipalKind.HUMAN)
        source = Source(
            ip=f"203.0.113.{n % 250 + 1}",
            country="DE",
            asn=3320,
            user_agent=BROWSER,
            device_id=f"dev-{n}",
        )
        for day in range(days):
            if day % 7 >= 5:
                continue
            at = START + timedelta(days=day, hours=8 + n % 3, minutes=n % 50)
            session = f"sess-person-{n}-{day}"
            envelope = {
                "session_id": session,
                "category": SessionCategory.USER,
                "principal": principal,
                "source": source,
            }
            events.append(
                SessionStarted(
                    event_id=ids(),
                    occurred_at=at,
                    scopes=(INVOICES,),
                    mfa=True,
                    **envelope,
                )
            )
            for step in range(1, 8):
                events.append(
                    AccessRecorded(
                        event_id=ids(),
                        occurred_at=at + timedelta(minutes=20 * step),
                        resource=f"s3://acme-invoices/{n}/{day}/{step}.pdf",
                        operation="read",
                        **envelope,
                    )
                )
    return events


def agents(count: int, nights: int, ids: Ids) -> list[AuthEvent]:
    events: list[AuthEvent] = []
    for n in range(count):
        principal = Principal(id=f"svc-batch-{n}", kind=PrincipalKind.SERVICE_ACCOUNT)
        envelope = {
            "session_id": f"sess-agent-{n}",
            "category": SessionCategory.AGENT,
            "principal": principal,
            "source": Source(ip=f"10.20.{n}.7", cloud_region="eu-west-1", asn=16509),
        }
        events.append(
            SessionStarted(
                event_id=ids(), occurred_at=START, scopes=(INVOICES,), **envelope
            )
        )
        for night in range(nights):
            begin = START + timedelta(days=night, hours=1, minutes=n)
            for minute in range(0, 180, 50):
                at = begin + timedelta(minutes=minute)
                events.append(
                    TokenRefreshed(
                        event_id=ids(),
                        occurred_at=at,
                        reason="proactive",
                        token_id=f"sha256:{n}-{night}-{minute}",
                        expires_at=at + timedelta(hours=1),
                        **envelope,
                    )
                )
            for minute in range(180):
                events.append(
                    HeartbeatReceived(
                        event_id=ids(),
                        occurred_at=begin + timedelta(minutes=minute, seconds=30),
                        **envelope,
                    )
                )
            reads = 300 + (night * 37 + n * 11) % 200
            for step in range(reads):
                events.append(
                    AccessRecorded(
                        event_id=ids(),
                        occurred_at=begin
                        + timedelta(seconds=20 + step * 10700 / reads),
                        resource=f"s3://acme-invoices/{n}/{night}/{step}.pdf",
                        operation="read",
                        **envelope,
                    )
                )
    return events


def timed(run: Callable[[], object], count: int) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return count / (time.perf_counter() - started), result


def observe_all(engine: MonitorEngine, events: list[AuthEvent]) -> Counter[str]:
    alerts: Counter[str] = Counter()
    for event in events:
        for alert in engine.observe(event).alerts:
            alerts[alert.detector] += 1
    return alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--days", type=int, default=7)
    options = parser.parse_args()

    ids = Ids()
    events = sorted(
        people(options.people, options.days, ids)
        + agents(options.agents, options.days, ids),
        key=lambda event: event.occurred_at,
    )
    raw = [serialize(event) for event in events]
    count = len(events)
    now = START + timedelta(days=options.days + 1)
    print(
        f"{count} events: {options.people} people, {options.agents} agents, "
        f"{options.days} days"
    )

    baseline, _ = timed(lambda: [parse_event(r, now=now) for r in raw], count)
    print(f"baseline  parse_event          {baseline:9.0f} events/s")

    runs = {
        "engine": lambda: MonitorEngine(),
        "engine, no learned": lambda: MonitorEngine(
            MonitorPolicy.model_validate(
                {
                    c: {"learned": {"enabled": False}}
                    for c in ("user", "agent", "hybrid")
                }
            )
        ),
        "engine over bytes": lambda: MonitorEngine(
            store=EncodedStore({}, {}, {}, {}, model_every=500)
        ),
    }
    for name, make in runs.items():
        engine = make()
        rate, alerts = timed(lambda engine=engine: observe_all(engine, events), count)
        print(
            f"{name:<28}{rate:9.0f} events/s  ratio {rate / baseline:.3f}  "
            f"alerts {dict(alerts) or 'none'}"
        )
        emit(
            "monitors",
            name,
            rate,
            "events/s",
            baseline=baseline,
            baseline_label="parse_event on the same records",
            note=f"{count:,} events, in one process",
        )


if __name__ == "__main__":
    main()
