"""Monitors: baselines and detectors kept apart for people, agents and hybrids.

Monitoring built for people floods security teams with "unusual activity" from
agents doing their normal work, and real attacks drown in that noise. Here every
baseline and every detector belongs to a session category:

- `baselines`: what is normal for one principal (one (agent, user) pair for a
  hybrid), or one source address, learned online and serializable;
- `features`: one event beside its principal's past;
- `detectors`: rules and learned models, each declaring the categories it
  applies to and reading its thresholds from `policy.MonitorPolicy`;
- `alerts`: findings merged into `schemas.Alert`s that grow instead of repeating;
- `response`: the findings that also revoke a session, by policy;
- `engine`: the pipeline, score first, then learn, then alert;
- `worker`: the Faust wiring (the only module here that does I/O).

Everything but `worker` is plain Python with no I/O, and time is the events' own.
Import from the modules (`monitors.engine.MonitorEngine`,
`monitors.policy.MonitorPolicy`): this package imports nothing itself, so that
reading the policy does not load river.
"""
